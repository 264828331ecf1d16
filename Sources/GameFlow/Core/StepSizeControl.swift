import CGSL

/// How an `Integrator` chooses the size of each step: the integrator owns this, not the scheme.
///
/// - `fixed`: every step has the run's step size h (`SolveOptions.stepSize`).
/// - `errorControl`: GSL odeiv2's standard controller (`gsl_odeiv2_control_standard_new` with
///   a_y = 1, a_dydt = 0) on the scheme's embedded error estimate: a trial step of size h is
///   accepted when, per component, |err| ≤ atol + rtol·|x| (up to the controller's 10 % slack),
///   otherwise it is undone (the state and whatever the scheme carries) and retried with GSL's
///   smaller h. The run's step size is the first trial step and, unless `maximumStep` says
///   otherwise, the largest; the controller's proposal for the next step, the time covered and
///   the last step are the integrator's state and go into checkpoints (`Checkpoint.control`).
///
/// Error control needs a scheme with an error estimate (`Scheme.errorOrder`): the embedded
/// pairs (`EmbeddedRK`), alone or inside the optimizer wrappers (`Preconditioned`, `Momentum`)
/// and averaging, which pass the estimate through their own update.
public enum StepSizeControl: Sendable, Equatable {
    /// Every step of size h.
    case fixed
    /// GSL's standard error control on the scheme's embedded estimate.
    case errorControl(ErrorControl)

    /// The tolerances, when the steps are error controlled.
    public var errorControl: ErrorControl? {
        if case .errorControl(let e) = self { return e }
        return nil
    }
}

/// The tolerances and bounds of `StepSizeControl.errorControl`.
public struct ErrorControl: Sendable, Equatable {
    /// Relative tolerance (in [4ε, 1)).
    public var relativeTolerance: Double
    /// Absolute tolerance (> 0: GSL's control divides by atol + rtol·|x|).
    public var absoluteTolerance: Double
    /// The smallest accepted step as a fraction of the run's step size (0: only the spacing of
    /// doubles limits it); a step that would need less ends the run `failed` (step size underflow).
    public var minimumStepFraction: Double
    /// The largest step (nil: the run's step size, which is then also the first trial step).
    public var maximumStep: Double?

    /// Error control with these tolerances; `minimumStepFraction` × h is the smallest step.
    public init(relativeTolerance: Double, absoluteTolerance: Double, minimumStepFraction: Double = 1e-8, maximumStep: Double? = nil) {
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.minimumStepFraction = minimumStepFraction
        self.maximumStep = maximumStep
    }

    /// Throws a clear error for tolerances GSL cannot meet or would divide by, and bad bounds.
    public func validate() throws {
        guard relativeTolerance.isFinite, relativeTolerance > 0, relativeTolerance < 1 else {
            throw GameFlowError.invalidInput("rtol must be a number in (0, 1) (got \(relativeTolerance))")
        }
        guard relativeTolerance >= FlowOptions.minimumRelativeTolerance else {
            throw GameFlowError.invalidInput("rtol \(relativeTolerance) is below what float64 can meet (the smallest is 4ε ≈ \(String(FlowOptions.minimumRelativeTolerance)))")
        }
        guard absoluteTolerance.isFinite, absoluteTolerance > 0 else {
            throw GameFlowError.invalidInput("atol must be a finite number > 0 (got \(absoluteTolerance))")
        }
        guard minimumStepFraction >= 0, minimumStepFraction <= 1 else {
            throw GameFlowError.invalidInput("minimum step fraction must be in [0, 1] (got \(minimumStepFraction))")
        }
        if let m = maximumStep, !(m > 0) {
            throw GameFlowError.invalidInput("maximum step must be > 0 (got \(m))")
        }
    }
}

