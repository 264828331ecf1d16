import CSundials
import Foundation
import Numerics

/// The linearly implicit (Rosenbrock–Euler) family: one linear solve per step,
///
///     (I − h·J̃)·d = v(x),   x_{k+1} = x_k + h·d,
///
/// by restarted GMRES (SUNDIALS' SPGMR, matrix-free) on the game's exact Jacobian-vector
/// products, to a relative residual ‖v − (I − hJ̃)d‖₂ ≤ `linearTolerance`·‖v‖₂. Work per step:
/// one evaluation of v and, per GMRES iteration, one JVP (`rosenbrock-euler`) or one JVP per
/// player (`cgd`); `Stats.krylovIterations` counts the iterations.
///
/// - `rosenbrock-euler`: J̃ = v′(x), one Newton step of implicit Euler from x. Order 1; on a
///   linear game it *is* implicit Euler: stability function R(z) = 1/(1 − z), A-stable.
/// - `cgd`: J̃ = J_off, v′ with its diagonal player blocks set to zero — competitive gradient
///   descent with η = h, for any number of players. With two players, J_off = [[0, B], [C, 0]]
///   (B = ∂₂v₁, C = ∂₁v₂) and the first block of the solve is
///   d₁ = (I − h²BC)⁻¹(v₁ + h·B·v₂); in Schäfer and Anandkumar's minimising sign (v₁ = −∇ₓf,
///   B = −D²ₓᵧf, C = −D²ᵧₓg) the step h·d₁ is their −η(I − η²D²ₓᵧf D²ᵧₓg)⁻¹(∇ₓf − ηD²ₓᵧf ∇ᵧg).
///   On a bilinear game (J = J_off) it contracts by 1/√(1 + h²σ²) per step, as implicit Euler;
///   on games with non-zero diagonal blocks it ignores each player's own curvature. Order 1.
///   ACGD is `cgd` in RMSProp's metric: `--optimizer rmsprop` around it.
///
/// Reference: Schäfer & Anandkumar, "Competitive Gradient Descent" (NeurIPS 2019), eq. (4);
/// Hairer & Wanner, "Solving Ordinary Differential Equations II" (1996), §IV.7 (Rosenbrock
/// methods); SUNDIALS SUNLinSol_SPGMR.
public struct LinearlyImplicit: Scheme {
    /// Which Jacobian the linear solve uses.
    public enum Variant: String, Sendable {
        /// J̃ = v′ (one Newton step of implicit Euler).
        case rosenbrockEuler = "rosenbrock-euler"
        /// J̃ = v′ without its diagonal player blocks (competitive gradient descent).
        case cgd
    }

    public let variant: Variant
    /// GMRES's relative residual tolerance.
    public let linearTolerance: Double
    /// SPGMR's Krylov dimension (iterations between restarts).
    public let krylovDimension: Int
    /// SPGMR's restarts at most.
    public static let maxRestarts = 20

    /// A linearly implicit scheme.
    /// - Parameters:
    ///   - variant: rosenbrock-euler or cgd.
    ///   - linearTolerance: GMRES's relative residual tolerance, in (0, 1) (default 1e-10).
    ///   - krylovDimension: GMRES iterations between restarts (default 50; capped at n).
    public init(_ variant: Variant, linearTolerance: Double = 1e-10, krylovDimension: Int = 50) throws {
        guard linearTolerance.isFinite, linearTolerance > 0, linearTolerance < 1 else {
            throw GameFlowError.invalidInput("--linear-tolerance must be a number in (0, 1) (got \(linearTolerance))")
        }
        guard (1...10_000).contains(krylovDimension) else {
            throw GameFlowError.invalidInput("Krylov dimension must be between 1 and 10000 (got \(krylovDimension))")
        }
        self.variant = variant
        self.linearTolerance = linearTolerance
        self.krylovDimension = krylovDimension
    }

