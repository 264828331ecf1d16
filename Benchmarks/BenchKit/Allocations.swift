import CAllocationCounter
import Foundation
import GameFlow

/// Heap allocations per step of every scheme, optimizer and wrapper on an analytic game, on the
/// MLP GAN of the paper's experiment (minibatches, R1, RMSProp), on its training field stack (NK
/// penalty, time scales, debiasing parts), on a small convolutional GAN and on dcgan28: the check behind
/// "hot paths allocate nothing per step". Allocations are counted at glibc's allocator on the
/// calling thread (`CAllocationCounter`), so the Swift runtime, GSL, SUNDIALS, OpenBLAS and the
/// kernels all count. Meaningful in an optimised build: a debug build allocates in the standard
/// library's unspecialised generics.
public enum AllocationSurvey {
    /// One run's count.
    public struct Row: Sendable {
        /// The game's label.
        public var game: String
        /// The scheme's name (with its optimizer and wrappers).
        public var scheme: String
        /// Allocations over the counted steps, OpenBLAS's own excluded.
        public var allocations: Int
        /// Allocations OpenBLAS made itself over those steps: its AVX-512 small-matrix GEMM
        /// kernels (chosen on some CPUs for some shapes) allocate a packing buffer per call.
        public var inBLAS: Int
        /// Steps counted.
        public var steps: Int
    }

    /// Allocations during `steps` steps taken after `warmUp` steps (caches grown, histories full,
    /// lazily made buffers made), through `Integrator.step()` as `solve` takes them: GameFlow's
    /// and the other libraries' (`ours`), and OpenBLAS's own (`inBLAS`).
    /// With `allThreads`, every thread's allocations count (`ours`; `inBLAS` is then 0).
    public static func count<G: Game, S: Scheme>(_ game: G, _ scheme: S, x0: [Double], h: Double,
                                                 warmUp: Int = 3, steps: Int = 6, allThreads: Bool = false,
                                                 control: StepSizeControl = .fixed) throws -> (ours: Int, inBLAS: Int) {
        var integrator = try Integrator(game: game, scheme: scheme, initialState: x0,
                                        options: SolveOptions(stepSize: h, maxSteps: warmUp + steps + 1, divergenceBound: .infinity,
                                                              stepSizeControl: control))
        for _ in 0..<warmUp {
            if let s = integrator.step() { throw GameFlowError.invalidInput("\(scheme.name) stopped in its warm-up: \(s)") }
        }
        if allThreads { gf_allocation_counting_begin_all_threads() } else { gf_allocation_counting_begin() }
        var stopped: Status? = nil
        for _ in 0..<steps where stopped == nil { stopped = integrator.step() }
        let counted = allThreads ? gf_allocation_counting_end_all_threads() : gf_allocation_counting_end()
        let inBLAS = allThreads ? 0 : gf_allocation_counted_in_blas()
        if let s = stopped { throw GameFlowError.invalidInput("\(scheme.name) stopped while counted: \(s)") }
        return (counted - inBLAS, inBLAS)
    }

    /// Knobs for the survey: consensus γ, SGA λ and LA/LOLA α 0.3, Anderson depth 4.
    static func knobs() -> SchemeName.Knobs {
        var k = SchemeName.Knobs(gamma: 0.3)
        k.lambda = 0.3
        k.alpha = 0.3
        k.andersonDepth = 4
        return k
    }

