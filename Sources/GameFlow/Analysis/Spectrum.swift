import Numerics

/// The spectrum of a Jacobian v′(x) and the quantities "The Numerics of GANs" reads off it.
///
/// Eigenvalues whose real part lies within `axisTolerance` (100·n·ε·max|λ|) of zero count as
/// on the imaginary axis: a bilinear game's ±iσ come back from LAPACK with real parts of
/// order 1e-17, and those must not count as (barely) stable.
public struct Spectrum: Sendable {
    /// Sorted by real part, then imaginary part.
    public let eigenvalues: [Complex<Double>]
    /// Eigenvalues with |Re λ| at most this count as on the imaginary axis (100·n·ε·max|λ|).
    public let axisTolerance: Double

    /// The spectrum of given eigenvalues.
    public init(eigenvalues: [Complex<Double>]) {
        self.eigenvalues = eigenvalues
        let scale = eigenvalues.map(\.length).max() ?? 0
        self.axisTolerance = 100 * Double(max(eigenvalues.count, 1)) * .ulpOfOne * scale
    }

    /// The spectrum of a square matrix (LAPACK dgeev).
    public init(matrix: Matrix) throws {
        self.init(eigenvalues: try GameFlow.eigenvalues(of: matrix))
    }

    /// The spectrum of v′(x) (dense Jacobian from the game's exact derivatives).
    public init<G: Game>(of game: G, at x: [Double]) throws {
        guard x.count == game.dimension else {
            throw GameFlowError.invalidInput("state has \(x.count) entries, the game has dimension \(game.dimension)")
        }
        guard x.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("state has a non-finite entry") }
        try self.init(matrix: game.jacobianMatrix(at: x))
    }

    /// max Re λ (the spectral abscissa); the equilibrium is locally attracting for the flow when < 0.
    public var spectralAbscissa: Double { eigenvalues.map(\.real).max() ?? 0 }

    /// max |λ|.
    public var spectralRadius: Double { eigenvalues.map(\.length).max() ?? 0 }

    /// The paper's q = max |Im λ / Re λ| over eigenvalues (0 for real ones); nil when infinite,
    /// i.e. some eigenvalue with Im λ ≠ 0 lies on the imaginary axis.
    public var maxImagRealRatio: Double? {
        var q = 0.0
        for l in eigenvalues where abs(l.imaginary) > axisTolerance {
            if abs(l.real) <= axisTolerance { return nil }
            q = max(q, abs(l.imaginary / l.real))
        }
        return q
    }

    /// Lemma 4: explicit Euler is locally convergent iff h < min over λ of 2|Re λ|/|λ|²; nil
    /// when some Re λ ≥ 0 (no step size converges).
    public var maxStableEulerStep: Double? {
        guard !eigenvalues.isEmpty, eigenvalues.allSatisfy({ $0.real < -axisTolerance }) else { return nil }
        return eigenvalues.map { 2 * abs($0.real) / ($0.lengthSquared) }.min()
    }

    /// max over λ of |R(hλ)| for a scheme with a stability function R; nil otherwise.
    public func maxAmplification<S: Scheme>(_ scheme: S, h: Double) -> Double? {
        var m = 0.0
        for l in eigenvalues {
            guard let r = scheme.stabilityFunction(Complex(h) * l) else { return nil }
            m = max(m, r.length)
        }
        return m
    }
}

/// J − γ·JᵀJ: the Jacobian of consensus optimisation's modified field w = v − γ·v′ᵀv at a
/// stationary point of v (Lemma 8 of "The Numerics of GANs").
public func consensusJacobian(_ j: Matrix, gamma: Double) -> Matrix {
    let jtj = j.transposed * j
    var out = j
    for i in 0..<out.storage.count { out.storage[i] -= gamma * jtj.storage[i] }
    return out
}

