import ArgumentParser
import Foundation
import GameFlow

/// How a command gets its game and starting state: a JSON game file or a built-in game.
struct GameOptions: ParsableArguments {
    @Option(name: .customLong("game-file"), help: "JSON game file: bilinear, affine or utilities (formulas; see README and zoo/).")
    var gameFile: String?

    @Option(name: .customLong("run"), help: "A `gameflow train --output` folder: its MLP GAN on the evaluation batch, at the run's last state (state.json, else the checkpoint's).")
    var runDirectory: String?

    @Option(help: "Built-in game: bilinear (f = φᵀAθ with a random N×N A: --dim N, --seed) or dirac (the Dirac-GAN: --r1).")
    var game: String?

    @Option(parsing: .unconditional, help: "Built-in bilinear: A is N×N, so the game has dimension 2N (φ and θ of N entries each).")
    var dim: Int = 2

    @Option(parsing: .unconditional, help: "Seed for random built-in games and starts.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Dirac-GAN: R1 penalty weight γ ≥ 0.")
    var r1: Double = 0

    @Option(parsing: .unconditional, help: "Initial state as comma-separated numbers (default: the file's x0, (1, 1) for dirac, random for bilinear).")
    var x0: String?

    @OptionGroup var field: FieldOptions

    /// The game's name with its knobs for a figure's title: "dirac (R1 γ = 0.3)".
    func titled(_ game: any Game) -> String {
        if self.game == "dirac" && r1 > 0 { return "\(game.name) (R1 γ = \(r1))" }
        if self.game == "bilinear" { return "\(game.name) (\(dim)×\(dim), seed \(seed))" }
        return game.name
    }

    func makeGame() throws -> (any Game, [Double]) {
        var start: [Double]
        let game: any Game
        if let dir = runDirectory {
            guard gameFile == nil && self.game == nil else { throw GameFlowError.invalidInput("give one of --run, --game-file or --game") }
            let checkpoint = try TrainingCheckpoint.load(from: dir)
            let (_, configuration) = try checkpoint.train(directory: dir)
            let gan = try Train.makeGame(configuration)
            var start = checkpoint.checkpoint.state
            let statePath = joinPath(dir, "state.json")
            if FileManager.default.fileExists(atPath: statePath) {
                start = try readStateFile(statePath, dimension: gan.dimension, networks: Train.networksJSON(gan))
            }
            guard start.count == gan.dimension else { throw GameFlowError.invalidInput("'\(dir)': the state has \(start.count) entries, the run's GAN \(gan.dimension)") }
            if x0 != nil { throw GameFlowError.invalidInput("--x0 does not apply to --run (use --state)") }
            // The field the run trained (its own NK penalty, time scales and parts, composed as
            // training composes them) at its evaluation batch: one composition, not another.
            if field.nkPenalty != nil || field.stepScaleText != nil {
                throw GameFlowError.invalidInput("--nk-penalty and --step-scale do not apply to --run: the run's own field is analysed")
            }
            return (try configuration.fieldStack().apply(to: gan, fixedAt: NetworkGAN.evaluationStep), start)
        }
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
        return (try field.apply(to: game), start)
    }
}

extension GameOptions {
    /// Where the game comes from, as a configuration (nil for `--run DIR`, a trained GAN).
    func source() -> GameRunConfiguration.GameSource? {
        if runDirectory != nil { return nil }
        if let path = gameFile { return .file(path: path) }
        switch game {
        case "bilinear"?: return .bilinear(dim: dim, seed: seed)
        case "dirac"?: return .dirac(r1: r1)
        default: return nil
        }
    }
}

/// Modifiers of the field that training integrates, shared by every command that has a game.
struct FieldOptions: ParsableArguments {
    @Option(name: .customLong("step-scale"), help: "Time scales (TTUR): one factor sᵢ > 0 per player, in the game's player order; training integrates dx/dt = S·v, so player i steps h·sᵢ (under --optimizer the factors multiply the optimizer's update). Default: all 1.")
    var stepScaleText: String?

    @Option(name: .customLong("nk-penalty"), parsing: .unconditional, help: "Nagarajan–Kolter penalty η ≥ 0: the players other than the discriminator maximise their utility − η‖∇_D f‖² (D: ψ for dirac, by --layout for train, player 1 for two-player analytic and file games).")
    var nkPenalty: Double?

