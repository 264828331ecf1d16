/// The trapezoidal rule (Crank–Nicolson):
///
///     x_{k+1} = x_k + (h/2)·(v(x_k) + v(x_{k+1})),
///
/// solved like implicit Euler (`ImplicitStage` with α = ½, θ = 1, β = ½; the same root solvers,
/// tolerance, predictor and budget). Order 2. R(z) = (1 + z/2)/(1 − z/2), the same as the
/// implicit midpoint rule: A-stable with |R(iy)| = 1 (‖x‖ kept on bilinear games), and on
/// linear games the two give the same steps. Per step: one evaluation of v(x_k) (also the
/// explicit half of the rule) and one root solve.
///
/// Reference: Hairer, Wanner, "Solving Ordinary Differential Equations II" (1996), §IV.3.
public struct Trapezoidal: ImplicitStageScheme {
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
    public var stage: ImplicitStage { ImplicitStage(alpha: 0.5, theta: 1, beta: 0.5) }

    public var name: String { "trapezoidal" }
    public var order: Int { 2 }
}
