import Foundation

/// A GAN training run as a value: the data, the two networks, the objective and penalties, the
/// field modifiers, the scheme with its own knobs, the optimizer, the step size and schedule.
/// `Codable` (summary.json and checkpoint.json store it as `configuration`; `gameflow train
/// --config FILE` runs one), and the one place that builds the run's game
/// (`makeGAN`), field (`fieldStack`) and scheme (`makeScheme`), so the command line, resumes,
/// sweep cells and analyses of a run all build the same objects.
public struct GANTrainingConfiguration: Codable, Sendable, Equatable {
    /// A built-in mixture (ring8, grid25, grid16) or the path of a CSV file of points.
    public var data: String
    /// The two MLPs (when `architecture` is nil).
    public var networks: Networks
    /// The two networks as layers (nil: the MLPs of `networks`, `NetworkGAN.mlp`).
    public var architecture: Architecture?
    /// Where `architecture` came from: a built-in's name or the file it was read from (reports only).
    public var architectureName: String?
    /// The GAN objective.
    public var utility: NetworkGAN.Utility
    /// The order of the two blocks in x.
    public var layout: NetworkGAN.Layout
    /// Real and fake samples per minibatch (split into parts for debiased consensus).
    public var batch: Int
    /// Initial weights and every minibatch.
    public var seed: UInt64
    /// R1, R2 and WGAN-GP weights on the discriminator.
    public var penalties: Penalties
    /// The Nagarajan–Kolter penalty η (nil: none).
    public var nkPenalty: Double?
    /// Per-player time scales (nil: none); in the field without an optimizer, in the optimizer's
    /// update with one (`fieldStack`).
    public var stepScale: [Double]?
    /// The scheme and its knobs.
    public var scheme: SchemeConfiguration
    /// The optimizer around the scheme.
    public var optimizer: OptimizerConfiguration
    /// The step size h (the learning rate).
    public var lr: Double
    /// Steps in all.
    public var steps: Int
    /// Start from this state file instead of the seed's initialisation (nil: the seed's).
    public var initialState: String?
    /// Metrics every this many steps (nil: 100 times per run).
    public var metricsEvery: Int?
    /// Checkpoints at least this often, in seconds of wall time.
    public var checkpointSeconds: Double
    /// The end-of-run eigenvalue figure and eigenvalues.json.
    public var eigenvalues: Bool
    /// A classifier folder (`gameflow classifier --output`): FID, KID and the classifier score in
    /// metrics.csv against the data's test set (nil: none).
    public var metricsClassifier: String?
    /// Generator samples per FID/KID measurement (with `metricsClassifier`; nil: 1,000).
    public var fidSamples: Int?
    /// Eigenvalues along training every this many steps into spectrum.csv (nil: none).
    public var spectrumEvery: Int?
    /// How many at each end (largest magnitude and rightmost; nil: 10).
    public var spectrumTop: Int?
    /// Lookahead around the scheme and its optimizer (nil: none).
    public var lookahead: LookaheadConfiguration?
    /// Iterate averaging, reported beside the last iterate (nil: none).
    public var average: AveragingConfiguration?
    /// Threads that share each minibatch's v, v′u and v′ᵀu (`NetworkGAN.withThreads`; nil: 1).
    /// Results differ from one thread's only by the reassociation of the batch sums and are
    /// reproducible bit for bit for a given number, so it is part of the configuration.
    public var threads: Int?
    /// The arithmetic inside the networks (`Precision`; nil: float64). x, the scheme, the
    /// optimizer and every analysis stay double either way.
    public var precision: Precision?

    /// The networks: the latent dimension, each network's hidden widths and activations.
    public struct Networks: Codable, Sendable, Equatable {
        public var latent: Int
        public var generatorHidden: [Int]
        public var discriminatorHidden: [Int]
        public var generatorActivation: Activation
        public var discriminatorActivation: Activation

        /// Networks of these sizes.
        public init(latent: Int, generatorHidden: [Int], discriminatorHidden: [Int],
                    generatorActivation: Activation, discriminatorActivation: Activation) {
            self.latent = latent
            self.generatorHidden = generatorHidden
            self.discriminatorHidden = discriminatorHidden
            self.generatorActivation = generatorActivation
            self.discriminatorActivation = discriminatorActivation
        }
    }

    /// The discriminator's gradient penalties.
    public struct Penalties: Codable, Sendable, Equatable {
        public var r1: Double
        public var r2: Double
        public var gp: Double