    /// The game with these modifiers: the penalty on the utilities, then the time scales.
    func apply(to game: any Game) throws -> any Game {
        try game.nkPenalized(nkPenalty).timeScaled(stepScale())
    }

    /// The parsed `--step-scale` (nil when not given).
    func stepScale() throws -> StepScale? {
        try stepScaleText.map { try StepScale(parseNumbers($0, what: "--step-scale")) }
    }

    /// These options as command-line arguments (for `gameflow resume`).
    var arguments: [String] {
        (stepScaleText.map { ["--step-scale", $0] } ?? []) + (nkPenalty.map { ["--nk-penalty", "\($0)"] } ?? [])
    }

    /// These options as summary.json fields.
    func summaryFields() throws -> [(String, JSON)] {
        [("step_scale", try stepScale().map { .numbers($0.factors) } ?? .null), ("nk_penalty", .optional(nkPenalty))]
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

    @Option(name: .customLong("consensus-on"), help: "Consensus: all (every player's block gets −γ·v′ᵀv, the default) or discriminator (only D's block: the supplement's smoothing variant; D as for --nk-penalty).")
    var consensusOn: ConsensusOn = .all

    @Option(help: "Consensus on minibatches: none (½‖v̄‖², biased by tr Var/(2B)), variance (minus the sample variance/(2B − 2)) or split (½⟨v_A, v_B⟩ of the two half batches); the last two need per-example fields.")
    var debias: ConsensusDebias = .none

    @Option(parsing: .unconditional, help: "SGA: weight λ ≥ 0 of the adjustment −λ·Aᵀv, A = (v′ − v′ᵀ)/2 (required for sga).")
    var lambda: Double?

    @Flag(name: .customLong("sga-align"), help: "SGA: choose λ's sign each step by Balduzzi et al.'s alignment rule.")
    var sgaAlign = false

    @Option(parsing: .unconditional, help: "LA, LOLA, SOS: the opponents' look-ahead step α ≥ 0 (LA: v + α·J_off·v; required for la, lola and sos).")
    var alpha: Double?

    @Option(name: .customLong("sos-a"), parsing: .unconditional, help: "SOS: a ∈ (0, 1), how far the shaping term may turn the step from LA's (⟨step, w⟩ ≥ (1 − a)‖w‖²; default 0.5, the reference code's).")
    var sosA: Double?

    @Option(name: .customLong("sos-b"), parsing: .unconditional, help: "SOS: b ∈ (0, 1), below ‖v‖ = b the shaping term is scaled by ‖v‖² (default 0.1, the reference code's).")
    var sosB: Double?

    @Option(name: .customLong("anderson-depth"), help: "gda-am: Anderson depth m ≥ 0, the differences of the SimGA map mixed (required for gda-am; ≥ 2n + 1 on small deterministic games).")
    var andersonDepth: Int?

    @Option(name: .customLong("linear-tolerance"), help: "rosenbrock-euler, cgd: GMRES's relative residual tolerance ‖v − (I − hJ̃)d‖/‖v‖ (default 1e-10).")
    var linearTolerance: Double?

    @Option(help: "AltGA: sub-steps per player per outer step, comma-separated in the game's player order (e.g. 5,1: five discriminator steps per generator step when the discriminator is listed first); each sub-step draws its own minibatch.")
    var substeps: String?

    @Option(name: .customLong("inner-tolerance"), parsing: .unconditional, help: "AltGA with --substeps: a player with more than one sub-step stops once the norm of its block of v is ≤ T (the nested loop: trained to convergence, capped by its count).")
    var innerTolerance: Double?

    @Option(name: .customLong("extrapolation-step"), parsing: .unconditional, help: "Extragradient: the look-ahead's step η > 0, x̃ = x + η·v(x) (default: the step h).")
    var extrapolationStep: Double?

    @Option(name: .customLong("past-weight"), parsing: .unconditional, help: "Optimistic: b ≥ 0 in x + (1 + b)·h·v(x_k) − b·h·v(x_{k−1}) (default 1).")
    var pastWeight: Double?

    @Option(name: .customLong("root-solver"), help: "Implicit schemes: hybridsj (GSL, dense exact Jacobian), hybrids (GSL, dense finite differences), newton-krylov (KINSOL, matrix-free, exact JVPs) or auto (dense up to \(RootMethod.denseLimit) unknowns, newton-krylov above; the default).")
    var rootSolver: RootMethod?

    @Option(name: .customLong("root-method"), help: .hidden)
    var rootMethod: RootMethod?

    @Option(name: .customLong("root-tolerance"), parsing: .unconditional, help: "Implicit schemes: accept z once max|z − x − h·v(z)|/(1 + h) ≤ this × max(max|x|, max|z|) (implicit Euler; likewise for the others).")
    var rootTolerance: Double = 1e-10

    @Option(name: .customLong("root-max-iterations"), parsing: .unconditional, help: "Implicit schemes: iteration cap of each root solve (GSL or Newton iterations).")
    var rootMaxIterations: Int = 100

    @Option(name: .customLong("root-stall-tolerance"), parsing: .unconditional, help: "Implicit schemes: accept a solve that stalls short of --root-tolerance (ReLU kinks) once max|z − x − h·v(z)| ≤ this × max|z − x|, counted as root_stalls; 0 never accepts.")
    var rootStallTolerance: Double = 0.1

    @Option(name: .customLong("krylov-dimension"), parsing: .unconditional, help: "Newton–Krylov, rosenbrock-euler, cgd: GMRES iterations per Newton iteration (between restarts) at most.")
    var krylovDimension: Int = 50

    @Option(name: .customLong("forcing"), help: "Newton–Krylov: forcing term of the inexact Newton condition, ew2 (Eisenstat–Walker choice 2, the default), ew1 (choice 1: one more JVP per Newton iteration) or a constant η in (0, 1].")
    var forcing: String = "ew2"

    @Option(name: .customLong("line-search"), help: "Newton–Krylov: on (KINSOL's backtracking line search, the default) or off (full Newton steps).")
    var lineSearch: OnOff = .on

    @Option(name: .customLong("newton-iterations"), parsing: .unconditional, help: "Inexact implicit schemes: exactly K Newton iterations per step (with --krylov-iterations), last iterate accepted.")
    var newtonIterations: Int?

    @Option(name: .customLong("krylov-iterations"), parsing: .unconditional, help: "Inexact implicit schemes: M GMRES iterations per Newton iteration (with --newton-iterations).")
    var krylovIterations: Int?

    @Flag(name: .customLong("no-predictor"), help: "Implicit schemes: start each solve from x instead of the explicit predictor x + h·v(x).")
    var noPredictor = false

    @Option(parsing: .unconditional, help: "rkf45, rkck, rk8pd: relative tolerance of the integrator's error control; --step (--lr) is then the first and the largest step.")
    var rtol: Double = 1e-6

    @Option(parsing: .unconditional, help: "Adaptive schemes: absolute tolerance (> 0).")
    var atol: Double = 1e-9

    @Option(name: .customLong("implicit-metric"), help: "Implicit schemes with --optimizer rmsprop|adam: identity (the optimizer wraps the implicit step; default) or optimizer (solve z = x + h·P·v(z) with the optimizer's P frozen at x).")
    var implicitMetric: ImplicitMetric = .identity

    /// These knobs as command-line arguments (for `gameflow resume`).
    var arguments: [String] {
        var a = ["--root-tolerance", "\(rootTolerance)", "--root-max-iterations", "\(rootMaxIterations)",
                 "--root-stall-tolerance", "\(rootStallTolerance)",
                 "--krylov-dimension", "\(krylovDimension)", "--implicit-metric", implicitMetric.rawValue,
                 "--forcing", forcing, "--line-search", lineSearch.rawValue, "--rtol", "\(rtol)", "--atol", "\(atol)"]
        if let g = gamma { a += ["--gamma", "\(g)"] }
        if let l = lambda { a += ["--lambda", "\(l)"] }
        if let l = alpha { a += ["--alpha", "\(l)"] }
        if let v = sosA { a += ["--sos-a", "\(v)"] }
        if let v = sosB { a += ["--sos-b", "\(v)"] }
        if let t = linearTolerance { a += ["--linear-tolerance", "\(t)"] }
        if let m = andersonDepth { a += ["--anderson-depth", "\(m)"] }
        if consensusOn != .all { a += ["--consensus-on", consensusOn.rawValue] }
        if debias != .none { a += ["--debias", debias.rawValue] }
        if sgaAlign { a.append("--sga-align") }
        if let e = extrapolationStep { a += ["--extrapolation-step", "\(e)"] }
        if let s = substeps { a += ["--substeps", s] }
        if let t = innerTolerance { a += ["--inner-tolerance", "\(t)"] }
        if let b = pastWeight { a += ["--past-weight", "\(b)"] }
        if let m = rootSolver ?? rootMethod { a += ["--root-solver", m.rawValue] }
        if let k = newtonIterations { a += ["--newton-iterations", "\(k)"] }
        if let m = krylovIterations { a += ["--krylov-iterations", "\(m)"] }
        if noPredictor { a.append("--no-predictor") }
        return a
    }

    /// The knobs of scheme `name` for a figure's title: "consensus γ = 0.5", "sga λ = 0.1", "rk4".
    func titled(_ name: SchemeName) -> String {
        switch name {
        case .consensus: return "consensus" + (gamma.map { " γ = \($0)" } ?? "")
        case .sga: return "sga" + (lambda.map { " λ = \($0)" } ?? "")
        case .la, .lola, .sos: return name.rawValue + (alpha.map { " α = \($0)" } ?? "")
        case .extragradient: return "extragradient" + (extrapolationStep.map { " η = \($0)" } ?? "")
        case .optimistic: return "optimistic" + (pastWeight.map { " b = \($0)" } ?? "")
        default: return name.rawValue
        }
    }

    /// The knobs that apply to scheme `name`, as summary.json fields.
    func summaryFields(_ name: SchemeName) -> [(String, JSON)] {
        var f: [(String, JSON)] = []
        switch name {
        case .consensus: f = [("gamma", .optional(gamma)), ("consensus_on", .string(consensusOn.rawValue)), ("debias", .string(debias.rawValue))]
        case .sga: f = [("lambda", .optional(lambda)), ("sga_align", .bool(sgaAlign))]
        case .la, .lola: f = [("alpha", .optional(alpha))]
        case .sos: f = [("alpha", .optional(alpha)), ("sos_a", .number(sosA ?? LOLA.referenceSOS.a)), ("sos_b", .number(sosB ?? LOLA.referenceSOS.b))]
        case .gdaAM: f = [("anderson_depth", andersonDepth.map { .int($0) } ?? .null)]
        case .rosenbrockEuler, .cgd: f = [("linear_tolerance", .number(linearTolerance ?? 1e-10)), ("krylov_dimension", .int(krylovDimension))]
        case .extragradient: f = [("extrapolation_step", .optional(extrapolationStep))]
        case .optimistic: f = [("past_weight", .number(pastWeight ?? 1))]
        case .altga: f = [("substeps", substeps.map { .string($0) } ?? .null), ("inner_tolerance", .optional(innerTolerance))]
        case .rkf45, .rkck, .rk8pd: f = [("rtol", .number(rtol)), ("atol", .number(atol))]
        case .implicitEuler, .implicitMidpoint, .trapezoidal:
            f = [("root_solver", .string((rootSolver ?? rootMethod ?? .auto).rawValue)), ("root_tolerance", .number(rootTolerance)),
                 ("root_max_iterations", .int(rootMaxIterations)), ("root_stall_tolerance", .number(rootStallTolerance)),
                 ("krylov_dimension", .int(krylovDimension)), ("forcing", .string(forcing)), ("line_search", .string(lineSearch.rawValue)),
                 ("predictor", .bool(!noPredictor)), ("newton_iterations", newtonIterations.map { .int($0) } ?? .null),
                 ("krylov_iterations", krylovIterations.map { .int($0) } ?? .null)]
        default: f = []
        }
        return f
    }

    /// The implicit schemes' solver options from these flags.
    func implicitOptions() throws -> ImplicitSolverOptions {
        if rootSolver != nil && rootMethod != nil {
            throw GameFlowError.invalidInput("give --root-solver only (--root-method is its old name)")
        }
        let method = rootSolver ?? rootMethod ?? .auto
        var budget: (newtonIterations: Int, krylovIterations: Int)?
        switch (newtonIterations, krylovIterations) {
        case (nil, nil): budget = nil
        case let (k?, m?): budget = (k, m)
        default: throw GameFlowError.invalidInput("--newton-iterations and --krylov-iterations go together (the inexact scheme's budget)")
        }
        var options = ImplicitSolverOptions(method: method, tolerance: rootTolerance, maxIterations: rootMaxIterations,
                                            krylovDimension: krylovDimension, budget: budget, predictor: !noPredictor,
                                            stallTolerance: rootStallTolerance == 0 ? nil : rootStallTolerance)
        options.lineSearch = lineSearch == .on
        options.forcing = try Forcing.parse(forcing)
        try options.validate()
        return options
    }

    /// The scheme `name` with these knobs; `--gamma` is refused for schemes that do not use it
    /// unless `allowUnusedGamma` (a comparison may list consensus next to others). `metric` is
    /// the optimizer whose metric `--implicit-metric optimizer` solves in (nil: no optimizer).
    func make(_ name: SchemeName, allowUnusedGamma: Bool = false, metric: Preconditioner? = nil,
              discriminator: Int? = nil) throws -> any Scheme {
        if !allowUnusedGamma {
            for (key, owner) in Self.knobOwners where givenKnobs.contains(key) && !owner.contains(name) {
                let names = owner.map(\.rawValue).sorted()
                throw GameFlowError.invalidInput("--\(key) applies only to --scheme " + (names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " and " + names.last!))
            }
        }
        let implicit = try implicitOptions()
        var inMetric: Preconditioner?
        switch implicitMetric {
        case .identity: inMetric = nil
        case .optimizer:
            guard let m = metric else {
                throw GameFlowError.invalidInput("--implicit-metric optimizer needs --optimizer rmsprop or adam (gameflow train)")
            }
            inMetric = m
        }
        if inMetric != nil && !name.isImplicit && !allowUnusedGamma {
            throw GameFlowError.invalidInput("--implicit-metric optimizer applies only to the implicit schemes (implicit-euler, implicit-midpoint, trapezoidal)")
        }
        var knobs = SchemeName.Knobs(gamma: gamma, implicit: implicit, implicitMetric: name.isImplicit ? inMetric : nil)
        knobs.adaptiveTolerances = (rtol, atol)
        knobs.lambda = lambda
        knobs.sgaAlign = sgaAlign
        knobs.alpha = alpha
        if let v = sosA { knobs.sosA = v }
        if let v = sosB { knobs.sosB = v }
        if let t = linearTolerance { knobs.linearTolerance = t }
        knobs.andersonDepth = andersonDepth
        knobs.extrapolationStep = extrapolationStep
        knobs.pastWeight = pastWeight
        knobs.substeps = try substeps.map { text in
            try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
                guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else {
                    throw GameFlowError.invalidInput("--substeps: '\(part)' is not a whole number")
                }
                return n
            }
        }
        if innerTolerance != nil && substeps == nil {
            throw GameFlowError.invalidInput("--inner-tolerance needs --substeps (the cap of each inner loop)")
        }
        knobs.innerTolerance = innerTolerance
        switch consensusOn {
        case .all: knobs.consensusPlayer = nil
        case .discriminator:
            guard let d = discriminator else { throw GameFlowError.invalidInput("--consensus-on discriminator needs a two-player game") }
            knobs.consensusPlayer = d
        }
        knobs.consensusDebias = debias
        return try name.make(knobs)
    }

