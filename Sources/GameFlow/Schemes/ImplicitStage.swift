import Numerics

/// How the implicit schemes (implicit Euler, implicit midpoint, trapezoidal) solve their
/// equation each step. One mechanism serves all three; see `ImplicitStage`.
public struct ImplicitSolverOptions: Sendable, Equatable {
    /// `--root-solver`: GSL's dense `hybridsj`/`hybrids`, KINSOL's Newton–Krylov, or `auto`
    /// (dense up to `RootMethod.denseLimit` unknowns, Newton–Krylov above).
    public var method: RootMethod
    /// Relative tolerance on the residual (see `ImplicitStage`).
    public var tolerance: Double
    /// Iteration cap of one solve (GSL iterations or Newton iterations).
    public var maxIterations: Int
    /// Newton–Krylov: SPGMR's Krylov dimension.
    public var krylovDimension: Int
    /// Newton–Krylov: KINSOL's line search (true) or full Newton steps.
    public var lineSearch = true
    /// Newton–Krylov: the forcing term (default Eisenstat–Walker choice 2: no extra JVP).
    public var forcing: Forcing = .eisenstatWalker2
    /// Inexact implicit schemes: exactly this budget per step, K Newton iterations of M
    /// Krylov iterations each (full steps, no line search), accepting the last iterate.
    public var budget: (newtonIterations: Int, krylovIterations: Int)?
    /// Start each solve from the explicit predictor (true, the default) or from x_k.
    public var predictor: Bool
    /// Accept a solve that stops short of `tolerance` (a stall: the line search or GSL makes no
    /// more progress, or the iterations run out) once its relative backward error
    /// ‖z − x_k − h·v(z)‖₂/‖z − x_k‖₂ is at most this (nil: never; see `ImplicitStage`).
    public var stallTolerance: Double?

    /// Options with these values (the defaults are the command line's).
    public init(method: RootMethod = .auto, tolerance: Double = 1e-10, maxIterations: Int = 100,
                krylovDimension: Int = 50, budget: (newtonIterations: Int, krylovIterations: Int)? = nil,
                predictor: Bool = true, stallTolerance: Double? = 0.1) {
        self.method = method
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.krylovDimension = krylovDimension
        self.budget = budget
        self.predictor = predictor
        self.stallTolerance = stallTolerance
    }

    /// Every option equal (the budget compared by value).
    public static func == (a: Self, b: Self) -> Bool {
        a.method == b.method && a.tolerance == b.tolerance && a.maxIterations == b.maxIterations
            && a.krylovDimension == b.krylovDimension && a.lineSearch == b.lineSearch && a.forcing == b.forcing
            && a.predictor == b.predictor && a.stallTolerance == b.stallTolerance
            && a.budget?.newtonIterations == b.budget?.newtonIterations && a.budget?.krylovIterations == b.budget?.krylovIterations
    }

    /// Throws a clear error for values out of range.
    public func validate() throws {
        guard tolerance.isFinite, tolerance > 0 else {
            throw GameFlowError.invalidInput("root tolerance must be a finite number > 0 (got \(tolerance))")
        }
        guard maxIterations >= 1 else {
            throw GameFlowError.invalidInput("root-solver iteration cap must be at least 1 (got \(maxIterations))")
        }
        guard (1...10_000).contains(krylovDimension) else {
            throw GameFlowError.invalidInput("Krylov dimension must be between 1 and 10000 (got \(krylovDimension))")
        }
        try forcing.validate()
        if let eta = stallTolerance, !(eta.isFinite && eta > 0 && eta < 1) {
            throw GameFlowError.invalidInput("root stall tolerance must be in (0, 1) (got \(eta))")
        }
        if let b = budget {
            guard (1...10_000).contains(b.newtonIterations), (1...10_000).contains(b.krylovIterations) else {
                throw GameFlowError.invalidInput("--newton-iterations and --krylov-iterations must be between 1 and 10000 (got \(b.newtonIterations), \(b.krylovIterations))")
            }
            guard method == .auto || method == .newtonKrylov else {
                throw GameFlowError.invalidInput("--newton-iterations/--krylov-iterations is a Newton–Krylov budget; it does not go with --root-solver \(method.rawValue)")
            }
        }
    }
}

