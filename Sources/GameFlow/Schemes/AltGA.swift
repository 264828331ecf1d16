/// Alternating gradient ascent: a splitting (Gauss–Seidel) scheme over the players, in the
/// order of `Game.players`. Player 1 takes an Euler step; player 2 then steps using player 1's
/// *updated* parameters; and so on:
///
///     φ_{k+1} = φ_k + h·∇_φ f(φ_k, θ_k)
///     θ_{k+1} = θ_k + h·∇_θ g(φ_{k+1}, θ_k)
///
/// For the GANs in GameFlow the first block is the one listed first by the game (the Dirac-GAN
/// lists the generator θ first); reorder the game's blocks to change who moves first.
/// Order 1; one evaluation of v per player per step, of that player's block only
/// (`Game.evaluate(at:step:player:into:)`; on the paper's MLP GAN that saves about a quarter
/// of a step, README "Speed"). On a bilinear game it is the symplectic Euler method: for
/// h·σ_max < 2 its iterates stay on a bounded orbit (they neither converge nor diverge).
///
/// References: Mescheder et al., "The Numerics of GANs" (2017), §3 and supplement;
/// Bailey, Gidel, Piliouras, "Finite Regret and Cycles with Fixed Step-Size via Alternating
/// Gradient Descent-Ascent" (COLT 2020).
public struct AltGA: Scheme {
    public init() {}
    public var name: String { "altga" }
    public var order: Int { 1 }
    /// Per two-player game; in general one per player.
    public var evaluationsPerStep: Int { 2 }

    /// The field buffer and the player blocks (read once: a game may build `players` on each call).
    public struct Cache {
        var v: [Double]
        let players: [Range<Int>]
    }

    public func makeCache<G: Game>(for game: G) -> Cache {
        Cache(v: [Double](repeating: 0, count: game.dimension), players: game.players)
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache,
                              context: inout StepContext<G>) -> StepResult {
        for (player, block) in cache.players.enumerated() {
            context.evaluate(x, player: player, into: &cache.v)
            for i in block { x[i] += h * cache.v[i] }
        }
        return .success
    }
}