    /// The knobs that belong to some schemes only (flag names without the dashes): `make` refuses
    /// them for another scheme, sweeps pass a constant one only to the schemes that have it.
    static let knobOwners: [(key: String, owners: Set<SchemeName>)] = [
        ("gamma", [.consensus]), ("consensus-on", [.consensus]), ("debias", [.consensus]), ("lambda", [.sga]), ("sga-align", [.sga]), ("alpha", [.la, .lola, .sos]), ("sos-a", [.sos]), ("sos-b", [.sos]), ("linear-tolerance", [.rosenbrockEuler, .cgd]), ("anderson-depth", [.gdaAM]),
        ("extrapolation-step", [.extragradient]), ("past-weight", [.optimistic]), ("substeps", [.altga]), ("inner-tolerance", [.altga]),
        ("implicit-metric", [.implicitEuler, .implicitMidpoint, .trapezoidal]),
    ]

    /// The scheme-specific knobs given (set away from their defaults).
    var givenKnobs: Set<String> {
        var k = Set<String>()
        for (key, given) in [("gamma", gamma != nil), ("consensus-on", consensusOn != .all), ("debias", debias != .none), ("lambda", lambda != nil), ("alpha", alpha != nil), ("sos-a", sosA != nil), ("sos-b", sosB != nil), ("linear-tolerance", linearTolerance != nil), ("anderson-depth", andersonDepth != nil),
                             ("sga-align", sgaAlign), ("extrapolation-step", extrapolationStep != nil), ("past-weight", pastWeight != nil),
                             ("substeps", substeps != nil), ("inner-tolerance", innerTolerance != nil),
                             ("implicit-metric", implicitMetric != .identity)] where given { k.insert(key) }
        return k
    }

