import CGSL
import Foundation

/// The equilibria of a linear field v(x) = M·x + b: the affine set {x : M·x + b = 0}, a single
/// point when M is invertible, a flat of dimension n − rank(M) otherwise (a bilinear game with
/// a non-square or rank-deficient A has a whole subspace of equilibria).
///
/// The distance from x to the set is ‖M⁺(M·x + b)‖₂ (the smallest correction d with
/// M(x − d) + b = 0), from one SVD M = UΣVᵀ made on first use (LAPACK `dgesvd`), with
/// rank(M) = #{σᵢ > n·ε·σ₁}. Per distance: O(n·rank) multiply-adds.
public final class EquilibriumSet: @unchecked Sendable {
    private let n: Int
    private let makeMatrix: @Sendable () -> Matrix
    private let bNorm: Double
    private let lock = NSLock()
    private var svd: (u: Matrix, s: [Double], vt: Matrix, rank: Int)?
    private var failed = false

    /// The largest n for which games compute their equilibrium set (an n × n SVD on first use).
    public static let dimensionLimit = 2000

    /// The equilibria of v = M·x + b, with M built (and decomposed) on first use.
    /// - Parameters:
    ///   - dimension: n.
    ///   - bNorm: ‖b‖₂ (the scale of the consistency test).
    ///   - matrix: builds M (called once, on first use).
    public init(dimension: Int, bNorm: Double, matrix: @escaping @Sendable () -> Matrix) {
        self.n = dimension
        self.bNorm = bNorm
        self.makeMatrix = matrix
    }

    private func decomposition() -> (u: Matrix, s: [Double], vt: Matrix, rank: Int)? {
        lock.lock()
        defer { lock.unlock() }
        if let d = svd { return d }
        if failed { return nil }
        var a = makeMatrix().transposed.storage   // column-major
        var s = [Double](repeating: 0, count: n)
        var u = [Double](repeating: 0, count: n * n), vt = u
        var nn = Int32(n), info: Int32 = 0, lwork: Int32 = -1
        var query = [Double](repeating: 0, count: 1)
        var job: CChar = 65   // "A"
        var job2: CChar = 65
        dgesvd_(&job, &job2, &nn, &nn, &a, &nn, &s, &u, &nn, &vt, &nn, &query, &lwork, &info)
        guard info == 0 else { failed = true; return nil }
        lwork = Int32(max(1, Int(query[0])))
        var work = [Double](repeating: 0, count: Int(lwork))
        dgesvd_(&job, &job2, &nn, &nn, &a, &nn, &s, &u, &nn, &vt, &nn, &work, &lwork, &info)
        guard info == 0 else { failed = true; return nil }
        let cut = Double(n) * Double.ulpOfOne * (s.first ?? 0)
        let rank = s.filter { $0 > cut }.count
        // u, vt are column-major: as row-major they are Uᵀ and V.
        let d = (u: Matrix(rows: n, columns: n, storage: u).transposed, s: s, vt: Matrix(rows: n, columns: n, storage: vt).transposed, rank: rank)
        svd = d
        return d
    }

    /// dim of the set: n − rank(M) (nil if the SVD failed).
    public var dimension: Int? { decomposition().map { n - $0.rank } }

    /// ‖M⁺r‖₂ for the residual r = v(x) = M·x + b at x (nil if the SVD failed or b is not in the
    /// range of M, so that there are no equilibria).
    public func distance(from x: [Double], residual r: [Double]) -> Double? {
        guard let d = decomposition() else { return nil }
        // M⁺r = V Σ⁺ Uᵀ r; its norm is ‖Σ⁺ Uᵀ r‖ (V orthogonal). u here is row-major U.
        var sq = 0.0, outside = 0.0
        for k in 0..<n {
            var c = 0.0
            for i in 0..<n { c += d.u[i, k] * r[i] }
            if k < d.rank { sq += (c / d.s[k]) * (c / d.s[k]) } else { outside += c * c }
        }
        // No equilibria: b has a part outside range(M) beyond round-off.
        if outside.squareRoot() > 1e-9 * (bNorm + (d.s.first ?? 0) * norm2(x)) + 1e-300 { return nil }
        return sq.squareRoot()
    }
}
