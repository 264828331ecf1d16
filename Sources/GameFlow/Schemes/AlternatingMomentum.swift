import Foundation

/// Alternating updates with (negative) momentum, as Gidel et al. define them: each player's own
/// update carries its momentum, and the players after it see the result,
///
///     φ_{k+1} = φ_k + h·∇_φ f(φ_k, θ_k) + β(φ_k − φ_{k−1})
///     θ_{k+1} = θ_k + h·∇_θ g(φ_{k+1}, θ_k) + β(θ_k − θ_{k−1})      (x_{−1} := x₀)
///
/// for any number of players in `Game.players`' order (with `AltGA`'s sub-steps, a player's
/// update is all its sub-steps). `withMomentum` gives this scheme for AltGA in the Polyak form;
/// the whole-step wrapper `Momentum` (momentum added after the whole AltGA step, so that the
/// second player sees the first one's update *without* its momentum) is what every other
/// scheme gets.
///
/// On a bilinear game f = σ·φθ with a = hσ its characteristic polynomial is
/// (z − 1)²(z − β)² + a²z³ (Gidel et al., Theorem 3 and its proof): for β < 0 and small a all
/// four roots lie inside the unit circle, so the iterates contract where AltGA alone only
/// circles (at a = 1, β = −½ the rate is 1/√2·…; the whole-step wrapper's rate differs).
/// Order 1; per step AltGA's work (one evaluation of each player's block per sub-step) and
/// 2n numbers of memory. Its linearisation is a 2n × 2n map on (x_k, x_{k−1}).
///
/// Reference: Gidel, Askari Hemmat, Pezeshki, Le Priol, Huang, Lacoste-Julien, Mitliagkas,
/// "Negative Momentum for Improved Game Dynamics" (AISTATS 2019), §4–5.
public struct AlternatingMomentum: Scheme {
    /// The alternating scheme (its sub-steps and inner tolerance apply per player).
    public let base: AltGA
    /// β in (−1, 1); negative is negative momentum.
    public let beta: Double

    /// AltGA with per-player momentum β.
    /// - Throws: unless β is a finite number in (−1, 1).
    public init(_ base: AltGA, beta: Double) throws {
        guard beta.isFinite, beta > -1, beta < 1 else {
            throw GameFlowError.invalidInput("--momentum β must be a number in (−1, 1) for the polyak form (got \(beta))")
        }
        self.base = base
        self.beta = beta
    }

    public var name: String { "altga+momentum" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { base.evaluationsPerStep }

    /// AltGA's cache, the step's start and x_{k−1}.
    public struct Cache {
        var base: AltGA.Cache
        var start: [Double]
        var previous: [Double]
        var hasPrevious = false
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        let n = game.dimension
        return Cache(base: try base.makeCache(for: game), start: [Double](repeating: 0, count: n),
                     previous: [Double](repeating: 0, count: n))
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache,
                              context: inout StepContext<G>) -> StepResult {
        copyValues(x, into: &cache.start)
        for (player, block) in cache.base.players.enumerated() {
            base.stepPlayer(player, &x, h: h, cache: &cache.base, context: &context)
            if cache.hasPrevious {
                for i in block { x[i] += beta * (cache.start[i] - cache.previous[i]) }
            }
        }
        copyValues(cache.start, into: &cache.previous)
        cache.hasPrevious = true
        return .success
    }

    /// The map (x_k, x_{k−1}) ↦ (x_{k+1}, x_k) of v = J·x, 2n × 2n, column by column.
    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        let n = jacobian.rows
        let counts = base.substeps ?? [Int](repeating: 1, count: players.count)
        guard counts.count == players.count else {
            throw GameFlowError.invalidInput("--substeps has \(counts.count) counts, the game has \(players.count) players")
        }
        var c = Matrix(zeros: 2 * n, 2 * n)
        var y = [Double](repeating: 0, count: n), g = y
        for k in 0..<(2 * n) {
            for i in 0..<n { y[i] = k == i ? 1 : 0 }
            let start = y
            let previous = (0..<n).map { k == n + $0 ? 1.0 : 0 }
            for (p, block) in players.enumerated() {
                for _ in 0..<counts[p] {
                    for i in block {
                        var sum = 0.0
                        for j in 0..<n { sum += jacobian[i, j] * y[j] }
                        g[i] = sum
                    }
                    for i in block { y[i] += h * g[i] }
                }
                for i in block { y[i] += beta * (start[i] - previous[i]) }
            }
            for i in 0..<n { c[i, k] = y[i]; c[n + i, k] = start[i] }
        }
        return c
    }

    /// [1 after the first step, x_{k−1}…].
    public func carried(_ cache: Cache) -> [Double] { [cache.hasPrevious ? 1 : 0] + cache.previous }

    public func restoreCarried(_ values: [Double], into cache: inout Cache) throws {
        try expectCarried(values, count: 1 + cache.previous.count)
        cache.hasPrevious = values[0] != 0
        for i in cache.previous.indices { cache.previous[i] = values[1 + i] }
    }
}
