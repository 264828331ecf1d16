import Numerics

/// Extragradient (Korpelevich): an Euler look-ahead, then a step with the look-ahead's field:
///
///     x̃ = x + h·v(x),  x_{k+1} = x + h·v(x̃).
///
/// Order 1 (a two-stage explicit Runge–Kutta method with weights b = (0, 1)); 2 evaluations of v
/// per step; R(z) = 1 + z + z², which covers part of the imaginary axis: on a bilinear game it
/// contracts by √(1 − h²σ² + h⁴σ⁴), i.e. converges iff hσ < 1.
///
/// References: Korpelevich, "The extragradient method for finding saddle points and other
/// problems" (1976); Gidel et al., "A Variational Inequality Perspective on Generative
/// Adversarial Networks" (ICLR 2019).
public struct Extragradient: Scheme {
    public init() {}
    public var name: String { "extragradient" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 2 }

    /// R(z) = 1 + z + z².
    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? { 1 + z + z * z }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers,
                              context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.a)
        linearSum(x, h, cache.a, into: &cache.b)
        context.evaluate(cache.b, into: &cache.a)
        axpy(h, cache.a, &x)
        return .success
    }
}
