/// LA ("look-ahead"): each player steps along its own gradient taken where the other players
/// will be after one gradient step of size α, to first order:
///
///     w_i(x) = v_i(x) + α·Σ_{j≠i} ∂_j v_i(x)·v_j(x),   i.e. w = v + α·J_off·v,
///     x_{k+1} = x_k + h·w(x_k),
///
/// J_off = v′ with its diagonal player blocks set to zero (Letcher et al.'s H_o in GameFlow's
/// sign: their losses' gradient ξ = −v, H_o = −J_off, LA descends ξ − αH_oξ). Work per step: one
/// evaluation of v and one JVP per player (along v restricted to that player's block), exact
/// from the game. Order 1.
///
/// On a two-player bilinear zero-sum game (J = J_off antisymmetric) w = v + αJv = v − αJᵀv: LA is
/// consensus with γ = α, and an eigenvalue iσ of J becomes iσ − ασ². LOLA adds the opponents'
/// shaping term, which on such games doubles the correction (consensus with γ = 2α).
///
/// Reference: Letcher, Foerster, Balduzzi, Rocktäschel, Whiteson, "Stable Opponent Shaping in
/// Differentiable Games" (ICLR 2019), §3 (LA); Zhang & Lesser, "Multi-agent learning with policy
/// prediction" (AAAI 2010).
public struct LookAheadGradient: Scheme {
    /// α ≥ 0, the opponents' look-ahead step.
    public let alpha: Double

    /// LA with look-ahead α.
    /// - Parameter alpha: α ≥ 0 (0 is SimGA).
    public init(alpha: Double) throws {
        guard alpha.isFinite, alpha >= 0 else { throw GameFlowError.invalidInput("--alpha must be a finite number ≥ 0 (got \(alpha))") }
        self.alpha = alpha
    }

    public var name: String { "la" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    /// `a`: v, `b`: v on one player's block (zero elsewhere), `c`: v′ of that, `e`: J_off·v.
    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers, context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.a)
        let n = x.count
        for i in 0..<n { cache.e[i] = 0 }
        if alpha != 0 {
            for block in context.game.players {
                for i in 0..<n { cache.b[i] = 0 }
                for i in block { cache.b[i] = cache.a[i] }
                context.jacobianVectorProduct(x, cache.b, into: &cache.c)
                // ∂_j v_i·v_j for every other player i: the JVP's entries outside block j.
                for i in 0..<block.lowerBound { cache.e[i] += cache.c[i] }
                for i in block.upperBound..<n { cache.e[i] += cache.c[i] }
            }
        }
        let k = h * alpha
        x.withUnsafeMutableBufferPointer { xs in
            cache.a.withUnsafeBufferPointer { a in
                cache.e.withUnsafeBufferPointer { e in for i in 0..<n { xs[i] += h * a[i] + k * e[i] } }
            }
        }
        return .success
    }
}