        /// Penalties of these weights (0: off).
        public init(r1: Double = 0, r2: Double = 0, gp: Double = 0) {
            self.r1 = r1
            self.r2 = r2
            self.gp = gp
        }
    }

    /// A configuration from its parts.
    public init(data: String, networks: Networks, utility: NetworkGAN.Utility, layout: NetworkGAN.Layout, batch: Int, seed: UInt64,
                penalties: Penalties, nkPenalty: Double?, stepScale: [Double]?, scheme: SchemeConfiguration,
                optimizer: OptimizerConfiguration, lr: Double, steps: Int, initialState: String?, metricsEvery: Int?,
                checkpointSeconds: Double, eigenvalues: Bool) {
        self.data = data
        self.networks = networks
        self.utility = utility
        self.layout = layout
        self.batch = batch
        self.seed = seed
        self.penalties = penalties
        self.nkPenalty = nkPenalty
        self.stepScale = stepScale
        self.scheme = scheme
        self.optimizer = optimizer
        self.lr = lr
        self.steps = steps
        self.initialState = initialState
        self.metricsEvery = metricsEvery
        self.checkpointSeconds = checkpointSeconds
        self.eigenvalues = eigenvalues
    }

    /// Reads a configuration: a bare one, or the `configuration` of a run's summary.json or
    /// checkpoint.json. Errors name the file and the parameter.
    public static func load(_ path: String) throws -> GANTrainingConfiguration { try loadConfiguration(path) }

    /// A configuration from its JSON (`json`), e.g. a checkpoint's; `source` names it in errors.
    public static func decode(_ json: JSON, source: String) throws -> GANTrainingConfiguration {
        try decodeConfiguration(Data(json.serialized().utf8), source: source)
    }

    /// The configuration as JSON (`configuration` in summaries and checkpoints).
    public var json: JSON { configurationJSON(self) }

    /// The minibatch: one batch (parts nil) or independent parts for debiased consensus.
    public func batchParts() throws -> (size: Int, parts: Int?) {
        guard case let .consensus(_, _, debias) = scheme else { return (batch, nil) }
        switch debias {
        case .split:
            guard batch >= 2, batch % 2 == 0 else { throw GameFlowError.invalidInput("batch: debias split needs an even batch ≥ 2 (two halves; got \(batch))") }
            return (batch / 2, 2)
        case .variance:
            guard batch >= 2 else { throw GameFlowError.invalidInput("batch: debias variance needs a batch ≥ 2 (got \(batch))") }
            return (1, batch)
        case .none:
            return (batch, nil)
        }
    }

    /// The GAN on `source` (the data set this configuration names, loaded by the caller):
    /// the MLPs of `networks` (`NetworkGAN.mlp`) or the networks of `architecture`.
    public func makeGAN(source: any SampleSource) throws -> any GANGame {
        let threads = self.threads ?? 1   // withThreads checks it against the minibatch
        if let a = architecture {
            var game = try NetworkGAN(architecture: a, source: source, sampleShape: source.sampleShape, batchSize: try batchParts().size,
                                      utility: utility, layout: layout, seed: seed)
            game.penalties = try GradientPenalties(r1: penalties.r1, r2: penalties.r2, gp: penalties.gp)
            return try game.withPrecision(precision ?? .float64).withThreads(threads)
        }
        var game = try NetworkGAN.mlp(data: source, latent: networks.latent, generatorHidden: networks.generatorHidden,
                                      discriminatorHidden: networks.discriminatorHidden, generatorActivation: networks.generatorActivation,
                                      discriminatorActivation: networks.discriminatorActivation, batchSize: try batchParts().size,
                                      utility: utility, layout: layout, seed: seed)
        game.penalties = try GradientPenalties(r1: penalties.r1, r2: penalties.r2, gp: penalties.gp)
        return try game.withPrecision(precision ?? .float64).withThreads(threads)
    }

    /// The time scales, when given.
    public func stepScaleValue() throws -> StepScale? { try stepScale.map { try StepScale($0) } }

    /// The modifiers of the trained field: the NK penalty, the time scales when no optimizer
    /// takes them, the debiasing parts.
    public func fieldStack() throws -> TrainingFieldStack {
        TrainingFieldStack(nkPenalty: nkPenalty, fieldScale: optimizer.preconditioner == nil ? try stepScaleValue() : nil,
                           parts: try batchParts().parts)
    }