    /// Whether the scheme is solved in the optimizer's metric (then the optimizer does not wrap it).
    func solvesInMetric(_ name: SchemeName) -> Bool { implicitMetric == .optimizer && name.isImplicit }

    /// How the integrator sizes the steps: error control with --rtol/--atol for the embedded
    /// pairs (rkf45, rkck, rk8pd), fixed steps of --step otherwise.
    func stepSizeControl(_ name: SchemeName) -> StepSizeControl {
        var k = SchemeName.Knobs()
        k.adaptiveTolerances = (rtol, atol)
        return name.stepSizeControl(k)
    }

    /// The scheme `name` with these knobs as a configuration (checked by making it first, so
    /// every flag error is the one `make` gives).
    func configuration(_ name: SchemeName, allowUnusedGamma: Bool = false, metric: Preconditioner?, discriminator: Int) throws -> SchemeConfiguration {
        _ = try make(name, allowUnusedGamma: allowUnusedGamma, metric: metric, discriminator: discriminator)
        switch name {
        case .simga: return .simga
        case .altga:
            let counts = try substeps.map { text in try text.split(separator: ",").map { part -> Int in
                guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else { throw GameFlowError.invalidInput("--substeps: '\(part)' is not a whole number") }
                return n
            } }
            return .altga(substeps: counts, innerTolerance: innerTolerance)
        case .consensus:
            return .consensus(gamma: gamma!, onDiscriminatorOnly: consensusOn == .discriminator, debias: debias)
        case .implicitEuler, .implicitMidpoint, .trapezoidal:
            let o = try implicitOptions()
            return .implicit(name, .init(solver: o.method, tolerance: o.tolerance, maxIterations: o.maxIterations, krylovDimension: o.krylovDimension,
                                         forcing: forcing, lineSearch: o.lineSearch, predictor: o.predictor, stallTolerance: o.stallTolerance,
                                         newtonIterations: newtonIterations, krylovIterations: krylovIterations, inOptimizerMetric: solvesInMetric(name)))
        case .heun: return .heun
        case .rk4: return .rk4
        case .extragradient: return .extragradient(extrapolationStep: extrapolationStep)
        case .optimistic: return .optimistic(pastWeight: pastWeight ?? 1)
        case .sga: return .sga(lambda: lambda!, align: sgaAlign)
        case .hgd: return .hgd
        case .la: return .la(alpha: alpha!)
        case .lola: return .lola(alpha: alpha!)
        case .sos: return .sos(alpha: alpha!, a: sosA ?? LOLA.referenceSOS.a, b: sosB ?? LOLA.referenceSOS.b)
        case .gdaAM: return .gdaAM(depth: andersonDepth!)
        case .rosenbrockEuler, .cgd: return .linearlyImplicit(name, linearTolerance: linearTolerance ?? 1e-10, krylovDimension: krylovDimension)
        case .rkf45, .rkck, .rk8pd: return .adaptive(FlowMethod(rawValue: name.rawValue)!, rtol: rtol, atol: atol)
        }
    }
}

