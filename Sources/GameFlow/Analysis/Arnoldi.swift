import CArpack
import Foundation
import Numerics

/// Serialises ARPACK (not reentrant).
private let arpackLock = NSLock()

/// Which end of the spectrum ARPACK looks for.
public enum EigenvalueTarget: String, Sendable, CaseIterable {
    /// Largest magnitude |λ|.
    case largestMagnitude = "LM"
    /// Largest real part (the rightmost: what decides stability).
    case rightmost = "LR"
    /// Largest |imaginary part| (the rotation the paper's q is about).
    case largestImaginary = "LI"
    /// Smallest real part (the leftmost).
    case leftmost = "SR"
}

/// Eigenvalues at one end of the spectrum of a large matrix known only through its products,
/// by ARPACK's implicitly restarted Arnoldi method (`dnaupd`/`dneupd`, the nonsymmetric double
/// driver; Lehoucq, Sorensen, Yang 1998), each with its residual ‖Aq − λq‖/‖q‖. ARPACK is not
/// reentrant: computations in one process run one at a time.
public struct ArnoldiSpectrum: Sendable {
    /// The eigenvalues found, in ARPACK's order of the target (complex pairs adjacent; a pair cut
    /// by the count is completed, so there may be one more than asked for).
    public let eigenvalues: [Complex<Double>]
    /// ‖Aq − λq‖₂/‖q‖₂ for each (from ARPACK's Ritz vectors, recomputed with one product each).
    public let residuals: [Double]
    /// Arnoldi restarts taken.
    public let iterations: Int
    /// Products with A.
    public let products: Int
    /// The target.
    public let target: EigenvalueTarget
    /// nil when ARPACK converged on every requested value; otherwise its reason (e.g. the
    /// iteration limit), with the converged values still reported.
    public let failure: String?

    /// The `count` eigenvalues of the n × n operator `apply` (y = A·x) at the `target` end.
    /// - Parameters:
    ///   - n: the operator's size.
    ///   - count: how many eigenvalues (1 … n − 2).
    ///   - target: which end of the spectrum.
    ///   - tolerance: ARPACK's relative accuracy of the Ritz values (0: machine precision).
    ///   - maxIterations: ARPACK's restart limit (reaching it is a `failure`, not an error).
    ///   - krylovDimension: ncv, the Arnoldi basis size (default min(n, max(2·count + 1, 60)):
    ///     at 20 the rightmost eigenvalues of a trained GAN took 5 times the products).
    ///   - seed: the starting vector's (random, reproducible) seed.
    ///   - apply: y = A·x, from x (n numbers) into y.
    /// - Throws: for sizes ARPACK refuses (count < 1, count > n − 2) or an ARPACK error (its reason).
    public static func compute(dimension n: Int, count: Int, target: EigenvalueTarget, tolerance: Double = 0, maxIterations: Int = 1000,
                               krylovDimension: Int? = nil, seed: UInt64 = 0,
                               apply: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) throws -> ArnoldiSpectrum {
        guard count >= 1, count <= n - 2 else {
            throw GameFlowError.invalidInput("ARPACK finds 1 to n − 2 = \(n - 2) eigenvalues of an n × n operator (asked for \(count))")
        }
        guard tolerance >= 0, tolerance.isFinite else { throw GameFlowError.invalidInput("tolerance must be a finite number ≥ 0 (got \(tolerance))") }
        guard maxIterations >= 1 else { throw GameFlowError.invalidInput("max iterations must be ≥ 1 (got \(maxIterations))") }
        let ncv = min(n, max(krylovDimension ?? max(2 * count + 1, 60), count + 2))
        // ARPACK keeps its state between reverse-communication calls in Fortran SAVE variables:
        // one computation at a time in the process (two at once corrupt each other's pointers).
        arpackLock.lock()
        defer { arpackLock.unlock() }
        carpack_quiet()
        var ido: Int32 = 0, info: Int32 = 1
        var rng = SeededGenerator(seed: seed, stream: -7)
        var resid = (0..<n).map { _ in rng.normal() }
        var v = [Double](repeating: 0, count: n * ncv)
        var iparam = [Int32](repeating: 0, count: 11), ipntr = [Int32](repeating: 0, count: 14)
        iparam[0] = 1; iparam[2] = Int32(maxIterations); iparam[6] = 1
        var workd = [Double](repeating: 0, count: 3 * n)
        let lworkl = 3 * ncv * ncv + 6 * ncv
        var workl = [Double](repeating: 0, count: lworkl)
        var products = 0
        let which = target.rawValue
        while true {
            dnaupd_c(&ido, "I", Int32(n), which, Int32(count), tolerance, &resid, Int32(ncv), &v, Int32(n), &iparam, &ipntr, &workd, &workl,
                     Int32(lworkl), &info)
            guard ido == -1 || ido == 1 else { break }
            workd.withUnsafeMutableBufferPointer { w in
                apply(UnsafePointer(w.baseAddress! + Int(ipntr[0]) - 1), w.baseAddress! + Int(ipntr[1]) - 1)
            }
            products += 1
        }
        var failure: String?
        switch info {
        case 0: break
        case 1: failure = "ARPACK reached the iteration limit (\(maxIterations)) with \(iparam[4]) of \(count) eigenvalues converged"
        case 3: failure = "ARPACK could not apply shifts during a restart (try a larger Krylov dimension)"
        default: throw GameFlowError.invalidInput("ARPACK dnaupd failed: \(Self.reason(info)) (info \(info))")
        }
        let converged = Int(iparam[4])
        guard converged > 0 else {
            return ArnoldiSpectrum(eigenvalues: [], residuals: [], iterations: Int(iparam[2]), products: products, target: target,
                                   failure: failure ?? "ARPACK converged on no eigenvalue")
        }
        var select = [Int32](repeating: 0, count: ncv)
        var dr = [Double](repeating: 0, count: count + 1), di = dr
        var z = [Double](repeating: 0, count: n * (count + 1))
        var workev = [Double](repeating: 0, count: 3 * ncv)
        var einfo: Int32 = 0
        dneupd_c(1, "A", &select, &dr, &di, &z, Int32(n), 0, 0, &workev, "I", Int32(n), which, Int32(count), tolerance, &resid, Int32(ncv),
                 &v, Int32(n), &iparam, &ipntr, &workd, &workl, Int32(lworkl), &einfo)
        guard einfo == 0 else { throw GameFlowError.invalidInput("ARPACK dneupd failed: \(Self.reason(einfo)) (info \(einfo))") }
        // Ritz vectors: a real λ has column j; a pair a ± ib has columns j (x) and j + 1 (y), q = x ± iy.
        let found = min(Int(iparam[4]), count)
        var values: [Complex<Double>] = [], residuals: [Double] = []
        var ax = [Double](repeating: 0, count: n), ay = ax
        var j = 0
        while j < found {
            let a = dr[j], b = di[j]
            let x = Array(z[(j * n)..<((j + 1) * n)])
            x.withUnsafeBufferPointer { xs in ax.withUnsafeMutableBufferPointer { apply(xs.baseAddress!, $0.baseAddress!) } }
            products += 1
            if b == 0 {
                values.append(Complex(a, 0))
                residuals.append(norm2(zip(ax, x).map { $0 - a * $1 }) / max(norm2(x), .leastNormalMagnitude))
                j += 1
            } else {
                let y = j + 1 < count + 1 ? Array(z[((j + 1) * n)..<((j + 2) * n)]) : [Double](repeating: 0, count: n)
                y.withUnsafeBufferPointer { ys in ay.withUnsafeMutableBufferPointer { apply(ys.baseAddress!, $0.baseAddress!) } }
                products += 1
                // A(x + iy) − (a + ib)(x + iy) = (Ax − ax + by) + i(Ay − ay − bx).
                var r = 0.0
                for i in 0..<n {
                    let re = ax[i] - a * x[i] + b * y[i], im = ay[i] - a * y[i] - b * x[i]
                    r += re * re + im * im
                }
                let q = (norm2(x) * norm2(x) + norm2(y) * norm2(y)).squareRoot()
                let res = r.squareRoot() / max(q, .leastNormalMagnitude)
                // The conjugate too, even where it is one more than asked for: a real matrix's
                // eigenvalues come in pairs, and half a pair would misstate the spectrum.
                values.append(Complex(a, b)); residuals.append(res)
                values.append(Complex(a, -b)); residuals.append(res)
                j += 2
            }
        }
        if converged < count && failure == nil { failure = "ARPACK converged on \(converged) of \(count) eigenvalues" }
        return ArnoldiSpectrum(eigenvalues: values, residuals: residuals, iterations: Int(iparam[2]), products: products, target: target,
                               failure: failure)
    }

