/// Implicit (backward) Euler, the proximal-point method for games:
///
///     x_{k+1} = x_k + h·v(x_{k+1}),
///
/// solved each step for z = x_{k+1} by the root solver of `ImplicitSolverOptions` (`ImplicitStage`
/// with α = 1, θ = 1, β = 0: the scale-safe residual, the relative tolerance, the predictor):
/// GSL's `hybridsj` (Powell's hybrid dogleg with the exact dense Jacobian (I − h·v′(z))/(1 + h)),
/// `hybrids` (GSL's finite-difference Jacobian, the default when the game has no exact
/// derivatives), or KINSOL's matrix-free Newton–Krylov on exact JVPs (the default above
/// `RootMethod.denseLimit` unknowns). A step whose solve fails ends the run with status `failed`
/// and the solver's reason, keeping x_k — never an abort.
///
/// **Inexact implicit Euler** (`budget`: K Newton iterations of M GMRES iterations, full steps,
/// the last iterate accepted) is the family between explicit Euler (K = 0) and the exact step that
/// the paper's Discussion asks for. Its cost per step is exactly 1 + K evaluations of v (the
/// predictor's and one residual per Newton iteration; K + 1 when the last residual is re-checked)
/// and at most K·M JVPs (GMRES stops early once it solves the linear system to 1e-14).
///
/// Order 1; per step one evaluation of v(x_k) (predictor and scale) and one root solve, whose
/// iterations, residual evaluations, JVPs and Jacobian evaluations are counted. R(z) = 1/(1 − z):
/// A-stable, so on a linear field with every Re λ < 0 it converges for every h > 0; on a bilinear
/// game it contracts by 1/√(1 + h²σ²). Consensus optimisation is a first-order approximation of it.
///
/// Reference: Mescheder, Nowozin, Geiger, "The Numerics of GANs" (NIPS 2017), §3.3 and
/// Discussion; Rockafellar, "Monotone operators and the proximal point algorithm" (1976).
public struct ImplicitEuler: ImplicitStageScheme {
    /// How each step is solved.
    public let solverOptions: ImplicitSolverOptions
    /// Solve in this optimizer's metric (`ImplicitMetric`), nil for the plain scheme.
    public let metric: Preconditioner?

    /// The scheme with these solver options (solving in `metric`'s metric when given).
    public init(_ options: ImplicitSolverOptions, metric: Preconditioner? = nil) throws {
        try options.validate()
        self.solverOptions = options
        self.metric = metric
    }

    /// Dense GSL solve (`method` nil: `hybridsj` with exact derivatives, else `hybrids`).
    public init(tolerance: Double, maxIterations: Int, method: RootMethod? = nil) throws {
        try self.init(ImplicitSolverOptions(method: method ?? .auto, tolerance: tolerance, maxIterations: maxIterations))
    }

    /// The root tolerance.
    public var tolerance: Double { solverOptions.tolerance }
    /// The root solver's iteration cap.
    public var maxIterations: Int { solverOptions.maxIterations }

    /// The scheme's stage (α, θ, β).
    public var stage: ImplicitStage { ImplicitStage(alpha: 1, theta: 1, beta: 0) }

    public var name: String { "implicit-euler" }
    public var order: Int { 1 }
}
