import Numerics

/// Simultaneous gradient ascent = explicit Euler:
///
///     x_{k+1} = x_k + h·v(x_k)
///
/// Order 1; 1 evaluation of v per step; stability function R(z) = 1 + z, so on a linear field it
/// converges iff |1 + hλ| < 1 for every eigenvalue λ of v′, i.e. h < 2|Re λ|/|λ|² (Lemma 4).
///
/// Reference: Mescheder, Nowozin, Geiger, "The Numerics of GANs" (NIPS 2017), Algorithm 1.
public struct SimGA: Scheme {
    /// Explicit Euler.
    public init() {}
    public var name: String { "simga" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// R(z) = 1 + z.
    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? { 1 + z }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers,
                              context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.a)
        axpy(h, cache.a, &x)
        return .success
    }
}
