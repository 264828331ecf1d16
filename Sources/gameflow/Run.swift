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

    @OptionGroup var gameOptions: GameOptions

    @Option(help: "Scheme: \(SchemeName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scheme: String

    @Option(help: "Step size h > 0 (required; there is no default).")
    var step: Double

    @Option(help: "Number of steps K ≥ 1 (required).")
    var steps: Int

    @Option(help: "Stop with status converged once ‖v(x)‖₂ ≤ T.")
    var tolerance: Double?

    @Option(name: .customLong("divergence-bound"), help: "Status diverged once max |xᵢ| exceeds this.")
    var divergenceBound: Double = 1e12

    @OptionGroup var knobs: SchemeOptions

    @Flag(help: "Print one JSON summary object on stdout.")
    var json = false

    @Option(help: "Write trajectory.csv, summary.json, convergence.svg (and phase.svg for 2-D games) into this directory.")
    var output: String?

    @Option(help: "Record every N steps in trajectory.csv (default: about 1000 rows in all).")
    var every: Int?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws {
        let (game, start) = try gameOptions.makeGame()
        let name = try SchemeName.parse(scheme)
        let chosen = try knobs.make(name)
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
            _ = try writeFigures(game, runs: [RunCurves(label: name.rawValue, solution: solution)], start: start, h: step,
                                 steps: steps, title: "\(game.name), \(name.rawValue), h = \(step)", into: dir)
        }
        if json {
            print(summary.serialized())
        } else {
            printHuman(solution, game: game, scheme: name.rawValue, seconds: elapsed)
        }
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
        if let dir = output {
            print("wrote \(dir)/trajectory.csv, summary.json, convergence.svg" + (game.dimension == 2 ? ", phase.svg" : ""))
        }
    }
}
