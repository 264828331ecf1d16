import CGSL

/// Adaptive explicit Runge–Kutta with error control, as a training scheme: one step is one
/// accepted step of GSL odeiv2's embedded pair (`rkf45`, `rkck` or `rk8pd`) under its standard
/// controller, per component |err| ≤ atol + rtol·|x|; rejected trials are retried inside the step
/// with a smaller h and counted (`Stats.rejectedSteps`).
///
/// **What `--step` means here:** the run's step size is the first trial step and the largest
/// step the controller may take; `minimumStep` (default 1e-8 × that) is the smallest, and a step
/// that would need less ends the run `failed`. The controller's proposal is carried from step to
/// step (and in checkpoints, so a resumed run continues bit for bit).
///
/// Order 4 (rkf45, rkck) or 8 (rk8pd) per accepted step of the error-controlled size; work per
/// step: 6 (rkf45, rkck) or 13 (rk8pd) evaluations of v per trial.
///
/// Reference: Hairer, Nørsett, Wanner, "Solving Ordinary Differential Equations I" (1993), §II.4;
/// GSL odeiv2 manual (`gsl_odeiv2_evolve_apply`, `gsl_odeiv2_control_standard_new`).
public struct AdaptiveRK: Scheme {
    /// The embedded pair (rkf45, rkck or rk8pd).
    public let method: FlowMethod
    /// The controller's relative tolerance.
    public let relativeTolerance: Double
    /// The controller's absolute tolerance (> 0).
    public let absoluteTolerance: Double
    /// The smallest step the controller may take, as a fraction of the run's step size.
    public let minimumStepFraction: Double

    /// An adaptive scheme; a step fails once the controller would need less than `minimumStepFraction` × h.
    /// - Throws: for an implicit or multistep method, or tolerances out of range.
    public init(method: FlowMethod, relativeTolerance: Double, absoluteTolerance: Double, minimumStepFraction: Double = 1e-8) throws {
        guard [.rkf45, .rkck, .rk8pd].contains(method) else {
            throw GameFlowError.invalidInput("adaptive training schemes are rkf45, rkck and rk8pd (got \(method.rawValue))")
        }
        try FlowOptions(method: method, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance).validate()
        guard minimumStepFraction > 0, minimumStepFraction <= 1 else {
            throw GameFlowError.invalidInput("minimum step fraction must be in (0, 1] (got \(minimumStepFraction))")
        }
        self.method = method
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.minimumStepFraction = minimumStepFraction
    }

    public var name: String { method.rawValue }
    public var order: Int { method == .rk8pd ? 8 : 4 }
    public var evaluationsPerStep: Int { method == .rk8pd ? 13 : 6 }

    /// GSL's stepper, controller and evolve objects, and the controller's state.
    public final class Cache {
        let context: FlowContext
        let system: UnsafeMutablePointer<gsl_odeiv2_system>
        let driver: UnsafeMutablePointer<gsl_odeiv2_driver>
        /// The controller's next step size (0 before the first step: the run's h then).
        var proposal = 0.0
        /// The ODE time the accepted steps have covered.
        var time = 0.0
        /// The last accepted step's size.
        var last = 0.0

        init(context: FlowContext, system: UnsafeMutablePointer<gsl_odeiv2_system>, driver: UnsafeMutablePointer<gsl_odeiv2_driver>) {
            self.context = context
            self.system = system
            self.driver = driver
        }

        deinit {
            gsl_odeiv2_driver_free(driver)
            system.deallocate()
        }
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        GSL.initialize()
        let context = FlowContext(game: game)
        let system = UnsafeMutablePointer<gsl_odeiv2_system>.allocate(capacity: 1)
        system.initialize(to: gsl_odeiv2_system(function: flowFunction, jacobian: flowJacobian, dimension: game.dimension,
                                                params: Unmanaged.passUnretained(context).toOpaque()))
        guard let driver = gsl_odeiv2_driver_alloc_y_new(system, method.stepType, 1e-3, absoluteTolerance, relativeTolerance) else {
            system.deallocate()
            throw GameFlowError.invalidInput("GSL could not allocate the \(method.rawValue) stepper for \(game.dimension) unknowns")
        }
        return Cache(context: context, system: system, driver: driver)
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        let c = cache.context
        c.step = context.step
        c.failure = nil
        let evaluationsBefore = c.fieldEvaluations
        let rejectedBefore = Int(cache.driver.pointee.e.pointee.failed_steps)
        var t = 0.0
        var size = cache.proposal > 0 ? min(cache.proposal, h) : h
        let minimum = minimumStepFraction * h
        let d = cache.driver.pointee
        let code = withExtendedLifetime(c) {
            x.withUnsafeMutableBufferPointer { gsl_odeiv2_evolve_apply(d.e, d.c, d.s, cache.system, &t, h, &size, $0.baseAddress) }
        }
        context.stats.fieldEvaluations += c.fieldEvaluations - evaluationsBefore
        context.stats.rejectedSteps += Int(cache.driver.pointee.e.pointee.failed_steps) - rejectedBefore
        if code != Int32(GSL_SUCCESS) {
            return .failure("\(method.rawValue): GSL odeiv2 failed: \(GSL.reason(code)) (GSL status \(code))" + (c.failure.map { "; \($0)" } ?? ""))
        }
        if t < minimum {
            return .failure("\(method.rawValue): the error control needed a step of \(t), below the minimum \(minimum) (\(minimumStepFraction) × --step)")
        }
        context.stats.acceptedSteps += 1
        cache.proposal = min(size, h)
        cache.time += t
        cache.last = t
        return .success
    }

    public func lastStepSize(_ cache: Cache) -> Double? { cache.last }

    public var choosesStepSizes: Bool { true }

    public func timeCovered(_ cache: Cache) -> Double? { cache.time }

    /// [the controller's next step size, the ODE time covered].
    public func carried(_ cache: Cache) -> [Double] { [cache.proposal, cache.time] }

    public func restoreCarried(_ values: [Double], into cache: inout Cache) throws {
        try expectCarried(values, count: 2)
        guard values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw GameFlowError.invalidInput("\(name): the checkpoint's step size and time must be finite numbers ≥ 0 (got \(values))")
        }
        cache.proposal = values[0]
        cache.time = values[1]
    }
}
