import ArgumentParser
import CKernels
import Foundation
import GameFlow
import GameFlowBenchKit

/// gameflow-bench: speed and (later) integrator comparisons. Release builds only.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gameflow-bench",
        abstract: "Benchmarks for GameFlow (release builds only).",
        subcommands: [SuiteCommand.self, SuiteScaling.self, GANStep.self, KernelsCommand.self, ImplicitStudy.self, OrderCommand.self, ExistentialCost.self, AllocationsCommand.self],
        defaultSubcommand: SuiteCommand.self)

    static func requireRelease(allowDebug: Bool) throws {
        #if DEBUG
        if !allowDebug {
            throw ValidationError("this is a debug build: timings would mislead. Build with -c release, or pass --allow-debug")
        }
        #endif
    }

    /// Seconds per call of `body`, one value per repeat of `calls` calls.
    static func secondsPerCall(repeats: Int, calls: Int, _ body: () -> Void) -> [Double] {
        let clock = ContinuousClock()
        return (0..<repeats).map { _ in
            let begin = clock.now
            for _ in 0..<calls { body() }
            return seconds(clock.now - begin) / Double(calls)
        }
    }

    /// Runs the kernels of the given vector width on this thread (nil: the CPU's best build).
    static func useKernelWidth(_ width: Int?) throws {
        guard let width else { return }
        guard [4, 8].contains(width), gf_kernels_set_width(Int32(width)) == 1 else {
            throw ValidationError("--kernel-width must be 4, or 8 on a CPU with AVX-512 (got \(width)"
                                  + (gf_kernels_width_available(8) == 1 ? ")" : "; this CPU has no AVX-512)"))
        }
    }

    /// The FMA throughput of this build's kernel width, double multiply-adds per ns (the fastest
    /// of `repeats` runs of 12 independent chains of vector FMAs).
    /// Multiply-adds per ns of one core at `precision` (12 independent FMA chains of the running
    /// kernel build's vectors: 8 or 4 doubles, 16 or 8 floats), the best of `repeats`.
    static func fmaPeak(repeats: Int = 15, precision: Precision = .float64) -> Double {
        let iterations = 200_000
        var sink = 0.0
        let float = precision == .float32
        let micro = secondsPerCall(repeats: repeats, calls: 20) { sink += float ? gf_fma_probe_f(iterations) : gf_fma_probe(iterations) }.min()! * 1e6
        if sink.isNaN { print("") }   // keeps the probe alive
        return Double(12 * Int(gf_kernels_width()) * (float ? 2 : 1) * iterations) / (micro * 1e3)
    }

    static var buildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }
}