/// The quantities of Lemma 9 of "The Numerics of GANs" for a negative semi-definite,
/// invertible A (symmetric part ⪯ 0) and γ ≥ 0:
///
///     q(γ) = max |Im λ|/|Re λ| over eigenvalues of A − γAᵀA,
///     c = min over unit v ∈ ℂⁿ of |v̄ᵀ(A + Aᵀ)v| / |v̄ᵀ(A − Aᵀ)v|,   ρ = σ_min(A),
///
/// and the lemma's bound q(γ) ≤ 1/(c + 2ρ²γ).
public struct Lemma9: Sendable {
    /// q(γ) = max |Im λ / Re λ| over the eigenvalues of v′ − γv′ᵀv′ (nil when one is on the imaginary axis).
    public let q: Double?
    /// The lemma's c: the largest t with −S ± t·H ⪰ 0 (0 when it is 0, a lower bound otherwise).
    public let c: Double
    /// ρ, the smallest singular value of A.
    public let rho: Double
    /// The bound 1/(c + 2ρ²γ) on q.
    public var bound: Double { 1 / (c + 2 * rho * rho * gamma) }
    /// γ.
    public let gamma: Double

    /// Lemma 9's quantities for A = v′(x̄) and γ.
    /// - Throws: unless A is square with A + Aᵀ negative semi-definite.
    public init(A: Matrix, gamma: Double) throws {
        guard A.isSquare else { throw GameFlowError.invalidInput("Lemma 9 needs a square matrix") }
        let n = A.rows
        self.gamma = gamma
        self.q = try Spectrum(matrix: consensusJacobian(A, gamma: gamma)).maxImagRealRatio
        let ata = A.transposed * A
        let minEig = try eigenvalues(of: ata).map(\.real).min() ?? 0
        self.rho = max(minEig, 0).squareRoot()
        // c is the largest t with −S ± t·H ⪰ 0 for S = A + Aᵀ and the Hermitian H = −i(A − Aᵀ).
        // As a real symmetric 2n×2n matrix: [[−S, tK], [−tK, −S]] with K = A − Aᵀ.
        func smallestEigenvalue(_ t: Double) throws -> (value: Double, scale: Double) {
            var m = Matrix(zeros: 2 * n, 2 * n)
            var scale = 0.0
            for i in 0..<n {
                for j in 0..<n {
                    let s = -(A[i, j] + A[j, i]), k = t * (A[i, j] - A[j, i])
                    m[i, j] = s; m[n + i, n + j] = s
                    m[i, n + j] = k; m[n + i, j] = -k
                    scale = max(scale, abs(s), abs(k))
                }
            }
            return (try eigenvalues(of: m).map(\.real).min() ?? 0, max(scale, 1e-300))
        }
        func psd(_ t: Double) throws -> Bool {
            let (lmin, scale) = try smallestEigenvalue(t)
            return lmin >= -1e-12 * scale
        }
        guard try psd(0) else { throw GameFlowError.invalidInput("Lemma 9 needs A + Aᵀ negative semi-definite") }
        var lo = 0.0, hi = 1.0
        while try psd(hi) {
            lo = hi
            hi *= 2
            if hi > 1e12 { break }
        }
        if hi > 1e12 {
            self.c = .infinity
        } else {
            for _ in 0..<80 where hi - lo > 1e-13 * hi {
                let mid = (lo + hi) / 2
                if try psd(mid) { lo = mid } else { hi = mid }
            }
            // When S is singular and H does not vanish on its null space, the smallest eigenvalue
            // falls like −αt² from t = 0: the bisection then stops where αt² meets the
            // tolerance (about 1e-6) although c = 0. For a true c > 0 the matrix is PSD below c to
            // round-off, so a clearly negative eigenvalue at lo/2 means c = 0.
            if lo > 0 {
                let (half, scale) = try smallestEigenvalue(lo / 2)
                self.c = half < -1e-14 * scale ? 0 : lo
            } else {
                self.c = lo
            }
            // (a lower bound on c: the bound it gives is never tighter than the lemma's)
        }
    }
}