/// One implicit stage, the equation every implicit scheme here solves per step:
///
///     d = z − x_k = c + h·α·D∘v(x_k + θ·d) + h·β·D∘v(x_k),
///
/// implicit Euler (α, θ, β) = (1, 1, 0), implicit midpoint (1, ½, 0), trapezoidal (½, 1, ½);
/// D = 1 and c = 0 except in an optimizer's metric (`ImplicitMetric`).
///
/// **Scale-safe unknowns.** The solvers see the increment in units of s, w = d/s, where s is the
/// power of two at or above max(max|x_k|, max|d₀|) and d₀ = c + h(α + β)·D∘v(x_k) is the
/// explicit predictor's increment; the residual is
///
///     G(w) = (w − (c + h·α·D∘v(x_k + θ·s·w) + h·β·D∘v(x_k))/s) / (1 + h·α·max D),
///     J_G(w) = (I − h·α·θ·D∘v′(x_k + θ·s·w)) / (1 + h·α·max D).
///
/// So the unknowns and residual are of order 1 whatever the size of x (GSL's norms underflowed
/// once the state fell below about 1e-154), scaling x_k by a power of two scales the step
/// exactly on a linear game, and the 1/(1 + hα max D) factor keeps the residual's round-off at
/// the scale of the unknowns for every h. A step succeeds once
/// max|Gᵢ| ≤ tolerance·max(max|x_k|, max|z|)/s, i.e. max|z − x_k − h·v(z)|/(1 + h) ≤
/// tolerance·max(max|x_k|, max|z|) for implicit Euler: relative, so that iterates converging to
/// an equilibrium at 0 keep being solved to full precision (down to the normal range: below
/// 2⁻¹⁰²² ≈ 2.2e-308 the spacing of doubles is absolute and so is the test). With x_k = 0 and v(0) = 0 the step is
/// exactly z = 0. The guess is the explicit predictor w₀ = d₀/s (one evaluation of v(x_k) per
/// step, which the scale and the trapezoidal rule need anyway), or w₀ = 0 without it.
public struct ImplicitStage: Sendable, Equatable {
    /// α: the weight of the implicit field term.
    public var alpha: Double
    /// θ: where the implicit field is evaluated, x + θ·d.
    public var theta: Double
    /// β: the weight of the explicit term v(x).
    public var beta: Double

    /// The stage d = h·α·v(x + θd) + h·β·v(x).
    public init(alpha: Double, theta: Double, beta: Double) {
        self.alpha = alpha
        self.theta = theta
        self.beta = beta
    }

    /// R(z) = (1 + (α(1 − θ) + β)z) / (1 − αθz) on x′ = λx.
    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double> {
        let explicitPart: Double = alpha * (1 - theta) + beta
        let implicitPart: Double = alpha * theta
        let numerator: Complex<Double> = Complex(1 + explicitPart * z.real, explicitPart * z.imaginary)
        let denominator: Complex<Double> = Complex(1 - implicitPart * z.real, -implicitPart * z.imaginary)
        return numerator / denominator
    }

    /// (I − hαθJ)⁻¹(I + h(α(1 − θ) + β)J), by LU: the exact step map of v = Jx.
    public func stepMatrix(jacobian j: Matrix, h: Double) throws -> Matrix {
        let n = j.rows
        var a = Matrix.identity(n), b = Matrix.identity(n)
        let explicitPart = alpha * (1 - theta) + beta
        for i in 0..<(n * n) {
            a.storage[i] -= h * alpha * theta * j.storage[i]
            b.storage[i] += h * explicitPart * j.storage[i]
        }
        return try a.solve(columns: b)
    }
}

/// Solver, system and buffers of an implicit scheme's run (shared by the three schemes).
public final class ImplicitStageCache {
    let system: any ImplicitStageSystemProtocol
    let solver: any RootSolving
    let method: RootMethod
    var metric: ImplicitMetric?
    var vx: [Double]
    var w: [Double]
    var offset: [Double]

    init(system: any ImplicitStageSystemProtocol, solver: any RootSolving, method: RootMethod, metric: ImplicitMetric?, dimension n: Int) {
        self.system = system
        self.solver = solver
        self.method = method
        self.metric = metric
        vx = [Double](repeating: 0, count: n)
        w = vx
        offset = vx
    }
}

/// The schemes built on `ImplicitStage`; they share makeCache, step and the stability analysis.
public protocol ImplicitStageScheme: Scheme where Cache == ImplicitStageCache {
    /// The scheme's (α, θ, β).
    var stage: ImplicitStage { get }
    /// How each step's implicit equation is solved.
    var solverOptions: ImplicitSolverOptions { get }
    /// Solve in the optimizer's metric (`ImplicitMetric`), nil for the plain scheme.
    var metric: Preconditioner? { get }
}