/// Milliseconds per training step of the paper's MoG setup (4×16 ReLU nets, latent 16, batch 512,
/// RMSProp), or of a layer architecture (dcgan28 on Fashion-MNIST), for SimGA and consensus,
/// single BLAS thread unless OPENBLAS_NUM_THREADS is set; multiply-adds counted by the kernels and
/// the fraction of the FMA peak they reach.
struct GANStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan-step",
        abstract: "ms per step of SimGA and consensus (or any schemes) on the ring8 MLP GAN at the paper's setup, or on dcgan28 (median of repeats).",
        discussion: """
            Implicit Euler at h = 0.01 against SimGA, no optimizer, with its Newton and Krylov counts:
              gameflow-bench gan-step --schemes simga,implicit-euler --step 0.01 --optimizer none
            The convolutional GAN on Fashion-MNIST, batch 64:
              gameflow-bench gan-step --architecture dcgan28 --batch 64 --steps 10 --repeats 5 --warmup 2
            """)

    @Option(help: "Networks: mlp (the paper's ring8 MLP GAN), dcgan28, or an architecture file.") var architecture = "mlp"
    @Option(help: "Data for an architecture other than mlp: fashion-mnist (default) or an image file (.npy, IDX).") var data = "fashion-mnist"

    @Option(help: "Steps per timed repeat.") var steps = 500
    @Option(help: "Timed repeats (the median is reported).") var repeats = 7
    @Option(help: "Untimed warm-up steps.") var warmup = 200
    @Option(name: [.customLong("schemes"), .customLong("scheme")], help: "Schemes to time.") var schemes = "simga,consensus"
    @Option(help: "Step size h (the paper's learning rate by default).") var step = 1e-4
    @Option(help: "Optimizer around every scheme: rmsprop (the paper's) or none.") var optimizer = "rmsprop"
    @Option(name: .customLong("root-solver"), help: "Implicit schemes: hybridsj, hybrids, newton-krylov or auto.") var rootSolver = "auto"
    @Option(help: "Implicit schemes (Newton–Krylov): forcing term, ew2, ew1 or a constant in (0, 1].") var forcing = "ew2"
    @Option(name: .customLong("newton-iterations"), help: "Inexact implicit schemes: Newton iterations per step (with --krylov-iterations).") var newtonIterations: Int?
    @Option(name: .customLong("krylov-iterations"), help: "Inexact implicit schemes: Krylov iterations per Newton iteration.") var krylovIterations: Int?
    @Option(help: "Consensus γ.") var gamma = 10.0
    @Option(help: "SGA λ (its cost does not depend on it).") var lambda = 10.0
    @Option(help: "LA α (its cost does not depend on it).") var alpha = 10.0
    @Option(name: .customLong("anderson-depth"), help: "GDA-AM's depth m.") var andersonDepth = 10
    @Option(parsing: .unconditional, help: "Wrap every scheme in Polyak momentum with this β (negative: negative momentum).") var momentum: Double?
    @Option(name: .customLong("step-scale"), help: "TTUR: per-player factors (generator, discriminator), multiplying the optimizer's update (or the field without one).")
    var stepScale: String?
    @Option(help: "AltGA: sub-steps per player (generator, discriminator), each on its own minibatch.") var substeps: String?
    @Option(name: .customLong("consensus-on"), help: "Consensus: all or discriminator (the smoothing optimizer).") var consensusOn = "all"
    @Option(help: "Consensus: none, split (two halves of the batch) or variance (one-sample parts).") var debias = "none"
    @Option(name: .customLong("nk-penalty"), help: "Nagarajan–Kolter penalty η on the generator's utility.") var nkPenalty: Double?
    @Option(help: "R1 penalty γ on the discriminator (exact gradient by double backprop).") var r1 = 0.0
    @Option(help: "Threads that share each step (NetworkGAN.withThreads: parts of the minibatch).") var threads = 1
    @Option(help: "Arithmetic inside the networks: float32 or float64 (NetworkGAN.withPrecision).") var precision: Precision = .float64
    @Option(help: "Minibatch size.") var batch = 512
    @Option(name: .customLong("kernel-width"), help: "Kernel build: 4 (AVX2/FMA) or 8 (AVX-512). Default: the CPU's best.")
    var kernelWidth: Int?
    @Flag(name: .customLong("allow-debug")) var allowDebug = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try Bench.requireRelease(allowDebug: allowDebug)
        guard steps >= 1, repeats >= 1, warmup >= 0, batch >= 1 else {
            throw ValidationError("--steps, --repeats and --batch must be ≥ 1 and --warmup ≥ 0")
        }
        try Bench.useKernelWidth(kernelWidth)
        BLAS.useSingleThreadUnlessConfigured()
        guard optimizer == "rmsprop" || optimizer == "none" else { throw ValidationError("--optimizer must be rmsprop or none") }
        var implicit = ImplicitSolverOptions(method: try RootMethod.parse(rootSolver))
        implicit.forcing = try Forcing.parse(forcing)
        if let k = newtonIterations, let m = krylovIterations { implicit.budget = (k, m) }
        else if newtonIterations != nil || krylovIterations != nil { throw ValidationError("--newton-iterations and --krylov-iterations go together") }
        var rows: [(name: String, median: Double, all: [Double], madds: Double)] = []
        var counts: [(String, Stats)] = []
        func factors(_ text: String?, _ flag: String) throws -> [Double]? {
            guard let t = text else { return nil }
            let f = t.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard f.count == 2 else { throw ValidationError("\(flag) takes two numbers: generator, discriminator") }
            return f
        }
        // The paper's GAN (generator first, then the discriminator), with the field modifiers asked
        // for, built by the library from a training configuration as `gameflow train` builds it.
        guard let debiasing = ConsensusDebias(rawValue: debias) else { throw ValidationError("--debias must be none, split or variance") }
        let hidden = [16, 16, 16, 16]
        var c = GANTrainingConfiguration(
            data: architecture == "mlp" ? "ring8" : data,
            networks: .init(latent: 16, generatorHidden: hidden, discriminatorHidden: hidden, generatorActivation: .relu, discriminatorActivation: .relu),
            utility: .nonSaturating, layout: .generatorFirst, batch: batch, seed: 1, penalties: .init(r1: r1), nkPenalty: nkPenalty,
            stepScale: try factors(stepScale, "--step-scale"),
            scheme: debiasing == .none ? .simga : .consensus(gamma: gamma, onDiscriminatorOnly: false, debias: debiasing),
            optimizer: optimizer == "none" ? .none : .rmsprop, lr: step, steps: warmup + steps * repeats, initialState: nil, metricsEvery: nil,
            checkpointSeconds: 60, eigenvalues: false)
        c.threads = threads == 1 ? nil : threads
        c.precision = precision == .float64 ? nil : precision
        let source: any SampleSource
        if architecture == "mlp" {
            source = GaussianMixture.ring8
        } else {
            c.architecture = try Architecture.builtIn[architecture] ?? Architecture.load(architecture)
            source = data == "fashion-mnist" ? try ImageDataset.fashionMNIST() : try ImageDataset.load(path: data)
        }
        let (partBatch, parts) = try c.batchParts()
        let gan = try c.makeGAN(source: source)
        // The FMA peak at this precision, measured on one core (the float probe runs vectors of twice
        // the lanes); the fractions are of the peak of the `threads` cores a step uses.
        let corePeak = Bench.fmaPeak(precision: precision), peak = corePeak * Double(threads)
        let scale = try c.stepScaleValue()
        let game = try c.fieldStack().apply(to: gan)
        for name in schemes.split(separator: ",").map(String.init) {
            var knobs = SchemeName.Knobs(gamma: gamma, implicit: implicit)
            knobs.lambda = lambda
            knobs.alpha = alpha
            knobs.andersonDepth = andersonDepth
            knobs.substeps = try factors(substeps, "--substeps").map { $0.map { Int($0) } }
            knobs.consensusDebias = debiasing
            switch consensusOn {
            case "all": break
            case "discriminator": knobs.consensusPlayer = gan.discriminatorPlayer
            default: throw ValidationError("--consensus-on must be all or discriminator")
            }
            let scheme = try SchemeName.parse(name).make(knobs)
            var timed: any Scheme = optimizer == "none" ? scheme : try preconditioned(scheme, .referenceRMSProp, stepScale: scale)
            if let beta = momentum { timed = try withMomentum(timed, form: .polyak, weight: beta) }
            let (median, all, madds, stats) = try time(timed, on: game, from: gan.initialState(seed: 1))
            rows.append((name, median, all, madds))
            counts.append((name, stats))
        }
        var modifiers: [String] = []
        if let s = stepScale { modifiers.append("step scale \(s)") }
        if let s = substeps { modifiers.append("substeps \(s)") }
        if consensusOn != "all" { modifiers.append("consensus on \(consensusOn)") }
        if debias != "none" { modifiers.append("debias \(debias) (\(parts ?? 1) parts of \(partBatch))") }
        if let e = nkPenalty { modifiers.append("NK η \(e)") }
        if r1 != 0 { modifiers.append("R1 γ \(r1)") }
        if let b = momentum { modifiers.append("momentum β \(b)") }
        // Which backend runs each layer ("dense 16: kernels", "relu: kernels (fused)", "conv 32 k4 s2 p1: blas", …).
        func backends(_ n: Network) -> [String] { n.layers.indices.map { "\(n.layers[$0].spec.description): \(n.backend(ofLayer: $0))" } }
        let layerBackends = (gan as? NetworkGAN).map { (generator: backends($0.generator), discriminator: backends($0.discriminator)) }
        if json {
            print(JSON.object([
                ("benchmark", .string("gan-step")), ("modifiers", .array(modifiers.map { .string($0) })), ("build", .string(Bench.buildConfiguration)),
                ("blas_threads", .int(BLAS.threads)), ("threads", .int(threads)), ("precision", .string(precision.rawValue)),
                ("kernels", .string(DenseKernels.name)),
                ("batch", .int(batch)), ("steps", .int(steps)), ("repeats", .int(repeats)),
                ("architecture", .string(architecture)), ("parameters", .int(gan.dimension)), ("fma_peak_per_ns", .number(corePeak)),
                ("ms_per_step", .object(rows.map { ($0.name, .number($0.median)) })),
                ("ms_per_step_min", .object(rows.map { ($0.name, .number($0.all.min()!)) })),
                ("ms_per_step_max", .object(rows.map { ($0.name, .number($0.all.max()!)) })),
                ("fraction_of_fma_peak", .object(rows.map { ($0.name, .number($0.madds / ($0.median * 1e6) / peak)) })),
                ("multiply_adds_per_step", .object(rows.map { ($0.name, .number($0.madds)) })),
                ("step_size", .number(step)), ("optimizer", .string(optimizer)),
                ("stats_per_timed_run", .object(counts.map { ($0.0, $0.1.json) })),
                ("layer_backends", layerBackends.map { .object([("generator", .array($0.generator.map { .string($0) })),
                                                                ("discriminator", .array($0.discriminator.map { .string($0) }))]) } ?? .null),
            ]).serialized())
        } else {
            let what = architecture == "mlp" ? "ring8 MLP GAN, 4×16 ReLU, latent 16" : "\(architecture) on \(gan.source.name), \(gan.dimension) parameters"
            print("gan-step: \(what), batch \(batch), h \(step), optimizer \(optimizer); \(Bench.buildConfiguration) build, "
                  + "\(DenseKernels.description), OpenBLAS GEMM (im2col) and direct convolutions (see layers), networks in \(precision.rawValue), "
                  + "\(threads) thread(s) on parts of the batch (BLAS: \(BLAS.threads)); "
                  + String(format: "FMA peak %.1f ", corePeak) + (precision == .float32 ? "float" : "double") + " multiply-adds/ns per core"
                  + (threads > 1 ? " (fractions of \(threads) cores' peak)" : "") + (modifiers.isEmpty ? "" : "; " + modifiers.joined(separator: ", ")))
            for (name, median, all, madds) in rows {
                print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: "%.4f ms/step (median of %d × %d steps; min %.4f, max %.4f); ", median, repeats, steps, all.min()!, all.max()!)
                      + String(format: "%.3f M multiply-adds/step in products, %.1f per ns (%.0f %% of peak)", madds / 1e6, madds / (median * 1e6),
                               100 * madds / (median * 1e6) / peak))
            }
            if let b = layerBackends {
                print("  layers: G " + b.generator.joined(separator: ", "))
                print("          D " + b.discriminator.joined(separator: ", "))
            }
            let timed = Double(repeats * steps)
            for (name, st) in counts where st.rootSolves > 0 {
                print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: "per step: %.2f Newton, %.2f Krylov iterations, %.2f evaluations of v, %.2f JVPs, %.2f backtracks; %d stalled solves of %d",
                               Double(st.newtonIterations) / timed, Double(st.krylovIterations) / timed, Double(st.fieldEvaluations) / timed,
                               Double(st.jacobianVectorProducts) / timed, Double(st.lineSearchBacktracks) / timed, st.rootStalls, st.rootSolves))
            }
            if rows.count == 2 {
                print(String(format: "  ratio %@/%@ = %.2f in time, %.2f in multiply-adds", rows[1].name, rows[0].name,
                             rows[1].median / rows[0].median, rows[1].madds / rows[0].madds))
            }
        }
    }

    /// Median and all ms per step, the products' multiply-adds per step (kernel counter) and the
    /// work counters of the timed steps.
    private func time<S: Scheme, G: Game>(_ scheme: S, on game: G, from x0: [Double]) throws -> (Double, [Double], Double, Stats) {
        var integrator = try Integrator(game: game, scheme: scheme, initialState: x0,
                                        options: SolveOptions(stepSize: step, maxSteps: warmup + steps * repeats + 1))
        for _ in 0..<warmup { integrator.step() }
        let before = gf_multiply_adds(), statsBefore = integrator.stats
        let samples = Bench.secondsPerCall(repeats: repeats, calls: steps) { integrator.step() }.map { $0 * 1000 }
        if let s = integrator.status, !s.isSuccessful {
            throw ValidationError("\(scheme.name) stopped while timed (\(s)); its times would not be steps")
        }
        let madds = Double(gf_multiply_adds() - before) / Double(repeats * steps)
        var st = integrator.stats
        for (_, path) in Stats.jsonKeys { st[keyPath: path] -= statsBefore[keyPath: path] }
        return (samples.sorted()[samples.count / 2], samples, madds, st)
    }
}