    /// The scheme with its optimizer (the implicit schemes in the optimizer's metric carry it
    /// themselves), for a GAN whose discriminator is player `discriminator`.
    public func makeScheme(discriminator: Int) throws -> any Scheme {
        let base = try scheme.make(discriminator: discriminator, metric: optimizer.preconditioner)
        let s = try optimizer.wrap(base, solvesInMetric: scheme.solvesInMetric, stepScale: try stepScaleValue())
        let l = try lookahead?.wrap(s) ?? s
        return try average?.wrap(l) ?? l
    }
}

/// The optimizer around a scheme.
public enum OptimizerConfiguration: Sendable, Equatable, Codable {
    /// The plain scheme.
    case none
    /// The reference code's RMSProp (decay 0.9, ε 1e-10, accumulator 1).
    case rmsprop
    /// Adam (β₁ 0.9, β₂ 0.999, ε 1e-8).
    case adam
    /// Momentum: Polyak's β or the supplement's friction γ (`withMomentum`).
    case momentum(form: MomentumForm, weight: Double)

    /// RMSProp's or Adam's constants (nil for the others).
    public var preconditioner: Preconditioner? {
        switch self {
        case .rmsprop: return .referenceRMSProp
        case .adam: return .standardAdam
        default: return nil
        }
    }

    /// `base` with this optimizer: RMSProp/Adam around it (unless an implicit scheme solves in
    /// the optimizer's metric itself; `stepScale` multiplies their update), then momentum.
    public func wrap(_ base: any Scheme, solvesInMetric: Bool = false, stepScale: StepScale? = nil) throws -> any Scheme {
        var chosen = base
        if let p = preconditioner, !solvesInMetric { chosen = try preconditioned(base, p, stepScale: stepScale) }
        if case let .momentum(form, weight) = self { chosen = try withMomentum(chosen, form: form, weight: weight) }
        return chosen
    }

    /// none, rmsprop, adam or momentum.
    public var name: String {
        switch self {
        case .none: return "none"
        case .rmsprop: return "rmsprop"
        case .adam: return "adam"
        case .momentum: return "momentum"
        }
    }

    private enum Keys: String, CodingKey { case name, form, weight }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        switch try c.decode(String.self, forKey: .name) {
        case "none": self = .none
        case "rmsprop": self = .rmsprop
        case "adam": self = .adam
        case "momentum": self = .momentum(form: try c.decode(MomentumForm.self, forKey: .form), weight: try c.decode(Double.self, forKey: .weight))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "unknown optimizer '\(other)' (expected none, rmsprop, adam or momentum)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(name, forKey: .name)
        if case let .momentum(form, weight) = self {
            try c.encode(form, forKey: .form)
            try c.encode(weight, forKey: .weight)
        }
    }
}

/// A scheme with exactly its own knobs, one case per scheme.
public enum SchemeConfiguration: Sendable, Equatable, Codable {
    case simga
    case altga(substeps: [Int]?, innerTolerance: Double?)
    case consensus(gamma: Double, onDiscriminatorOnly: Bool, debias: ConsensusDebias)
    case implicit(SchemeName, ImplicitConfiguration)
    case heun
    case rk4
    case extragradient(extrapolationStep: Double?)
    case optimistic(pastWeight: Double)
    case sga(lambda: Double, align: Bool)
    case hgd
    case la(alpha: Double)
    case lola(alpha: Double)
    case sos(alpha: Double, a: Double, b: Double)
    case gdaAM(depth: Int)
    case linearlyImplicit(SchemeName, linearTolerance: Double, krylovDimension: Int)
    case adaptive(FlowMethod, rtol: Double, atol: Double)

    /// The root solve of an implicit scheme and whether it solves in the optimizer's metric.
    public struct ImplicitConfiguration: Codable, Sendable, Equatable {
        public var solver: RootMethod
        public var tolerance: Double
        public var maxIterations: Int
        public var krylovDimension: Int
        public var forcing: String
        public var lineSearch: Bool
        public var predictor: Bool
        public var stallTolerance: Double?
        public var newtonIterations: Int?
        public var krylovIterations: Int?
        public var inOptimizerMetric: Bool