extension ImplicitStageScheme {
    public var evaluationsPerStep: Int { 1 }

    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? { stage.stabilityFunction(z) }

    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        try stage.stepMatrix(jacobian: jacobian, h: h)
    }

    /// The solver for this game (dense GSL or KINSOL, as `solverOptions.method` resolves) and its buffers.
    public func makeCache<G: Game>(for game: G) throws -> ImplicitStageCache {
        try solverOptions.validate()
        let n = game.dimension
        let system = ImplicitStageSystem(game: game, stage: stage)
        let options = solverOptions
        let chosen = options.budget != nil ? .newtonKrylov
            : options.method.resolved(dimension: n, exactDerivatives: game.hasExactDerivatives)
        let solver: any RootSolving
        switch chosen {
        case .newtonKrylov:
            let nk = options.budget.map { NewtonKrylovOptions.budget(krylovIterations: $0.krylovIterations) }
                ?? NewtonKrylovOptions(krylovDimension: options.krylovDimension, lineSearch: options.lineSearch,
                                       forcing: options.forcing)
            solver = try NewtonKrylovSolver(system: system, tolerance: options.tolerance,
                                            maxIterations: options.budget?.newtonIterations ?? options.maxIterations, options: nk,
                                            stallTolerance: options.stallTolerance)
        default:
            solver = try RootSolver(system: system, method: chosen, tolerance: options.tolerance, maxIterations: options.maxIterations,
                                    stallTolerance: options.stallTolerance)
        }
        return ImplicitStageCache(system: system, solver: solver, method: chosen,
                                  metric: metric.map { ImplicitMetric($0, dimension: n) }, dimension: n)
    }

    /// The optimizer's moments when solving in its metric; nothing otherwise.
    public func carried(_ cache: ImplicitStageCache) -> [Double] { cache.metric?.carried ?? [] }

    /// Restores what `carried` returned.
    public func restoreCarried(_ values: [Double], into cache: inout ImplicitStageCache) throws {
        guard let m = cache.metric else { return try expectCarried(values, count: 0) }
        try m.restore(values, scheme: name)
    }

    /// One implicit step: solves for the increment (scale-safe), from the explicit predictor.
    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout ImplicitStageCache,
                              context: inout StepContext<G>) -> StepResult {
        let n = x.count
        context.evaluate(x, into: &cache.vx)
        let a = stage.alpha, b = stage.beta
        // D and c: 1 and 0, or the optimizer's metric frozen at x_k.
        let diagonal = cache.metric?.prepare(gradient: cache.vx, h: h, offset: &cache.offset)
        if diagonal == nil { for i in 0..<n { cache.offset[i] = 0 } }
        var predictorSize = 0.0, maxD = 1.0
        for i in 0..<n {
            let dI = diagonal?[i] ?? 1
            if b != 0 { cache.offset[i] += h * b * dI * cache.vx[i] }
            predictorSize = max(predictorSize, abs(cache.offset[i] + h * a * dI * cache.vx[i]))
        }
        if let d = diagonal { maxD = maxAbs(d) }
        let s = powerOfTwoAtLeast(max(maxAbs(x), predictorSize))
        if s == 0 { return .success }          // x = 0 and v(0) = 0: z = 0 exactly
        guard s.isFinite, predictorSize.isFinite else { return .failure("implicit step: v(x) is not finite") }
        cache.system.prepare(origin: x, scale: s, h: h, diagonal: diagonal, maxDiagonal: maxD,
                             offset: cache.offset, step: context.step)
        if solverOptions.predictor {
            for i in 0..<n { cache.w[i] = (cache.offset[i] + h * a * (diagonal?[i] ?? 1) * cache.vx[i]) / s }
        } else {
            for i in 0..<n { cache.w[i] = 0 }
        }
        let r = cache.solver.solve(&cache.w)
        context.stats.rootSolves += 1
        context.stats.rootIterations += r.iterations
        context.stats.fieldEvaluations += r.residualEvaluations
        context.stats.jacobianEvaluations += r.jacobianEvaluations
        context.stats.jacobianVectorProducts += r.jacobianVectorProducts
        if r.stalled { context.stats.rootStalls += 1 }
        if cache.method == .newtonKrylov {
            context.stats.newtonIterations += r.iterations
            context.stats.krylovIterations += r.krylovIterations
            context.stats.lineSearchBacktracks += r.backtracks
        }
        if let failure = r.failure {
            context.stats.rootFailures += 1
            return .failure("\(name): \(failure)")
        }
        for i in 0..<n { x[i] += s * cache.w[i] }
        cache.metric?.finish(increment: cache.w, scale: s, h: h)
        return .success
    }
}

