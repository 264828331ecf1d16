/// Momentum around any scheme's update direction d = (Φ_h(x) − x)/h (v(x) for SimGA, the
/// alternating update for AltGA, …), in one of two forms:
///
///     Polyak (heavy ball):   x_{k+1} = x_k + h·d_k + β·(x_k − x_{k−1})       (x_{−1} := x₀)
///     supplement, eq. (35):  x_{k+1} = x_k + h·m_k,  m_{k+1} = m_k + h·(d_k − γ·m_k)   (m₀ = 0)
///
/// Polyak's β may be negative (negative momentum, Gidel et al. 2019). This wrapper adds the
/// momentum after the base scheme's whole step; for AltGA that is not Gidel et al.'s method
/// (there each player's update carries its momentum before the next player moves), which is
/// `AlternatingMomentum`, the scheme `withMomentum` gives for AltGA in the Polyak form. The supplement's form is the explicit Euler step of
/// the second-order system x″ = v(x) − γx′; by its Lemma 11 the eigenvalues λ of that system's
/// Jacobian G′ = [[0, I], [v′, −γI]] satisfy λ(λ + γ) = μ for the eigenvalues μ of v′, and the
/// step map is I + hG′. Order 1 (in the Polyak form for β fixed as h → 0 the iteration is not a
/// consistent one-step method of dx/dt = v; it is the usual heavy-ball method). Per step: the
/// base scheme's work; the state carries x_{k−1} (Polyak) or m (supplement).
///
/// References: Polyak, "Some methods of speeding up the convergence of iteration methods" (1964);
/// Mescheder et al., "The Numerics of GANs" (2017), supplement eqs. (35)–(36) and Lemma 11;
/// Gidel et al., "Negative Momentum for Improved Game Dynamics" (AISTATS 2019).
public struct Momentum<Base: Scheme>: Scheme {
    /// The two forms (`MomentumForm`).
    public typealias Form = MomentumForm

    /// The scheme whose direction gets momentum.
    public let base: Base
    /// Polyak or the supplement's form.
    public let form: Form
    /// β (Polyak) or the friction γ (supplement).
    public let weight: Double

    /// Momentum around `base`; `weight` is β (Polyak) or γ (supplement).
    /// - Throws: unless the weight is finite; Polyak's β must lie in (−1, 1), the supplement's γ ≥ 0.
    public init(_ base: Base, form: Form, weight: Double) throws {
        switch form {
        case .polyak:
            guard weight.isFinite, weight > -1, weight < 1 else {
                throw GameFlowError.invalidInput("--momentum β must be a number in (−1, 1) for the polyak form (got \(weight))")
            }
        case .supplement:
            guard weight.isFinite, weight >= 0 else {
                throw GameFlowError.invalidInput("--momentum γ (the friction of the supplement's form) must be a finite number ≥ 0 (got \(weight))")
            }
        }
        self.base = base
        self.form = form
        self.weight = weight
    }