        /// These solver settings.
        public init(solver: RootMethod, tolerance: Double, maxIterations: Int, krylovDimension: Int, forcing: String, lineSearch: Bool,
                    predictor: Bool, stallTolerance: Double?, newtonIterations: Int?, krylovIterations: Int?, inOptimizerMetric: Bool) {
            self.solver = solver
            self.tolerance = tolerance
            self.maxIterations = maxIterations
            self.krylovDimension = krylovDimension
            self.forcing = forcing
            self.lineSearch = lineSearch
            self.predictor = predictor
            self.stallTolerance = stallTolerance
            self.newtonIterations = newtonIterations
            self.krylovIterations = krylovIterations
            self.inOptimizerMetric = inOptimizerMetric
        }

        /// The solver options.
        public func options() throws -> ImplicitSolverOptions {
            var o = ImplicitSolverOptions(method: solver, tolerance: tolerance, maxIterations: maxIterations, krylovDimension: krylovDimension,
                                          predictor: predictor, stallTolerance: stallTolerance)
            switch (newtonIterations, krylovIterations) {
            case (nil, nil): break
            case let (k?, m?): o.budget = (k, m)
            default: throw GameFlowError.invalidInput("scheme: newton_iterations and krylov_iterations go together (the inexact scheme's budget)")
            }
            o.lineSearch = lineSearch
            o.forcing = try Forcing.parse(forcing)
            try o.validate()
            return o
        }
    }

    /// The scheme's name (`SchemeName`).
    public var name: SchemeName {
        switch self {
        case .simga: return .simga
        case .altga: return .altga
        case .consensus: return .consensus
        case .implicit(let n, _): return n
        case .heun: return .heun
        case .rk4: return .rk4
        case .extragradient: return .extragradient
        case .optimistic: return .optimistic
        case .sga: return .sga
        case .hgd: return .hgd
        case .la: return .la
        case .lola: return .lola
        case .sos: return .sos
        case .gdaAM: return .gdaAM
        case .linearlyImplicit(let n, _, _): return n
        case .adaptive(let m, _, _): return SchemeName(rawValue: m.rawValue)!
        }
    }

    /// How the integrator sizes the steps: error control with `rtol`/`atol` for the embedded
    /// pairs (`adaptive`), fixed steps of the run's step size otherwise.
    public var stepSizeControl: StepSizeControl {
        guard case let .adaptive(_, rtol, atol) = self else { return .fixed }
        return .errorControl(ErrorControl(relativeTolerance: rtol, absoluteTolerance: atol))
    }

    /// Whether an implicit scheme solves in the optimizer's metric (then it carries the optimizer).
    public var solvesInMetric: Bool {
        if case .implicit(_, let c) = self { return c.inOptimizerMetric }
        return false
    }

    /// The scheme (without the optimizer): `discriminator` is the player consensus may be
    /// restricted to, `metric` the optimizer an implicit scheme may solve in.
    public func make(discriminator: Int, metric: Preconditioner?) throws -> any Scheme {
        var knobs = SchemeName.Knobs()
        switch self {
        case let .altga(substeps, inner): knobs.substeps = substeps; knobs.innerTolerance = inner
        case let .consensus(gamma, onD, debias):
            knobs.gamma = gamma
            knobs.consensusPlayer = onD ? discriminator : nil
            knobs.consensusDebias = debias
        case let .implicit(_, c):
            knobs.implicit = try c.options()
            if c.inOptimizerMetric {
                guard let m = metric else { throw GameFlowError.invalidInput("scheme: solving in the optimizer's metric needs optimizer rmsprop or adam") }
                knobs.implicitMetric = m
            }
        case let .extragradient(e): knobs.extrapolationStep = e
        case let .optimistic(b): knobs.pastWeight = b
        case let .sga(l, align): knobs.lambda = l; knobs.sgaAlign = align
        case let .la(a), let .lola(a): knobs.alpha = a
        case let .sos(alpha, a, b): knobs.alpha = alpha; knobs.sosA = a; knobs.sosB = b
        case let .gdaAM(m): knobs.andersonDepth = m
        case let .linearlyImplicit(_, t, k): knobs.linearTolerance = t; knobs.implicit.krylovDimension = k
        case let .adaptive(_, rtol, atol):
            knobs.adaptiveTolerances = (rtol, atol)
            try stepSizeControl.errorControl?.validate()
        case .simga, .heun, .rk4, .hgd: break
        }
        return try name.make(knobs)
    }

