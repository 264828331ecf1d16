import ArgumentParser
import Foundation
import GameFlow
import Numerics

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an MLP GAN on a 2-D Gaussian mixture (the paper's Section 5 experiment) or on your data.",
        discussion: """
            The paper's run (consensus optimisation with RMSProp on 8 Gaussians):
              gameflow train --data ring8 --scheme consensus --gamma 10 \\
                --optimizer rmsprop --lr 1e-4 --steps 30000 --output out/
            Network defaults are the paper's: 4 hidden ReLU layers of 16 units,
            latent 16, batch 512. The optimizer defaults to none (the plain
            scheme); the paper used rmsprop. Build with -c release: a debug build
            is about 30 times slower.
            """)

    @Option(help: "Data: ring8 (8 modes on the unit circle, σ 0.01), grid25 (5×5, σ 0.05), grid16 (4×4, σ 0.02), fashion-mnist (Debian's dataset-fashion-mnist, 60,000 1×28×28 images), a CSV file of points (one per row, any dimension d ≥ 1), or an image file: IDX (.idx3-ubyte, optionally .gz) or NumPy .npy (uint8, float32, float64; N×H×W or N×C×H×W).")
    var data: String = "ring8"

    @Option(help: "Networks: mlp (the paper's MLPs, sized by --hidden/--depth/--latent/…), dcgan28 (a batch-norm-free DCGAN for 1×28×28 images, 273,666 parameters), or an architecture file (JSON: latent, generator and discriminator layer lists).")
    var architecture: String = "mlp"

    @Option(help: "Scheme: \(SchemeName.allCases.map(\.rawValue).joined(separator: ", ")) (required unless --config).")
    var scheme: String?

    @Option(name: .customLong("config"), help: "Run the configuration in this file (a run's summary.json or checkpoint.json, or a bare configuration): every setting comes from it; give only --output, --json and --quiet with it.")
    var configFile: String?

    @OptionGroup var knobs: SchemeOptions

    @OptionGroup var field: FieldOptions

    @OptionGroup var optimizerOptions: OptimizerOptions

    @Option(parsing: .unconditional, help: "Step size / learning rate h > 0 (required unless --config).")
    var lr: Double?

    @Option(parsing: .unconditional, help: "Number of training steps (required unless --config).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Minibatch size.")
    var batch: Int = 512

    @Option(parsing: .unconditional, help: "Seed: initial weights and every minibatch.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Threads that share each step: v, v′u and v′ᵀu on parts of the minibatch (default 1). Results differ from one thread's only by the order of the batch sums, reproducibly for a given N.")
    var threads: Int = 1

    @Option(parsing: .unconditional, help: "Arithmetic inside the networks: float32 (float kernels and sgemm, converted at the networks' boundary) or float64 (default). x, the scheme and every analysis stay float64.")
    var precision: Precision = .float64

    @Option(parsing: .unconditional, help: "Hidden units per layer.")
    var hidden: Int = 16

    @Option(parsing: .unconditional, help: "Hidden layers per network.")
    var depth: Int = 4

    @Option(parsing: .unconditional, help: "Latent dimension.")
    var latent: Int = 16

    @Option(parsing: .unconditional, help: "R1 penalty γ ≥ 0 on the discriminator: (γ/2)·E‖∇ₓD(x)‖² on real data (exact, by double backprop).")
    var r1: Double = 0

    @Option(parsing: .unconditional, help: "R2 penalty γ ≥ 0: (γ/2)·E‖∇ₓD(G(z))‖² on the fakes.")
    var r2: Double = 0

    @Option(parsing: .unconditional, help: "WGAN-GP λ ≥ 0: λ·E(‖∇ₓD(x̂)‖ − 1)² at interpolates x̂ = εx + (1 − ε)G(z) (use with --utility wgan).")
    var gp: Double = 0

    @Option(name: .customLong("generator-hidden"), help: "The generator's hidden widths, one per layer (e.g. 64,64; default: --depth layers of --hidden).")
    var generatorHidden: String?

    @Option(name: .customLong("discriminator-hidden"), help: "The discriminator's hidden widths, one per layer (default: --depth layers of --hidden).")
    var discriminatorHidden: String?

    @Option(help: "Hidden activation.")
    var activation: Activation = .relu

    @Option(name: .customLong("generator-activation"), help: "The generator's hidden activation (default: --activation).")
    var generatorActivation: Activation?

    @Option(name: .customLong("discriminator-activation"), help: "The discriminator's hidden activation (default: --activation).")
    var discriminatorActivation: Activation?

    @Option(name: .customLong("init"), help: "Start from these parameters (a state.json of another run with the same networks, e.g. to switch schemes mid-training) instead of the seed's initialisation.")
    var initState: String?

    @Option(help: "The players' utilities (non-saturating: the reference code's).")
    var utility: NetworkGAN.Utility = .nonSaturating

    @Option(help: "Parameter order in x (discriminator-first: AltGA then updates D first).")
    var layout: NetworkGAN.Layout = .generatorFirst

    @Option(parsing: .unconditional, help: "Compute metrics every N steps (default: 100 times per run).")
    var every: Int?

    @Option(help: "Write metrics.csv, samples-STEP.csv, density-STEP.svg (a 2-D histogram), scatter-STEP.svg, eigenvalues.svg, state.json, summary.json and checkpoint.json (for gameflow resume) here.")
    var output: String?

    @Option(name: .customLong("checkpoint-seconds"), parsing: .unconditional, help: "With --output, write checkpoint.json at least this often (seconds of wall time; also at the end and on a signal).")
    var checkpointSeconds: Double = 10

    @Option(name: .customLong("metrics-classifier"), help: "A classifier folder (gameflow classifier --output): adds fid, kid and classifier_score to metrics.csv, against the test set (fashion-mnist) or the data's images.")
    var metricsClassifier: String?

    @Option(name: .customLong("fid-samples"), parsing: .unconditional, help: "Generator samples per FID/KID measurement (with --metrics-classifier).")
    var fidSamples: Int?

    @Option(name: .customLong("spectrum-every"), parsing: .unconditional, help: "Every N steps (and at the start and end), ARPACK's --top K largest-magnitude and K rightmost eigenvalues of v′ at the evaluation batch into spectrum.csv and spectrum.svg.")
    var spectrumEvery: Int?

    @Option(parsing: .unconditional, help: "With --spectrum-every: eigenvalues at each end (default 10).")
    var top: Int?

    @Flag(name: .customLong("no-eigenvalues"), help: "With --output, skip the final eigenvalue figure (a dense Jacobian and two eigen-decompositions).")
    var noEigenvalues = false

    @Flag(help: "Print one JSON summary object on stdout.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws { try execute(resuming: nil) }

    /// This run's settings as `train` arguments (what `gameflow resume` re-parses). Numbers
    /// print in Swift's shortest round-trip form, so they parse back to the same bits.
    var settingsArguments: [String] {
        if let c = configFile { return ["--config", c] }
        var a = ["--data", data, "--scheme", scheme ?? "", "--lr", lr.map { "\($0)" } ?? "", "--steps", steps.map { "\($0)" } ?? "",
                 "--batch", "\(batch)", "--seed", "\(seed)", "--hidden", "\(hidden)", "--depth", "\(depth)", "--latent", "\(latent)",
                 "--activation", activation.rawValue, "--utility", utility.rawValue, "--layout", layout.rawValue]
        a += knobs.arguments + field.arguments + optimizerOptions.arguments
        if let g = generatorHidden { a += ["--generator-hidden", g] }
        if let g = generatorActivation { a += ["--generator-activation", g.rawValue] }
        if let d = discriminatorActivation { a += ["--discriminator-activation", d.rawValue] }
        if let i = initState { a += ["--init", i] }
        if r1 != 0 { a += ["--r1", "\(r1)"] }
        if r2 != 0 { a += ["--r2", "\(r2)"] }
        if gp != 0 { a += ["--gp", "\(gp)"] }
        if let d = discriminatorHidden { a += ["--discriminator-hidden", d] }
        if let e = every { a += ["--every", "\(e)"] }
        a += ["--checkpoint-seconds", "\(checkpointSeconds)"]
        if noEigenvalues { a.append("--no-eigenvalues") }
        return a
    }

    /// The optimizer's constants as JSON (null without one).
    private func optimizerConstants(_ p: Preconditioner?) -> JSON {
        switch p {
        case let .rmsprop(decay, epsilon, initial)?:
            return .object([("decay", .number(decay)), ("epsilon", .number(epsilon)), ("initial_accumulator", .number(initial))])
        case let .adam(b1, b2, epsilon)?:
            return .object([("beta1", .number(b1)), ("beta2", .number(b2)), ("epsilon", .number(epsilon))])
        case nil:
            return .null
        }
    }

    /// This run as a configuration: the --config file's, or the flags' (every flag checked).
    func configuration() throws -> GANTrainingConfiguration {
        if let path = configFile {
            guard scheme == nil, lr == nil, steps == nil else {
                throw GameFlowError.invalidInput("--config holds the run's settings: give only --output, --json and --quiet with it (not --scheme, --lr or --steps)")
            }
            let c = try GANTrainingConfiguration.load(path)
            try Self.check(c)
            return c
        }
        guard let scheme else { throw GameFlowError.invalidInput("Missing expected argument '--scheme <scheme>' (or --config FILE)") }
        guard let lr else { throw GameFlowError.invalidInput("Missing expected argument '--lr <lr>' (or --config FILE)") }
        guard let steps else { throw GameFlowError.invalidInput("Missing expected argument '--steps <steps>' (or --config FILE)") }
        let (gh, dh) = try hiddenWidths()
        let name = try SchemeName.parse(scheme)
        let optimizerConfiguration = try optimizerOptions.configuration()
        let stepScale = try field.stepScale()
        if stepScale != nil && knobs.solvesInMetric(name) {
            throw GameFlowError.invalidInput("--step-scale with --implicit-metric optimizer is not supported (use --implicit-metric identity)")
        }
        if let e = every, e < 1 { throw GameFlowError.invalidInput("--every must be at least 1 (got \(e))") }
        guard checkpointSeconds.isFinite, checkpointSeconds > 0 else {
            throw GameFlowError.invalidInput("--checkpoint-seconds must be a finite number > 0 (got \(checkpointSeconds))")
        }
        var c = GANTrainingConfiguration(
            data: data,
            networks: .init(latent: latent, generatorHidden: gh, discriminatorHidden: dh,
                            generatorActivation: generatorActivation ?? activation, discriminatorActivation: discriminatorActivation ?? activation),
            utility: utility, layout: layout, batch: batch, seed: seed, penalties: .init(r1: r1, r2: r2, gp: gp),
            nkPenalty: field.nkPenalty, stepScale: stepScale?.factors,
            scheme: try knobs.configuration(name, metric: optimizerConfiguration.preconditioner, discriminator: layout == .generatorFirst ? 1 : 0),
            optimizer: optimizerConfiguration, lr: lr, steps: steps, initialState: initState, metricsEvery: every,
            checkpointSeconds: checkpointSeconds, eigenvalues: !noEigenvalues)
        c.metricsClassifier = metricsClassifier
        c.fidSamples = fidSamples
        c.spectrumEvery = spectrumEvery
        c.spectrumTop = top
        c.lookahead = try optimizerOptions.lookaheadConfiguration()
        c.average = try optimizerOptions.averagingConfiguration()
        c.threads = threads == 1 ? nil : threads
        c.precision = precision == .float64 ? nil : precision
        if architecture != "mlp" {
            c.architecture = try Architecture.builtIn[architecture] ?? {
                guard FileManager.default.fileExists(atPath: architecture) else {
                    throw GameFlowError.invalidInput("unknown architecture '\(architecture)': not mlp, \(Architecture.builtIn.keys.sorted().joined(separator: ", ")) nor an existing file")
                }
                return try Architecture.load(architecture)
            }()
            c.architectureName = architecture
        }
        try Self.check(c)
        return c
    }

    /// The checks of a configuration that the library's constructors do not make: sizes,
    /// memory, the step size, the schedule. Errors name the setting.
    static func check(_ c: GANTrainingConfiguration) throws {
        guard (1...100_000).contains(c.batch) else { throw GameFlowError.invalidInput("--batch must be between 1 and 100000 (got \(c.batch))") }
        let threads = c.threads ?? 1
        guard threads >= 1, threads <= min(c.batch, 64) else {
            throw GameFlowError.invalidInput("--threads must be between 1 and \(min(c.batch, 64)) (at most the batch; got \(threads))")
        }
        // With threads the minibatch's parts have workspaces of their own: twice the memory.
        let copies = threads > 1 ? 2.0 : 1.0
        if let a = c.architecture {
            let source = try dataSource(c.data)
            let (g, d) = try a.networks(sampleShape: source.sampleShape)
            // Four workspaces (G, D on real, D on fakes, D for penalties), four buffers per layer boundary.
            func activations(_ n: Network) -> Double { Double(n.inputCount + n.layers.reduce(0) { $0 + $1.outputCount }) }
            let workspaceGB = copies * 4 * 4 * Double(c.batch) * (activations(g) + 3 * activations(d)) * 8 / 1e9
            let parameters = Double(g.parameterCount + d.parameterCount)
            guard workspaceGB + 16 * parameters * 8 / 1e9 <= 4 else {
                throw GameFlowError.invalidInput(String(format: "--batch and the architecture need about %.1f GB (limit 4 GB)", workspaceGB + 16 * parameters * 8 / 1e9))
            }
            return try checkSchedule(c)
        }
        let n = c.networks
        guard (1...4096).contains(n.latent), (1...64).contains(n.generatorHidden.count), (1...64).contains(n.discriminatorHidden.count),
              (n.generatorHidden + n.discriminatorHidden).allSatisfy({ (1...4096).contains($0) }) else {
            throw GameFlowError.invalidInput("--hidden, --depth and --latent must be positive (and at most 4096, 64, 4096)")
        }
        let source = try dataSource(c.data)
        let d = source.dimension
        // Workspaces: 6 buffers of batch × (sum of widths) per network, three networks' worth.
        let widthSum = Double(n.latent + n.generatorHidden.reduce(0, +) + n.discriminatorHidden.reduce(0, +) + d + d + 1)
        let workspaceGB = copies * 3 * 6 * Double(c.batch) * widthSum * 8 / 1e9
        guard workspaceGB <= 4 else {
            throw GameFlowError.invalidInput(String(format: "--batch/--hidden/--depth need about %.1f GB of workspace (limit 4 GB)", workspaceGB))
        }
        // Parameters of both networks; a run keeps some sixteen vectors of that length (state,
        // field, scheme and optimizer buffers, network gradients), checked before anything is made.
        func count(_ widths: [Int]) -> Double { zip(widths, widths.dropFirst()).reduce(0) { $0 + Double($1.0 * $1.1 + $1.1) } }
        let parameters = count([n.latent] + n.generatorHidden + [d]) + count([d] + n.discriminatorHidden + [1])
        guard 16 * parameters * 8 <= 4e9 else {
            throw GameFlowError.invalidInput(String(format: "the networks' widths give %.3g parameters, which need about %.1f GB (limit 4 GB)",
                                                    parameters, 16 * parameters * 8 / 1e9))
        }
        try checkSchedule(c)
    }

    /// The step size, steps, metrics and checkpoint schedule and the batch's parts.
    static func checkSchedule(_ c: GANTrainingConfiguration) throws {
        if c.spectrumTop != nil && c.spectrumEvery == nil { throw GameFlowError.invalidInput("--top goes with --spectrum-every") }
        if let e = c.spectrumEvery, e < 1 { throw GameFlowError.invalidInput("--spectrum-every must be at least 1 (got \(e))") }
        if let k = c.spectrumTop, k < 1 { throw GameFlowError.invalidInput("--top must be at least 1 (got \(k))") }
        if let n = c.fidSamples {
            guard c.metricsClassifier != nil else { throw GameFlowError.invalidInput("--fid-samples goes with --metrics-classifier") }
            guard (2...100_000).contains(n) else { throw GameFlowError.invalidInput("--fid-samples must be between 2 and 100000 (got \(n))") }
        }
        if let dir = c.metricsClassifier {
            let classifier = try DataFiles.classifier(dir)
            let source = try dataSource(c.data)
            guard classifier.network.inputCount == source.dimension else {
                throw GameFlowError.invalidInput("--metrics-classifier reads \(classifier.network.inputShape.map(String.init).joined(separator: "×")) samples, the data's are \(source.sampleShape.map(String.init).joined(separator: "×"))")
            }
        }
        if let e = c.metricsEvery, e < 1 { throw GameFlowError.invalidInput("--every must be at least 1 (got \(e))") }
        guard c.checkpointSeconds.isFinite, c.checkpointSeconds > 0 else {
            throw GameFlowError.invalidInput("--checkpoint-seconds must be a finite number > 0 (got \(c.checkpointSeconds))")
        }
        try SolveOptions(stepSize: c.lr, maxSteps: c.steps, stepSizeControl: c.scheme.stepSizeControl).validate()
        _ = try c.batchParts()
    }

    /// The shapes a state of `game` belongs to (state.json's "networks"): the two networks'
    /// widths and their order in x.
    static func networksJSON(_ game: any GANGame) -> JSON { game.networksJSON }

    /// The configuration's GAN on its data (as `execute`, `spectrum --run` and sweep cells make it).
    static func makeGame(_ c: GANTrainingConfiguration) throws -> any GANGame { try c.makeGAN(source: try dataSource(c.data)) }

    /// The built-in mixture or image set `data` names, or the points or images of the file it names.
    static func dataSource(_ data: String) throws -> any SampleSource {
        if let m = try? GaussianMixture.named(data) { return m }
        if data == "fashion-mnist" { return try DataFiles.images(data) { try ImageDataset.fashionMNIST() } }
        guard FileManager.default.fileExists(atPath: data) else {
            throw GameFlowError.invalidInput("data file '\(data)' does not exist (and it is no built-in: ring8, grid25, grid16, fashion-mnist)")
        }
        let lower = data.lowercased()
        if lower.hasSuffix(".npy") || lower.hasSuffix(".gz") || lower.contains("idx") {
            return try DataFiles.images(data) { try ImageDataset.load(path: data) }
        }
        return try DataFiles.load(data)
    }

    /// Each network's hidden widths: --generator-hidden / --discriminator-hidden, else --depth × --hidden.
    func hiddenWidths() throws -> ([Int], [Int]) {
        func parse(_ text: String?, _ flag: String) throws -> [Int] {
            guard let t = text else { return [Int](repeating: hidden, count: depth) }
            let w = t.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !w.isEmpty, w.count <= 64, w.allSatisfy({ $0 != nil && (1...4096).contains($0!) }) else {
                throw GameFlowError.invalidInput("\(flag) must be 1 to 64 comma-separated widths in 1…4096 (got '\(t)')")
            }
            return w.map { $0! }
        }
        return (try parse(generatorHidden, "--generator-hidden"), try parse(discriminatorHidden, "--discriminator-hidden"))
    }

    /// Trains from the initial state, or continues the run saved in `resuming` (into `output`).
    /// `sweepCell`: run as a cell of `gameflow sweep` — no printing, no signal handling (the
    /// sweep's cells are atomic files instead); returns the summary.
    @discardableResult
    func execute(resuming: TrainingCheckpoint?, sweepCell: Bool = false, configuration given: GANTrainingConfiguration? = nil) throws -> JSON {
        // Everything below comes from the configuration (the flags', --config's or a checkpoint's).
        let c = try given ?? configuration()
        if given != nil { try Self.check(c) }
        let source = try Self.dataSource(c.data)
        let name = c.scheme.name
        let preconditioner = c.optimizer.preconditioner
        let stack = try c.fieldStack()
        let metricsEvery = c.metricsEvery ?? max(1, c.steps / 100)
        let options = SolveOptions(stepSize: c.lr, maxSteps: c.steps, stepSizeControl: c.scheme.stepSizeControl)
        try options.validate()
        if let dir = output, resuming == nil {
            try validateCommandOutput(dir, command: "train")
            if FileManager.default.fileExists(atPath: joinPath(dir, TrainingCheckpoint.fileName)) {
                throw GameFlowError.invalidInput("'\(dir)' holds a train run already (\(TrainingCheckpoint.fileName)): continue it with gameflow resume \(dir), or give another --output")
            }
        }

        let game = try c.makeGAN(source: source)
        // In the optimizer's metric the implicit scheme carries the optimizer itself. Time
        // scales multiply the optimizer's update; without an optimizer they scale the field.
        let chosen = try c.makeScheme(discriminator: game.discriminatorPlayer ?? 0)
        if case let .implicit(_, solver) = c.scheme, !quiet {
            let method = solver.solver.resolved(dimension: game.dimension, exactDerivatives: true)
            if method == .hybridsj || method == .hybrids {
                // Measured at the paper's size (n = 2003): one Jacobian evaluation, mostly GSL's
                // Householder QR, took 26 s; a ReLU step stalled after 6 evaluations (170 s).
                let note = "gameflow: note: --root-solver \(method.rawValue) on an MLP GAN forms the dense n×n Jacobian (n JVPs) and GSL factorises it "
                    + "(O(n³)) at every Jacobian evaluation: expect tens of seconds per evaluation at n ≈ 2000 (newton-krylov is matrix-free)"
                writeStandardError((note + "\n"))
            }
        }
        // A resumed run starts from its checkpoint: the --init file is not read again (it may
        // have moved since).
        let x0 = try resuming.map { $0.checkpoint.state }
            ?? c.initialState.map { try readStateFile($0, dimension: game.dimension, networks: Self.networksJSON(game)) }
            ?? game.initialState(seed: c.seed)
        if let s = try c.stepScaleValue() { _ = try s.perCoordinate(game.players) }
        if let e = c.nkPenalty { _ = try game.nkPenalized(e) }
        #if DEBUG
        // Measured (gameflow-bench gan-step --schemes simga, taskset -c 0): 12.7 ms a step in a
        // debug build against 0.44 ms in release on the paper's GAN.
        if !quiet { writeStandardError("gameflow: note: this is a debug build, about 30× slower at training: use swift build -c release (.build/release/gameflow)\n") }
        #endif
        // What the summary and checkpoint keep of the command line: a resume keeps the run's own.
        let arguments = resuming?.arguments ?? settingsArguments
        var runner = TrainingRun(game: game, stack: stack, scheme: chosen, x0: x0, options: options, metricsEvery: metricsEvery,
                                 output: output, quiet: quiet, arguments: arguments, configuration: c, resuming: resuming)
        runner.checkpointInterval = c.checkpointSeconds
        runner.handleSignals = !sweepCell
        let result = try runner.run()

        let n = c.networks
        let uniform = n.generatorHidden == n.discriminatorHidden && Set(n.generatorHidden).count == 1
        let gamma: Double? = { if case let .consensus(g, _, _) = c.scheme { return g }; return nil }()
        var obj: [(String, JSON)] = [
            ("data", .string(source.name)), ("data_dimension", .int(source.dimension)),
            ("architecture", .string(c.architectureName ?? "mlp")), ("sample_shape", .array(source.sampleShape.map { .int($0) })),
            ("multiply_adds_per_field", game.fieldMultiplyAdds.map { .int($0) } ?? .null), ("scheme", .string(name.rawValue)), ("optimizer", .string(c.optimizer.name)),
            ("momentum", { if case let .momentum(_, w) = c.optimizer { return .number(w) }; return .null }()),
            ("momentum_form", { if case let .momentum(f, _) = c.optimizer { return .string(f.rawValue) }; return .null }()),
            ("gamma", .optional(gamma)), ("lr", .number(c.lr)), ("seed", .int(Int(c.seed))),
            ("batch", .int(c.batch)), ("batch_parts", stack.parts.map { .int($0) } ?? .null), ("parameters", .int(game.dimension)),
            ("step_scale", c.stepScale.map { .numbers($0) } ?? .null), ("nk_penalty", .optional(c.nkPenalty)),
            ("hidden", uniform ? .int(n.generatorHidden[0]) : .null), ("depth", uniform ? .int(n.generatorHidden.count) : .null), ("latent", .int(n.latent)),
            ("generator_hidden", .array(n.generatorHidden.map { .int($0) })), ("discriminator_hidden", .array(n.discriminatorHidden.map { .int($0) })),
            ("activation", n.generatorActivation == n.discriminatorActivation ? .string(n.generatorActivation.rawValue) : .null),
            ("generator_activation", .string(n.generatorActivation.rawValue)),
            ("discriminator_activation", .string(n.discriminatorActivation.rawValue)), ("init_state", c.initialState.map { .string($0) } ?? .null),
            ("r1", .number(c.penalties.r1)), ("r2", .number(c.penalties.r2)), ("gp", .number(c.penalties.gp)),
            ("utility", .string(c.utility.rawValue)), ("layout", .string(c.layout.rawValue)),
            ("optimizer_constants", optimizerConstants(preconditioner)),
        ]
        obj += c.scheme.summaryFields.filter { $0.0 != "gamma" }
        obj.append(("configuration", c.json))
        obj += reproduction(arguments: ["train"] + arguments)
        obj += result.summaryFields
        let summary = JSON.object(obj)
        if let dir = output {
            try writeAtomically(summary.serialized(indent: 2) + "\n", to: joinPath(dir, "summary.json"))
            if c.eigenvalues && !result.interrupted {
                if game.dimension <= Self.arpackEigenvalueLimit {
                    if !sweepCell { Interrupt.installForFigures() }
                    defer { if !sweepCell { Interrupt.uninstall() } }
                    try writeEigenvalueFigure(game, stack: stack, at: result.finalState, gamma: gamma ?? 10, dir: dir)
                } else if !quiet {
                    writeStandardError("gameflow: note: eigenvalues.svg skipped above \(Self.arpackEigenvalueLimit) parameters (thousands of products at \(game.dimension)): gameflow spectrum --run \(dir) --top K computes them\n")
                }
            }
        }
        if sweepCell { return summary }
        if json {
            print(summary.serialized())
        } else {
            print("\(source.name), \(chosen.name), lr \(c.lr), seed \(c.seed): \(result.statusDescription) after \(result.steps) steps "
                  + String(format: "(%.2f s, %.3f ms/step)", result.seconds, result.msPerStep))
            var line = ""
            if let m = result.metrics, let mixture = source as? GaussianMixture {
                line = "modes captured \(m.modesCaptured)/\(mixture.means.count), high-quality \(String(format: "%.3f", m.highQualityFraction)), "
                    + "KL \(String(format: "%.4f", m.klModes)), "
            }
            print(line + "energy distance \(String(format: "%.4g", result.energyDistance)), ‖v‖ \(String(format: "%.4g", result.vectorFieldNorm))")
            if let dir = output { print("wrote \(dir)/") }
        }
        if result.interrupted {
            writeStandardError("gameflow: interrupted (\(Interrupt.signalName)) after step \(result.steps)"
                + (output.map { "; continue with: gameflow resume \($0)" } ?? "") + "\n")
            throw ExitCode(130)
        }
        return summary
    }

    /// Above this many parameters the end-of-run eigenvalues are ARPACK's extremes instead of
    /// the dense decomposition's (three dense n × n matrices and two O(n³) decompositions took 80 %
    /// of a 3,000-step ring8 run, n = 2,003).
    static let denseEigenvalueLimit = 500

    /// Above this many parameters the end-of-run figure is skipped (`spectrum --run --top K`
    /// computes chosen eigenvalues on demand).
    static let arpackEigenvalueLimit = 20_000

    /// The eigenvalues ARPACK finds at each end above `denseEigenvalueLimit`: largest magnitude,
    /// rightmost and largest |imaginary part|.
    static let arpackTargets: [(EigenvalueTarget, Int)] = [(.largestMagnitude, 20), (.rightmost, 10), (.largestImaginary, 10)]

    /// ARPACK's relative accuracy for the figure: the rightmost eigenvalues of a trained GAN
    /// cluster near the imaginary axis, and at machine precision they took 2,909 products (2.2 s)
    /// against 796 at 1e-8 (ring8, n = 2,003, 2026-12-06), with residuals ≤ 4e-10.
    static let arpackTolerance = 1e-8

    /// Figure 3: eigenvalues of v′ and of v′ − γv′ᵀv′ at the final state of the trained field
    /// (`stack`) at the evaluation batch, drawn in eigenvalues.svg and written to eigenvalues.json
    /// (what `spectrum --run` computes too): all of them by a dense decomposition up to
    /// `denseEigenvalueLimit` parameters, above it the extremes (`arpackTargets`) by ARPACK with
    /// their residuals.
    private func writeEigenvalueFigure(_ game: any GANGame, stack: TrainingFieldStack, at x: [Double], gamma: Double, dir: String) throws {
        let n = game.dimension
        let field = try stack.apply(to: game, fixedAt: NetworkGAN.evaluationStep)
        let plain: [Complex<Double>], consensus: [Complex<Double>]
        var residuals: (plain: [Double], consensus: [Double])?
        var lemma9Bound: Double?
        let method: String
        if n <= Self.denseEigenvalueLimit {
            if !quiet { writeStandardError("eigenvalues of the \(n)×\(n) Jacobian…\n") }
            let j = field.jacobianMatrix(at: x)
            plain = try eigenvalues(of: j)
            consensus = try eigenvalues(of: consensusJacobian(j, gamma: gamma))
            method = "dense"
            if let l = try? Lemma9(A: j, gamma: gamma), l.rho > 0 { lemma9Bound = l.bound }
        } else {
            if !quiet { writeStandardError("extreme eigenvalues of the \(n)×\(n) Jacobian (ARPACK)…\n") }
            func extremes(_ g: Double?) throws -> ([Complex<Double>], [Double]) {
                var values: [Complex<Double>] = [], res: [Double] = []
                for (target, k) in Self.arpackTargets {
                    let r = try ArnoldiSpectrum.jacobian(field, at: x, step: 0, count: min(k, n - 2), target: target, consensusGamma: g,
                                                         tolerance: Self.arpackTolerance)
                    for (l, e) in zip(r.eigenvalues, r.residuals) where !values.contains(where: { ($0 - l).length <= 1e-9 * max(1, l.length) }) {
                        values.append(l); res.append(e)
                    }
                }
                return (values, res)
            }
            let (p, pr) = try extremes(nil), (c, cr) = try extremes(gamma)
            (plain, consensus, residuals, method) = (p, c, (pr, cr), "arpack")
        }
        func pairs(_ ls: [Complex<Double>]) -> JSON { .array(ls.map { .array([.number($0.real), .number($0.imaginary)]) }) }
        var fields: [(String, JSON)] = [
            ("dimension", .int(n)), ("batch", .string("evaluation")), ("state", .string("final")), ("method", .string(method)),
            ("nk_penalty", .optional(stack.nkPenalty)), ("field_step_scale", stack.fieldScale.map { .numbers($0.factors) } ?? .null),
            ("batch_parts", stack.parts.map { .int($0) } ?? .null),
            ("eigenvalues", pairs(plain)), ("consensus_gamma", .number(gamma)), ("consensus_eigenvalues", pairs(consensus)),
        ]
        if let r = residuals {
            fields += [("residuals", .numbers(r.plain)), ("consensus_residuals", .numbers(r.consensus)),
                       ("arpack_targets", .object(Self.arpackTargets.map { ($0.0.rawValue, .int($0.1)) }))]
        }
        try writeAtomically(JSON.object(fields).serialized(indent: 2) + "\n", to: joinPath(dir, "eigenvalues.json"))
        let which = method == "dense" ? "all eigenvalues" : "ARPACK's extremes: " + Self.arpackTargets.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        try writeAtomically(Figures.eigenvaluePanels(plain, consensus, gamma: gamma, lemma9Bound: lemma9Bound,
                                                     title: "Eigenvalues at the end of training", note: "\(n) parameters, evaluation batch, \(which)"),
                            to: joinPath(dir, "eigenvalues.svg"))
    }
}