    public var name: String { "\(base.name)+momentum" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { base.evaluationsPerStep }

    /// The base scheme's cache, the step's start and the memory (x_{k−1} or m).
    public struct Cache {
        var base: Base.Cache
        var start: [Double]
        /// x_{k−1} (Polyak) or m (supplement).
        var memory: [Double]
        var hasPrevious = false
        /// The memory before the current trial step (error control only; made at its first trial).
        var savedMemory: [Double] = []
        var savedHasPrevious = false
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        let n = game.dimension
        return Cache(base: try base.makeCache(for: game), start: [Double](repeating: 0, count: n),
                     memory: [Double](repeating: 0, count: n))
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache,
                              context: inout StepContext<G>) -> StepResult {
        copyValues(x, into: &cache.start)
        let r = base.step(&x, h: h, cache: &cache.base, context: &context)
        guard r == .success else { return r }
        addMomentum(&x, h: h, cache: &cache)
        return .success
    }

    public func errorOrder(_ cache: Cache) -> Int? { base.errorOrder(cache.base) }

    /// The base's trial step with momentum added; the error estimate is the base's: exact for
    /// Polyak's form (the momentum term is known exactly), and for the supplement's the error
    /// the base's step puts into m (x moves by h·m of the previous step). The memory before the
    /// trial is kept for `rejectTrial`.
    public func trialStep<G: Game>(_ x: inout [Double], h: Double, error: inout [Double], retry: Bool,
                                   cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        saveValues(cache.memory, into: &cache.savedMemory)
        cache.savedHasPrevious = cache.hasPrevious
        copyValues(x, into: &cache.start)
        let r = base.trialStep(&x, h: h, error: &error, retry: retry, cache: &cache.base, context: &context)
        guard r == .success else { return r }
        addMomentum(&x, h: h, cache: &cache)
        return .success
    }

    public func rejectTrial(_ cache: inout Cache) {
        copyValues(cache.savedMemory, into: &cache.memory)
        cache.hasPrevious = cache.savedHasPrevious
        base.rejectTrial(&cache.base)
    }

    /// The momentum update after the base's step from `cache.start` to x.
    private func addMomentum(_ x: inout [Double], h: Double, cache: inout Cache) {
        let n = x.count, w = weight
        switch form {
        case .polyak:
            if cache.hasPrevious {
                for i in 0..<n { x[i] += w * (cache.start[i] - cache.memory[i]) }
            }
            copyValues(cache.start, into: &cache.memory)
        case .supplement:
            // x_base − start = h·d.
            for i in 0..<n {
                let m = cache.memory[i]
                cache.memory[i] = m + (x[i] - cache.start[i]) - h * w * m
                x[i] = cache.start[i] + h * m
            }
        }
        cache.hasPrevious = true
    }

    /// The step map on (x, x_{k−1}) (Polyak) or (x, m) (supplement), 2n × 2n, from the base
    /// scheme's n × n step map Φ: [[Φ + βI, −βI], [I, 0]] or [[I, hI], [Φ − I, (1 − hγ)I]].
    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        let phi = try base.linearizedStepMatrix(jacobian: jacobian, players: players, h: h)
        let n = jacobian.rows
        guard phi.rows == n else {
            throw GameFlowError.invalidInput("\(name): momentum around a multistep scheme has no step matrix here")
        }
        var c = Matrix(zeros: 2 * n, 2 * n)
        for i in 0..<n {
            for j in 0..<n {
                let id: Double = i == j ? 1 : 0
                switch form {
                case .polyak:
                    c[i, j] = phi[i, j] + weight * id
                    c[i, n + j] = -weight * id
                    c[n + i, j] = id
                case .supplement:
                    c[i, j] = id
                    c[i, n + j] = h * id
                    c[n + i, j] = phi[i, j] - id
                    c[n + i, n + j] = (1 - h * weight) * id
                }
            }
        }
        return c
    }

    /// [1 after the first step, x_{k−1} or m…, then the base scheme's].
    public func carried(_ cache: Cache) -> [Double] {
        [cache.hasPrevious ? 1 : 0] + cache.memory + base.carried(cache.base)
    }

    public func restoreCarried(_ values: [Double], into cache: inout Cache) throws {
        let n = cache.memory.count
        guard values.count >= 1 + n else {
            throw GameFlowError.invalidInput("\(name) carries at least \(1 + n) numbers between steps here; the checkpoint has \(values.count)")
        }
        try base.restoreCarried(Array(values[(1 + n)...]), into: &cache.base)
        cache.hasPrevious = values[0] != 0
        for i in 0..<n { cache.memory[i] = values[1 + i] }
    }
}

/// The two forms of `Momentum`.
public enum MomentumForm: String, Sendable, CaseIterable {
    /// Polyak's heavy ball: x + h·d + β(x − x_prev).
    case polyak
    /// The supplement's eq. (35): (x, m) ← (x + h·m, m + h(d − γm)).
    case supplement
}

/// Momentum for a scheme chosen at run time: `AlternatingMomentum` (each player's update
/// carries its momentum, Gidel et al.) for AltGA in the Polyak form, the whole-step wrapper
/// `Momentum(scheme, form:, weight:)` for every other scheme and form.
public func withMomentum<S: Scheme>(_ scheme: S, form: MomentumForm, weight: Double) throws -> any Scheme {
    if form == .polyak, let alt = scheme as? AltGA { return try AlternatingMomentum(alt, beta: weight) }
    return try Momentum(scheme, form: form, weight: weight)
}