/// The optimizer around a scheme (`run`, `compare`, `train`, `spectrum`, sweep keys): RMSProp or
/// Adam (`Preconditioned`), or momentum — Gidel et al.'s per-player momentum for AltGA in the
/// Polyak form (`AlternatingMomentum`), the whole-step wrapper `Momentum` otherwise.
struct OptimizerOptions: ParsableArguments {
    @Option(help: "Optimizer around the scheme: none, rmsprop (decay 0.9, ε 1e-10, accumulator 1), adam, or momentum (--momentum; with altga each player's update carries its momentum, Gidel et al.).")
    var optimizer: OptimizerName = .none

    @Option(parsing: .unconditional, help: "--optimizer momentum: β in (−1, 1) of x + h·d + β(x − x_prev) (polyak; negative is negative momentum), or the friction γ ≥ 0 of the supplement's form (required).")
    var momentum: Double?

    @Option(name: .customLong("momentum-form"), help: "--optimizer momentum: polyak (heavy ball, the default) or supplement (x ← x + h·m, m ← m + h(d − γm), the paper's eq. 35).")
    var momentumForm: MomentumForm = .polyak

    @Option(help: "Lookahead k,α around the scheme and its optimizer: every k steps slow ← slow + α(fast − slow), fast ← slow (e.g. 5,0.5).")
    var lookahead: String?

