/// The schemes by their command-line names, for front ends that choose one at run time.
public enum SchemeName: String, CaseIterable, Sendable {
    /// SimGA (explicit Euler), AltGA (alternating), consensus optimisation.
    case simga, altga, consensus
    /// Implicit Euler (a root solve per step).
    case implicitEuler = "implicit-euler"
    /// The implicit midpoint rule.
    case implicitMidpoint = "implicit-midpoint"
    /// The trapezoidal rule (Crank–Nicolson).
    case trapezoidal
    /// Heun's RK2, classical RK4, extragradient, optimistic.
    case heun, rk4, extragradient, optimistic
    /// Symplectic gradient adjustment (Balduzzi et al. 2018).
    case sga
    /// Hamiltonian gradient descent: x − h·v′ᵀv (`HGD`).
    case hgd
    /// LA, the look-ahead gradient (Letcher et al. 2019): v + α·J_off·v (`LookAheadGradient`).
    case la
    /// LOLA in Letcher et al.'s form: LA plus the opponents' shaping term (`LOLA`).
    case lola
    /// Stable opponent shaping (Letcher et al. 2019): LA plus the shaping term scaled by p ∈ [0, 1] (`LOLA`).
    case sos
    /// One linear solve (I − hv′)d = v per step by GMRES (`LinearlyImplicit`).
    case rosenbrockEuler = "rosenbrock-euler"
    /// Competitive gradient descent (Schäfer & Anandkumar 2019): (I − hJ_off)d = v (`LinearlyImplicit`).
    case cgd
    /// Anderson mixing of the SimGA map (He et al. 2022; `GDAAM`).
    case gdaAM = "gda-am"
    /// Embedded explicit Runge–Kutta pairs (`EmbeddedRK`), run under the integrator's error
    /// control (`stepSizeControl`): `--step` is the first trial and the largest step.
    case rkf45, rkck, rk8pd

    /// Knobs a front end may pass; each scheme reads only its own.
    public struct Knobs: Sendable {
        /// Consensus γ (required for consensus).
        public var gamma: Double?
        /// The implicit schemes' root solve.
        public var implicit: ImplicitSolverOptions
        /// The implicit schemes: solve in this optimizer's metric (nil: the plain scheme).
        public var implicitMetric: Preconditioner?
        /// The embedded pairs' error control (`stepSizeControl`): relative and absolute tolerance.
        public var adaptiveTolerances = (relative: 1e-6, absolute: 1e-9)
        /// Extragradient's look-ahead step η (nil: h).
        public var extrapolationStep: Double?
        /// Optimistic's past weight b (nil: 1).
        public var pastWeight: Double?
        /// AltGA's sub-steps per player (nil: one each) and inner tolerance.
        public var substeps: [Int]?
        /// AltGA's inner-loop tolerance (with `substeps`).
        public var innerTolerance: Double?
        /// Consensus only on this player's block (nil: all players).
        public var consensusPlayer: Int?
        /// Consensus's estimate of L on minibatches.
        public var consensusDebias: ConsensusDebias = .none
        /// SGA's λ (required for sga).
        public var lambda: Double?
        /// SGA: choose λ's sign by Balduzzi et al.'s alignment rule.
        public var sgaAlign = false
        /// The look-ahead α of LA, LOLA and SOS (required for them).
        public var alpha: Double?
        /// SOS's thresholds a, b ∈ (0, 1) (Letcher et al.'s Algorithm 1; the reference code's 0.5 and 0.1).
        public var sosA = LOLA.referenceSOS.a, sosB = LOLA.referenceSOS.b
        /// The linearly implicit schemes' GMRES relative residual tolerance.
        public var linearTolerance = 1e-10
        /// GDA-AM's Anderson depth m (required for gda-am).
        public var andersonDepth: Int?

        /// Knobs with these values and the others at their defaults.
        public init(gamma: Double? = nil, implicit: ImplicitSolverOptions = ImplicitSolverOptions(),
                    implicitMetric: Preconditioner? = nil) {
            self.gamma = gamma
            self.implicit = implicit
            self.implicitMetric = implicitMetric
        }

        /// Dense GSL knobs, as before the Newton–Krylov solver existed.
        public init(gamma: Double? = nil, rootTolerance: Double, rootMaxIterations: Int, rootMethod: RootMethod? = nil) {
            self.init(gamma: gamma, implicit: ImplicitSolverOptions(method: rootMethod ?? .auto, tolerance: rootTolerance,
                                                                    maxIterations: rootMaxIterations))
        }
    }

    /// Whether runs of this name are error controlled (the embedded pairs): their steps are not
    /// one fixed h, so stability scans, orders in h and the fixed-h benchmarks leave them out.
    public var isAdaptive: Bool { self == .rkf45 || self == .rkck || self == .rk8pd }

    /// Whether the scheme's step map linearised at a point follows from v′ there (LOLA's does not:
    /// the derivative of its shaping term needs third derivatives of the utilities; GDA-AM's
    /// step depends on its history).
    public var hasLinearizedStepMap: Bool { self != .lola && self != .sos && self != .gdaAM }

