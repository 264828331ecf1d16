/// Consensus optimisation: an Euler step on the modified field
///
///     w(x) = v(x) − γ·v′(x)ᵀ v(x) = v(x) − γ·∇(½‖v(x)‖²),   x_{k+1} = x_k + h·w(x_k).
///
/// γ ≥ 0 is the scheme's knob (γ = 0 is SimGA). Order 1; per step 1 evaluation of v and 1
/// transpose Jacobian-vector product (exact, from the game). It moves the eigenvalues of the
/// linearisation to the left (v′ − γv′ᵀv′, Lemma 9), an approximation of implicit Euler's damping:
/// on a bilinear game with singular value σ the step contracts by √((1 − hγσ²)² + h²σ²), and
/// with γ = h its update matrix equals extragradient's.
///
/// Reference: Mescheder, Nowozin, Geiger, "The Numerics of GANs" (NIPS 2017), Algorithm 2.
public struct Consensus: Scheme {
    public let gamma: Double

    /// - Parameter gamma: γ ≥ 0, the weight of the consensus term.
    public init(gamma: Double) throws {
        guard gamma.isFinite, gamma >= 0 else {
            throw GameFlowError.invalidInput("consensus gamma must be a finite number ≥ 0 (got \(gamma))")
        }
        self.gamma = gamma
    }

    public var name: String { "consensus" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers,
                              context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.a)
        context.transposeJacobianVectorProduct(x, cache.a, into: &cache.b)
        axpbypz(h, cache.a, -h * gamma, cache.b, &x)
        return .success
    }
}
