import ArgumentParser
import Foundation
import GameFlow

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Integrate a game with one scheme at a fixed step size.",
        discussion: """
            Examples:
              gameflow run --game dirac --scheme simga --step 0.2 --steps 500
              gameflow run --game-file game.json --scheme implicit-euler --step 10 --steps 50 --json
            Every run's status is one of converged, completed, diverged, failed (exit code 0);
            bad input exits non-zero with one line on stderr and writes nothing.
            """)

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

    @Option(help: "Scheme: \(SchemeName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scheme: String

    @Option(help: "Consensus weight γ ≥ 0 (required for consensus).")
    var gamma: Double?

    @Option(help: "Step size h > 0 (required; there is no default).")
    var step: Double

    @Option(help: "Number of steps K ≥ 1 (required).")
    var steps: Int

    @Option(help: "Stop with status converged once ‖v(x)‖₂ ≤ T.")
    var tolerance: Double?

    @Option(name: .customLong("divergence-bound"), help: "Status diverged once max |xᵢ| exceeds this.")
    var divergenceBound: Double = 1e12

    @Option(name: .customLong("root-tolerance"), help: "Implicit Euler: accept z once max |z − x − h·v(z)| / (1 + h) ≤ this.")
    var rootTolerance: Double = 1e-10

    @Option(name: .customLong("root-max-iterations"), help: "Implicit Euler: iteration cap of each root solve.")
    var rootMaxIterations: Int = 100

    @Option(name: .customLong("root-method"), help: "Implicit Euler: hybridsj (exact Jacobian) or hybrids (default: hybridsj when derivatives are exact).")
    var rootMethod: String?

    @Flag(help: "Print one JSON summary object on stdout.")
    var json = false

    @Option(help: "Write trajectory.csv and summary.json into this directory.")
    var output: String?

    @Option(help: "Record every N steps in trajectory.csv (default: about 1000 rows in all).")
    var every: Int?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws {
        let (game, start) = try makeGame()
        let method = try rootMethod.map { m -> RootMethod in
            guard let r = RootMethod(rawValue: m) else {
                throw GameFlowError.invalidInput("unknown root method '\(m)' (expected hybridsj or hybrids)")
            }
            return r
        }
        let name = try SchemeName.parse(scheme)
        if gamma != nil && name != .consensus {
            throw GameFlowError.invalidInput("--gamma applies only to --scheme consensus")
        }
        let chosen = try name.make(.init(gamma: gamma, rootTolerance: rootTolerance,
                                         rootMaxIterations: rootMaxIterations, rootMethod: method))
        if let e = every, e < 1 { throw GameFlowError.invalidInput("--every must be at least 1 (got \(e))") }
        let recordEvery = every ?? max(1, (steps + 999) / 1000)
        let options = SolveOptions(
            stepSize: step, maxSteps: steps, tolerance: tolerance, divergenceBound: divergenceBound,
            recording: output == nil ? nil : Recording.Options(every: recordEvery, states: true))
        try options.validate()
        if let dir = output { try validateOutputDirectory(dir) }

        var progress = ProgressLine(total: steps, enabled: !quiet)
        let clock = ContinuousClock()
        let begin = clock.now
        let solution = try solve(game, scheme: chosen, from: start, options: options, progressEvery: 256) { k, _ in
            progress.update(step: k)
        }
        let elapsed = seconds(clock.now - begin)
        progress.finish()

        let summary = solution.summaryJSON(game: game.name, scheme: name.rawValue, stepSize: step, seconds: elapsed)
        if let dir = output {
            try createDirectory(dir)
            try write(solution.recording!.csv(), to: (dir as NSString).appendingPathComponent("trajectory.csv"))
            try write(summary.serialized(indent: 2) + "\n", to: (dir as NSString).appendingPathComponent("summary.json"))
        }
        if json {
            print(summary.serialized())
        } else {
            printHuman(solution, game: game, scheme: name.rawValue, seconds: elapsed)
        }
    }

    private func makeGame() throws -> (any Game, [Double]) {
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
                guard (1...100_000).contains(dim) else { throw GameFlowError.invalidInput("--dim must be between 1 and 100000 (got \(dim))") }
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
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            start = try parts.map { p in
                guard let d = Double(p), d.isFinite else { throw GameFlowError.invalidInput("--x0: '\(p)' is not a finite number") }
                return d
            }
            guard start.count == game.dimension else {
                throw GameFlowError.invalidInput("--x0 has \(start.count) entries, the game has dimension \(game.dimension)")
            }
        }
        return (game, start)
    }

    private func printHuman(_ s: Solution, game: any Game, scheme: String, seconds: Double) {
        print("game \(game.name) (dimension \(game.dimension)), scheme \(scheme), h = \(step)")
        print("status: \(s.status) after \(s.steps) steps (\(String(format: "%.3g", seconds)) s)")
        print("‖v(x)‖ = \(String(format: "%.6g", s.vectorFieldNorm))"
              + (s.distanceToEquilibrium.map { String(format: ", distance to equilibrium = %.6g", $0) } ?? ""))
        let st = s.stats
        var work = "work: \(st.fieldEvaluations) field evaluations"
        if st.transposeJacobianVectorProducts > 0 { work += ", \(st.transposeJacobianVectorProducts) v′ᵀu products" }
        if st.jacobianVectorProducts > 0 { work += ", \(st.jacobianVectorProducts) v′u products" }
        if st.rootSolves > 0 { work += ", \(st.rootSolves) root solves (\(st.rootIterations) iterations, \(st.jacobianEvaluations) Jacobians)" }
        print(work)
        if s.finalState.count <= 8 {
            print("final state: [" + s.finalState.map { String(format: "%.6g", $0) }.joined(separator: ", ") + "]")
        }
        if let dir = output { print("wrote \(dir)/trajectory.csv and \(dir)/summary.json") }
    }
}
