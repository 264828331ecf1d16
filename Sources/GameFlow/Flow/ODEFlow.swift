import CGSL

/// GSL odeiv2's steppers by their command-line names (`gameflow flow --method`).
public enum FlowMethod: String, CaseIterable, Sendable {
    /// Explicit embedded Runge–Kutta–Fehlberg (4, 5).
    case rkf45
    /// Explicit embedded Runge–Kutta Cash–Karp (4, 5).
    case rkck
    /// Explicit embedded Runge–Kutta Prince–Dormand (8, 9).
    case rk8pd
    /// Variable-coefficient linear multistep Adams (orders 1–12), explicit.
    case msadams
    /// Implicit Gaussian second-order Runge–Kutta (implicit midpoint); uses the Jacobian.
    case rk2imp
    /// Implicit Gaussian fourth-order Runge–Kutta; uses the Jacobian.
    case rk4imp
    /// Implicit Bulirsch–Stoer of Bader and Deuflhard, for stiff problems; uses the Jacobian.
    case bsimp
    /// Variable-coefficient BDF (orders 1–5), for stiff problems; uses the Jacobian.
    case msbdf

    /// Whether the stepper evaluates the Jacobian (GSL crashes when it is missing: it is always given).
    public var usesJacobian: Bool { self == .rk2imp || self == .rk4imp || self == .bsimp || self == .msbdf }

    var stepType: UnsafePointer<gsl_odeiv2_step_type> {
        switch self {
        case .rkf45: return cgsl_step_rkf45()
        case .rkck: return cgsl_step_rkck()
        case .rk8pd: return cgsl_step_rk8pd()
        case .msadams: return cgsl_step_msadams()
        case .rk2imp: return cgsl_step_rk2imp()
        case .rk4imp: return cgsl_step_rk4imp()
        case .bsimp: return cgsl_step_bsimp()
        case .msbdf: return cgsl_step_msbdf()
        }
    }

