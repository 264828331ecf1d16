/// The bilinear zero-sum game f(φ, θ) = φᵀAθ, g = −f, with A any m×n matrix:
///
///     v(φ, θ) = (Aθ, −Aᵀφ),   v′ = [[0, A], [−Aᵀ, 0]],   v′ᵀ = −v′.
///
/// x = (φ, θ): φ has m entries (A's rows), θ has n (A's columns). The origin is an
/// equilibrium; v′ has eigenvalues ±i·σⱼ(A) (and zeros when m ≠ n), so the exact flow rotates
/// and conserves ‖x‖: every scheme's behaviour is decided by |R(±ihσⱼ)|.
public struct BilinearGame: Game {
    /// The m × n coupling matrix.
    public let A: Matrix

    /// The equilibria, null(Aᵀ) × null(A), computed on first use up to n = 2000 (nil above).
    let equilibria: EquilibriumSet?

    /// The game f = φᵀAθ.
    /// - Throws: when A is empty or has a non-finite entry.
    public init(A: Matrix) throws {
        guard A.rows >= 1, A.columns >= 1 else { throw GameFlowError.invalidInput("bilinear game: A is empty") }
        guard A.storage.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("bilinear game: A has a non-finite entry") }
        self.A = A
        let n = A.rows + A.columns
        if n <= EquilibriumSet.dimensionLimit {
            equilibria = EquilibriumSet(dimension: n, bNorm: 0) {
                var m = Matrix(zeros: n, n)
                for i in 0..<A.rows { for j in 0..<A.columns { m[i, A.rows + j] = A[i, j]; m[A.rows + j, i] = -A[i, j] } }
                return m
            }
        } else {
            equilibria = nil
        }
    }

    /// The distance to null(Aᵀ) × null(A) (to the origin above n = 2000, where the set is not computed).
    public func distanceToEquilibria(from x: [Double]) -> Double? {
        equilibria?.distance(from: x, residual: vectorField(at: x)) ?? norm2(x)
    }

    /// n − rank of v′ (nil above n = 2000: not computed).
    public var equilibriumSetDimension: Int? { equilibria?.dimension }

    /// A random m×n game: entries of A are N(0, 1/n) from `seed`.
    public static func random(rows m: Int, columns n: Int, seed: UInt64) throws -> BilinearGame {
        guard m >= 1, n >= 1 else { throw GameFlowError.invalidInput("bilinear game: sizes must be ≥ 1 (got \(m)×\(n))") }
        var rng = SeededGenerator(seed: seed)
        let s = 1 / Double(n).squareRoot()
        return try BilinearGame(A: Matrix(rows: m, columns: n, storage: (0..<(m * n)).map { _ in s * rng.normal() }))
    }

    public var name: String { "bilinear" }
    public var dimension: Int { A.rows + A.columns }
    public var players: [Range<Int>] { [0..<A.rows, A.rows..<(A.rows + A.columns)] }
    public var equilibrium: [Double]? { [Double](repeating: 0, count: dimension) }
    public var hasExactDerivatives: Bool { true }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        apply(x, into: &v, sign: 1)
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        apply(u, into: &out, sign: 1)
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        apply(u, into: &out, sign: -1)
    }

    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        let m = A.rows, n = A.columns, d = m + n
        for i in 0..<(d * d) { out[i] = 0 }
        for i in 0..<m {
            for j in 0..<n {
                out[i * d + (m + j)] = A[i, j]
                out[(m + j) * d + i] = -A[i, j]
            }
        }
    }

    /// out = sign·(A·u_θ, −Aᵀ·u_φ), i.e. sign·v′·u. Both products read A itself (dgemv and its
    /// transposed form): one matrix in cache instead of A and a copy of Aᵀ.
    private func apply(_ u: [Double], into out: inout [Double], sign: Double) {
        let m = A.rows
        u.withUnsafeBufferPointer { us in
            out.withUnsafeMutableBufferPointer { os in
                A.gemv(transpose: false, alpha: sign, x: us.baseAddress! + m, beta: 0, y: os.baseAddress!)
                A.gemv(transpose: true, alpha: -sign, x: us.baseAddress!, beta: 0, y: os.baseAddress! + m)
            }
        }
    }
}