    /// The small convolutional GAN: 1×8×8 noise images, a dense + transposed-convolution generator
    /// and a two-convolution discriminator (the shapes of dcgan28 at a test's size; the tests'
    /// convolutional GAN too).
    public static func convolutionalGAN(utility: NetworkGAN.Utility = .nonSaturating, r1: Double) throws -> NetworkGAN {
        var rng = SeededGenerator(seed: 8)
        let images = try Dataset(name: "noise-images", dimension: 64, points: (0..<(20 * 64)).map { _ in tanh(rng.normal()) })
        let arch = Architecture(latent: 5,
                                generator: [.dense(out: 2 * 4 * 4), .reshape([2, 4, 4]), .activation(.elu),
                                            .deconv(out: 1, kernel: 4, stride: 2, padding: 1, outputPadding: 0), .activation(.tanh)],
                                discriminator: [.conv(out: 3, kernel: 3, stride: 2, padding: 1), .activation(.softplus),
                                                .conv(out: 2, kernel: 3, stride: 2, padding: 0), .activation(.leakyRelu(slope: 0.2)),
                                                .flatten, .dense(out: 1)])
        var gan = try NetworkGAN(architecture: arch, source: images, sampleShape: [1, 8, 8], batchSize: 4, utility: utility, seed: 3)
        if r1 > 0 { gan.penalties = try GradientPenalties(r1: r1) }
        return gan
    }