/// The training loop with periodic metrics, streamed to disk as they are computed.
struct TrainingRun {
    /// The GAN on one part's batch (on the whole batch without debiasing parts).
    let game: any GANGame
    /// The modifiers of the trained field (the library's one composition).
    let stack: TrainingFieldStack
    let scheme: any Scheme
    let x0: [Double]
    let options: SolveOptions
    let metricsEvery: Int
    /// Seconds of wall time between checkpoints at most.
    var checkpointInterval: Double = 10
    /// Stop cleanly (checkpoint, status interrupted) on SIGINT/SIGTERM/SIGHUP.
    var handleSignals = true
    let output: String?
    let quiet: Bool
    let arguments: [String]
    /// The run's configuration, stored in every checkpoint (what `gameflow resume` runs).
    let configuration: GANTrainingConfiguration
    let resuming: TrainingCheckpoint?

    struct Result {
        var status: Status
        var steps: Int
        var finalState: [Double]
        /// The metrics at the end (`GANMetricsRecorder`).
        var final: GANMetrics
        var metrics: ModeCoverage? { final.coverage }
        var energyDistance: Double { final.energyDistance }
        var vectorFieldNorm: Double { final.vectorFieldNorm }
        var losses: (discriminator: Double, generator: Double) { final.utilities }
        var stats: Stats
        var seconds: Double
        /// Stopped by SIGINT (after writing a checkpoint when there is an output directory).
        var interrupted = false
        /// The metrics at the averaged iterate (`--average`).
        var average: GANMetrics?
        var msPerStep: Double { steps > 0 ? 1000 * seconds / Double(steps) : 0 }
        /// The status as reported: the integrator's, or "interrupted" after SIGINT.
        var statusName: String { interrupted ? "interrupted" : status.name }
        var reason: String? { interrupted ? "\(Interrupt.signalName) after step \(steps)" : status.reason }
        var statusDescription: String { interrupted ? "interrupted (\(Interrupt.signalName))" : "\(status)" }