    @Option(help: "Average the iterates, uniform or ema:β (β in [0, 1)), reported beside the last iterate (summary.json's \"average\"; train: state-average.json).")
    var average: String?

    /// `--average`, checked (nil when not given).
    func averagingConfiguration() throws -> AveragingConfiguration? {
        guard let text = average else { return nil }
        let c = try AveragingConfiguration.parse(text)
        _ = try c.wrap(SimGA())   // β's range, checked
        return c
    }

    /// `--lookahead`, checked (nil when not given).
    func lookaheadConfiguration() throws -> LookaheadConfiguration? {
        guard let text = lookahead else { return nil }
        let c = try LookaheadConfiguration.parse(text)
        _ = try c.wrap(SimGA())   // k's and α's ranges, checked
        return c
    }

    /// The optimizer as a configuration.
    func configuration() throws -> OptimizerConfiguration {
        _ = try momentumSettings()   // --momentum without --optimizer momentum is an error
        switch optimizer {
        case .none: return .none
        case .rmsprop: return .rmsprop
        case .adam: return .adam
        case .momentum:
            let (form, weight) = try momentumSettings()!
            _ = try Momentum(SimGA(), form: form, weight: weight)   // the weight's range, checked
            return .momentum(form: form, weight: weight)
        }
    }

