import ArgumentParser
import Foundation
import GameFlow

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run several schemes from the same start at one step size; table and figures.",
        discussion: """
            Example:
              gameflow compare --game dirac --step 0.2 --steps 500 \\
                --schemes simga,altga,rk4,extragradient,implicit-euler --output out/
            --output writes convergence.svg (‖v‖ and distance to equilibrium versus
            step, every scheme), phase.svg for 2-D games (vector field, exact flow
            and every scheme's iterates) and summary.json.
            """)

    @OptionGroup var gameOptions: GameOptions

    @Option(help: "Comma-separated schemes (default: all; consensus only with --gamma).")
    var schemes: String?

    @OptionGroup var knobs: SchemeOptions

    @OptionGroup var optimizerOptions: OptimizerOptions

    @Option(parsing: .unconditional, help: "Step size h > 0 (required; there is no default).")
    var step: Double

    @Option(help: "Number of steps K ≥ 1 (required).")
    var steps: Int

    @Option(name: .customLong("divergence-bound"), parsing: .unconditional, help: "Status diverged once max |xᵢ| exceeds this.")
    var divergenceBound: Double = 1e12

    @Option(help: "Write convergence.svg, phase.svg (2-D games) and summary.json into this directory.")
    var output: String?

    @Option(help: "Record every N steps (default: about 1000 records per scheme).")
    var every: Int?

    @Flag(help: "Print one JSON object (an array of run summaries under \"runs\") on stdout.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws {
        let (game, start) = try gameOptions.makeGame()
        let names: [SchemeName]
        if let list = schemes {
            names = try list.split(separator: ",").map { try SchemeName.parse($0.trimmingCharacters(in: .whitespaces)) }
            guard !names.isEmpty else { throw GameFlowError.invalidInput("--schemes is empty") }
        } else {
            names = SchemeName.fixedStep.filter { ($0 != .consensus || knobs.gamma != nil) && ($0 != .sga || knobs.lambda != nil) && (!$0.usesLookAhead || knobs.alpha != nil)
                && (!$0.needsUtilityGradients || game is any UtilityGradients) && ($0 != .gdaAM || knobs.andersonDepth != nil) }
        }
        let metric = try optimizerOptions.preconditioner()
        let chosen = try names.map {
            try optimizerOptions.wrap(try knobs.make($0, allowUnusedGamma: true, metric: metric, discriminator: game.discriminatorPlayer),
                                      solvesInMetric: knobs.solvesInMetric($0))
        }
        if let e = every, e < 1 { throw GameFlowError.invalidInput("--every must be at least 1 (got \(e))") }
        let options = SolveOptions(stepSize: step, maxSteps: steps, divergenceBound: divergenceBound,
                                   recording: Recording.Options(every: every ?? max(1, steps / 1000 + (steps % 1000 == 0 ? 0 : 1)),
                                                                states: game.dimension == 2))
        try options.validate()
        if let dir = output { try validateCommandOutput(dir, command: "compare") }

        var runs: [RunCurves] = [], summaries: [JSON] = []
        let clock = ContinuousClock()
        var progress = ProgressLine(total: steps * names.count, enabled: !quiet)
        for (k, (name, scheme)) in zip(names, chosen).enumerated() {
            let begin = clock.now
            let s = try solve(game, scheme: scheme, from: start, options: options, progressEvery: 256) { done, _ in
                progress.update(step: k * steps + done)
            }
            let label = name == .consensus ? "consensus γ=\(knobs.gamma!)" : name.rawValue
            runs.append(RunCurves(label: label, solution: s))
            summaries.append(s.summaryJSON(game: game.name, scheme: name.rawValue, stepSize: step, seconds: seconds(clock.now - begin),
                                             configuration: try gameOptions.field.summaryFields() + knobs.summaryFields(name) + optimizerOptions.summaryFields))
        }
        progress.finish()
        let all = JSON.object([("runs", .array(summaries))] + reproduction(arguments: Array(CommandLine.arguments.dropFirst())))
        if let dir = output {
            try createOutputDirectory(dir)
            try OutputMarker.claim(dir, command: "compare")
            try writeAtomically(all.serialized(indent: 2) + "\n", to: joinPath(dir, "summary.json"))
            _ = try writeFigures(game, runs: runs, start: start, h: step, steps: steps,
                                 title: "\(gameOptions.titled(game)): schemes from the same start, h = \(step)", into: dir)
        }
        if json {
            print(all.serialized())
            return
        }
        print("game \(game.name) (dimension \(game.dimension)), h = \(step), \(steps) steps")
        let header = ["scheme", "status", "steps", "‖v(x)‖", "‖x − x̄‖", "cost"]
        var rows = [header]
        for r in runs {
            let s = r.solution
            rows.append([r.label, s.status.name, "\(s.steps)", String(format: "%.4g", s.vectorFieldNorm),
                         s.distanceToEquilibrium.map { String(format: "%.4g", $0) } ?? "—", "\(s.stats.cost)"])
        }
        let widths = (0..<header.count).map { c in rows.map { $0[c].count }.max()! + 2 }
        for row in rows { print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined()) }
        print("cost = field evaluations + v′u + v′ᵀu products + root-solver iterations")
        if let dir = output { print("wrote \(dir)/summary.json, convergence.svg" + (game.dimension == 2 ? ", phase.svg" : "")) }
    }
}