        var summaryFields: [(String, JSON)] { mainFields + averageFields }

        /// The metrics at the averaged iterate, as summary.json's "average" (none without `--average`).
        var averageFields: [(String, JSON)] {
            guard let a = average else { return [] }
            let modes: [(String, JSON)] = a.coverage.map { [("modes_captured", .int($0.modesCaptured)), ("high_quality_fraction", .number($0.highQualityFraction)),
                                                            ("kl_modes", .number($0.klModes))] } ?? []
            return [("average", .object(modes + [("energy_distance", .number(a.energyDistance)), ("vector_field_norm", .number(a.vectorFieldNorm))]))]
        }

        private var mainFields: [(String, JSON)] {
            [("modes_captured", metrics.map { .int($0.modesCaptured) } ?? .null),
             ("high_quality_fraction", metrics.map { .number($0.highQualityFraction) } ?? .null),
             ("kl_modes", metrics.map { .number($0.klModes) } ?? .null), ("energy_distance", .number(energyDistance)),
             ("vector_field_norm", .number(vectorFieldNorm)),
             ("discriminator_loss", .number(-losses.discriminator)), ("generator_loss", .number(-losses.generator)),
             ("steps", .int(steps)), ("status", .string(statusName)), ("reason", reason.map { .string($0) } ?? .null),
             ("reason_code", interrupted ? .string(ReasonCode.interrupted.rawValue) : status.reasonCode.map { .string($0.rawValue) } ?? .null),
             ("stats", stats.json), ("seconds", .number(seconds)), ("ms_per_step", .number(msPerStep)),
             // Which kernel build ran: avx512 and avx2-fma give the same bits, baseline differs.
             ("kernels", .string(DenseKernels.name))]
        }
    }

