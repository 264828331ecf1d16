import Foundation
import CGSL

/// A dense row-major matrix of `Double`s: entry (i, j) is `storage[i * columns + j]`.
public struct Matrix: Sendable, Equatable {
    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// The entries, row-major: entry (i, j) at index i·columns + j.
    public var storage: [Double]

    /// A matrix over row-major `storage` (of rows × columns entries).
    public init(rows: Int, columns: Int, storage: [Double]) {
        precondition(rows >= 0 && columns >= 0 && storage.count == rows * columns,
                     "Matrix: storage has \(storage.count) entries, expected \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// The rows × columns zero matrix.
    public init(zeros rows: Int, _ columns: Int) {
        self.init(rows: rows, columns: columns, storage: Array(repeating: 0, count: rows * columns))
    }

    /// Builds a matrix from its rows; throws if the rows are ragged or empty.
    public init(rowArrays: [[Double]]) throws {
        guard let first = rowArrays.first, !first.isEmpty else {
            throw GameFlowError.invalidInput("matrix has no entries")
        }
        for (i, r) in rowArrays.enumerated() where r.count != first.count {
            throw GameFlowError.invalidInput(
                "matrix rows differ in length (row 0 has \(first.count) entries, row \(i) has \(r.count))")
        }
        self.init(rows: rowArrays.count, columns: first.count, storage: rowArrays.flatMap { $0 })
    }

    /// The n × n identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(zeros: n, n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    /// Entry (i, j).
    @inlinable
    public subscript(i: Int, j: Int) -> Double {
        get { storage[i * columns + j] }
        set { storage[i * columns + j] = newValue }
    }

    /// The transpose, as a new matrix.
    public var transposed: Matrix {
        var t = Matrix(zeros: columns, rows)
        for i in 0..<rows { for j in 0..<columns { t[j, i] = self[i, j] } }
        return t
    }

    /// Whether rows == columns.
    public var isSquare: Bool { rows == columns }

    /// self · x for a full vector.
    public func multiply(_ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                gemv(transpose: false, alpha: 1, x: xs.baseAddress!, beta: 0, y: ys.baseAddress!)
            }
        }
        return y
    }

    /// out = op(self)·x for arrays (op = identity or transpose).
    public func gemvArrays(transpose: Bool, _ x: [Double], into out: inout [Double]) {
        x.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { os in
                gemv(transpose: transpose, alpha: 1, x: xs.baseAddress!, beta: 0, y: os.baseAddress!)
            }
        }
    }

    /// A random orthogonal n×n matrix: a product of 4n Givens rotations drawn from `rng`.
    public static func randomOrthogonal(_ n: Int, rng: inout SeededGenerator) -> Matrix {
        var q = Matrix.identity(n)
        for _ in 0..<(4 * n) {
            let i = Int(rng.next() % UInt64(n)), j = Int(rng.next() % UInt64(n))
            if i == j { continue }
            let a = 2 * Double.pi * rng.uniform(), c = cos(a), s = sin(a)
            for k in 0..<n {
                let qi = q[i, k], qj = q[j, k]
                q[i, k] = c * qi - s * qj
                q[j, k] = s * qi + c * qj
            }
        }
        return q
    }

    /// The product a·b (OpenBLAS dgemm).
    public static func * (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.columns == b.rows, "Matrix product: \(a.rows)×\(a.columns) · \(b.rows)×\(b.columns)")
        var c = Matrix(zeros: a.rows, b.columns)
        guard a.rows > 0, b.columns > 0, a.columns > 0 else { return c }
        a.storage.withUnsafeBufferPointer { ap in
            b.storage.withUnsafeBufferPointer { bp in
                c.storage.withUnsafeMutableBufferPointer { cp in
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(a.rows), Int32(b.columns), Int32(a.columns),
                                1, ap.baseAddress!, Int32(a.columns), bp.baseAddress!, Int32(b.columns), 0, cp.baseAddress!, Int32(b.columns))
                }
            }
        }
        return c
    }

    /// y ← alpha·op(self)·x + beta·y through OpenBLAS `dgemv` (op = identity or transpose).
    /// `x` and `y` must not alias and must hold `columns` / `rows` entries (swapped for transpose).
    @inlinable
    public func gemv(transpose: Bool, alpha: Double, x: UnsafePointer<Double>, beta: Double,
                     y: UnsafeMutablePointer<Double>) {
        guard rows > 0, columns > 0 else { return }
        storage.withUnsafeBufferPointer { a in
            cblas_dgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                        Int32(rows), Int32(columns), alpha, a.baseAddress!, Int32(columns),
                        x, 1, beta, y, 1)
        }
    }

    /// Solves self · z = rhs by LU with partial pivoting (GSL). Throws when the matrix is
    /// singular to working precision or not square.
    public func solve(_ rhs: [Double]) throws -> [Double] {
        guard isSquare else { throw GameFlowError.invalidInput("cannot solve with a \(rows)×\(columns) matrix") }
        guard rhs.count == rows else { throw GameFlowError.invalidInput("right-hand side has \(rhs.count) entries, expected \(rows)") }
        GSL.initialize()
        let n = rows
        let m = gsl_matrix_alloc(n, n)!, p = gsl_permutation_alloc(n)!
        let b = gsl_vector_alloc(n)!, z = gsl_vector_alloc(n)!
        defer { gsl_matrix_free(m); gsl_permutation_free(p); gsl_vector_free(b); gsl_vector_free(z) }
        var scale = 0.0
        for i in 0..<n {
            gsl_vector_set(b, i, rhs[i])
            for j in 0..<n { gsl_matrix_set(m, i, j, self[i, j]); scale = max(scale, abs(self[i, j])) }
        }
        var signum: Int32 = 0
        try GSL.check(gsl_linalg_LU_decomp(m, p, &signum), "LU decomposition")
        for i in 0..<n where abs(gsl_matrix_get(m, i, i)) <= Double(n) * scale * Double.ulpOfOne {
            throw GameFlowError.singularMatrix
        }
        try GSL.check(gsl_linalg_LU_solve(m, p, b, z), "LU solve")
        return (0..<n).map { gsl_vector_get(z, $0) }
    }

    /// Solves self · Z = rhs column by column (`solve(_:)`).
    public func solve(columns rhs: Matrix) throws -> Matrix {
        var z = Matrix(zeros: rows, rhs.columns)
        var col = [Double](repeating: 0, count: rhs.rows)
        for k in 0..<rhs.columns {
            for i in 0..<rhs.rows { col[i] = rhs[i, k] }
            let s = try solve(col)
            for i in 0..<rows { z[i, k] = s[i] }
        }
        return z
    }
}