    /// RMSProp's or Adam's constants (nil for none and momentum).
    func preconditioner() throws -> Preconditioner? { try configuration().preconditioner }

    /// The momentum form and weight for `--optimizer momentum` (nil otherwise); checks the flags go together.
    func momentumSettings() throws -> (form: MomentumForm, weight: Double)? {
        guard optimizer == .momentum else {
            if momentum != nil { throw GameFlowError.invalidInput("--momentum applies only to --optimizer momentum") }
            return nil
        }
        guard let weight = momentum else { throw GameFlowError.invalidInput("--optimizer momentum needs --momentum β (polyak) or γ (supplement)") }
        return (momentumForm, weight)
    }

    /// `base` with the optimizer: RMSProp/Adam around it (unless an implicit scheme solves in
    /// the optimizer's metric itself), or momentum.
    func wrap(_ base: any Scheme, solvesInMetric: Bool = false, stepScale: StepScale? = nil) throws -> any Scheme {
        let s = try configuration().wrap(base, solvesInMetric: solvesInMetric, stepScale: stepScale)
        let l = try lookaheadConfiguration()?.wrap(s) ?? s
        return try averagingConfiguration()?.wrap(l) ?? l
    }

    /// These options as command-line arguments (for `gameflow resume`).
    var arguments: [String] {
        ["--optimizer", optimizer.rawValue] + (momentum.map { ["--momentum", "\($0)", "--momentum-form", momentumForm.rawValue] } ?? [])
            + (lookahead.map { ["--lookahead", $0] } ?? []) + (average.map { ["--average", $0] } ?? [])
    }

