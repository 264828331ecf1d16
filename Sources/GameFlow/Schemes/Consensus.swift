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
/// **On one player only** (`--consensus-on discriminator`, the supplement's "smoothing" variant of
/// Figure 7): only the discriminator's block gets the term, w = v − γ·P_D·v′ᵀv, the gradient of
/// ½‖v‖² with respect to D's parameters alone; same work per step.
///
/// Reference: Mescheder, Nowozin, Geiger, "The Numerics of GANs" (NIPS 2017), Algorithm 2 and
/// supplement Figure 7.
public struct Consensus: Scheme {
    /// γ ≥ 0, the weight of the consensus term.
    public let gamma: Double
    /// The player whose block gets the consensus term (nil: every player).
    public let onlyPlayer: Int?
    /// How L = ½‖v‖² is estimated on a minibatch (`.none`: ½‖v̄‖²; the others need a
    /// `PerExampleGame`).
    public let debias: ConsensusDebias

    /// Consensus optimisation with weight γ.
    /// - Parameters:
    ///   - gamma: γ ≥ 0, the weight of the consensus term.
    ///   - onlyPlayer: regularise only this player's block (nil: all).
    ///   - debias: how L = ½‖v‖² is estimated on a minibatch (`ConsensusDebias`).
    public init(gamma: Double, onlyPlayer: Int? = nil, debias: ConsensusDebias = .none) throws {
        guard gamma.isFinite, gamma >= 0 else {
            throw GameFlowError.invalidInput("consensus gamma must be a finite number ≥ 0 (got \(gamma))")
        }
        if let p = onlyPlayer, p < 0 { throw GameFlowError.invalidInput("consensus: player index must be ≥ 0 (got \(p))") }
        self.gamma = gamma
        self.onlyPlayer = onlyPlayer
        self.debias = debias
    }

    public var name: String { "consensus" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// The field buffers and the block the term applies to.
    public struct Cache {
        var buffers: Buffers
        /// The coordinates that get the term (nil: all).
        let block: Range<Int>?
        /// The per-example work arrays when debiasing.
        var debias: DebiasBuffers?
        /// The game as a `PerExampleGame` when debiasing (cast once: a cast per step would box it).
        let perExample: (any PerExampleGame)?
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        var block: Range<Int>?
        if let p = onlyPlayer {
            let players = game.players
            guard players.indices.contains(p) else {
                throw GameFlowError.invalidInput("consensus on player \(p): the game has \(players.count) players")
            }
            block = players[p]
        }
        var buffers: DebiasBuffers?
        var perExample: (any PerExampleGame)?
        if debias != .none {
            guard let g = game as? any PerExampleGame else {
                throw GameFlowError.invalidInput("--debias \(debias.rawValue) needs a game with per-example fields (a PerExampleGame such as NoisyLinearGame, or a stochastic game split into parts by SubBatchedGame, as train does); \(game.name) has none")
            }
            buffers = DebiasBuffers(batchSize: g.batchSize, dimension: game.dimension)
            perExample = g
        }
        return Cache(buffers: Buffers(dimension: game.dimension), block: block, debias: buffers, perExample: perExample)
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache,
                              context: inout StepContext<G>) -> StepResult {
        if var w = cache.debias, let g = cache.perExample {
            // Counted as one field evaluation and one v′ᵀu on the batch (their work).
            context.stats.fieldEvaluations += 1
            context.stats.transposeJacobianVectorProducts += 1
            cache.debias = nil   // hand the buffers over without a copy
            debiasedConsensusGradient(g, at: x, step: context.step, debias: debias, buffers: &w, mean: &cache.buffers.a, into: &cache.buffers.b)
            cache.debias = w
        } else {
            context.evaluate(x, into: &cache.buffers.a)
            context.transposeJacobianVectorProduct(x, cache.buffers.a, into: &cache.buffers.b)
        }
        if let block = cache.block {
            for i in 0..<x.count where !block.contains(i) { cache.buffers.b[i] = 0 }
        }
        axpbypz(h, cache.buffers.a, -h * gamma, cache.buffers.b, &x)
        return .success
    }
}
