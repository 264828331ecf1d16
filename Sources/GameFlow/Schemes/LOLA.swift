/// A game that gives each player's utility gradient with respect to *every* player's
/// parameters (∇u_i, all n components), which LOLA's shaping term needs (v holds only each
/// player's own block, ∇_i u_i).
public protocol UtilityGradients: Game {
    /// ∇u_player(x) into `g` (length n).
    func utilityGradient(player: Int, at x: [Double], step: Int, into g: inout [Double])
}

/// LOLA (learning with opponent-learning awareness) in Letcher et al.'s form: LA plus the
/// shaping term, each player differentiating through the others' look-ahead step,
///
///     w_i = v_i + α·Σ_{j≠i} [ ∂_j v_i·v_j + (∂_i v_j)ᵀ·∇_j u_i ],   x_{k+1} = x_k + h·w(x_k),
///
/// i.e. w = v + α·J_off·v + α·diag(J_offᵀ·∇u) in GameFlow's sign (their ξ − αH_oξ −
/// α·diag(H_oᵀ∇L) with ξ = −v, H_o = −J_off, L = −u). Needs `UtilityGradients` (bilinear games and
/// formula games with utilities have them). Work per step: one evaluation of v, and per player
/// one JVP, one utility gradient (counted as an evaluation of v) and one transpose JVP. Order 1.
///
/// On a two-player zero-sum bilinear game (∇_j u_i = −v_j for j ≠ i, J antisymmetric) the
/// shaping term equals the look-ahead term: LOLA is consensus with γ = 2α (LA is γ = α).
/// SOS (stable opponent shaping) interpolates between the two with a per-step p chosen from
/// ‖J_off·v‖ and ‖diag(J_offᵀ∇u)‖; that fits this protocol too and is not implemented yet.
///
/// Reference: Foerster et al., "Learning with Opponent-Learning Awareness" (AAMAS 2018);
/// Letcher, Foerster, Balduzzi, Rocktäschel, Whiteson, "Stable Opponent Shaping in
/// Differentiable Games" (ICLR 2019), §3.
public struct LOLA: Scheme {
    /// α ≥ 0, the opponents' look-ahead step.
    public let alpha: Double

    /// LOLA with look-ahead α.
    /// - Parameter alpha: α ≥ 0 (0 is SimGA).
    public init(alpha: Double) throws { self.alpha = try LookAheadGradient.checked(alpha: alpha) }

    public var name: String { "lola" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// Work buffers, the players' blocks and the game's utility gradients (it must give them).
    public struct Cache {
        var buffers: Buffers
        let players: [Range<Int>]
        let utilities: any UtilityGradients
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        guard let u = game as? any UtilityGradients else {
            throw GameFlowError.invalidInput("lola needs each player's utility gradient over every player's parameters; \(game.name) does not give it (bilinear games, the Dirac-GAN, GANs and formula games with utilities do)")
        }
        return Cache(buffers: Buffers(dimension: game.dimension), players: game.players, utilities: u)
    }

    /// `a`: v, `b`/`c`: work, `e`: J_off·v + diag(J_offᵀ∇u).
    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.buffers.a)
        let n = x.count
        for i in 0..<n { cache.buffers.e[i] = 0 }
        if alpha != 0 {
            addOffDiagonalProduct(cache.buffers.a, players: cache.players, scale: 1, block: &cache.buffers.b, product: &cache.buffers.c,
                                  into: &cache.buffers.e) { context.jacobianVectorProduct(x, $0, into: &$1) }
            // Shaping: for player i, (v′ᵀ·z)_i with z = ∇u_i outside block i.
            for (player, range) in cache.players.enumerated() {
                context.stats.fieldEvaluations += 1   // a utility gradient costs about one v
                cache.utilities.utilityGradient(player: player, at: x, step: context.step, into: &cache.buffers.b)
                for i in range { cache.buffers.b[i] = 0 }
                context.transposeJacobianVectorProduct(x, cache.buffers.b, into: &cache.buffers.c)
                for i in range { cache.buffers.e[i] += cache.buffers.c[i] }
            }
        }
        let k = h * alpha
        for i in 0..<n { x[i] += h * cache.buffers.a[i] + k * cache.buffers.e[i] }
        return .success
    }
}

extension BilinearGame: UtilityGradients {
    /// ∇f = (Aθ, Aᵀφ) = (v_φ, −v_θ) for φ's utility f, and −∇f for θ's (g = −f).
    public func utilityGradient(player: Int, at x: [Double], step: Int, into g: inout [Double]) {
        evaluate(at: x, step: step, into: &g)
        let sign = player == 0 ? 1.0 : -1.0
        for i in 0..<A.rows { g[i] *= sign }
        for i in A.rows..<dimension { g[i] *= -sign }
    }
}