    /// summary.json fields (none without an optimizer, so plain runs keep their summary).
    var summaryFields: [(String, JSON)] {
        Self.summaryFields(optimizer: optimizer == .none ? nil : optimizer.rawValue, momentum: momentum,
                           momentumForm: optimizer == .momentum ? momentumForm : nil, lookahead: lookahead, average: average)
    }

    /// summary.json's optimizer fields, from flags or from a configuration (`GameRunConfiguration.summaryFields`).
    static func summaryFields(optimizer: String?, momentum: Double?, momentumForm: MomentumForm?, lookahead: String?,
                              average: String?) -> [(String, JSON)] {
        (optimizer.map { [("optimizer", .string($0)), ("momentum", .optional(momentum)), ("momentum_form", momentumForm.map { .string($0.rawValue) } ?? .null)] } ?? [])
            + (lookahead.map { [("lookahead", .string($0))] } ?? []) + (average.map { [("average_kind", .string($0))] } ?? [])
    }
}

extension SchemeConfiguration {
    /// The scheme's knobs as summary.json fields (the keys `SchemeOptions.summaryFields` writes).
    var summaryFields: [(String, JSON)] {
        switch self {
        case let .consensus(g, onD, d): return [("gamma", .number(g)), ("consensus_on", .string(onD ? "discriminator" : "all")), ("debias", .string(d.rawValue))]
        case let .sga(l, a): return [("lambda", .number(l)), ("sga_align", .bool(a))]
        case let .la(a), let .lola(a): return [("alpha", .number(a))]
        case let .sos(alpha, a, b): return [("alpha", .number(alpha)), ("sos_a", .number(a)), ("sos_b", .number(b))]
        case let .gdaAM(m): return [("anderson_depth", .int(m))]
        case let .linearlyImplicit(_, t, k): return [("linear_tolerance", .number(t)), ("krylov_dimension", .int(k))]
        case let .extragradient(e): return [("extrapolation_step", .optional(e))]
        case let .optimistic(b): return [("past_weight", .number(b))]
        case let .altga(s, t): return [("substeps", s.map { .string($0.map(String.init).joined(separator: ",")) } ?? .null), ("inner_tolerance", .optional(t))]
        case let .adaptive(_, r, a): return [("rtol", .number(r)), ("atol", .number(a))]
        case let .implicit(_, c):
            return [("root_solver", .string(c.solver.rawValue)), ("root_tolerance", .number(c.tolerance)),
                    ("root_max_iterations", .int(c.maxIterations)), ("root_stall_tolerance", .number(c.stallTolerance ?? 0)),
                    ("krylov_dimension", .int(c.krylovDimension)), ("forcing", .string(c.forcing)), ("line_search", .string(c.lineSearch ? "on" : "off")),
                    ("predictor", .bool(c.predictor)), ("newton_iterations", c.newtonIterations.map { .int($0) } ?? .null),
                    ("krylov_iterations", c.krylovIterations.map { .int($0) } ?? .null)]
        case .simga, .heun, .rk4, .hgd: return []
        }
    }
}

// Enumerated options: ArgumentParser lists their values in --help and, for a misspelt one, in
// its one-line error ("Please provide one of …").
extension ConsensusDebias: ExpressibleByArgument {}

/// `--line-search`: KINSOL's backtracking line search, or full Newton steps.
enum OnOff: String, CaseIterable, ExpressibleByArgument {
    case on, off
}

/// `--implicit-metric`: the optimizer wraps the implicit step, or the step is solved in its metric.
enum ImplicitMetric: String, CaseIterable, ExpressibleByArgument {
    case identity, optimizer
}

/// `--consensus-on`: every player's block, or the discriminator's only.
enum ConsensusOn: String, CaseIterable, ExpressibleByArgument {
    case all, discriminator
}
extension MomentumForm: ExpressibleByArgument {}
extension RootMethod: ExpressibleByArgument {}

/// `--optimizer`'s values (the CLI's names for `OptimizerConfiguration`'s kinds).
enum OptimizerName: String, CaseIterable, ExpressibleByArgument {
    case none, rmsprop, adam, momentum
}
