import CGSL
import Numerics

/// Eigenvalues of a general real square matrix, through LAPACK's `dgeev` (OpenBLAS).
///
/// LAPACK rather than GSL's `gsl_eigen_nonsymm`: GSL's Francis QR stops with GSL_EMAXITER on
/// rank-deficient matrices with many zero eigenvalues, which GAN Jacobians are (toolchain §4).
/// Returned sorted by real part, then imaginary part. Failures are thrown, never aborts.
public func eigenvalues(of matrix: Matrix) throws -> [Complex<Double>] {
    guard matrix.isSquare else {
        throw GameFlowError.invalidInput("eigenvalues need a square matrix (got \(matrix.rows)×\(matrix.columns))")
    }
    guard matrix.storage.allSatisfy(\.isFinite) else {
        throw GameFlowError.invalidInput("matrix has a non-finite entry; its eigenvalues are undefined")
    }
    let n = matrix.rows
    if n == 0 { return [] }
    // LAPACK is column-major: pass the transpose's storage (same eigenvalues either way, but
    // keep the matrix itself for clarity).
    var a = matrix.transposed.storage
    var wr = [Double](repeating: 0, count: n), wi = wr
    var vl = [Double](repeating: 0, count: 1), vr = vl
    var nn = Int32(n), lda = Int32(n), ldv = Int32(1), info: Int32 = 0
    var lwork: Int32 = -1
    var query = [Double](repeating: 0, count: 1)
    let jobN: CChar = 78   // "N"
    var job = jobN, job2 = jobN
    dgeev_(&job, &job2, &nn, &a, &lda, &wr, &wi, &vl, &ldv, &vr, &ldv, &query, &lwork, &info)
    guard info == 0 else { throw GameFlowError.invalidInput("LAPACK dgeev workspace query failed (info \(info))") }
    lwork = Int32(max(1, Int(query[0])))
    var work = [Double](repeating: 0, count: Int(lwork))
    dgeev_(&job, &job2, &nn, &a, &lda, &wr, &wi, &vl, &ldv, &vr, &ldv, &work, &lwork, &info)
    if info < 0 { throw GameFlowError.invalidInput("LAPACK dgeev: argument \(-info) was invalid") }
    if info > 0 {
        throw GameFlowError.invalidInput("LAPACK dgeev: the QR algorithm failed to compute all eigenvalues (info \(info))")
    }
    return zip(wr, wi).map { Complex($0, $1) }.sorted { ($0.real, $0.imaginary) < ($1.real, $1.imaginary) }
}