/// µs per call of the MLP kernels at the paper's shapes (M = batch rows, widths 16, 2 and 1),
/// the minimum over repeats, against the machine's FMA throughput measured by the same build.
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "µs per call of the MLP kernels at the paper's shapes (minimum of repeats), and the FMA peak.")

    @Option(help: "Rows (the minibatch).") var batch = 512
    @Option(help: "Calls per timed repeat.") var calls = 2000
    @Option(help: "Timed repeats (the minimum is reported).") var repeats = 15
    @Option(name: .customLong("kernel-width"), help: "Kernel build: 4 (AVX2/FMA) or 8 (AVX-512). Default: the CPU's best.")
    var kernelWidth: Int?
    @Flag(name: .customLong("allow-debug")) var allowDebug = false

    func run() throws {
        try Bench.requireRelease(allowDebug: allowDebug)
        guard batch >= 1, calls >= 1, repeats >= 1 else { throw ValidationError("--batch, --calls and --repeats must be ≥ 1") }
        try Bench.useKernelWidth(kernelWidth)
        let m = batch, w = 16
        var rng = SeededGenerator(seed: 7)
        // Cache-line aligned, as NetworkWorkspace's buffers: Swift arrays' alignment varies between
        // builds, and vector loads across two lines would change the timings with it.
        var owned: [UnsafeMutablePointer<Double>] = []
        defer { owned.forEach { $0.deallocate() } }
        func buffer(_ values: [Double]) -> UnsafeMutablePointer<Double> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(values.count, 1) * 8, alignment: 64)
            let p = raw.initializeMemory(as: Double.self, repeating: 0, count: max(values.count, 1))
            p.update(from: values, count: values.count)
            owned.append(p)
            return p
        }
        func random(_ n: Int) -> UnsafeMutablePointer<Double> { buffer((0..<n).map { _ in rng.normal() }) }
        func zeros(_ n: Int) -> UnsafeMutablePointer<Double> { buffer([Double](repeating: 0, count: n)) }
        let x = random(m * w), x2 = random(m * w), wt = random(w * w), wt2 = random(w * w), bias = random(w)
        let mask = random(m * w), scales = random(m)
        let out = zeros(m * w), g = zeros(w * w), gb = random(w), scratch = zeros(gf_scratch_count(w, w))
        let relu = Int32(GF_RELU), linear = Int32(GF_LINEAR)
        func best(_ body: () -> Void) -> Double {   // µs per call, the fastest repeat
            Bench.secondsPerCall(repeats: repeats, calls: calls, body).min()! * 1e6
        }
        let peak = Bench.fmaPeak(repeats: repeats)   // multiply-adds per ns
        let floatPeak = Bench.fmaPeak(repeats: repeats, precision: .float32)
        print("kernels: M = \(m), \(Bench.buildConfiguration) build, \(DenseKernels.description); "
              + String(format: "FMA peak %.2f double multiply-adds/ns (12 chains of %d-wide FMAs), %.2f float (%d-wide)", peak,
                       Int(gf_kernels_width()), floatPeak, 2 * Int(gf_kernels_width())))
        let cases: [(String, Int, () -> Void)] = [
            ("nt 16→16, bias, ReLU (forward layer)", m * w * w, {
                gf_dense_nt(m, w, w, x, wt, bias, nil, 0, out, Int32(GF_EPI_ACTIVATE), relu, 0.2, nil, nil, scratch) }),
            ("nn 16→16, σ′ mask (backward δ)", m * w * w, {
                gf_dense_nn(m, w, w, x, wt, nil, 0, out, Int32(GF_EPI_MASKED), relu, 0.2, mask, nil, scratch) }),
            ("tn 16×16 + bias sums (weight gradient)", m * w * w, {
                gf_dense_tn(m, w, w, x, x2, nil, 1e-9, g, gb, scratch) }),
            ("tn 16×16 row-scaled + bias sums (fakes' D)", m * w * w, {
                gf_dense_tn(m, w, w, x, x2, scales, 1e-9, g, gb, scratch) }),
            ("nt pair 16→16, row scale, σ′ mask (R{z})", 2 * m * w * w, {
                gf_dense_nt_pair(m, w, w, x, wt, bias, scales, w, x2, wt2, out, Int32(GF_EPI_MASKED), relu, 0.2, mask, nil,
                                 scratch) }),
            ("nn pair 16→16, row scale, σ′ mask (R{δ})", 2 * m * w * w, {
                gf_dense_nn_pair(m, w, w, x, wt, scales, w, x2, wt2, out, Int32(GF_EPI_MASKED), relu, 0.2, mask, nil, scratch) }),
            ("nt 16→1, bias (logit)", m * w, {
                gf_dense_nt(m, w, 1, x, wt, bias, nil, 0, out, Int32(GF_EPI_NONE), linear, 0.2, nil, nil, scratch) }),
            ("nn 16→2 (input gradient)", 2 * m * w, {
                gf_dense_nn(m, w, 2, x, wt, nil, 0, out, Int32(GF_EPI_NONE), linear, 0.2, nil, nil, scratch) }),
            ("nt 2→16, bias, ReLU (first layer)", m * 2 * w, {
                gf_dense_nt(m, 2, w, x, wt, bias, nil, 0, out, Int32(GF_EPI_ACTIVATE), relu, 0.2, nil, nil, scratch) }),
        ]
        for (name, madds, body) in cases {
            let t = best(body)
            let rate = Double(madds) / (t * 1e3)
            print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: "%8.3f µs  %6.2f multiply-adds/ns  (%3.0f %% of peak)", t, rate, 100 * rate / peak))
        }
        // Not a kernel, but the other cost every step pays: drawing its batch's normals (the
        // latents and the real samples' noise), the ziggurat's random words and table tests.
        let draws = m * (w + 2)
        let normals = zeros(draws)
        var drawRng = SeededGenerator(seed: 11)
        let drawMicro = best { drawRng.fillNormals(normals, count: draws) }
        print("  " + "\(draws) normals (a batch's latents and noise)".padding(toLength: 44, withPad: " ", startingAt: 0)
              + String(format: "%8.3f µs  %6.2f ns per normal", drawMicro, drawMicro * 1e3 / Double(draws)))
        if normals[0].isNaN { print("") }   // keeps the results alive
    }
}

