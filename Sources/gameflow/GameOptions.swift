import ArgumentParser
import Foundation
import GameFlow

/// How a command gets its game and starting state: a JSON game file or a built-in game.
struct GameOptions: ParsableArguments {
    @Option(name: .customLong("game-file"), help: "JSON game file (bilinear or affine; see README).")
    var gameFile: String?

    @Option(help: "Built-in game: bilinear (random N×N A, --dim, --seed) or dirac (--r1).")
    var game: String?

    @Option(help: "Built-in bilinear: A is N×N.")
    var dim: Int = 2

    @Option(help: "Seed for random built-in games and starts.")
    var seed: UInt64 = 0

    @Option(help: "Dirac-GAN: R1 penalty weight γ ≥ 0.")
    var r1: Double = 0

    @Option(help: "Initial state as comma-separated numbers (default: the file's x0, (1, 1) for dirac, random for bilinear).")
    var x0: String?

    func makeGame() throws -> (any Game, [Double]) {
        var start: [Double]
        let game: any Game
        switch (gameFile, self.game) {
        case (.some, .some):
            throw GameFlowError.invalidInput("give either --game-file or --game, not both")
        case (nil, nil):
            throw GameFlowError.invalidInput("no game: give --game-file PATH or --game bilinear|dirac")
        case (let path?, nil):
            let file = try GameFile.load(path: path)
            (game, start) = (file.game, file.initialState)
        case (nil, let builtIn?):
            switch builtIn {
            case "bilinear":
                // A is dim × dim doubles: 10,000 is 800 MB.
                guard (1...10_000).contains(dim) else { throw GameFlowError.invalidInput("--dim must be between 1 and 10000 (got \(dim))") }
                game = try BilinearGame.random(rows: dim, columns: dim, seed: seed)
                var rng = SeededGenerator(seed: seed &+ 0x5EED)
                start = (0..<(2 * dim)).map { _ in rng.normal() }
            case "dirac":
                game = try DiracGAN(r1: r1)
                start = [1, 1]
            default:
                throw GameFlowError.invalidInput("unknown game '\(builtIn)' (expected bilinear or dirac; or use --game-file)")
            }
        }
        if let text = x0 {
            start = try parseNumbers(text, what: "--x0")
            guard start.count == game.dimension else {
                throw GameFlowError.invalidInput("--x0 has \(start.count) entries, the game has dimension \(game.dimension)")
            }
        }
        return (game, start)
    }
}

/// Comma-separated finite numbers.
func parseNumbers(_ text: String, what: String) throws -> [Double] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
        let p = part.trimmingCharacters(in: .whitespaces)
        guard let d = Double(p), d.isFinite else { throw GameFlowError.invalidInput("\(what): '\(p)' is not a finite number") }
        return d
    }
}

/// Scheme knobs shared by the commands that integrate.
struct SchemeOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Consensus weight γ ≥ 0 (required for consensus).")
    var gamma: Double?

    @Option(name: .customLong("root-tolerance"), parsing: .unconditional, help: "Implicit Euler: accept z once max|z − x − h·v(z)|/(1 + h) ≤ this × max(max|x|, max|z|).")
    var rootTolerance: Double = 1e-10

    @Option(name: .customLong("root-max-iterations"), help: "Implicit Euler: iteration cap of each root solve.")
    var rootMaxIterations: Int = 100

    @Option(name: .customLong("root-method"), help: "Implicit Euler: hybridsj (exact Jacobian) or hybrids (default: hybridsj when derivatives are exact).")
    var rootMethod: String?

    /// These knobs as command-line arguments (for `gameflow resume`).
    var arguments: [String] {
        var a = ["--root-tolerance", "\(rootTolerance)", "--root-max-iterations", "\(rootMaxIterations)"]
        if let g = gamma { a += ["--gamma", "\(g)"] }
        if let m = rootMethod { a += ["--root-method", m] }
        return a
    }

    /// The scheme `name` with these knobs; `--gamma` is refused for schemes that do not use it
    /// unless `allowUnusedGamma` (a comparison may list consensus next to others).
    func make(_ name: SchemeName, allowUnusedGamma: Bool = false) throws -> any Scheme {
        let method = try rootMethod.map { m -> RootMethod in
            guard let r = RootMethod(rawValue: m) else {
                throw GameFlowError.invalidInput("unknown root method '\(m)' (expected hybridsj or hybrids)")
            }
            return r
        }
        if gamma != nil && name != .consensus && !allowUnusedGamma {
            throw GameFlowError.invalidInput("--gamma applies only to --scheme consensus")
        }
        return try name.make(.init(gamma: gamma, rootTolerance: rootTolerance,
                                   rootMaxIterations: rootMaxIterations, rootMethod: method))
    }
}
