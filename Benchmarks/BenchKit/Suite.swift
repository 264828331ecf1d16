import Foundation
import GameFlow
import Numerics

/// One game of the comparison suite, for one seed.
public struct BenchGame {
    public let name: String
    public let seed: UInt64
    public let game: any Game
    public let start: [Double]
    /// Log-spaced step sizes to sweep.
    public let stepGrid: [Double]
    /// Steps per cell at most.
    public let maxSteps: Int
    /// Whether the field is linear (affine): then rates are predicted exactly by the step map.
    public let isLinear: Bool
    /// Schemes not run on this game, with the reason (e.g. dense solves on the MLP GAN).
    public let skip: [SchemeName: String]
    /// Steps per cell at most for the implicit schemes (a root solve per step), when fewer
    /// than `maxSteps`: the suite's budgets are counted in work, never in wall time, so its
    /// results do not depend on the machine, the load or `--jobs`.
    public var maxImplicitSteps: Int?

    /// The step cap of a cell of `scheme`.
    public func stepCap(_ scheme: SchemeName) -> Int {
        scheme.isImplicit ? min(maxSteps, maxImplicitSteps ?? maxSteps) : maxSteps
    }

    /// The measure of progress: distance to the known equilibrium, or ‖v‖ on the game's
    /// evaluation batch when none is known.
    public func error(_ x: [Double]) -> Double {
        if let eq = game.equilibrium { return distance(x, eq) }
        return norm2(game.vectorField(at: x, step: NetworkGAN.evaluationStep))
    }
}

/// Suite settings; `quick` is the reduced suite (under a minute in a release build).
public struct SuiteOptions: Sendable {
    public var quick: Bool
    public var seeds: [UInt64]
    /// Substrings; a game or scheme is kept when its name contains one of them (empty: all).
    public var gameFilter: [String]
    public var schemeFilter: [String]
    /// Relative tolerance for "steps and cost to reach": error ≤ tolerance · error(x₀).
    public var tolerance: Double
    /// Cost budget of the equal-cost view.
    public var costBudget: Int
    /// Include the ring8 MLP GAN (short budget).
    public var includeGAN: Bool
    /// Include the speed view.
    public var includeSpeed: Bool
    public var consensusGamma: Double
    /// Work budget of one frontier search (game, scheme), in steps, an implicit step counted
    /// as its root iterations plus n per dense Jacobian; verdicts after it are undecided.
    /// Deterministic (no wall-time budget), so results are the same at every `--jobs`.
    public var frontierWork: Int

    public init(quick: Bool, seeds: [UInt64] = [0, 1, 2], gameFilter: [String] = [], schemeFilter: [String] = [],
                tolerance: Double = 1e-6, costBudget: Int? = nil, includeGAN: Bool = true, includeSpeed: Bool = true,
                consensusGamma: Double = 0.5) {
        self.quick = quick
        self.seeds = seeds
        self.gameFilter = gameFilter
        self.schemeFilter = schemeFilter
        self.tolerance = tolerance
        self.costBudget = costBudget ?? (quick ? 1000 : 4000)
        self.includeGAN = includeGAN
        self.includeSpeed = includeSpeed
        self.consensusGamma = consensusGamma
        self.frontierWork = quick ? 400_000 : 4_000_000
    }

    func keeps(game: String) -> Bool { gameFilter.isEmpty || gameFilter.contains { game.contains($0) } }
    func keeps(scheme: String) -> Bool { schemeFilter.isEmpty || schemeFilter.contains { scheme.contains($0) } }
}

/// The suite's games (bilinear with controlled singular values, near-imaginary affine fields,
/// Dirac-GAN with and without R1, the zero-sum quartic game, and the ring8 MLP GAN).
public enum SuiteGames {
    static func orthogonal(_ n: Int, _ rng: inout SeededGenerator) -> Matrix { Matrix.randomOrthogonal(n, rng: &rng) }