    /// Parses a command-line name; the error lists the valid ones.
    public static func parse(_ s: String) throws -> FlowMethod {
        guard let m = FlowMethod(rawValue: s) else {
            throw GameFlowError.invalidInput("unknown flow method '\(s)' (expected one of: \(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return m
    }
}

/// Settings of one flow integration.
public struct FlowOptions: Sendable {
    /// The GSL odeiv2 stepper.
    public var method: FlowMethod
    /// Relative tolerance of GSL's standard error control (> 0).
    public var relativeTolerance: Double
    /// Absolute tolerance (> 0: GSL aborts on 0 when a component of x is 0).
    public var absoluteTolerance: Double
    /// The driver's first trial step (GSL adapts it); nil: 1e-6 × the first output interval.
    public var initialStep: Double?
    /// The work bound of the whole flow: accepted steps at most (`--max-steps`); reaching it ends
    /// the flow `failed` with reason code `bound exceeded` (a stiff game under an explicit
    /// stepper needs steps of order 1/max|λ| and would otherwise run for hours).
    public var maxSteps: Int

    /// The smallest relative tolerance a flow accepts: 4ε ≈ 8.9e-16. GSL's control asks
    /// |err| ≤ atol + rtol·|x| per component, and an error estimate below the spacing of doubles
    /// cannot be met: at rtol 1e-300 the steppers shrank the step forever.
    public static let minimumRelativeTolerance = 4 * Double.ulpOfOne

    /// Options for a flow: the stepper, its tolerances (the absolute one > 0: GSL aborts on 0), an optional first step and the bound on accepted steps.
    public init(method: FlowMethod, relativeTolerance: Double = 1e-10, absoluteTolerance: Double = 1e-12,
                initialStep: Double? = nil, maxSteps: Int = 1_000_000) {
        self.method = method
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.initialStep = initialStep
        self.maxSteps = maxSteps
    }

    /// Throws a clear error for the values that make GSL abort or hang.
    public func validate() throws {
        guard relativeTolerance.isFinite, relativeTolerance < 1 else {
            throw GameFlowError.invalidInput("--rtol must be a number in (0, 1) (got \(relativeTolerance))")
        }
        guard relativeTolerance >= Self.minimumRelativeTolerance else {
            throw GameFlowError.invalidInput("--rtol \(relativeTolerance) is below what float64 can meet (the smallest is 4ε ≈ \(String(Self.minimumRelativeTolerance)))")
        }
        guard absoluteTolerance.isFinite, absoluteTolerance > 0 else {
            throw GameFlowError.invalidInput("--atol must be a finite number > 0 (got \(absoluteTolerance))")
        }
        if let h = initialStep, !(h.isFinite && h > 0) {
            throw GameFlowError.invalidInput("initial step must be a finite number > 0 (got \(h))")
        }
        guard maxSteps >= 1 else {
            throw GameFlowError.invalidInput("--max-steps must be at least 1 (got \(maxSteps))")
        }
    }
}

/// The result of `integrateFlow`: the state at each requested time that was reached.
public struct FlowSolution: Sendable {
    /// `completed` when every requested time was reached, `failed(GSL's reason)` otherwise.
    public let status: Status
    /// The requested times reached (the first is the start).
    public let times: [Double]
    /// states[k] is x(times[k]).
    public let states: [[Double]]
    /// Field evaluations, Jacobian evaluations, accepted and rejected steps.
    public let stats: Stats

    /// The state at the last time reached.
    public var finalState: [Double] { states.last! }
}

/// Integrates dx/dt = v(x) of `game` from x(times[0]) = x0 under GSL odeiv2's standard error
/// control (per component |err| ≤ atol + rtol·|x|), returning x at every requested time.
///
/// The explicit embedded pairs (rkf45, rkck, rk8pd) run on the `Integrator` with its step-size
/// controller (`StepSizeControl.errorControl`: the same trials, GSL hadjust decisions and steps
/// as GSL's evolve loop, with the step that would pass an output time landing on it). The
/// implicit and multistep steppers (rk2imp, rk4imp, bsimp, msadams, msbdf) keep GSL's own driver:
/// their Newton iterations and histories read the driver's control and evolve objects. The stiff
/// steppers get the game's Jacobian (row-major ∂vᵢ/∂xⱼ, as GSL wants it); without exact
/// derivatives they are refused. A failure (v not finite, too many steps, step underflow) is
/// `failed` with the reason, keeping the states reached before it (never GSL's abort: its error
/// handler is off, and the values that make it abort are refused first).
public func integrateFlow<G: Game>(_ game: G, from x0: [Double], times: [Double], options: FlowOptions) throws -> FlowSolution {
    try validateFlow(game, from: x0, times: times, options: options)
    guard EmbeddedRK.methods.contains(options.method) else {
        return try integrateFlowWithGSLDriver(game, from: x0, times: times, options: options)
    }
    let h0 = options.initialStep ?? 1e-6 * (times[1] - times[0])
    let control = ErrorControl(relativeTolerance: options.relativeTolerance, absoluteTolerance: options.absoluteTolerance,
                               minimumStepFraction: 0, maximumStep: .infinity)
    var integrator = try Integrator(game: game, scheme: try EmbeddedRK(method: options.method), initialState: x0,
                                    options: SolveOptions(stepSize: h0, maxSteps: options.maxSteps, divergenceBound: .infinity,
                                                          stepSizeControl: .errorControl(control)))
    var states = [x0], reached = [times[0]]
    var status = Status.completed
    for target in times.dropFirst() {
        let ended = integrator.advance(to: target - times[0])
        if integrator.time >= target - times[0] {
            states.append(integrator.state)
            reached.append(target)
        }
        guard let s = ended, !(s == .completed && integrator.time >= target - times[0]) else { continue }
        let at = times[0] + integrator.time
        if case .failed(let why) = s {
            status = .failed("\(options.method.rawValue) failed before t = \(target) (at t = \(at)): \(why)")
        } else {
            status = .failed("bound exceeded: \(options.maxSteps) accepted steps (--max-steps) before t = \(target) (at t = \(at))")
        }
        break
    }
    var stats = integrator.stats
    stats.monitorEvaluations = 0
    return FlowSolution(status: status, times: reached, states: states, stats: stats)
}

/// The checks every flow makes before it starts.
private func validateFlow<G: Game>(_ game: G, from x0: [Double], times: [Double], options: FlowOptions) throws {
    try options.validate()
    let n = game.dimension
    guard x0.count == n else { throw GameFlowError.invalidInput("initial state has \(x0.count) entries, the game has dimension \(n)") }
    guard x0.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("initial state has a non-finite entry") }
    guard times.count >= 2, times.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("a flow needs a start time and at least one output time") }
    for k in 1..<times.count where !(times[k] > times[k - 1]) {
        throw GameFlowError.invalidInput("output times must increase (time \(k) is \(times[k]) after \(times[k - 1]))")
    }
    if options.method.usesJacobian && !game.hasExactDerivatives {
        throw GameFlowError.invalidInput("\(options.method.rawValue) uses the Jacobian, and this game has no exact derivatives (use rkf45, rkck, rk8pd or msadams)")
    }
}