/// The integrator comparison: sweeps, rates, frontiers, equal-cost view and speed.
struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Compare every scheme on every suite game over a step-size grid and seeds (default command).",
        discussion: """
            Prints Markdown tables; --output DIR writes results.csv, results.json, results.md and
            equal-cost-GAME.svg figures. --quick is a reduced suite (under a minute in release).
            The suite is a sweep spec run by the library's sweep engine (--jobs N).
            """)

    @Flag(help: "The reduced suite.") var quick = false
    @Option(help: "Comma-separated substrings: keep games or schemes whose names contain one (e.g. bilinear,simga).")
    var filter: String?
    @Option(help: "Comma-separated seeds for the random games.") var seeds = "0,1,2"
    @Option(help: "Relative tolerance for steps and cost to reach.") var tolerance = 1e-6
    @Option(name: .customLong("cost-budget"), help: "Budget of the equal-cost view (default 4000, 1000 with --quick).")
    var costBudget: Int?
    @Option(help: "Consensus γ used throughout.") var gamma = 0.5
    @Flag(name: .customLong("no-gan"), help: "Leave out the ring8 MLP GAN.") var noGAN = false
    @Flag(name: .customLong("no-speed"), help: "Leave out the speed view.") var noSpeed = false
    @Option(help: "Write results.csv, results.json, results.md and SVG figures here (and each cell's file in cells/: a re-run skips the finished cells).")
    var output: String?
    @Option(help: "Cells (game, seed, scheme) run at once on the library's sweep engine; the results are the same for every N (the speed view runs alone afterwards).")
    var jobs = 1
    @Flag(help: "Print results.json on stdout instead of the Markdown tables.") var json = false
    @Flag(name: .customLong("allow-debug")) var allowDebug = false

    func run() throws {
        try Bench.requireRelease(allowDebug: allowDebug)
        BLAS.useSingleThreadUnlessConfigured()
        let seedList = try seeds.split(separator: ",").map { s -> UInt64 in
            guard let v = UInt64(s.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: '\(s)' is not a seed") }
            return v
        }
        guard !seedList.isEmpty else { throw ValidationError("--seeds is empty") }
        guard tolerance > 0, tolerance < 1 else { throw ValidationError("--tolerance must be in (0, 1)") }
        let words = filter?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } ?? []
        let schemeWords = words.filter { w in SchemeName.allCases.contains { $0.rawValue.contains(w) } }
        let gameWords = words.filter { !schemeWords.contains($0) }
        let options = SuiteOptions(quick: quick, seeds: seedList, gameFilter: gameWords, schemeFilter: schemeWords,
                                   tolerance: tolerance, costBudget: costBudget, includeGAN: !noGAN, includeSpeed: !noSpeed,
                                   consensusGamma: gamma)
        let begin = ContinuousClock.now
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        let results = try SuiteRunner(options: options).run(jobs: jobs, output: output, progressLine: true) { line in
            let elapsed = seconds(ContinuousClock.now - begin)
            FileHandle.standardError.write(Data((String(format: "[%6.1fs] ", elapsed) + line + "\n").utf8))
        }
        let report = SuiteReport(results)
        if let dir = output { try report.write(to: dir) }
        print(json ? report.json().serialized() : report.markdown())
    }
}

