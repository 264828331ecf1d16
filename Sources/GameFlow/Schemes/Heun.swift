import Numerics

/// Heun's method (explicit trapezoidal rule, RK2):
///
///     k₁ = v(x),  k₂ = v(x + h·k₁),  x_{k+1} = x + (h/2)(k₁ + k₂).
///
/// Order 2; 2 evaluations of v per step; R(z) = 1 + z + z²/2. On a bilinear game |R(ihσ)|² =
/// 1 + h⁴σ⁴/4 > 1: it diverges, slowly, for every h.
///
/// Reference: Qin et al., "Training Generative Adversarial Networks by Solving Ordinary
/// Differential Equations" (NeurIPS 2020) — ODE-GAN.
public struct Heun: Scheme {
    /// Heun's method.
    public init() {}
    public var name: String { "heun" }
    public var order: Int { 2 }
    public var evaluationsPerStep: Int { 2 }

    /// R(z) = 1 + z + z²/2.
    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? { 1 + z + z * z / 2 }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers,
                              context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.a)
        linearSum(x, h, cache.a, into: &cache.c)
        context.evaluate(cache.c, into: &cache.b)
        axpbypz(h / 2, cache.a, h / 2, cache.b, &x)
        return .success
    }
}