/// The integrator's error controller: GSL's standard control object, the trial/accept/reject
/// loop of `gsl_odeiv2_evolve_apply` around a scheme's trial steps, and its state (the next
/// trial step, the time covered, the last accepted step). A class only so that GSL's object is
/// freed once; the integrator owns the one instance.
final class ErrorController {
    let settings: ErrorControl
    let control: UnsafeMutablePointer<gsl_odeiv2_control>
    /// The error estimate of the current trial, and zeros for GSL's dy/dt term (a_dydt = 0).
    var error: [Double]
    let zeros: [Double]
    /// The next trial step (0 before the first step: the run's step size then).
    var proposal = 0.0
    /// The ODE time the accepted steps have covered.
    var time = 0.0
    /// The last accepted step (0 before the first).
    var last = 0.0
    /// When set, no step goes past this time, and the step that reaches it lands on it exactly.
    var limit: Double?

    init(_ settings: ErrorControl, dimension n: Int) throws {
        try settings.validate()
        GSL.initialize()
        guard let c = gsl_odeiv2_control_standard_new(settings.absoluteTolerance, settings.relativeTolerance, 1, 0) else {
            throw GameFlowError.invalidInput("GSL could not allocate the standard step-size control")
        }
        self.settings = settings
        self.control = c
        self.error = [Double](repeating: 0, count: n)
        self.zeros = error
    }

    deinit { gsl_odeiv2_control_free(control) }

    /// [proposal, time covered, last step]: what a checkpoint keeps.
    var state: [Double] { [proposal, time, last] }

    func restore(_ values: [Double]) throws {
        guard values.count == 3, values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw GameFlowError.invalidInput("the checkpoint's step-size control must be three finite numbers ≥ 0 (next step, time, last step); got \(values)")
        }
        proposal = values[0]; time = values[1]; last = values[2]
    }

    /// One accepted step of `scheme` from `x` (trials retried on GSL's smaller h; each rejected
    /// trial is undone and counted in `rejectedSteps`), or the failure's reason. On failure `x`
    /// may hold a trial: the integrator restores the step's start.
    func step<G: Game, S: Scheme>(_ x: inout [Double], start: [Double], h: Double, scheme: S, cache: inout S.Cache,
                                  context: inout StepContext<G>) -> StepResult {
        let largest = settings.maximumStep ?? h
        var size = proposal > 0 ? min(proposal, largest) : min(h, largest)
        let entry = size
        var retry = false
        while true {
            // As gsl_odeiv2_evolve_apply with t1 = limit: a step that would pass it lands on it.
            var lands = false
            if let t1 = limit, size > t1 - time {
                size = t1 - time
                lands = true
            }
            let result = scheme.trialStep(&x, h: size, error: &error, retry: retry, cache: &cache, context: &context)
            if case .failure = result { return result }
            guard let order = scheme.errorOrder(cache) else {
                return .failure("\(scheme.name) has no error estimate for the step-size control")
            }
            let tried = size
            let t = lands ? limit! : time + tried
            let decision = x.withUnsafeBufferPointer { y in
                error.withUnsafeBufferPointer { e in
                    zeros.withUnsafeBufferPointer { z in
                        cgsl_control_hadjust(control, y.count, UInt32(order), y.baseAddress, e.baseAddress, z.baseAddress, &size)
                    }
                }
            }
            if decision == GSL_ODEIV_HADJ_DEC {
                // GSL's test: an actual decrease that still moves t by at least one ulp.
                guard abs(size) < abs(tried), t + size != t else {
                    return .failure("step size underflow at t = \(time): the error control needs steps below the spacing of doubles there")
                }
                copyValues(start, into: &x)
                scheme.rejectTrial(&cache)
                context.stats.rejectedSteps += 1
                retry = true
                continue
            }
            let minimum = settings.minimumStepFraction * h
            if tried < minimum, !lands {
                return .failure("\(scheme.name): the error control needed a step of \(tried), below the minimum \(minimum) (\(settings.minimumStepFraction) × the step size)")
            }
            context.stats.acceptedSteps += 1
            // As GSL's evolve: the step that lands on the limit (possibly short) suggests no new size.
            proposal = lands ? entry : min(size, largest)
            time = t
            last = tried
            return .success
        }
    }
}