/// The suite on all cores against one: the quick suite (without the speed view) run with
/// `--jobs 1` and `--jobs N` alternately, its results compared (every field but wall times),
/// and the wall times and their ratio printed.
struct SuiteScaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite-scaling",
        abstract: "Time the quick suite at --jobs 1 and --jobs N (alternated) and check the results are identical.")

    @Option(help: "Threads of the parallel runs.") var jobs = 2
    @Option(help: "Pairs of runs (1, N), alternated.") var repeats = 2
    @Flag(name: .customLong("allow-debug")) var allowDebug = false

    func run() throws {
        try Bench.requireRelease(allowDebug: allowDebug)
        BLAS.useSingleThreadUnlessConfigured()
        guard jobs >= 2, repeats >= 1 else { throw ValidationError("--jobs must be at least 2 and --repeats at least 1") }
        let runner = SuiteRunner(options: SuiteOptions(quick: true, includeSpeed: false))
        /// The report without what may differ: wall times and the environment (its date).
        func comparable(_ r: SuiteResults) -> String {
            var r = r
            r.environment = []
            for i in r.cells.indices { r.cells[i].seconds = 0 }
            return SuiteReport(r).json().serialized()
        }
        var times: [Int: [Double]] = [:]
        var reference: String?
        for k in 0..<repeats {
            for j in [1, jobs] {
                let begin = ContinuousClock.now
                let r = try runner.run(jobs: j)
                let t = seconds(ContinuousClock.now - begin)
                times[j, default: []].append(t)
                let text = comparable(r)
                let same = reference.map { $0 == text } ?? true
                if reference == nil { reference = text }
                print(String(format: "pair %d, --jobs %d: %.2f s, %d runs, %d frontiers, results %@", k + 1, j, t, r.cells.count,
                             r.frontiers.count, same ? "identical" : "DIFFER"))
                guard same else { throw ValidationError("the results at --jobs \(j) differ from those at --jobs 1") }
            }
        }
        let one = times[1]!.min()!, many = times[jobs]!.min()!
        print(String(format: "best of %d: --jobs 1 %.2f s, --jobs %d %.2f s: ratio %.3f (%d cores available)", repeats, one, jobs, many,
                     many / one, ProcessInfo.processInfo.activeProcessorCount))
    }
}

extension Precision: ExpressibleByArgument {}
