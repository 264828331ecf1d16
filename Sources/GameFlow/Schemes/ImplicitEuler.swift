import Numerics

/// Implicit (backward) Euler, the proximal-point method for games:
///
///     x_{k+1} = x_k + h·v(x_{k+1}),
///
/// solved each step for z = x_{k+1} as the root of the scaled residual
///
///     F(z) = (z − x_k − h·v(z)) / (1 + h),   J_F(z) = (I − h·v′(z)) / (1 + h),
///
/// with GSL's `hybridsj` (Powell's hybrid dogleg method with that exact Jacobian) or, when the
/// game has no exact derivatives or `hybrids` is chosen, with `hybrids` (finite-difference
/// Jacobian inside GSL). The factor 1/(1 + h) changes neither the root nor the iteration; it
/// keeps the residual's round-off at the scale of x and v(z) for every h (unscaled, h·v(z)
/// carries h times v's round-off). The guess is x_k. A step succeeds once
/// max |Fᵢ(z)| ≤ `tolerance`·max(max|x_k,i|, max|zᵢ|) — relative, so that iterates converging
/// to an equilibrium at 0 keep being solved to full precision — within `maxIterations`;
/// otherwise the step fails with GSL's reason and the run ends with status `failed`, keeping
/// x_k — never an abort.
///
/// Order 1; per step one root solve, whose iterations, residual evaluations (each one evaluation
/// of v) and Jacobian evaluations are counted. R(z) = 1/(1 − z): A-stable, so on a linear field
/// with every Re λ < 0 it converges for every h > 0; on a bilinear game it contracts by
/// 1/√(1 + h²σ²). Consensus optimisation is a first-order approximation of it.
///
/// Reference: Mescheder, Nowozin, Geiger, "The Numerics of GANs" (NIPS 2017), §3.3 (the
/// implicit method consensus approximates); Rockafellar, "Monotone operators and the proximal
/// point algorithm" (1976).
public struct ImplicitEuler: Scheme {
    /// Relative tolerance on max |Fᵢ(z)| (see above).
    public let tolerance: Double
    /// Iteration cap of one solve.
    public let maxIterations: Int
    /// `nil`: `hybridsj` when the game's derivatives are exact, `hybrids` otherwise.
    public let method: RootMethod?

    public init(tolerance: Double, maxIterations: Int, method: RootMethod? = nil) throws {
        guard tolerance.isFinite, tolerance > 0 else {
            throw GameFlowError.invalidInput("implicit Euler tolerance must be a finite number > 0 (got \(tolerance))")
        }
        guard maxIterations >= 1 else {
            throw GameFlowError.invalidInput("implicit Euler iteration cap must be at least 1 (got \(maxIterations))")
        }
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.method = method
    }

    public var name: String { "implicit-euler" }
    public var order: Int { 1 }
    /// One residual evaluation per solver iteration; nominally counted as 1.
    public var evaluationsPerStep: Int { 1 }

    /// R(z) = 1/(1 − z).
    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? { 1 / (1 - z) }

    /// (I − hJ)⁻¹, by LU: exact, no root solve. Throws when I − hJ is singular (hλ = 1).
    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        let n = jacobian.rows
        var a = Matrix.identity(n)
        for i in 0..<(n * n) { a.storage[i] -= h * jacobian.storage[i] }
        var phi = Matrix(zeros: n, n)
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[j] = 1
            let col = try a.solve(e)
            for i in 0..<n { phi[i, j] = col[i] }
        }
        return phi
    }

    public final class Cache {
        let system: any ImplicitEulerSystemProtocol
        let solver: RootSolver
        var z: [Double]
        init(system: any ImplicitEulerSystemProtocol, solver: RootSolver, dimension: Int) {
            self.system = system
            self.solver = solver
            self.z = [Double](repeating: 0, count: dimension)
        }
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        let system = ImplicitEulerSystem(game: game)
        let chosen = method ?? (game.hasExactDerivatives ? .hybridsj : .hybrids)
        let solver = try RootSolver(system: system, method: chosen, tolerance: tolerance, maxIterations: maxIterations)
        return Cache(system: system, solver: solver, dimension: game.dimension)
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache,
                              context: inout StepContext<G>) -> StepResult {
        cache.system.prepare(origin: x, h: h, step: context.step)
        copyValues(x, into: &cache.z)
        let r = cache.solver.solve(&cache.z, scale: maxAbs(x))
        context.stats.rootSolves += 1
        context.stats.rootIterations += r.iterations
        context.stats.fieldEvaluations += r.residualEvaluations
        context.stats.jacobianEvaluations += r.jacobianEvaluations
        if let failure = r.failure {
            context.stats.rootFailures += 1
            return .failure("implicit Euler: \(failure)")
        }
        copyValues(cache.z, into: &x)
        return .success
    }
}

/// The per-step data of the implicit equation, type-erased over the game.
public protocol ImplicitEulerSystemProtocol: RootSystem {
    func prepare(origin: [Double], h: Double, step: Int)
}

/// F(z) = (z − x_k − h·v(z)) / (1 + h), J_F(z) = (I − h·v′(z)) / (1 + h).
final class ImplicitEulerSystem<G: Game>: ImplicitEulerSystemProtocol {
    let game: G
    var origin: [Double]
    var h = 0.0
    var step = 0
    private var v: [Double]

    init(game: G) {
        self.game = game
        self.origin = [Double](repeating: 0, count: game.dimension)
        self.v = origin
    }

    var dimension: Int { game.dimension }

    func prepare(origin x: [Double], h: Double, step: Int) {
        copyValues(x, into: &origin)
        self.h = h
        self.step = step
    }

    func residual(at z: [Double], into f: inout [Double]) -> Bool {
        game.evaluate(at: z, step: step, into: &v)
        let scale = 1 / (1 + h)
        for i in 0..<z.count { f[i] = (z[i] - origin[i] - h * v[i]) * scale }
        return true
    }

    func jacobian(at z: [Double], into j: inout [Double]) -> Bool {
        game.jacobian(at: z, step: step, into: &j)
        let n = z.count
        let scale = 1 / (1 + h)
        for i in 0..<(n * n) { j[i] *= -h * scale }
        for i in 0..<n { j[i * n + i] += scale }
        return true
    }
}