    /// The `count` eigenvalues of v′(x) at the `target` end (exact JVPs of `game` at `step`), or,
    /// with `consensusGamma` γ, of consensus's Jacobian v′ − γv′ᵀv′ (a JVP and a VJP per product:
    /// the paper's Figure 3, right).
    public static func jacobian<G: Game>(_ game: G, at x: [Double], step: Int, count: Int, target: EigenvalueTarget,
                                         consensusGamma: Double? = nil, tolerance: Double = 0, maxIterations: Int = 1000,
                                         seed: UInt64 = 0) throws -> ArnoldiSpectrum {
        let n = game.dimension
        var u = [Double](repeating: 0, count: n), out = u, w = u
        return try compute(dimension: n, count: count, target: target, tolerance: tolerance, maxIterations: maxIterations, seed: seed) { src, dst in
            u.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: src, count: n) }
            game.jacobianVectorProduct(at: x, u, step: step, into: &out)
            if let gamma = consensusGamma {
                game.transposeJacobianVectorProduct(at: x, out, step: step, into: &w)
                for i in 0..<n { dst[i] = out[i] - gamma * w[i] }
            } else {
                for i in 0..<n { dst[i] = out[i] }
            }
        }
    }

    /// ARPACK's documented meaning of a dnaupd/dneupd info code.
    static func reason(_ info: Int32) -> String {
        switch info {
        case -1: return "n must be positive"
        case -2: return "nev must be positive"
        case -3: return "ncv must satisfy nev + 2 ≤ ncv ≤ n"
        case -4: return "the maximum number of iterations must be positive"
        case -5: return "which must be LM, SM, LR, SR, LI or SI"
        case -6: return "bmat must be I or G"
        case -7: return "the private work array is too short"
        case -8: return "error from LAPACK's eigenvalue calculation"
        case -9: return "the starting vector is zero"
        case -9999: return "could not build an Arnoldi factorization"
        default: return "ARPACK error"
        }
    }
}