    /// f = φᵀAθ with A = U·diag(σ)·V: σ_min = 0.5 and σ_max = 2 isolated, the others log-spaced
    /// in [0.7, 1.4] (so the slowest and fastest modes separate and rates resolve).
    public static func bilinear(n: Int, seed: UInt64, quick: Bool) throws -> BenchGame {
        var rng = SeededGenerator(seed: seed, stream: Int64(1000 + n))
        let u = orthogonal(n, &rng), v = orthogonal(n, &rng)
        var d = Matrix(zeros: n, n)
        for i in 0..<n {
            if i == 0 { d[i, i] = 0.5 } else if i == n - 1 { d[i, i] = 2 } else {
                d[i, i] = 0.7 * pow(2, Double(i - 1) / Double(max(n - 3, 1)))
            }
        }
        let game = try BilinearGame(A: u * d * v)
        let start = (0..<(2 * n)).map { _ in rng.normal() }
        var g = BenchGame(name: "bilinear-\(n)", seed: seed, game: game, start: start,
                          stepGrid: logGrid(0.02, 2, count: quick ? 4 : 7), maxSteps: quick ? 3000 : 20000, isLinear: true,
                          skip: n >= 200 && quick ? [.implicitEuler: "dense 400×400 solves skipped in --quick"] : [:])
        // Newton–Krylov at n = 400 takes some 8 ms a step (measured): 400 steps a cell.
        if n >= 200 { g.maxImplicitSteps = 400 }
        return g
    }