/// `integrateFlow` on GSL's driver (stepper, control and evolve objects), one accepted step
/// at a time: the implicit and multistep steppers' path, and the reference the integrator's
/// controller is tested against for the explicit pairs.
func integrateFlowWithGSLDriver<G: Game>(_ game: G, from x0: [Double], times: [Double], options: FlowOptions) throws -> FlowSolution {
    GSL.initialize()
    try validateFlow(game, from: x0, times: times, options: options)
    let n = game.dimension
    let context = FlowContext(game: game)
    let params = Unmanaged.passUnretained(context).toOpaque()
    // GSL keeps a pointer to the system: it lives on the heap for the driver's lifetime.
    let system = UnsafeMutablePointer<gsl_odeiv2_system>.allocate(capacity: 1)
    system.initialize(to: gsl_odeiv2_system(function: flowFunction, jacobian: flowJacobian, dimension: n, params: params))
    defer { system.deallocate() }
    let h0 = options.initialStep ?? 1e-6 * (times[1] - times[0])
    guard let driver = gsl_odeiv2_driver_alloc_y_new(system, options.method.stepType, h0,
                                                     options.absoluteTolerance, options.relativeTolerance) else {
        throw GameFlowError.invalidInput("GSL could not allocate the \(options.method.rawValue) driver for \(n) unknowns")
    }
    defer { gsl_odeiv2_driver_free(driver) }

    // The driver's stepper, control and evolve objects, stepped here one accepted step at a
    // time: the accepted steps are counted exactly and the work bound holds for the whole flow.
    let d = driver.pointee
    var y = x0
    var t = times[0]
    var h = h0
    var states = [x0]
    var reached = [times[0]]
    var status = Status.completed
    var accepted = 0
    outer: for target in times.dropFirst() {
        while t < target {
            if accepted >= options.maxSteps {
                status = .failed("bound exceeded: \(options.maxSteps) accepted steps (--max-steps) before t = \(target) (at t = \(t))")
                break outer
            }
            let before = t
            let code = withExtendedLifetime(context) {
                y.withUnsafeMutableBufferPointer { gsl_odeiv2_evolve_apply(d.e, d.c, d.s, system, &t, target, &h, $0.baseAddress) }
            }
            if code != Int32(GSL_SUCCESS) {
                var why = "GSL odeiv2 \(options.method.rawValue) failed before t = \(target) (at t = \(t)): \(GSL.reason(code)) (GSL status \(code))"
                if let e = context.failure { why += "; \(e)" }
                status = .failed(why)
                break outer
            }
            guard t > before else {
                status = .failed("step size underflow at t = \(t): the error control needs steps below the spacing of doubles there")
                break outer
            }
            accepted += 1
        }
        // bsimp can leave y corrupted after a failed f: only states from successful steps are kept.
        states.append(y)
        reached.append(t)
    }
    var stats = Stats()
    stats.fieldEvaluations = context.fieldEvaluations
    stats.jacobianEvaluations = context.jacobianEvaluations
    stats.acceptedSteps = accepted
    stats.rejectedSteps = Int(d.e.pointee.failed_steps)
    return FlowSolution(status: status, times: reached, states: states, stats: stats)
}

/// What the C callbacks reach: the game, buffers and counters (shared with `EmbeddedRK`).
final class FlowContext {
    let evaluate: ([Double], Int, inout [Double]) -> Void
    let jacobian: ([Double], Int, inout [Double]) -> Void
    /// The integrator's step index (a stochastic game's minibatch); 0 for flows.
    var step = 0
    var x: [Double]
    var v: [Double]
    var j: [Double]
    var fieldEvaluations = 0
    var jacobianEvaluations = 0
    var failure: String?

    init<G: Game>(game: G) {
        let n = game.dimension
        evaluate = { x, step, v in game.evaluate(at: x, step: step, into: &v) }
        jacobian = { x, step, j in game.jacobian(at: x, step: step, into: &j) }
        x = [Double](repeating: 0, count: n)
        v = x
        j = []
    }
}

private func flowContext(_ p: UnsafeMutableRawPointer?) -> FlowContext {
    Unmanaged<FlowContext>.fromOpaque(p!).takeUnretainedValue()
}

let flowFunction: @convention(c) (Double, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutableRawPointer?) -> Int32 = { _, y, f, p in
    let c = flowContext(p)
    let n = c.x.count
    for i in 0..<n { c.x[i] = y![i] }
    c.fieldEvaluations += 1
    c.evaluate(c.x, c.step, &c.v)
    for i in 0..<n {
        guard c.v[i].isFinite else { c.failure = "v is not finite at t's state"; return Int32(GSL_EBADFUNC) }
        f![i] = c.v[i]
    }
    return Int32(GSL_SUCCESS)
}

let flowJacobian: @convention(c) (Double, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutableRawPointer?) -> Int32 = { _, y, dfdy, dfdt, p in
    let c = flowContext(p)
    let n = c.x.count
    if c.j.count != n * n { c.j = [Double](repeating: 0, count: n * n) }
    for i in 0..<n { c.x[i] = y![i] }
    c.jacobianEvaluations += 1
    c.jacobian(c.x, c.step, &c.j)
    for k in 0..<(n * n) {
        guard c.j[k].isFinite else { c.failure = "the Jacobian is not finite"; return Int32(GSL_EBADFUNC) }
        dfdy![k] = c.j[k]
    }
    for i in 0..<n { dfdt![i] = 0 }      // autonomous
    return Int32(GSL_SUCCESS)
}
