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
    public init(alpha: Double) throws { self.alpha = try Self.checked(alpha: alpha) }

    /// α, checked: finite and ≥ 0 (LA's and LOLA's look-ahead).
    static func checked(alpha: Double) throws -> Double {
        guard alpha.isFinite, alpha >= 0 else { throw GameFlowError.invalidInput("--alpha must be a finite number ≥ 0 (got \(alpha))") }
        return alpha
    }

    public var name: String { "la" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// Work buffers and the players' blocks (read once: a game may build them on every call).
    public struct Cache {
        var buffers: Buffers
        let players: [Range<Int>]
    }

    public func makeCache<G: Game>(for game: G) -> Cache { Cache(buffers: Buffers(dimension: game.dimension), players: game.players) }

    /// `a`: v, `b`: v on one player's block (zero elsewhere), `c`: v′ of that, `e`: J_off·v.
    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.buffers.a)
        let n = x.count
        for i in 0..<n { cache.buffers.e[i] = 0 }
        if alpha != 0 {
            addOffDiagonalProduct(cache.buffers.a, players: cache.players, scale: 1, block: &cache.buffers.b, product: &cache.buffers.c,
                                  into: &cache.buffers.e) { context.jacobianVectorProduct(x, $0, into: &$1) }
        }
        let k = h * alpha
        for i in 0..<n { x[i] += h * cache.buffers.a[i] + k * cache.buffers.e[i] }
        return .success
    }
}

/// out += s·J_off·u, J_off = v′ without its diagonal player blocks: for each player k, the
/// product v′·(u on block k, 0 elsewhere) (`jvp`) outside block k — one JVP per player.
/// `block` and `product` are work buffers of length n.
@inline(__always)
func addOffDiagonalProduct(_ u: UnsafePointer<Double>, players: [Range<Int>], scale s: Double, block: inout [Double],
                           product: inout [Double], into out: UnsafeMutablePointer<Double>, jvp: (_ u: [Double], _ out: inout [Double]) -> Void) {
    let n = block.count
    for range in players {
        for i in 0..<n { block[i] = 0 }
        for i in range { block[i] = u[i] }
        jvp(block, &product)
        for i in 0..<range.lowerBound { out[i] += s * product[i] }
        for i in range.upperBound..<n { out[i] += s * product[i] }
    }
}

/// `addOffDiagonalProduct` on arrays.
@inline(__always)
func addOffDiagonalProduct(_ u: [Double], players: [Range<Int>], scale s: Double, block: inout [Double], product: inout [Double],
                           into out: inout [Double], jvp: (_ u: [Double], _ out: inout [Double]) -> Void) {
    u.withUnsafeBufferPointer { us in
        out.withUnsafeMutableBufferPointer { os in
            addOffDiagonalProduct(us.baseAddress!, players: players, scale: s, block: &block, product: &product, into: os.baseAddress!, jvp: jvp)
        }
    }
}
