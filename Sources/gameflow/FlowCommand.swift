import ArgumentParser
import Foundation
import GameFlow

/// `gameflow flow`: the continuous view, dx/dt = v(x) integrated with error control.
struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Integrate the game's ODE dx/dt = v(x) with GSL odeiv2's error-controlled steppers.",
        discussion: """
            The exact flow that every scheme approximates:
              gameflow flow --game dirac --r1 0.3 --time 20 --method rk8pd \\
                --rtol 1e-10 --output out/
            Stiff games: --method msbdf or bsimp (they use the game's exact
            Jacobian).
            """)

    @OptionGroup var gameOptions: GameOptions

    @Option(parsing: .unconditional, help: "Integrate from t = 0 to this time T > 0 (required unless --config).")
    var time: Double?

    @Option(name: .customLong("config"), help: "Integrate the configuration in this file (a flow's summary.json or a bare configuration): every setting comes from it; give only --output, --json and --quiet with it.")
    var configFile: String?

    @Option(help: "The GSL odeiv2 stepper (default rk8pd).")
    var method: FlowMethod?

    @Option(parsing: .unconditional, help: "Relative tolerance of the error control (default 1e-10).")
    var rtol: Double?

    @Option(parsing: .unconditional, help: "Absolute tolerance (> 0; default 1e-12).")
    var atol: Double?

    @Option(name: .customLong("max-steps"), parsing: .unconditional, help: "Work bound: end the flow failed (bound exceeded) after this many accepted steps (a stiff game under an explicit stepper needs steps of order 1/max|λ|; default 1000000).")
    var maxSteps: Int?

    @Option(parsing: .unconditional, help: "Output interval in time (default T/1000).")
    var every: Double?

    @Flag(help: "No progress or notes on stderr (a flow prints none; accepted as every command does).")
    var quiet = false

    @Option(help: "Write trajectory.csv, summary.json, convergence.svg (‖v‖ and the distance against t) and (2-D games) phase.svg into this directory.")
    var output: String?

    @Flag(help: "Print one JSON summary object on stdout.")
    var json = false

    /// The flow's game, start, stepper, end time and output times: from --config, or from the
    /// flags (then also as a configuration, except for --run DIR's trained GAN, which has none).
    func resolved() throws -> (game: any Game, start: [Double], configuration: FlowConfiguration?, options: FlowOptions,
                               time: Double, times: [Double]) {
        if let path = configFile {
            guard time == nil, method == nil, rtol == nil, atol == nil, maxSteps == nil, every == nil, gameOptions.gameFile == nil,
                  gameOptions.game == nil, gameOptions.runDirectory == nil else {
                throw GameFlowError.invalidInput("--config holds the flow's settings: give only --output, --json and --quiet with it")
            }
            let c = try FlowConfiguration.load(path)
            let times = try c.outputTimes()
            return (try c.makeGame(), c.initialState, c, try c.options(), c.time, times)
        }
        guard let time else { throw GameFlowError.invalidInput("Missing expected argument '--time <time>' (or --config FILE)") }
        let (game, start) = try gameOptions.makeGame()
        let times: [Double]
        do {
            times = try FlowConfiguration.outputTimes(time: time, every: every)
        } catch GameFlowError.invalidInput(let message) {
            throw GameFlowError.invalidInput("--" + message.replacingOccurrences(of: "time/every", with: "time/--every"))
        }
        let options = FlowOptions(method: method ?? .rk8pd, relativeTolerance: rtol ?? 1e-10, absoluteTolerance: atol ?? 1e-12,
                                  maxSteps: maxSteps ?? 1_000_000)
        try options.validate()
        let configuration = try gameOptions.source().map {
            FlowConfiguration(game: $0, initialState: start, nkPenalty: gameOptions.field.nkPenalty,
                              stepScale: try gameOptions.field.stepScale()?.factors, method: options.method,
                              relativeTolerance: options.relativeTolerance, absoluteTolerance: options.absoluteTolerance,
                              maxSteps: options.maxSteps, time: time, every: every)
        }
        return (game, start, configuration, options, time, times)
    }

    func run() throws {
        let (game, start, configuration, options, time, times) = try resolved()
        let m = options.method, rtol = options.relativeTolerance, atol = options.absoluteTolerance, maxSteps = options.maxSteps
        if let dir = output { try validateCommandOutput(dir, command: "flow") }

        let clock = ContinuousClock()
        let begin = clock.now
        let flow = try integrateFlow(game, from: start, times: times, options: options)
        let elapsed = seconds(clock.now - begin)
        let x = flow.finalState
        let vNorm = norm2(game.vectorField(at: x))
        // The same distance as `run`'s: to the set of equilibria where there is a continuum.
        let toEquilibrium = game.distanceToEquilibria(from: x)
        let summary = JSON.object([
            ("game", .string(game.name)), ("method", .string(m.rawValue)), ("time", .number(flow.times.last!)),
            ("requested_time", .number(time)), ("rtol", .number(rtol)), ("atol", .number(atol)), ("max_steps", .int(maxSteps)),
            ("status", .string(flow.status.name)), ("reason", flow.status.reason.map { .string($0) } ?? .null),
            ("reason_code", flow.status.reasonCode.map { .string($0.rawValue) } ?? .null),
            ("final_state", .numbers(x)), ("vector_field_norm", .number(vNorm)),
            ("distance_to_equilibrium", toEquilibrium.map { .number($0) } ?? .null),
            ("equilibrium_set_dimension", game.equilibriumSetDimension.map { .int($0) } ?? .null),
            ("stats", flow.stats.json), ("seconds", .number(elapsed)), ("configuration", configuration?.json ?? .null),
        ])
        if let dir = output {
            try createOutputDirectory(dir)
            try OutputMarker.claim(dir, command: "flow")
            var csv = "t,vector_field_norm,distance_to_equilibrium,energy," + (0..<game.dimension).map { "x\($0)" }.joined(separator: ",") + "\n"
            for (t, s) in zip(flow.times, flow.states) {
                let d = game.distanceToEquilibria(from: s)
                var fields: [String] = [csvNumber(t), csvNumber(norm2(game.vectorField(at: s))), d.map(csvNumber) ?? "", csvNumber(game.energy(at: s))]
                fields += s.map(csvNumber)
                csv += fields.joined(separator: ",") + "\n"
            }
            try writeAtomically(csv, to: joinPath(dir, "trajectory.csv"))
            try writeAtomically(summary.serialized(indent: 2) + "\n", to: joinPath(dir, "summary.json"))
            // ‖v‖ and the distance to the equilibria against t, for a game of any dimension (as run's convergence.svg).
            var curve = Plot(title: "\(game.name): ‖v(x(t))‖ and the distance to equilibrium along the flow", xLabel: "t",
                             yLabel: "‖v(x)‖₂ and ‖x − x̄‖₂ (log scale)")
            curve.yScale = .log
            curve.add("‖v(x(t))‖", .line(zip(flow.times, flow.states).map { ($0, norm2(game.vectorField(at: $1))) }), color: Plot.palette[0])
            if game.distanceToEquilibria(from: start) != nil {
                curve.add("distance to equilibria (dashed)", .line(zip(flow.times, flow.states).compactMap { t, s in
                    game.distanceToEquilibria(from: s).map { (t, $0) } }, dashed: true), color: Plot.palette[0])
            }
            curve.notes = ["GSL \(m.rawValue), rtol \(rtol), atol \(atol)"]
            try writeAtomically(curve.svg(), to: joinPath(dir, "convergence.svg"))
            if game.dimension == 2 {
                var plot = Figures.phasePortrait(game, flow: flow.states, iterates: [], title: "\(game.name): the flow dx/dt = v(x)")
                plot.notes = ["GSL \(m.rawValue), rtol \(rtol), atol \(atol), t from 0 to \(flow.times.last!)"]
                try writeAtomically(plot.svg(), to: joinPath(dir, "phase.svg"))
            }
        }
        if json {
            print(summary.serialized())
        } else {
            print("game \(game.name) (dimension \(game.dimension)), flow by \(m.rawValue), rtol \(rtol), atol \(atol)")
            print("status: \(flow.status) at t = \(flow.times.last!) (\(String(format: "%.3g", elapsed)) s)")
            print("‖v(x)‖ = \(String(format: "%.6g", vNorm))" + (toEquilibrium.map { String(format: ", distance to equilibrium = %.6g", $0) } ?? ""))
            print("work: \(flow.stats.acceptedSteps) accepted and \(flow.stats.rejectedSteps) rejected steps, "
                  + "\(flow.stats.fieldEvaluations) field and \(flow.stats.jacobianEvaluations) Jacobian evaluations")
            print("final state: [" + x.prefix(8).map { String(format: "%.6g", $0) }.joined(separator: ", ") + (x.count > 8 ? ", …" : "") + "]")
            if let dir = output { print("wrote \(dir)/") }
        }
    }
}

extension FlowMethod: ExpressibleByArgument {}
