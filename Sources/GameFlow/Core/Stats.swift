/// Work counters of a run. Each counts calls where they happen (through `StepContext` or the
/// root solver), so cost comparisons between schemes are measured, not nominal.
public struct Stats: Sendable, Equatable {
    /// Evaluations of v made by the scheme.
    public var fieldEvaluations = 0
    /// Products v′(x)·u.
    public var jacobianVectorProducts = 0
    /// Products v′(x)ᵀ·u.
    public var transposeJacobianVectorProducts = 0
    /// Dense Jacobians v′(x) formed (implicit Euler with `hybridsj`).
    public var jacobianEvaluations = 0
    /// Nonlinear solves started (one per implicit Euler step).
    public var rootSolves = 0
    /// Root-solver iterations, summed over solves.
    public var rootIterations = 0
    /// Root solves that failed.
    public var rootFailures = 0
    /// Root solves that stopped short of the tolerance and were accepted within the stall
    /// tolerance (ReLU kinks; see `ImplicitStage`).
    public var rootStalls = 0
    /// Newton–Krylov solves: Newton iterations (also in `rootIterations`), Krylov (GMRES)
    /// iterations and line-search backtracks. The JVPs are in `jacobianVectorProducts`.
    public var newtonIterations = 0
    /// GMRES iterations of the Newton–Krylov solver, summed.
    public var krylovIterations = 0
    /// Backtracks of KINSOL's line search.
    public var lineSearchBacktracks = 0
    /// ODE flows (GSL odeiv2): accepted and rejected adaptive steps.
    public var acceptedSteps = 0
    /// Trial steps the adaptive controller rejected (`accepted_steps` counts the accepted ones).
    public var rejectedSteps = 0
    /// Evaluations of v made by the integrator itself to monitor ‖v‖ (tolerance test and
    /// recording); kept apart so they never inflate a scheme's cost.
    public var monitorEvaluations = 0

    /// All counters zero.
    public init() {}

    /// Every counter added, field by field (the integrator's per-step sum: no key-path dispatch
    /// on the hot path). A new counter goes here and into `jsonKeys`.
    public static func += (a: inout Stats, b: Stats) {
        a.fieldEvaluations += b.fieldEvaluations
        a.jacobianVectorProducts += b.jacobianVectorProducts
        a.transposeJacobianVectorProducts += b.transposeJacobianVectorProducts
        a.jacobianEvaluations += b.jacobianEvaluations
        a.rootSolves += b.rootSolves
        a.rootIterations += b.rootIterations
        a.rootFailures += b.rootFailures
        a.rootStalls += b.rootStalls
        a.monitorEvaluations += b.monitorEvaluations
        a.newtonIterations += b.newtonIterations
        a.krylovIterations += b.krylovIterations
        a.lineSearchBacktracks += b.lineSearchBacktracks
        a.acceptedSteps += b.acceptedSteps
        a.rejectedSteps += b.rejectedSteps
    }

    /// Scheme cost in the benchmark's sense: field evaluations + JVPs + VJPs + root iterations.
    public var cost: Int {
        fieldEvaluations + jacobianVectorProducts + transposeJacobianVectorProducts + rootIterations
    }
}

/// How a run ended.
public enum Status: Sendable, Equatable, CustomStringConvertible {
    /// ‖v(x)‖₂ fell to the requested tolerance.
    case converged
    /// All requested steps were taken.
    case completed
    /// The state became non-finite or left the divergence bound; the last finite state is kept.
    case diverged(String)
    /// A step could not be taken (e.g. the implicit equation had no solution); the state before
    /// that step is kept.
    case failed(String)

    /// "converged", "completed", "diverged" or "failed" (the JSON contract's names).
    public var name: String {
        switch self {
        case .converged: return "converged"
        case .completed: return "completed"
        case .diverged: return "diverged"
        case .failed: return "failed"
        }
    }

    /// The reason for `diverged` or `failed`, nil otherwise.
    public var reason: String? {
        switch self {
        case .diverged(let r), .failed(let r): return r
        default: return nil
        }
    }

    /// True for `converged` and `completed`.
    public var isSuccessful: Bool { reason == nil }

    /// Why a run did not succeed, as a code a program can branch on (nil for `converged` and
    /// `completed`); the message (`reason`) says the rest. Every message the library writes
    /// for a status names its cause in one of the phrases `ReasonCode.classify` reads, and the
    /// tests check each producer's code.
    public var reasonCode: ReasonCode? { reason.map(ReasonCode.classify) }

    public var description: String { reason.map { "\(name): \($0)" } ?? name }
}

/// The typed cause of a `diverged` or `failed` status (`reason_code` in JSON summaries).
public enum ReasonCode: String, Sendable, CaseIterable {
    /// v, the state or a Jacobian became NaN or infinite.
    case nonFiniteValue = "non_finite_value"
    /// The state left the divergence bound, or a work bound (`--max-steps` of a flow) was reached.
    case boundExceeded = "bound_exceeded"
    /// An implicit step's root solve (GSL or KINSOL) failed.
    case rootSolveFailed = "root_solve_failed"
    /// An error-controlled integrator needed a step below its minimum or below the spacing of doubles.
    case stepSizeUnderflow = "step_size_underflow"
    /// GSL odeiv2 failed for another reason (its message is kept).
    case integratorFailed = "integrator_failed"
    /// A signal stopped the run (SIGINT, SIGTERM, SIGHUP); a checkpoint was written.
    case interrupted
    /// Anything else.
    case other

    /// The code of a status message (see `Status.reasonCode`).
    public static func classify(_ message: String) -> ReasonCode {
        let m = message.lowercased()
        if m.contains("interrupted") || m.hasPrefix("sigint") || m.hasPrefix("sigterm") || m.hasPrefix("sighup") { return .interrupted }
        // A root solver's failure first: its message may add that it met a non-finite system.
        if m.contains("gsl hybrids") || m.contains("gsl hybridsj") || m.contains("kinsol") || m.contains("no root within") { return .rootSolveFailed }
        if m.contains("non-finite") || m.contains("not finite") { return .nonFiniteValue }
        if m.contains("divergence bound") || m.contains("bound exceeded") { return .boundExceeded }
        if m.contains("underflow") || m.contains("below the minimum") { return .stepSizeUnderflow }
        if m.contains("odeiv2") { return .integratorFailed }
        return .other
    }
}
