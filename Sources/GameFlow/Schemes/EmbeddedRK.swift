import CGSL

/// An explicit embedded Runge–Kutta pair from GSL odeiv2 (`rkf45`, `rkck` or `rk8pd`) as a
/// scheme: one step is `gsl_odeiv2_step_apply`, which also gives the pair's local error
/// estimate (the difference of its two solutions).
///
/// At a fixed step size h it is a plain explicit Runge–Kutta method. Under the integrator's
/// error control (`StepSizeControl.errorControl`, the command line's default for these names:
/// `--rtol`, `--atol`) each step is GSL's standard controller on that estimate, per component
/// |err| ≤ atol + rtol·|x|; the run's step size is then the first trial and the largest step.
/// A rejected trial is retried from the same x with v(x) reused (GSL steppers that can use
/// dy/dt at the start are given it), so a retry costs one evaluation less than the first trial.
/// Every stage of step k evaluates step k's field, so on a stochastic game all stages see
/// minibatch k (GSL's own evolve loop reuses the last stage of the previous step, computed on
/// the previous minibatch, as the next step's first: the same numbers on a deterministic game).
///
/// Order 4 (rkf45, rkck) or 8 (rk8pd) per step; work per trial: 6 (rkf45, rkck) or 13 (rk8pd)
/// evaluations of v, 5 or 12 for a retried trial. GSL's controller scales by the stepper's own
/// order (`gsl_odeiv2_step_order`: 5, 5 and 8).
///
/// Reference: Hairer, Nørsett, Wanner, "Solving Ordinary Differential Equations I" (1993), §II.4;
/// GSL odeiv2 manual (`gsl_odeiv2_step_apply`, `gsl_odeiv2_control_standard_new`).
public struct EmbeddedRK: Scheme {
    /// The embedded pair (rkf45, rkck or rk8pd).
    public let method: FlowMethod

    /// The embedded pair `method`.
    /// - Throws: for a GSL stepper that is not an explicit embedded pair (the implicit and
    ///   multistep ones need GSL's driver: they are `integrateFlow`'s only).
    public init(method: FlowMethod) throws {
        guard Self.methods.contains(method) else {
            throw GameFlowError.invalidInput("embedded Runge–Kutta schemes are rkf45, rkck and rk8pd (got \(method.rawValue))")
        }
        self.method = method
    }

    /// The explicit embedded pairs.
    public static let methods: [FlowMethod] = [.rkf45, .rkck, .rk8pd]

    public var name: String { method.rawValue }
    public var order: Int { method == .rk8pd ? 8 : 4 }
    public var evaluationsPerStep: Int { method == .rk8pd ? 13 : 6 }

    /// GSL's stepper, the system it calls back, v at the step's start and the error of fixed steps.
    public final class Cache {
        let context: FlowContext
        let system: UnsafeMutablePointer<gsl_odeiv2_system>
        let stepper: UnsafeMutablePointer<gsl_odeiv2_step>
        var start: [Double]
        var error: [Double]
        /// The stepper takes v at the step's start (all three pairs do).
        let takesStartRate: Bool

        init(context: FlowContext, system: UnsafeMutablePointer<gsl_odeiv2_system>, stepper: UnsafeMutablePointer<gsl_odeiv2_step>, dimension n: Int) {
            self.context = context
            self.system = system
            self.stepper = stepper
            self.start = [Double](repeating: 0, count: n)
            self.error = start
            self.takesStartRate = stepper.pointee.type.pointee.can_use_dydt_in != 0
        }

        deinit {
            gsl_odeiv2_step_free(stepper)
            system.deallocate()
        }
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        GSL.initialize()
        let context = FlowContext(game: game)
        let system = UnsafeMutablePointer<gsl_odeiv2_system>.allocate(capacity: 1)
        system.initialize(to: gsl_odeiv2_system(function: flowFunction, jacobian: flowJacobian, dimension: game.dimension,
                                                params: Unmanaged.passUnretained(context).toOpaque()))
        guard let stepper = gsl_odeiv2_step_alloc(method.stepType, game.dimension) else {
            system.deallocate()
            throw GameFlowError.invalidInput("GSL could not allocate the \(method.rawValue) stepper for \(game.dimension) unknowns")
        }
        return Cache(context: context, system: system, stepper: stepper, dimension: game.dimension)
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        apply(&x, h: h, error: &cache.error, startRate: false, cache: cache, context: &context)
    }

    public func errorOrder(_ cache: Cache) -> Int? { Int(gsl_odeiv2_step_order(cache.stepper)) }

    public func trialStep<G: Game>(_ x: inout [Double], h: Double, error: inout [Double], retry: Bool,
                                   cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        if cache.takesStartRate && !retry {
            context.evaluate(x, into: &cache.start)
            for value in cache.start where !value.isFinite {
                return .failure("\(method.rawValue): v is not finite at the step's start (\(value))")
            }
        }
        return apply(&x, h: h, error: &error, startRate: cache.takesStartRate, cache: cache, context: &context)
    }

    /// One `gsl_odeiv2_step_apply` of size h (given v(x) in `cache.start` when `startRate`).
    private func apply<G: Game>(_ x: inout [Double], h: Double, error: inout [Double], startRate: Bool, cache: Cache,
                                context: inout StepContext<G>) -> StepResult {
        let c = cache.context
        c.step = context.step
        c.failure = nil
        let before = c.fieldEvaluations
        let code = withExtendedLifetime(c) {
            x.withUnsafeMutableBufferPointer { y in
                error.withUnsafeMutableBufferPointer { e in
                    cache.start.withUnsafeBufferPointer { s in
                        gsl_odeiv2_step_apply(cache.stepper, 0, h, y.baseAddress, e.baseAddress, startRate ? s.baseAddress : nil, nil, cache.system)
                    }
                }
            }
        }
        context.stats.fieldEvaluations += c.fieldEvaluations - before
        if code != Int32(GSL_SUCCESS) {
            return .failure("\(method.rawValue): GSL odeiv2 failed: \(GSL.reason(code)) (GSL status \(code))" + (c.failure.map { "; \($0)" } ?? ""))
        }
        return .success
    }
}