    /// v = M·x with M = Q·blockdiag([aᵢ, bᵢ; −bᵢ, aᵢ])·Qᵀ: eigenvalues aᵢ ± ibᵢ with |bᵢ/aᵢ| from
    /// 10 to 100 (near the imaginary axis), M normal, equilibrium 0 (so runs can go deep enough
    /// to resolve rates to round-off).
    public static func nearImaginary(blocks: Int, seed: UInt64, quick: Bool) throws -> BenchGame {
        var rng = SeededGenerator(seed: seed, stream: 2000)
        let n = 2 * blocks
        var b = Matrix(zeros: n, n)
        // Distinct blocks (|Im| 1…3, |Im/Re| 10…100 on a grid), shuffled by the seed.
        var order = Array(0..<blocks)
        for i in stride(from: blocks - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        for k in 0..<blocks {
            let t = Double(order[k]) / Double(max(blocks - 1, 1))
            let im = 1 + 2 * t
            let ratio = 10 * pow(10, 1 - t)                   // |Im/Re| from 100 down to 10
            let re = -im / ratio
            b[2 * k, 2 * k] = re; b[2 * k + 1, 2 * k + 1] = re
            b[2 * k, 2 * k + 1] = im; b[2 * k + 1, 2 * k] = -im
        }
        let q = orthogonal(n, &rng)
        let game = try AffineGame(M: q * b * q.transposed, b: [Double](repeating: 0, count: n), playerSizes: [blocks, blocks])
        let start = (0..<n).map { _ in rng.normal() }
        return BenchGame(name: "affine-near-imaginary-\(n)", seed: seed, game: game, start: start,
                         stepGrid: logGrid(0.002, 0.5, count: quick ? 4 : 7), maxSteps: quick ? 4000 : 30000, isLinear: true, skip: [:])
    }

    /// One pair a ± ib with b/a = −20 and an equilibrium away from 0 (v = M(x − x̄)): Lemma 4's
    /// h* = 2|a|/(a² + b²) is the whole story.
    public static func affinePair(seed: UInt64, quick: Bool) throws -> BenchGame {
        var rng = SeededGenerator(seed: seed, stream: 3000)
        let b = 1 + rng.uniform(), a = -b / 20
        let m = Matrix(rows: 2, columns: 2, storage: [a, b, -b, a])
        let xbar = [rng.normal(), rng.normal()]
        let game = try AffineGame(M: m, b: m.multiply(xbar).map { -$0 }, playerSizes: [1, 1])
        return BenchGame(name: "affine-pair", seed: seed, game: game, start: [xbar[0] + 1, xbar[1] - 0.5],
                         stepGrid: logGrid(0.005, 0.5, count: quick ? 4 : 7), maxSteps: quick ? 4000 : 20000, isLinear: true, skip: [:])
    }

    public static func dirac(r1: Double, quick: Bool) throws -> BenchGame {
        BenchGame(name: r1 == 0 ? "dirac" : "dirac-r1-\(r1)", seed: 0, game: try DiracGAN(r1: r1), start: [1, 1],
                  stepGrid: logGrid(0.05, 2, count: quick ? 4 : 6), maxSteps: quick ? 3000 : 20000, isLinear: false, skip: [:])
    }

    /// The zero-sum quartic game of Letcher (2021): player x minimises
    /// L = xy − x²/2 + y²/2 + x⁴/4 − y⁴/4, player y maximises it, so
    /// v = (−(y − x + x³), x + y − y³); at the origin v′ has eigenvalues 1 ± i (repelling).
    public static func quartic(quick: Bool) -> BenchGame {
        let game = ClosureGame(name: "quartic", dimension: 2, playerSizes: [1, 1], equilibrium: [0, 0],
                               field: { x, v in
                                   v[0] = -(x[1] - x[0] + x[0] * x[0] * x[0])
                                   v[1] = x[0] + x[1] - x[1] * x[1] * x[1]
                               },
                               jacobian: { x, j in
                                   j[0] = 1 - 3 * x[0] * x[0]; j[1] = -1
                                   j[2] = 1; j[3] = 1 - 3 * x[1] * x[1]
                               })
        return BenchGame(name: "quartic", seed: 0, game: game, start: [0.5, 0.5],
                         stepGrid: logGrid(0.05, 5, count: quick ? 4 : 6), maxSteps: quick ? 2000 : 10000, isLinear: false, skip: [:])
    }

    public static func ring8(seed: UInt64, quick: Bool) throws -> BenchGame {
        let game = try NetworkGAN.paperSetup(data: .ring8, batchSize: quick ? 64 : 256, seed: seed)
        return BenchGame(name: "mog-ring8", seed: seed, game: game, start: game.initialState(seed: seed),
                         stepGrid: quick ? [0.01, 0.03] : [0.01, 0.03, 0.1], maxSteps: quick ? 100 : 400, isLinear: false,
                         skip: [.implicitEuler: "a dense 2003×2003 Jacobian per root iteration is out of budget"])
    }

    /// The suite's game of this name and seed (what `all` lists), made afresh: a cell of the
    /// suite's sweep builds its own game, so cells on different threads share nothing.
    public static func game(named name: String, seed: UInt64, options o: SuiteOptions) throws -> BenchGame {
        if name.hasPrefix("bilinear-"), let n = Int(name.dropFirst("bilinear-".count)) { return try bilinear(n: n, seed: seed, quick: o.quick) }
        if name.hasPrefix("affine-near-imaginary-"), let n = Int(name.dropFirst("affine-near-imaginary-".count)), n % 2 == 0 {
            return try nearImaginary(blocks: n / 2, seed: seed, quick: o.quick)
        }
        switch name {
        case "affine-pair": return try affinePair(seed: seed, quick: o.quick)
        case "dirac": return try dirac(r1: 0, quick: o.quick)
        case "quartic": return quartic(quick: o.quick)
        case "mog-ring8": return try ring8(seed: seed, quick: o.quick)
        default:
            if name.hasPrefix("dirac-r1-"), let r1 = Double(name.dropFirst("dirac-r1-".count)) { return try dirac(r1: r1, quick: o.quick) }
            throw GameFlowError.invalidInput("no suite game '\(name)'")
        }
    }

    public static func all(_ o: SuiteOptions) throws -> [BenchGame] {
        var games: [BenchGame] = []
        for seed in o.seeds {
            for n in (o.quick ? [2, 20] : [2, 20, 200]) { games.append(try bilinear(n: n, seed: seed, quick: o.quick)) }
            games.append(try nearImaginary(blocks: 5, seed: seed, quick: o.quick))
            games.append(try affinePair(seed: seed, quick: o.quick))
        }
        games.append(try dirac(r1: 0, quick: o.quick))
        games.append(try dirac(r1: 0.3, quick: o.quick))
        games.append(quartic(quick: o.quick))
        if o.includeGAN {
            for seed in (o.quick ? [o.seeds[0]] : o.seeds) { games.append(try ring8(seed: seed, quick: o.quick)) }
        }
        return games.filter { o.keeps(game: $0.name) }
    }
}

/// n log-spaced values from a to b.
public func logGrid(_ a: Double, _ b: Double, count n: Int) -> [Double] {
    guard n > 1 else { return [a] }
    return (0..<n).map { a * pow(b / a, Double($0) / Double(n - 1)) }
}