    func run() throws -> Result {
        try runOpened(scheme, field: try stack.apply(to: game))
    }

    /// FID, KID and classifier score against the data's test images (Fashion-MNIST's 10,000) or,
    /// for other image files, up to 10,000 of the data's own images, in the classifier's features.
    func imageQuality() throws -> ImageQuality? {
        guard let dir = configuration.metricsClassifier else { return nil }
        let classifier = try DataFiles.classifier(dir)
        let reference: [Double]
        if configuration.data == "fashion-mnist" {
            let test = try ImageDataset.fashionMNIST(test: true)
            reference = test.images(test.count)
        } else if let images = game.source as? ImageDataset {
            let take = min(images.count, 10_000), d = images.dimension
            var out = [Double](repeating: 0, count: take * d)
            out.withUnsafeMutableBufferPointer { o in for k in 0..<take { images.image(k * images.count / take, into: o.baseAddress! + k * d) } }
            reference = out
        } else {
            throw GameFlowError.invalidInput("--metrics-classifier needs image data")
        }
        let q = try ImageQuality(classifier: classifier, reference: reference, samples: configuration.fidSamples ?? 1000)
        if !quiet { writeStandardError(String(format: "image metrics in %@'s features; floor (test half against half): FID %.4g, KID %.3g\n", dir, q.floor.fid, q.floor.kid)) }
        return q
    }

