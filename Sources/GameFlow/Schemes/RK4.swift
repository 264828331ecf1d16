import Numerics

/// The classical fourth-order Runge–Kutta method:
///
///     k₁ = v(x), k₂ = v(x + h/2·k₁), k₃ = v(x + h/2·k₂), k₄ = v(x + h·k₃),
///     x_{k+1} = x + h/6·(k₁ + 2k₂ + 2k₃ + k₄).
///
/// Order 4; 4 evaluations of v per step; R(z) = 1 + z + z²/2 + z³/6 + z⁴/24. On a bilinear game
/// |R(ihσ)|² = 1 − (hσ)⁶/72 + (hσ)⁸/576: it follows the conservative exact flow closely and
/// contracts very slowly for hσ < 2√2.
///
/// Reference: Qin et al., "Training Generative Adversarial Networks by Solving Ordinary
/// Differential Equations" (NeurIPS 2020) — ODE-GAN.
public struct RK4: Scheme {
    /// Classical RK4.
    public init() {}
    public var name: String { "rk4" }
    public var order: Int { 4 }
    public var evaluationsPerStep: Int { 4 }

    /// R(z) = 1 + z + z²/2 + z³/6 + z⁴/24.
    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? {
        1 + z * (1 + z * (Complex(1.0 / 2) + z * (Complex(1.0 / 6) + z / 24)))
    }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers,
                              context: inout StepContext<G>) -> StepResult {
        // a: kᵢ, b: stage point, e: running sum k₁ + 2k₂ + 2k₃ + k₄
        context.evaluate(x, into: &cache.a)                 // k₁
        copyValues(cache.a, into: &cache.e)
        linearSum(x, h / 2, cache.a, into: &cache.b)
        context.evaluate(cache.b, into: &cache.a)           // k₂
        axpy(2, cache.a, &cache.e)
        linearSum(x, h / 2, cache.a, into: &cache.b)
        context.evaluate(cache.b, into: &cache.a)           // k₃
        axpy(2, cache.a, &cache.e)
        linearSum(x, h, cache.a, into: &cache.b)
        context.evaluate(cache.b, into: &cache.a)           // k₄
        axpbypz(h / 6, cache.e, h / 6, cache.a, &x)
        return .success
    }
}