    /// Every cell: each scheme on the bilinear game and (with RMSProp) on the MLP GAN; the
    /// wrappers; the training field stack; a few schemes on the convolutional GAN.
    public static func run(progress: (Row) -> Void = { _ in }) throws -> [Row] {
        var rows: [Row] = []
        func record<G: Game, S: Scheme>(_ label: String, _ game: G, _ scheme: S, x0: [Double], h: Double, steps: Int = 6,
                                        allThreads: Bool = false, control: StepSizeControl = .fixed) throws {
            let c = try count(game, scheme, x0: x0, h: h, steps: steps, allThreads: allThreads, control: control)
            let row = Row(game: label, scheme: scheme.name, allocations: c.ours, inBLAS: c.inBLAS, steps: steps)
            rows.append(row)
            progress(row)
        }
        var rng = SeededGenerator(seed: 4)
        let bilinear = try BilinearGame(A: Matrix(rows: 4, columns: 3, storage: (0..<12).map { _ in rng.normal() }))
        let xb = (0..<bilinear.dimension).map { _ in rng.normal() }
        for name in SchemeName.allCases {
            try record("bilinear 4×3", bilinear, try name.make(knobs()), x0: xb, h: 0.01, control: name.stepSizeControl(knobs()))
        }

        var mlp = try NetworkGAN.mlp(data: GaussianMixture.ring8, latent: 4, generatorHidden: [16, 16], discriminatorHidden: [16, 16],
                                     generatorActivation: .relu, discriminatorActivation: .relu, batchSize: 32,
                                     utility: .nonSaturating, layout: .generatorFirst, seed: 5)
        mlp.penalties = try GradientPenalties(r1: 0.1)
        let xm = mlp.initialState(seed: 5)
        let mlpLabel = "ring8 MLP GAN, R1"
        for name in SchemeName.fixedStep {
            try record(mlpLabel, mlp, try OptimizerConfiguration.rmsprop.wrap(try name.make(knobs())), x0: xm, h: 1e-4)
        }
        let consensus = try Consensus(gamma: 1)
        try record(mlpLabel, mlp, try Lookahead(Preconditioned(consensus, method: .standardAdam), k: 4, alpha: 0.5), x0: xm, h: 1e-4, steps: 9)
        try record(mlpLabel, mlp, try Averaged(Preconditioned(SimGA(), method: .referenceRMSProp), kind: .uniform), x0: xm, h: 1e-4)
        try record(mlpLabel, mlp, try Averaged(SimGA(), kind: .ema(0.99)), x0: xm, h: 1e-4)
        try record(mlpLabel, mlp, try OptimizerConfiguration.momentum(form: .polyak, weight: 0.5).wrap(SimGA()), x0: xm, h: 1e-4)
        try record(mlpLabel, mlp, try OptimizerConfiguration.momentum(form: .polyak, weight: -0.5).wrap(AltGA()), x0: xm, h: 1e-4)
        try record(mlpLabel, mlp, try OptimizerConfiguration.momentum(form: .supplement, weight: 0.5).wrap(consensus), x0: xm, h: 1e-4)
        // The optimizers on an error-controlled embedded pair (the integrator's controller; a
        // tight tolerance, so trials are rejected and undone within the counted steps).
        let control = StepSizeControl.errorControl(ErrorControl(relativeTolerance: 1e-9, absoluteTolerance: 1e-12))
        try record(mlpLabel, mlp, Preconditioned(try EmbeddedRK(method: .rkf45), method: .referenceRMSProp), x0: xm, h: 1e-2, control: control)
        try record(mlpLabel, mlp, try Averaged(Momentum(try EmbeddedRK(method: .rk8pd), form: .polyak, weight: 0.5), kind: .uniform), x0: xm,
                   h: 1e-2, control: control)

        // Two threads on halves of each minibatch (every thread's allocations counted).
        let threaded = try mlp.withThreads(2)
        for name in [SchemeName.simga, .consensus, .implicitEuler] {
            try record("ring8 MLP GAN, R1, 2 threads", threaded, try OptimizerConfiguration.rmsprop.wrap(try name.make(knobs())), x0: xm, h: 1e-4,
                       allThreads: true)
        }

        // The field `train` integrates with the NK penalty, time scales and debiased consensus.
        let scale = try StepScale([1, 2])
        let stack = TrainingFieldStack(nkPenalty: 0.1, fieldScale: scale, parts: 2)
        let stacked = try stack.apply(to: mlp)
        try record("ring8 MLP GAN, NK + time scales + 2 parts", stacked, try Consensus(gamma: 1, debias: .split), x0: xm, h: 1e-4)
        let rmsStack = TrainingFieldStack(nkPenalty: 0.1, fieldScale: nil, parts: nil)
        try record("ring8 MLP GAN, NK", try rmsStack.apply(to: mlp),
                   try OptimizerConfiguration.rmsprop.wrap(consensus, stepScale: scale), x0: xm, h: 1e-4)

        let conv = try convolutionalGAN(r1: 0.1)
        let xc = conv.initialState(seed: 3)
        for name in [SchemeName.simga, .altga, .consensus, .extragradient, .implicitEuler, .cgd, .lola, .sos, .gdaAM] {
            try record("conv GAN 1×8×8, R1", conv, try OptimizerConfiguration.rmsprop.wrap(try name.make(knobs())), x0: xc, h: 1e-4, steps: 3)
        }
        // dcgan28 at its size (batch 64) on 28×28 noise images: the shapes of the image experiment.
        var rng28 = SeededGenerator(seed: 9)
        let images = try Dataset(name: "noise-28", dimension: 784, points: (0..<(128 * 784)).map { _ in max(-1, min(1, rng28.normal())) })
        let dcgan = try NetworkGAN(architecture: .dcgan28, source: images, sampleShape: [1, 28, 28], batchSize: 64, utility: .nonSaturating, seed: 3)
        let xd = dcgan.initialState(seed: 3)
        for name in [SchemeName.simga, .consensus] {
            try record("dcgan28, batch 64", dcgan, try OptimizerConfiguration.rmsprop.wrap(try name.make(knobs())), x0: xd, h: 1e-4, steps: 2)
        }
        // Float32 networks: the boundary's conversions, the float kernels (ring8) and sgemm (dcgan28).
        let mlp32 = try mlp.withPrecision(.float32), conv32 = try conv.withPrecision(.float32), dcgan32 = try dcgan.withPrecision(.float32)
        for name in [SchemeName.simga, .consensus, .implicitEuler] {
            try record("ring8 MLP GAN, R1, float32", mlp32, try OptimizerConfiguration.rmsprop.wrap(try name.make(knobs())), x0: xm, h: 1e-4)
        }
        for name in [SchemeName.simga, .consensus, .lola] {
            try record("conv GAN 1×8×8, R1, float32", conv32, try OptimizerConfiguration.rmsprop.wrap(try name.make(knobs())), x0: xc, h: 1e-4, steps: 3)
        }
        for name in [SchemeName.simga, .consensus] {
            try record("dcgan28, batch 64, float32", dcgan32, try OptimizerConfiguration.rmsprop.wrap(try name.make(knobs())), x0: xd, h: 1e-4, steps: 2)
        }
        return rows
    }
}