    /// ‖v‖ at the evaluation batch: the whole batch (all its parts, when sub-batched).
    func evaluationFieldNorm(_ x: [Double]) -> Double {
        if let p = stack.parts, let g = try? game.subBatched(parts: p) { return norm2(g.vectorField(at: x, step: NetworkGAN.evaluationStep)) }
        return norm2(game.vectorField(at: x, step: NetworkGAN.evaluationStep))
    }

    /// The loop, on `field` (the game or its time-scaled version); metrics, samples and losses
    /// always come from `game`.
    private func runOpened<S: Scheme, F: Game>(_ scheme: S, field: F) throws -> Result {
        var integrator: Integrator<F, S>
        if let r = resuming {
            integrator = try Integrator(game: field, scheme: scheme, resumingFrom: r.checkpoint, options: options)
        } else {
            integrator = try Integrator(game: field, scheme: scheme, initialState: x0, options: options)
        }
        let startStep = integrator.stepsCompleted
        let snapshots = Set([0, options.maxSteps / 4, options.maxSteps / 2, options.maxSteps])
        if let dir = output {
            try createOutputDirectory(dir)
            try OutputMarker.claim(dir, command: "train")
            if resuming == nil { try game.writeEvaluationBatch(to: dir) }
        }
        var progress = ProgressLine(total: options.maxSteps, startStep: startStep, enabled: !quiet)

        // The loop is the library's (TrainingLoop); the command configures three library observers, in
        // this order: metrics and snapshots on their schedule (and at the end: a run that ends
        // early still gets its final snapshot), a checkpoint every --checkpoint-seconds of wall
        // time whatever the metrics schedule (and at the start, the end and on a signal, after
        // that step's metrics row), and the progress line. A resumed run writes the checkpoint
        // step's row only where the original run would have (a run extended past its old end
        // keeps that end's row as history), so its metrics.csv is the uninterrupted run's.
        let metrics = try GANMetricsRecorder(game: game, every: metricsEvery, snapshots: snapshots, totalSteps: options.maxSteps, output: output,
                                             resumedAt: resuming.map { r in (startStep, r.finishedSteps == startStep) },
                                             fieldNorm: evaluationFieldNorm, quality: try imageQuality())
        let arguments = self.arguments
        let configuration = self.configuration.json
        let checkpoints = output.map { dir in
            CheckpointWriter(path: joinPath(dir, TrainingCheckpoint.fileName), every: checkpointInterval, atStart: resuming == nil) { e in
                TrainingCheckpoint.fields(arguments: arguments, configuration: configuration, trainingSeconds: e.trainingSeconds)
            }
        }
        let progressObserver = EveryNSteps(1) { e, _ in progress.update(step: e.step) }
        let spectra = try self.configuration.spectrumEvery.map { every in
            try SpectrumRecorder(field: try stack.apply(to: game, fixedAt: NetworkGAN.evaluationStep), every: every, count: self.configuration.spectrumTop ?? 10,
                                 path: output.map { joinPath($0, "spectrum.csv") }, resumedAt: resuming.map { _ in startStep })
        }
        var loop = TrainingLoop(integrator, trainingSeconds: resuming?.trainingSeconds ?? 0)
        if handleSignals { Interrupt.install() }
        let interrupted = try loop.run(observers: [metrics] + (spectra.map { [$0] } ?? []) + (checkpoints.map { [$0] } ?? []) + [progressObserver],
                                       shouldStop: { _ in handleSignals && Interrupt.requested })
        if handleSignals { Interrupt.uninstall() }
        progress.finish()
        integrator = loop.integrator
        let averaged = integrator.averagedState
        let average = try averaged.map { try metrics.measure($0, step: integrator.stepsCompleted, seconds: 0, snapshot: false, row: false) }
        if let dir = output {
            try writeAtomically(stateFileJSON(integrator.state, networks: Train.networksJSON(game)).serialized() + "\n",
                                to: joinPath(dir, "state.json"))
            if let a = averaged {
                try writeAtomically(stateFileJSON(a, networks: Train.networksJSON(game)).serialized() + "\n", to: joinPath(dir, "state-average.json"))
            }
            try writeAtomically(Figures.runMetrics(try MetricsTable.load(run: dir), title: "\(self.configuration.scheme.name.rawValue) on \(game.source.name)"),
                                to: joinPath(dir, "metrics.svg"))
            if let s = spectra {
                try writeAtomically(s.figure(title: "\(self.configuration.scheme.name.rawValue) on \(game.source.name)"), to: joinPath(dir, "spectrum.svg"))
            }
        }
        return Result(status: integrator.status ?? .completed, steps: integrator.stepsCompleted, finalState: integrator.state,
                      final: metrics.last!, stats: integrator.stats, seconds: loop.trainingSeconds, interrupted: interrupted, average: average)
    }
}

