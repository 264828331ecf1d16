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
/// consensus with γ = α, and an eigenvalue iσ of J becomes iσ − ασ². With `shaping` this is LOLA
/// (its formula and cost in `LOLA.swift`), which on such games doubles the correction (consensus
/// with γ = 2α).
///
/// Reference: Letcher, Foerster, Balduzzi, Rocktäschel, Whiteson, "Stable Opponent Shaping in
/// Differentiable Games" (ICLR 2019), §3 (LA); Zhang & Lesser, "Multi-agent learning with policy
/// prediction" (AAAI 2010).
public struct LookAheadGradient: Scheme {
    /// α ≥ 0, the opponents' look-ahead step.
    public let alpha: Double
    /// LOLA: add the opponents' shaping term (`LOLA.swift`); false: LA.
    public let shaping: Bool

    /// LA (or, with `shaping`, LOLA) with look-ahead α.
    /// - Parameters:
    ///   - alpha: α ≥ 0 (0 is SimGA).
    ///   - shaping: add LOLA's shaping term diag(J_offᵀ∇u) (the game must give `UtilityGradients`).
    public init(alpha: Double, shaping: Bool = false) throws {
        guard alpha.isFinite, alpha >= 0 else { throw GameFlowError.invalidInput("--alpha must be a finite number ≥ 0 (got \(alpha))") }
        self.alpha = alpha
        self.shaping = shaping
    }

    public var name: String { shaping ? "lola" : "la" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// Work buffers, the players' blocks (read once: a game may build them on every call) and,
    /// for LOLA, the game's utility gradients.
    public struct Cache {
        var buffers: Buffers
        let players: [Range<Int>]
        let utilities: (any UtilityGradients)?
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        let utilities = game as? any UtilityGradients
        if shaping && utilities == nil {
            throw GameFlowError.invalidInput("lola needs each player's utility gradient over every player's parameters; \(game.name) does not give it (bilinear games, the Dirac-GAN, GANs and formula games with utilities do)")
        }
        return Cache(buffers: Buffers(dimension: game.dimension), players: game.players, utilities: shaping ? utilities : nil)
    }

    /// `a`: v, `b`/`c`: work (v on one block, its JVP; ∇u_i, its transpose JVP), `e`: the α-terms.
    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.buffers.a)
        let n = x.count
        for i in 0..<n { cache.buffers.e[i] = 0 }
        if alpha != 0 {
            addOffDiagonalProduct(cache.buffers.a, players: cache.players, scale: 1, block: &cache.buffers.b, product: &cache.buffers.c,
                                  into: &cache.buffers.e) { context.jacobianVectorProduct(x, $0, into: &$1) }
            if let utilities = cache.utilities {
                // LOLA's shaping: for player i, (v′ᵀ·z)_i with z = ∇u_i outside block i.
                for (player, range) in cache.players.enumerated() {
                    context.stats.fieldEvaluations += 1   // a utility gradient costs about one v
                    utilities.utilityGradient(player: player, at: x, step: context.step, into: &cache.buffers.b)
                    for i in range { cache.buffers.b[i] = 0 }
                    context.transposeJacobianVectorProduct(x, cache.buffers.b, into: &cache.buffers.c)
                    for i in range { cache.buffers.e[i] += cache.buffers.c[i] }
                }
            }
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
