/// Alternating gradient ascent: a splitting (Gauss–Seidel) scheme over the players, in the
/// order of `Game.players`. Player 1 takes an Euler step; player 2 then steps using player 1's
/// *updated* parameters; and so on:
///
///     φ_{k+1} = φ_k + h·∇_φ f(φ_k, θ_k)
///     θ_{k+1} = θ_k + h·∇_θ g(φ_{k+1}, θ_k)
///
/// **Sub-steps and nested loops** (`--substeps n1,n2,…`, `--inner-tolerance T`): player i takes
/// nᵢ Euler sub-steps of its own block per outer step before the next player moves (WGAN's
/// "several discriminator steps per generator step"); sub-step s ≥ 1 of outer step k sees the
/// minibatch of `Game.subStepIndex(k, s)`, a pure function of (k, s), sub-step 0 that of k.
/// With an inner tolerance, a player with nᵢ > 1 stops early once the norm of its block of v is
/// ≤ T before a sub-step (capped by nᵢ): the player trained to convergence, as in nested-loop
/// training; such a player whose block is already within T does not move. Players with one
/// sub-step always take it. All counts 1 and no tolerance is plain
/// AltGA, bit for bit.
///
/// For the GANs in GameFlow the first block is the one listed first by the game (the Dirac-GAN
/// lists the generator θ first); reorder the game's blocks to change who moves first.
/// Order 1; one evaluation of v per player per sub-step, of that player's block only
/// (`Game.evaluate(at:step:player:into:)`; on the paper's MLP GAN that saves about a quarter
/// of a step, README "Speed"). On a bilinear game it is the symplectic Euler method: for
/// h·σ_max < 2 its iterates stay on a bounded orbit (they neither converge nor diverge). The
/// step matrix (`linearizedStepMatrix`) is that of the fixed sub-step counts: near an
/// equilibrium a tolerance stops every inner loop at once.
///
/// References: Mescheder et al., "The Numerics of GANs" (2017), §3 and supplement;
/// Bailey, Gidel, Piliouras, "Finite Regret and Cycles with Fixed Step-Size via Alternating
/// Gradient Descent-Ascent" (COLT 2020); Arjovsky et al., "Wasserstein GAN" (2017), Algorithm 1
/// (n_critic discriminator steps per generator step).
public struct AltGA: Scheme {
    /// Sub-steps per player per outer step (nil: one each).
    public let substeps: [Int]?
    /// Stop a player's sub-steps once ‖its block of v‖₂ ≤ this (nil: always take all of them).
    public let innerTolerance: Double?

    /// Plain AltGA: one step per player.
    public init() {
        substeps = nil
        innerTolerance = nil
    }

    /// AltGA with `substeps[i]` sub-steps for player i and an optional inner tolerance.
    /// - Throws: unless every count is ≥ 1 and the tolerance (if any) is finite and ≥ 0.
    public init(substeps: [Int]?, innerTolerance: Double? = nil) throws {
        if let s = substeps {
            guard !s.isEmpty, s.allSatisfy({ $0 >= 1 && $0 <= 1_000_000 }) else {
                throw GameFlowError.invalidInput("--substeps needs one count in 1…1000000 per player (got \(s))")
            }
        }
        if let t = innerTolerance, !(t.isFinite && t >= 0) {
            throw GameFlowError.invalidInput("--inner-tolerance must be a finite number ≥ 0 (got \(t))")
        }
        self.substeps = substeps
        self.innerTolerance = innerTolerance
    }

    public var name: String { "altga" }
    public var order: Int { 1 }
    /// Per two-player game with one sub-step each; in general one per player sub-step.
    public var evaluationsPerStep: Int { substeps?.reduce(0, +) ?? 2 }

    /// The field buffer, the player blocks (read once: a game may build `players` on each call)
    /// and the sub-step counts.
    public struct Cache {
        var v: [Double]
        let players: [Range<Int>]
        let counts: [Int]
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        let players = game.players
        if let s = substeps, s.count != players.count {
            throw GameFlowError.invalidInput("--substeps has \(s.count) count\(s.count == 1 ? "" : "s"), the game has \(players.count) players")
        }
        return Cache(v: [Double](repeating: 0, count: game.dimension), players: players,
                     counts: substeps ?? [Int](repeating: 1, count: players.count))
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache,
                              context: inout StepContext<G>) -> StepResult {
        for player in cache.players.indices { stepPlayer(player, &x, h: h, cache: &cache, context: &context) }
        return .success
    }

    /// Player `player`'s part of a step: its sub-steps on its own block, at the current x (the
    /// earlier players already moved). `AlternatingMomentum` adds momentum between players.
    func stepPlayer<G: Game>(_ player: Int, _ x: inout [Double], h: Double, cache: inout Cache,
                             context: inout StepContext<G>) {
        let outer = context.step
        defer { context.step = outer }
        let block = cache.players[player]
        for s in 0..<cache.counts[player] {
            context.step = s == 0 ? outer : G.subStepIndex(outer, s)
            context.evaluate(x, player: player, into: &cache.v)
            if let t = innerTolerance, cache.counts[player] > 1 {
                var sq = 0.0
                for i in block { sq += cache.v[i] * cache.v[i] }
                if sq.squareRoot() <= t { break }
            }
            for i in block { x[i] += h * cache.v[i] }
        }
    }
}