    public var name: String { variant.rawValue }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? {
        variant == .rosenbrockEuler ? 1 / (1 - z) : nil
    }

    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        var j = jacobian
        if variant == .cgd { for block in players { for r in block { for c in block { j[r, c] = 0 } } } }
        // (I − hJ̃)⁻¹(I + h(J − J̃)): the step d solves (I − hJ̃)d = Jx.
        let n = j.rows
        var a = Matrix(zeros: n, n), rhs = Matrix(zeros: n, n)
        for r in 0..<n {
            for c in 0..<n {
                a[r, c] = (r == c ? 1 : 0) - h * j[r, c]
                rhs[r, c] = (r == c ? 1 : 0) + h * (jacobian[r, c] - j[r, c])
            }
        }
        return try a.solve(columns: rhs)
    }

    public func makeCache<G: Game>(for game: G) throws -> LinearlyImplicitCache {
        let n = game.dimension
        var error = [CChar](repeating: 0, count: 256)
        guard let solver = gf_spgmr_create(n, Int32(min(krylovDimension, n)), Int32(Self.maxRestarts), &error, error.count) else {
            throw GameFlowError.invalidInput(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return LinearlyImplicitCache(operator: ShiftedJacobian(game: game, offDiagonal: variant == .cgd), solver: solver, dimension: n)
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout LinearlyImplicitCache, context: inout StepContext<G>) -> StepResult {
        let n = x.count
        context.evaluate(x, into: &cache.v)
        let size = norm2(cache.v)
        guard size.isFinite else { return .failure("\(name): v(x) is not finite") }
        if size == 0 { return .success }
        cache.operator.prepare(at: x, h: h, step: context.step)
        var result = gf_spgmr_result()
        let flag = withExtendedLifetime(cache.operator) {
            cache.v.withUnsafeBufferPointer { b in
                cache.d.withUnsafeMutableBufferPointer { d in
                    gf_spgmr_solve(cache.solver, shiftedJacobianTimes, Unmanaged.passUnretained(cache.operator).toOpaque(),
                                   b.baseAddress, d.baseAddress, linearTolerance * size, &result)
                }
            }
        }
        context.stats.krylovIterations += result.iterations
        context.stats.jacobianVectorProducts += cache.operator.takeProducts()
        guard flag == 0 else {
            let why = cache.operator.failed ? "; a Jacobian-vector product was not finite" : ""
            return .failure("\(name): SPGMR stopped with \(String(cString: gf_spgmr_flag_name(flag))) (flag \(flag)) after \(result.iterations) iterations, residual \(result.residual_norm) against \(linearTolerance * size)\(why)")
        }
        for i in 0..<n { x[i] += h * cache.d[i] }
        return .success
    }
}

/// SPGMR and the operator I − hJ̃ of a `LinearlyImplicit` run.
public final class LinearlyImplicitCache {
    let `operator`: ShiftedJacobianOperator
    let solver: OpaquePointer
    var v: [Double]
    var d: [Double]

    init(operator op: ShiftedJacobianOperator, solver: OpaquePointer, dimension n: Int) {
        self.operator = op
        self.solver = solver
        v = [Double](repeating: 0, count: n)
        d = v
    }

    deinit { gf_spgmr_free(solver) }
}

/// u ↦ u − h·J̃u at the prepared point, type-erased over the game.
class ShiftedJacobianOperator {
    var failed = false
    func prepare(at x: [Double], h: Double, step: Int) {}
    func apply(_ u: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) -> Bool { false }
    func takeProducts() -> Int { 0 }
}

final class ShiftedJacobian<G: Game>: ShiftedJacobianOperator {
    let game: G
    let offDiagonal: Bool
    let players: [Range<Int>]
    private var x: [Double], u: [Double], block: [Double], jvp: [Double]
    private var h = 0.0, step = 0, products = 0

    init(game: G, offDiagonal: Bool) {
        self.game = game
        self.offDiagonal = offDiagonal
        players = game.players
        x = [Double](repeating: 0, count: game.dimension)
        u = x; block = x; jvp = x
    }

    override func prepare(at x: [Double], h: Double, step: Int) {
        for i in 0..<x.count { self.x[i] = x[i] }
        self.h = h
        self.step = step
        failed = false
    }

    override func apply(_ input: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) -> Bool {
        let n = x.count
        for i in 0..<n { out[i] = input[i] }
        if offDiagonal {
            addOffDiagonalProduct(input, players: players, scale: -h, block: &block, product: &jvp, into: out) {
                game.jacobianVectorProduct(at: x, $0, step: step, into: &$1)
                products += 1
            }
        } else {
            for i in 0..<n { u[i] = input[i] }
            game.jacobianVectorProduct(at: x, u, step: step, into: &jvp)
            products += 1
            for i in 0..<n { out[i] -= h * jvp[i] }
        }
        for i in 0..<n where !out[i].isFinite { failed = true; return false }
        return true
    }

    override func takeProducts() -> Int {
        defer { products = 0 }
        return products
    }
}

private let shiftedJacobianTimes: gf_atimes_fn = { u, out, p in
    Unmanaged<ShiftedJacobianOperator>.fromOpaque(p!).takeUnretainedValue().apply(u!, out!) ? 0 : -1
}