/// The smallest power of two ≥ m (0 for 0; m itself when not finite).
func powerOfTwoAtLeast(_ m: Double) -> Double {
    guard m > 0, m.isFinite else { return m }
    let p = Double(sign: .plus, exponent: m.exponent, significand: 1)
    return p == m ? p : 2 * p
}

/// The per-step data of an implicit stage, type-erased over the game.
protocol ImplicitStageSystemProtocol: RootSystem {
    func prepare(origin: [Double], scale: Double, h: Double, diagonal: [Double]?, maxDiagonal: Double,
                 offset: [Double], step: Int)
}

/// G(w) and its derivatives (see `ImplicitStage`).
final class ImplicitStageSystem<G: Game>: ImplicitStageSystemProtocol {
    let game: G
    let stage: ImplicitStage
    private var origin: [Double]
    private var offset: [Double]
    private var diagonal: [Double]
    private var hasDiagonal = false
    private var s = 1.0, h = 0.0, norm = 1.0, originSize = 0.0
    private var step = 0
    private var y: [Double]
    private var v: [Double]

    init(game: G, stage: ImplicitStage) {
        self.game = game
        self.stage = stage
        origin = [Double](repeating: 0, count: game.dimension)
        offset = origin; diagonal = origin; y = origin; v = origin
    }

    var dimension: Int { game.dimension }

    func prepare(origin x: [Double], scale: Double, h: Double, diagonal d: [Double]?, maxDiagonal: Double,
                 offset c: [Double], step: Int) {
        copyValues(x, into: &origin)
        copyValues(c, into: &offset)
        hasDiagonal = d != nil
        if let d { copyValues(d, into: &diagonal) }
        s = scale
        self.h = h
        norm = 1 / (1 + h * stage.alpha * maxDiagonal)
        originSize = maxAbs(x)
        self.step = step
    }

    /// y = x + θ·s·w, the point where the stage evaluates v.
    private func point(_ w: [Double]) {
        let ts = stage.theta * s
        for i in 0..<w.count { y[i] = origin[i] + ts * w[i] }
    }

    func residual(at w: [Double], into f: inout [Double]) -> Bool {
        point(w)
        game.evaluate(at: y, step: step, into: &v)
        // Divided by s, not multiplied by 1/s, which overflows for a subnormal s.
        let ha = h * stage.alpha
        for i in 0..<w.count {
            let dv = hasDiagonal ? diagonal[i] * v[i] : v[i]
            f[i] = (w[i] - (offset[i] + ha * dv) / s) * norm
        }
        return true
    }

    func jacobian(at w: [Double], into j: inout [Double]) -> Bool {
        point(w)
        game.jacobian(at: y, step: step, into: &j)
        let n = w.count
        let c = -h * stage.alpha * stage.theta * norm
        for i in 0..<n {
            let row = c * (hasDiagonal ? diagonal[i] : 1)
            for k in 0..<n { j[i * n + k] *= row }
            j[i * n + i] += norm
        }
        return true
    }

    func jacobianVectorProduct(at w: [Double], _ u: [Double], into out: inout [Double]) -> Bool {
        point(w)
        game.jacobianVectorProduct(at: y, u, step: step, into: &v)
        let c = h * stage.alpha * stage.theta
        for i in 0..<w.count {
            let jv = hasDiagonal ? diagonal[i] * v[i] : v[i]
            out[i] = (u[i] - c * jv) * norm
        }
        return true
    }

    /// ‖D⁻¹·F‖₂/‖D⁻¹·d‖₂ for the unscaled residual F = d − c − hα·D∘v(y) − hβ·D∘v(x_k) and
    /// d = s·w (for implicit Euler ‖z − x_k − h·v(z)‖₂/‖z − x_k‖₂): z solves the stage exactly
    /// for a field ṽ with ‖ṽ − v‖₂ at most this fraction of the step's own field, measured in the
    /// metric the step is taken in (D: the optimizer's, or 1).
    func backwardError(residual f: [Double], at w: [Double]) -> Double {
        var num = 0.0, den = 0.0
        for i in 0..<w.count {
            let inv = hasDiagonal ? 1 / diagonal[i] : 1
            let a = f[i] * inv / norm, b = w[i] * inv
            num += a * a
            den += b * b
        }
        return den > 0 ? (num / den).squareRoot() : (num > 0 ? .infinity : 0)
    }