    /// LA, LOLA and SOS: the schemes with the look-ahead α.
    public var usesLookAhead: Bool { self == .la || self == .lola || self == .sos }

    /// LOLA and SOS: the schemes that need the players' utility gradients (`UtilityGradients`).
    public var needsUtilityGradients: Bool { self == .lola || self == .sos }

    /// The schemes with a fixed step size h.
    public static var fixedStep: [SchemeName] { allCases.filter { !$0.isAdaptive } }

    /// Whether the scheme solves an implicit equation each step (root-solver options apply).
    public var isImplicit: Bool { self == .implicitEuler || self == .implicitMidpoint || self == .trapezoidal }

    /// Parses a command-line name; the error lists the valid ones.
    public static func parse(_ s: String) throws -> SchemeName {
        guard let n = SchemeName(rawValue: s) else {
            throw GameFlowError.invalidInput("unknown scheme '\(s)' (expected one of: \(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return n
    }

    /// The scheme with these knobs.
    /// - Throws: when a required knob is missing (γ for consensus, λ for SGA) or one is out of range.
    public func make(_ knobs: Knobs) throws -> any Scheme {
        switch self {
        case .simga: return SimGA()
        case .altga: return try AltGA(substeps: knobs.substeps, innerTolerance: knobs.innerTolerance)
        case .consensus:
            guard let g = knobs.gamma else { throw GameFlowError.invalidInput("consensus needs --gamma G (γ ≥ 0)") }
            return try Consensus(gamma: g, onlyPlayer: knobs.consensusPlayer, debias: knobs.consensusDebias)
        case .implicitEuler: return try ImplicitEuler(knobs.implicit, metric: knobs.implicitMetric)
        case .implicitMidpoint: return try ImplicitMidpoint(knobs.implicit, metric: knobs.implicitMetric)
        case .trapezoidal: return try Trapezoidal(knobs.implicit, metric: knobs.implicitMetric)
        case .heun: return Heun()
        case .rk4: return RK4()
        case .extragradient: return try Extragradient(extrapolationStep: knobs.extrapolationStep)
        case .optimistic: return try Optimistic(pastWeight: knobs.pastWeight ?? 1)
        case .sga:
            guard let l = knobs.lambda else { throw GameFlowError.invalidInput("sga needs --lambda λ (λ ≥ 0)") }
            return try SGA(lambda: l, align: knobs.sgaAlign)
        case .hgd: return HGD()
        case .la:
            guard let a = knobs.alpha else { throw GameFlowError.invalidInput("la needs --alpha α (α ≥ 0)") }
            return try LookAheadGradient(alpha: a)
        case .lola:
            guard let a = knobs.alpha else { throw GameFlowError.invalidInput("lola needs --alpha α (α ≥ 0)") }
            return try LOLA.scheme(alpha: a)
        case .sos:
            guard let a = knobs.alpha else { throw GameFlowError.invalidInput("sos needs --alpha α (α ≥ 0)") }
            return try LOLA.sos(alpha: a, a: knobs.sosA, b: knobs.sosB)
        case .gdaAM:
            guard let m = knobs.andersonDepth else { throw GameFlowError.invalidInput("gda-am needs --anderson-depth m (m ≥ 0)") }
            return try GDAAM(depth: m)
        case .rosenbrockEuler, .cgd:
            return try LinearlyImplicit(LinearlyImplicit.Variant(rawValue: rawValue)!, linearTolerance: knobs.linearTolerance,
                                        krylovDimension: knobs.implicit.krylovDimension)
        case .rkf45, .rkck, .rk8pd:
            return try EmbeddedRK(method: FlowMethod(rawValue: rawValue)!)
        }
    }

    /// How the integrator sizes this scheme's steps: error control with the knobs' tolerances
    /// for the embedded pairs (`isAdaptive`), fixed steps for every other scheme.
    public func stepSizeControl(_ knobs: Knobs) -> StepSizeControl {
        guard isAdaptive else { return .fixed }
        return .errorControl(ErrorControl(relativeTolerance: knobs.adaptiveTolerances.relative, absoluteTolerance: knobs.adaptiveTolerances.absolute))
    }
}

/// Integrates `game` from `initialState` with `scheme`: `Integrator(...).solve()` in one call,
/// usable with existentials (`any Game`, `any Scheme`), which it opens once (the loop then runs
/// as unspecialised generic code; `gameflow-bench existential` measures what that costs).
public func solve<G: Game, S: Scheme>(_ game: G, scheme: S, from initialState: [Double],
                                      options: SolveOptions, progressEvery: Int = 1000,
                                      progress: ((Int, Stats) -> Void)? = nil) throws -> Solution {
    var integrator = try Integrator(game: game, scheme: scheme, initialState: initialState, options: options)
    return integrator.solve(progressEvery: progressEvery) { progress?($0.stepsCompleted, $0.stats) }
}
