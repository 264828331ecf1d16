import ArgumentParser
import Foundation
import GameFlow

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Integrate a game with one scheme at a fixed step size.",
        discussion: """
            Examples:
              gameflow run --game dirac --scheme simga --step 0.2 --steps 500
              gameflow run --game-file game.json --scheme implicit-euler \\
                --step 10 --steps 50 --json
            Every run's status is one of converged, completed, diverged, failed
            (exit code 0); bad input exits non-zero with one line on stderr and
            writes nothing.
            """)

    @OptionGroup var gameOptions: GameOptions

    @Option(help: "Scheme: \(SchemeName.allCases.map(\.rawValue).joined(separator: ", ")) (required unless --config).")
    var scheme: String?

    @Option(parsing: .unconditional, help: "Step size h > 0 (required unless --config; there is no default).")
    var step: Double?

    @Option(parsing: .unconditional, help: "Number of steps K ≥ 1 (required unless --config).")
    var steps: Int?

    @Option(name: .customLong("config"), help: "Run the configuration in this file (a run's summary.json, or a bare configuration): give only --output, --every, --json and --quiet with it.")
    var configFile: String?

    @Option(parsing: .unconditional, help: "Stop with status converged once ‖v(x)‖₂ ≤ T.")
    var tolerance: Double?

    @Option(name: .customLong("divergence-bound"), parsing: .unconditional, help: "Status diverged once max |xᵢ| exceeds this.")
    var divergenceBound: Double = 1e12

    @OptionGroup var knobs: SchemeOptions

    @OptionGroup var optimizerOptions: OptimizerOptions

    @Flag(help: "Print one JSON summary object on stdout.")
    var json = false

    @Option(help: "Write trajectory.csv, summary.json, convergence.svg (and phase.svg for 2-D games) into this directory.")
    var output: String?

    @Option(parsing: .unconditional, help: "Record every N steps in trajectory.csv (default: about 1000 rows in all).")
    var every: Int?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    /// The run as a sweep cell: validated, integrated without output files or progress, its
    /// summary without the wall time (which goes to timings.csv) and the seconds it took.
    /// `dryRun` only validates (nothing is integrated).
    typealias Resolved = (game: any Game, start: [Double], scheme: any Scheme, name: SchemeName, step: Double, steps: Int,
                          control: StepSizeControl, configuration: GameRunConfiguration?)

    /// The run's game, start, scheme and settings: from --config, or from the flags (then also
    /// as a configuration, except for --run DIR's trained GAN, which has none).
    func resolved() throws -> Resolved {
        if let path = configFile {
            guard scheme == nil, step == nil, steps == nil, gameOptions.gameFile == nil, gameOptions.game == nil, gameOptions.runDirectory == nil else {
                throw GameFlowError.invalidInput("--config holds the run's settings: give only --output, --every, --json and --quiet with it")
            }
            let c = try GameRunConfiguration.load(path)
            let game = try c.makeGame()
            return (game, c.initialState, try c.makeScheme(discriminator: game.discriminatorPlayer ?? 0), c.scheme.name, c.step, c.steps,
                    c.scheme.stepSizeControl, c)
        }
        guard let scheme else { throw GameFlowError.invalidInput("Missing expected argument '--scheme <scheme>' (or --config FILE)") }
        guard let step else { throw GameFlowError.invalidInput("Missing expected argument '--step <step>' (or --config FILE)") }
        guard let steps else { throw GameFlowError.invalidInput("Missing expected argument '--steps <steps>' (or --config FILE)") }
        let (game, start) = try gameOptions.makeGame()
        let name = try SchemeName.parse(scheme)
        let metric = try optimizerOptions.preconditioner()
        let discriminator = game.discriminatorPlayer
        let chosen = try optimizerOptions.wrap(try knobs.make(name, metric: metric, discriminator: discriminator),
                                               solvesInMetric: knobs.solvesInMetric(name))
        var configuration = try gameOptions.source().map { source in
            GameRunConfiguration(game: source, initialState: start, nkPenalty: gameOptions.field.nkPenalty,
                                 stepScale: try gameOptions.field.stepScale()?.factors,
                                 scheme: try knobs.configuration(name, metric: metric, discriminator: discriminator ?? 0),
                                 optimizer: try optimizerOptions.configuration(), step: step, steps: steps, tolerance: tolerance,
                                 divergenceBound: divergenceBound)
        }
        configuration?.lookahead = try optimizerOptions.lookaheadConfiguration()
        configuration?.average = try optimizerOptions.averagingConfiguration()
        return (game, start, chosen, name, step, steps, knobs.stepSizeControl(name), configuration)
    }

    /// What summary.json says of the settings: the knobs' fields and the configuration.
    func configurationFields(_ r: Resolved) throws -> [(String, JSON)] {
        if let c = r.configuration, configFile != nil { return c.summaryFields }
        return try gameOptions.field.summaryFields() + knobs.summaryFields(r.name) + optimizerOptions.summaryFields
            + [("configuration", r.configuration?.json ?? .null)]
    }

    /// The stopping rules: the configuration's (--config) or the flags'.
    func stopping(_ r: Resolved) -> (tolerance: Double?, bound: Double) {
        r.configuration.flatMap { configFile != nil ? ($0.tolerance, $0.divergenceBound) : nil } ?? (tolerance, divergenceBound)
    }

    func cell(dryRun: Bool = false) throws -> (summary: JSON, seconds: Double)? {
        let r = try resolved()
        let (game, start, chosen, name, step) = (r.game, r.start, r.scheme, r.name, r.step)
        let options = SolveOptions(stepSize: step, maxSteps: r.steps, tolerance: stopping(r).tolerance, divergenceBound: stopping(r).bound,
                                   stepSizeControl: r.control)
        try options.validate()
        if dryRun { return nil }
        let clock = ContinuousClock()
        let begin = clock.now
        let solution = try GameFlow.solve(game, scheme: chosen, from: start, options: options)
        let elapsed = seconds(clock.now - begin)
        let summary = solution.summaryJSON(game: game.name, scheme: name.rawValue, stepSize: step, seconds: 0,
                                           configuration: try configurationFields(r))
        // Where the run started, for the stable-region figures of `sweep merge` (error not grown).
        let initial: [(String, JSON)] = [("initial_vector_field_norm", .number(norm2(game.vectorField(at: start)))),
                                         ("initial_distance_to_equilibrium", .optional(game.distanceToEquilibria(from: start)))]
        return (summary.removing("seconds").adding(initial), elapsed)
    }

    func run() throws {
        let r = try resolved()
        let (game, start, chosen, name, step, steps) = (r.game, r.start, r.scheme, r.name, r.step, r.steps)
        let (tolerance, divergenceBound) = stopping(r)
        if let e = every, e < 1 { throw GameFlowError.invalidInput("--every must be at least 1 (got \(e))") }
        let recordEvery = every ?? max(1, steps / 1000 + (steps % 1000 == 0 ? 0 : 1))
        let options = SolveOptions(
            stepSize: step, maxSteps: steps, tolerance: tolerance, divergenceBound: divergenceBound,
            recording: output == nil ? nil : Recording.Options(every: recordEvery, states: true), stepSizeControl: r.control)
        try options.validate()
        if let dir = output { try validateCommandOutput(dir, command: "run") }

        let clock = ContinuousClock()
        let begin = clock.now
        let solution = try integrate(game, chosen, from: start, options: options)
        let elapsed = seconds(clock.now - begin)

        var summary = solution.summaryJSON(game: game.name, scheme: name.rawValue, stepSize: step, seconds: elapsed,
                                           configuration: try configurationFields(r))
        summary = summary.adding(reproduction(arguments: Array(CommandLine.arguments.dropFirst())))
        if let dir = output {
            try writeAtomically(summary.serialized(indent: 2) + "\n", to: joinPath(dir, "summary.json"))
            _ = try writeFigures(game, runs: [RunCurves(label: name.rawValue, solution: solution)], start: start, h: step,
                                 steps: steps, title: "\(gameOptions.titled(game)): \(knobs.titled(name)), h = \(step)", into: dir)
        }
        if json {
            print(summary.serialized())
        } else {
            printHuman(solution, game: game, scheme: name.rawValue, step: step, seconds: elapsed)
        }
    }

    /// Runs the integrator in the library's loop with two observers: a progress line and, with
    /// --output, trajectory.csv written as the run goes (every 256 steps), so an interrupted long
    /// run keeps what it computed.
    private func integrate<G: Game, S: Scheme>(_ game: G, _ scheme: S, from start: [Double], options: SolveOptions) throws -> Solution {
        let integrator = try Integrator(game: game, scheme: scheme, initialState: start, options: options)
        var writer: RecordingCSVWriter?
        if let dir = output {
            try createOutputDirectory(dir)
            try OutputMarker.claim(dir, command: "run")
            writer = try RecordingCSVWriter(path: joinPath(dir, "trajectory.csv"), header: integrator.recording!)
        }
        var progress = ProgressLine(total: options.maxSteps, enabled: !quiet)
        let progressObserver = EveryNSteps(256) { e, _ in progress.update(step: e.step) }
        var loop = TrainingLoop(integrator)
        try loop.run(observers: (writer.map { [$0] } ?? []) + [progressObserver])
        progress.finish()
        let solution = loop.integrator.solve()   // already ended: computes the final summary
        if let w = writer, let r = solution.recording { try w.flush(r) }
        return solution
    }

    private func printHuman(_ s: Solution, game: any Game, scheme: String, step: Double, seconds: Double) {
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

extension GameRunConfiguration {
    /// What summary.json says of a run's settings when they come from a configuration: the same
    /// fields the flags give (`FieldOptions`, `SchemeOptions`, `OptimizerOptions`), then the
    /// configuration itself.
    var summaryFields: [(String, JSON)] {
        var momentum: (weight: Double, form: MomentumForm)?
        if case let .momentum(form, weight) = optimizer { momentum = (weight, form) }
        let optimizerFields = OptimizerOptions.summaryFields(
            optimizer: optimizer == .none ? nil : optimizer.name, momentum: momentum?.weight, momentumForm: momentum?.form,
            lookahead: lookahead.map { "\($0.k),\($0.alpha)" }, average: average.map { $0.emaWeight.map { "ema:\($0)" } ?? "uniform" })
        return [("step_scale", stepScale.map { .numbers($0) } ?? .null), ("nk_penalty", .optional(nkPenalty))]
            + scheme.summaryFields + optimizerFields + [("configuration", json)]
    }
}