/// A state file: `{"networks": {…}, "state": [numbers]}` as `train` writes it (the shapes the
/// parameters belong to, checked against `networks` when given), or a bare JSON array of finite
/// numbers (checked by its length only). Every problem names the file.
func readStateFile(_ path: String, dimension: Int, networks: JSON? = nil) throws -> [Double] {
    let data = try readInput(path, what: "state file", limit: 1 << 30)
    let parsed: JSON
    do { parsed = try JSON.parse(data) } catch {
        throw GameFlowError.invalidInput("state file '\(path)' is not valid JSON (truncated or damaged?)")
    }
    let values: [JSON]
    switch parsed {
    case .array(let v): values = v
    case .object:
        guard case .array(let v)? = parsed["state"] else {
            throw GameFlowError.invalidInput("state file '\(path)' has no \"state\" array")
        }
        values = v
        if let expected = networks {
            guard let stored = parsed["networks"] else {
                throw GameFlowError.invalidInput("state file '\(path)' does not say which networks it belongs to (no \"networks\")")
            }
            // Compared field by field (a parsed object need not keep the writer's key order).
            guard describeNetworks(stored) == describeNetworks(expected) else {
                throw GameFlowError.invalidInput("state file '\(path)' holds the parameters of other networks (\(describeNetworks(stored))), not of these (\(describeNetworks(expected)))")
            }
        }
    default:
        throw GameFlowError.invalidInput("state file '\(path)' is not a JSON array of numbers nor a train state")
    }
    let x = try values.map { v -> Double in
        switch v {
        case .int(let i): return Double(i)
        case .number(let d) where d.isFinite: return d
        default: throw GameFlowError.invalidInput("state file '\(path)' is not an array of finite numbers")
        }
    }
    guard x.count == dimension else {
        throw GameFlowError.invalidInput("state file '\(path)' has \(x.count) numbers, " + (networks == nil ? "the game has dimension \(dimension)" : "these networks have \(dimension) parameters"))
    }
    return x
}

