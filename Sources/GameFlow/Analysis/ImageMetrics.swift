import CGSL
import Foundation

/// Sample-quality metrics for generative models, computed on feature vectors (a classifier's
/// penultimate layer, or raw pixels), each set n × d row-major.
///
/// - FID (Heusel et al. 2017): ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½), sample covariances with
///   n − 1. tr((Σ₁Σ₂)^½) = Σ √λᵢ(Σ₁^½Σ₂Σ₁^½), the eigenvalues of a symmetric positive
///   semi-definite matrix, with Σ₁^½ from its eigen-decomposition; both through LAPACK's `dsyev`
///   (negative round-off eigenvalues are set to 0).
/// - KID (Bińkowski et al. 2018): the unbiased MMD² with the kernel k(x, y) = (xᵀy/d + 1)³ over
///   the full sets: mean of k over distinct pairs within each set minus twice the mean across.
/// - Classifier score (the Inception score's form): exp(E_x KL(p(y|x) ‖ p(y))), p(y) the mean of
///   the class probabilities over the samples.
public enum ImageMetrics {
    /// The mean (d) and sample covariance (d × d, divided by n − 1) of n × d features.
    public static func moments(_ x: [Double], dimension d: Int) -> (mean: [Double], covariance: [Double]) {
        let n = x.count / d
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { mean[j] += x[r * d + j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        var centred = x
        for r in 0..<n { for j in 0..<d { centred[r * d + j] -= mean[j] } }
        var cov = [Double](repeating: 0, count: d * d)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1 / Double(n - 1), centred, Int32(d), 0, &cov, Int32(d))
        for i in 0..<d { for j in 0..<i { cov[i * d + j] = cov[j * d + i] } }
        return (mean, cov)
    }

    /// Eigenvalues and eigenvectors (columns of the returned row-major matrix, as LAPACK leaves
    /// them in column-major storage: row i of `vectors` is eigenvector i) of a symmetric d × d matrix.
    static func symmetricEigen(_ a: [Double], dimension d: Int) throws -> (values: [Double], vectors: [Double]) {
        var m = a, w = [Double](repeating: 0, count: d), n = Int32(d), lwork: Int32 = -1, info: Int32 = 0
        var query = 0.0
        dsyev_("V", "U", &n, &m, &n, &w, &query, &lwork, &info)
        lwork = Int32(query)
        var work = [Double](repeating: 0, count: max(1, Int(lwork)))
        dsyev_("V", "U", &n, &m, &n, &w, &work, &lwork, &info)
        guard info == 0 else {
            throw GameFlowError.invalidInput(info < 0 ? "LAPACK dsyev: argument \(-info) is invalid"
                                                      : "LAPACK dsyev: \(info) off-diagonal elements did not converge")
        }
        return (w, m)
    }

    /// The Fréchet distance between the Gaussians fitted to two feature sets.
    /// - Throws: for fewer than two samples a set, different dimensions or non-finite features.
    public static func fid(_ a: [Double], _ b: [Double], dimension d: Int) throws -> Double {
        try check(a, b, dimension: d)
        let (m1, s1) = moments(a, dimension: d), (m2, s2) = moments(b, dimension: d)
        // Σ₁^½ = V diag(√λ) Vᵀ.
        let e1 = try symmetricEigen(s1, dimension: d)
        var root = [Double](repeating: 0, count: d * d)
        for k in 0..<d {
            let s = max(e1.values[k], 0).squareRoot()
            guard s > 0 else { continue }
            let v = e1.vectors[(k * d)..<((k + 1) * d)]
            for i in 0..<d { let vi = v[v.startIndex + i] * s; for j in 0..<d { root[i * d + j] += vi * v[v.startIndex + j] } }
        }
        // M = Σ₁^½ Σ₂ Σ₁^½ (symmetric); tr((Σ₁Σ₂)^½) = Σ √λ(M).
        var t = [Double](repeating: 0, count: d * d), m = t
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1, root, Int32(d), s2, Int32(d), 0, &t, Int32(d))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1, t, Int32(d), root, Int32(d), 0, &m, Int32(d))
        for i in 0..<d { for j in 0..<i { let s = 0.5 * (m[i * d + j] + m[j * d + i]); m[i * d + j] = s; m[j * d + i] = s } }
        let traceRoot = try symmetricEigen(m, dimension: d).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        var distance = 0.0, traces = 0.0
        for j in 0..<d { distance += (m1[j] - m2[j]) * (m1[j] - m2[j]); traces += s1[j * d + j] + s2[j * d + j] }
        return distance + traces - 2 * traceRoot
    }

    /// The unbiased MMD² with the cubic polynomial kernel (xᵀy/d + 1)³.
    public static func kid(_ a: [Double], _ b: [Double], dimension d: Int) throws -> Double {
        try check(a, b, dimension: d)
        return kernelMean(a, nil, dimension: d) + kernelMean(b, nil, dimension: d) - 2 * kernelMean(a, b, dimension: d)
    }

    /// The mean of k(x, y) = (xᵀy/d + 1)³ over x in `a` and y in `b`, or, with `b` nil, over the
    /// distinct pairs of `a` (KID's terms), in blocks of 256 rows (memory O(256·n)).
    public static func kernelMean(_ a: [Double], _ b: [Double]?, dimension d: Int) -> Double {
        let other = b ?? a
        let m = a.count / d, n = other.count / d, block = 256
        var g = [Double](repeating: 0, count: min(block, m) * n)
        var sum = 0.0
        for start in stride(from: 0, to: m, by: block) {
            let rows = min(block, m - start)
            a.withUnsafeBufferPointer { ap in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(d), 1 / Double(d), ap.baseAddress! + start * d,
                            Int32(d), other, Int32(d), 0, &g, Int32(n))
            }
            for i in 0..<rows {
                for j in 0..<n where !(b == nil && start + i == j) {
                    let t = g[i * n + j] + 1
                    sum += t * t * t
                }
            }
        }
        return sum / Double(b == nil ? m * (m - 1) : m * n)
    }

    /// exp(mean KL(p(y|x) ‖ p(y))) of class probabilities (n × classes, rows summing to 1).
    public static func classifierScore(_ probabilities: [Double], classes k: Int) -> Double {
        let n = probabilities.count / k
        var marginal = [Double](repeating: 0, count: k)
        for r in 0..<n { for c in 0..<k { marginal[c] += probabilities[r * k + c] / Double(n) } }
        var kl = 0.0
        for r in 0..<n {
            for c in 0..<k {
                let p = probabilities[r * k + c]
                if p > 0 { kl += p * (log(p) - log(marginal[c])) }
            }
        }
        return exp(kl / Double(n))
    }

    /// How many samples the classifier puts in each class (argmax).
    public static func labelHistogram(_ probabilities: [Double], classes k: Int) -> [Int] {
        var h = [Int](repeating: 0, count: k)
        for r in 0..<(probabilities.count / k) {
            let row = probabilities[(r * k)..<((r + 1) * k)]
            h[row.indices.max { row[$0] < row[$1] }! - r * k] += 1
        }
        return h
    }

    static func check(_ a: [Double], _ b: [Double], dimension d: Int) throws {
        guard d >= 1, a.count % d == 0, b.count % d == 0 else { throw GameFlowError.invalidInput("feature sets must be n × \(d)") }
        guard a.count / d >= 2, b.count / d >= 2 else { throw GameFlowError.invalidInput("each feature set needs at least 2 samples (got \(a.count / d) and \(b.count / d))") }
        guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("a feature is not finite") }
    }
}