    /// max(max|x_k|, max|x_k + s·w|, 2⁻¹⁰²²)/s: below the normal range (2⁻¹⁰²² ≈ 2.2e-308) the
    /// spacing of doubles is absolute, so the tolerance is too.
    func toleranceScale(at w: [Double]) -> Double {
        var m = max(originSize, Double.leastNormalMagnitude)
        for i in 0..<w.count { m = max(m, abs(origin[i] + s * w[i])) }
        return m / s
    }
}

/// Implicit steps in an optimizer's metric: the preconditioner P is frozen at x_k for the step
/// (a proximal-point step in that metric), so implicit schemes compare with the paper's
/// RMSProp runs on equal terms.
///
/// With g = v(x_k) (the predictor's evaluation) and the stage's direction
/// u = α·v(x_k + θd) + β·v(x_k) (v(z) for implicit Euler):
///
///     RMSProp: s⁺ = ρ·s + (1 − ρ)·g²,  P = 1/√(s⁺ + ε),  d = h·P∘u,
///     Adam:    s⁺ = β₂·s + (1 − β₂)·g², P = 1/(√(s⁺/(1 − β₂ᵗ)) + ε),
///              m⁺ = β₁·m + (1 − β₁)·u,  d = h·P∘m⁺/(1 − β₁ᵗ)  (t = steps taken + 1).
///
/// So the accumulator s is updated exactly as explicit RMSProp/Adam would update it at x_k
/// (with v(x_k)); what changes is that the step moves along the implicit direction u, and
/// Adam's first moment m takes u. With ρ = 0 (RMSProp) P depends on g alone. In `ImplicitStage`
/// terms: D = P (RMSProp) or P(1 − β₁)/(1 − β₁ᵗ) (Adam), c = h·P∘β₁m/(1 − β₁ᵗ) (Adam; 0 for RMSProp).
final class ImplicitMetric {
    let method: Preconditioner
    var first: [Double]        // Adam's m
    var second: [Double]       // s
    var steps = 0
    private var diagonal: [Double]
    private var metricOffset: [Double]
    private var nextSecond: [Double]

    init(_ method: Preconditioner, dimension n: Int) {
        self.method = method
        let initial: Double
        if case .rmsprop(_, _, let i) = method { initial = i } else { initial = 0 }
        first = [Double](repeating: 0, count: n)
        second = [Double](repeating: initial, count: n)
        diagonal = first; metricOffset = first; nextSecond = first
    }

    /// D for this step; writes the metric's part of c into `offset`.
    func prepare(gradient g: [Double], h: Double, offset: inout [Double]) -> [Double] {
        let n = g.count
        switch method {
        case let .rmsprop(decay, eps, _):
            for i in 0..<n {
                let s = decay * second[i] + (1 - decay) * g[i] * g[i]
                nextSecond[i] = s
                diagonal[i] = 1 / (s + eps).squareRoot()
                offset[i] = 0
                metricOffset[i] = 0
            }
        case let .adam(b1, b2, eps):
            let t = Double(steps + 1)
            let c1 = 1 - .pow(b1, t), c2 = 1 - .pow(b2, t)
            for i in 0..<n {
                let s = b2 * second[i] + (1 - b2) * g[i] * g[i]
                nextSecond[i] = s
                let p = 1 / ((s / c2).squareRoot() + eps)
                diagonal[i] = p * (1 - b1) / c1
                metricOffset[i] = h * p * b1 * first[i] / c1
                offset[i] = metricOffset[i]
            }
        }
        return diagonal
    }

    /// After a successful step with increment d = s·w: commit s⁺ and (Adam) m⁺.
    func finish(increment w: [Double], scale s: Double, h: Double) {
        steps += 1
        copyValues(nextSecond, into: &second)
        if case let .adam(b1, _, _) = method {
            // u = (d − c_metric)/(h·D) is the stage's direction; m⁺ = β₁m + (1 − β₁)u.
            for i in 0..<w.count {
                let u = (s * w[i] - metricOffset[i]) / (h * diagonal[i])
                first[i] = b1 * first[i] + (1 - b1) * u
            }
        }
    }

    /// [steps taken, m…, s…], as `Preconditioned` carries them.
    var carried: [Double] { [Double(steps)] + first + second }

    func restore(_ values: [Double], scheme: String) throws {
        let n = first.count
        guard values.count == 1 + 2 * n, let k = Int(exactly: values[0]), k >= 0 else {
            throw GameFlowError.invalidInput("\(scheme) in the \(method.name) metric carries \(1 + 2 * n) numbers between steps here (a step count first); the checkpoint has \(values.count)")
        }
        steps = k
        for i in 0..<n { first[i] = values[1 + i]; second[i] = values[1 + n + i] }
    }
}
