/// The implicit midpoint rule:
///
///     x_{k+1} = x_k + h·v((x_k + x_{k+1})/2),
///
/// solved like implicit Euler (`ImplicitStage` with α = 1, θ = ½, β = 0; the same root solvers,
/// tolerance, predictor and budget). Order 2 (the one-stage Gauss–Legendre method), symplectic.
/// R(z) = (1 + z/2)/(1 − z/2): A-stable with |R(iy)| = 1, so on a bilinear game ‖x‖ is kept
/// exactly (up to the solve's tolerance) for every h; on a linear field with every Re λ < 0 it
/// converges for every h. Per step: one evaluation of v(x_k) and one root solve.
///
/// Reference: Hairer, Lubich, Wanner, "Geometric Numerical Integration" (2006), §II.1 and §VI.3.
public struct ImplicitMidpoint: ImplicitStageScheme {
    /// How each step is solved.
    public let solverOptions: ImplicitSolverOptions
    public let metric: Preconditioner?

    /// The scheme with these solver options (solving in `metric`'s metric when given).
    public init(_ options: ImplicitSolverOptions, metric: Preconditioner? = nil) throws {
        try options.validate()
        self.solverOptions = options
        self.metric = metric
    }

    /// The scheme's stage (α, θ, β).
    public var stage: ImplicitStage { ImplicitStage(alpha: 1, theta: 0.5, beta: 0) }

    public var name: String { "implicit-midpoint" }
    public var order: Int { 2 }
}