    private enum Keys: String, CodingKey {
        case name, substeps, innerTolerance, gamma, onDiscriminatorOnly, debias, solver, extrapolationStep, pastWeight, lambda, align, alpha, sosA, sosB, andersonDepth, linearTolerance, krylovDimension, rtol, atol
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let raw = try c.decode(String.self, forKey: .name)
        guard let n = SchemeName(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(forKey: .name, in: c,
                                                   debugDescription: "unknown scheme '\(raw)' (expected one of: \(SchemeName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        switch n {
        case .simga: self = .simga
        case .altga: self = .altga(substeps: try c.decodeIfPresent([Int].self, forKey: .substeps), innerTolerance: try c.decodeIfPresent(Double.self, forKey: .innerTolerance))
        case .consensus:
            self = .consensus(gamma: try c.decode(Double.self, forKey: .gamma), onDiscriminatorOnly: try c.decode(Bool.self, forKey: .onDiscriminatorOnly),
                              debias: try c.decode(ConsensusDebias.self, forKey: .debias))
        case .implicitEuler, .implicitMidpoint, .trapezoidal: self = .implicit(n, try c.decode(ImplicitConfiguration.self, forKey: .solver))
        case .heun: self = .heun
        case .rk4: self = .rk4
        case .extragradient: self = .extragradient(extrapolationStep: try c.decodeIfPresent(Double.self, forKey: .extrapolationStep))
        case .optimistic: self = .optimistic(pastWeight: try c.decode(Double.self, forKey: .pastWeight))
        case .sga: self = .sga(lambda: try c.decode(Double.self, forKey: .lambda), align: try c.decode(Bool.self, forKey: .align))
        case .hgd: self = .hgd
        case .la: self = .la(alpha: try c.decode(Double.self, forKey: .alpha))
        case .lola: self = .lola(alpha: try c.decode(Double.self, forKey: .alpha))
        case .sos: self = .sos(alpha: try c.decode(Double.self, forKey: .alpha), a: try c.decode(Double.self, forKey: .sosA), b: try c.decode(Double.self, forKey: .sosB))
        case .gdaAM: self = .gdaAM(depth: try c.decode(Int.self, forKey: .andersonDepth))
        case .rosenbrockEuler, .cgd:
            self = .linearlyImplicit(n, linearTolerance: try c.decode(Double.self, forKey: .linearTolerance),
                                     krylovDimension: try c.decode(Int.self, forKey: .krylovDimension))
        case .rkf45, .rkck, .rk8pd:
            self = .adaptive(FlowMethod(rawValue: raw)!, rtol: try c.decode(Double.self, forKey: .rtol), atol: try c.decode(Double.self, forKey: .atol))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(name.rawValue, forKey: .name)
        switch self {
        case let .altga(s, t): try c.encodeIfPresent(s, forKey: .substeps); try c.encodeIfPresent(t, forKey: .innerTolerance)
        case let .consensus(g, onD, d): try c.encode(g, forKey: .gamma); try c.encode(onD, forKey: .onDiscriminatorOnly); try c.encode(d, forKey: .debias)
        case let .implicit(_, s): try c.encode(s, forKey: .solver)
        case let .extragradient(e): try c.encodeIfPresent(e, forKey: .extrapolationStep)
        case let .optimistic(b): try c.encode(b, forKey: .pastWeight)
        case let .sga(l, a): try c.encode(l, forKey: .lambda); try c.encode(a, forKey: .align)
        case let .la(a), let .lola(a): try c.encode(a, forKey: .alpha)
        case let .sos(alpha, a, b): try c.encode(alpha, forKey: .alpha); try c.encode(a, forKey: .sosA); try c.encode(b, forKey: .sosB)
        case let .gdaAM(m): try c.encode(m, forKey: .andersonDepth)
        case let .linearlyImplicit(_, t, k): try c.encode(t, forKey: .linearTolerance); try c.encode(k, forKey: .krylovDimension)
        case let .adaptive(_, r, a): try c.encode(r, forKey: .rtol); try c.encode(a, forKey: .atol)
        case .simga, .heun, .rk4, .hgd: break
        }
    }
}

extension NetworkGAN.Utility: Codable {}
extension NetworkGAN.Layout: Codable {}
extension Activation: Codable {}
extension ConsensusDebias: Codable {}
extension MomentumForm: Codable {}
extension RootMethod: Codable {}
extension FlowMethod: Codable {}
