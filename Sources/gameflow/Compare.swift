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
            and every scheme's iterates) and summary.json, whose "configuration" (one
            run configuration per scheme) `gameflow compare --config FILE` runs again.
            """)

    @Option(name: .customLong("config"), help: "Run the comparison in this file (a comparison's summary.json, or its \"configuration\") instead of the flags; give only --output, --every, --json and --quiet with it.")
    var configFile: String?

    @OptionGroup var gameOptions: GameOptions

    @Option(help: "Comma-separated schemes (default: all; consensus only with --gamma).")
    var schemes: String?

    @OptionGroup var knobs: SchemeOptions

    @OptionGroup var optimizerOptions: OptimizerOptions

    @Option(parsing: .unconditional, help: "Step size h > 0 (required unless --config; there is no default).")
    var step: Double?

    @Option(help: "Number of steps K ≥ 1 (required unless --config).")
    var steps: Int?

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

    /// One scheme of the comparison: its label, scheme and summary fields.
    typealias Entry = (name: SchemeName, label: String, scheme: any Scheme, fields: [(String, JSON)], options: SolveOptions)

    /// The comparison's game, start, step, steps and entries: from --config, or from the flags
    /// (then also as a configuration, except for --run DIR's trained GAN, which has none).
    func resolved() throws -> (game: any Game, start: [Double], step: Double, steps: Int, entries: [Entry], configuration: CompareConfiguration?) {
        func label(_ name: SchemeName, gamma: Double?) -> String { name == .consensus ? "consensus γ=\(gamma!)" : name.rawValue }
        if let path = configFile {
            guard schemes == nil, step == nil, steps == nil, gameOptions.gameFile == nil, gameOptions.game == nil, gameOptions.runDirectory == nil else {
                throw GameFlowError.invalidInput("--config holds the comparison's settings: give only --output, --every, --json and --quiet with it")
            }
            let c = try CompareConfiguration.load(path)
            let game = try c.runs[0].makeGame()
            let entries: [Entry] = try c.runs.map { r in
                var gamma: Double?
                if case let .consensus(g, _, _) = r.scheme { gamma = g }
                return (r.scheme.name, label(r.scheme.name, gamma: gamma), try r.makeScheme(discriminator: game.discriminatorPlayer ?? 0), r.summaryFields,
                        r.options)
            }
            return (game, c.runs[0].initialState, c.runs[0].step, c.runs[0].steps, entries, c)
        }
        guard let step else { throw GameFlowError.invalidInput("Missing expected argument '--step <step>' (or --config FILE)") }
        guard let steps else { throw GameFlowError.invalidInput("Missing expected argument '--steps <steps>' (or --config FILE)") }
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
        let source = gameOptions.source(), discriminator = game.discriminatorPlayer
        let options = SolveOptions(stepSize: step, maxSteps: steps, divergenceBound: divergenceBound)
        var configurations: [GameRunConfiguration] = []
        let entries: [Entry] = try names.map { name in
            let scheme = try optimizerOptions.wrap(try knobs.make(name, allowUnusedGamma: true, metric: metric, discriminator: discriminator),
                                                   solvesInMetric: knobs.solvesInMetric(name))
            var fields = try gameOptions.field.summaryFields() + knobs.summaryFields(name) + optimizerOptions.summaryFields
            if let source {
                var c = GameRunConfiguration(game: source, initialState: start, nkPenalty: gameOptions.field.nkPenalty,
                                             stepScale: try gameOptions.field.stepScale()?.factors,
                                             scheme: try knobs.configuration(name, allowUnusedGamma: true, metric: metric, discriminator: discriminator ?? 0),
                                             optimizer: try optimizerOptions.configuration(), step: step, steps: steps, tolerance: nil,
                                             divergenceBound: divergenceBound)
                c.lookahead = try optimizerOptions.lookaheadConfiguration()
                c.average = try optimizerOptions.averagingConfiguration()
                configurations.append(c)
                fields.append(("configuration", c.json))
            }
            var own = options
            own.stepSizeControl = knobs.stepSizeControl(name)
            return (name, label(name, gamma: knobs.gamma), scheme, fields, own)
        }
        return (game, start, step, steps, entries, source == nil ? nil : try CompareConfiguration(runs: configurations))
    }

    func run() throws {
        let r = try resolved()
        let (game, start, step, steps) = (r.game, r.start, r.step, r.steps)
        if let e = every, e < 1 { throw GameFlowError.invalidInput("--every must be at least 1 (got \(e))") }
        let recording = Recording.Options(every: every ?? max(1, steps / 1000 + (steps % 1000 == 0 ? 0 : 1)), states: game.dimension == 2)
        for e in r.entries { try e.options.validate() }
        if let dir = output { try validateCommandOutput(dir, command: "compare") }

        var runs: [RunCurves] = [], summaries: [JSON] = []
        let clock = ContinuousClock()
        var progress = ProgressLine(total: steps * r.entries.count, enabled: !quiet)
        for (k, e) in r.entries.enumerated() {
            let begin = clock.now
            var options = e.options
            options.recording = recording
            let s = try solve(game, scheme: e.scheme, from: start, options: options, progressEvery: 256) { done, _ in
                progress.update(step: k * steps + done)
            }
            runs.append(RunCurves(label: e.label, solution: s))
            summaries.append(s.summaryJSON(game: game.name, scheme: e.name.rawValue, stepSize: step, seconds: seconds(clock.now - begin),
                                             configuration: e.fields))
        }
        progress.finish()
        let all = JSON.object([("runs", .array(summaries)), ("configuration", r.configuration?.json ?? .null)]
                              + reproduction(arguments: Array(CommandLine.arguments.dropFirst())))
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