/// state.json as `train` writes it: the shapes, then the parameters.
func stateFileJSON(_ x: [Double], networks: JSON) -> JSON {
    .object([("networks", networks), ("parameters", .int(x.count)), ("state", .numbers(x))])
}

/// "generator 4-8-2, discriminator 2-8-1, discriminator-first".
func describeNetworks(_ j: JSON) -> String {
    func widths(_ k: String) -> String {
        guard case .array(let a)? = j[k] else { return "?" }
        return a.map { v -> String in if case .int(let i) = v { return "\(i)" }; return "?" }.joined(separator: "-")
    }
    let layout: String
    if case .string(let l)? = j["layout"] { layout = l } else { layout = "?" }
    return "generator \(widths("generator")), discriminator \(widths("discriminator")), \(layout)"
}

/// Data files read once per process: a command asks for its data more than once (settings,
/// the game, the summary), and a pipe or FIFO (`--data <(cat pts.csv)`) can be read only once.
enum DataFiles {
    nonisolated(unsafe) private static var loaded: [String: Dataset] = [:]
    nonisolated(unsafe) private static var images: [String: ImageDataset] = [:]
    private static let lock = NSLock()

    nonisolated(unsafe) private static var classifiers: [String: FeatureClassifier] = [:]

    /// A classifier folder's classifier.json, read once (checking a run and measuring it both need it).
    static func classifier(_ dir: String) throws -> FeatureClassifier {
        lock.lock()
        defer { lock.unlock() }
        if let c = classifiers[dir] { return c }
        let c = try FeatureClassifier.load(directory: dir).classifier
        classifiers[dir] = c
        return c
    }

    static func images(_ key: String, _ read: () throws -> ImageDataset) throws -> ImageDataset {
        lock.lock()
        defer { lock.unlock() }
        if let d = images[key] { return d }
        let d = try read()
        images[key] = d
        return d
    }

    static func load(_ path: String) throws -> Dataset {
        lock.lock()
        defer { lock.unlock() }
        if let d = loaded[path] { return d }
        let d = try Dataset.load(path: path)
        loaded[path] = d
        return d
    }
}

// Enumerated options: ArgumentParser lists their values in --help and, for a misspelt one, in
// its one-line error ("Please provide one of …").
extension NetworkGAN.Utility: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}
extension NetworkGAN.Layout: ExpressibleByArgument, CaseIterable {
    public static var allCases: [NetworkGAN.Layout] { [.generatorFirst, .discriminatorFirst] }
}
