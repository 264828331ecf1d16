import CGSL
import Foundation
import Numerics
import Testing
@testable import GameFlow

/// An orthogonal n×n matrix from Givens rotations by the given seed.
func randomOrthogonal(_ n: Int, seed: UInt64) -> Matrix {
    var rng = SeededGenerator(seed: seed)
    return Matrix.randomOrthogonal(n, rng: &rng)
}

/// Eigenvalues by GSL's Francis QR: an independent implementation to compare LAPACK with.
func gslEigenvalues(_ m: Matrix) -> [Complex<Double>] {
    let n = m.rows
    let a = gsl_matrix_alloc(n, n)!, e = gsl_vector_complex_alloc(n)!, w = gsl_eigen_nonsymm_alloc(n)!
    defer { gsl_matrix_free(a); gsl_vector_complex_free(e); gsl_eigen_nonsymm_free(w) }
    for i in 0..<n { for j in 0..<n { gsl_matrix_set(a, i, j, m[i, j]) } }
    precondition(gsl_eigen_nonsymm(a, e, w) == 0)
    return (0..<n).map { k in
        let z = gsl_vector_complex_get(e, k)
        return Complex(z.dat.0, z.dat.1)
    }.sorted { ($0.real, $0.imaginary) < ($1.real, $1.imaginary) }
}

func sameMultiset(_ a: [Complex<Double>], _ b: [Complex<Double>], tolerance: Double) -> Bool {
    guard a.count == b.count else { return false }
    var rest = b
    for x in a {
        guard let k = rest.indices.min(by: { (rest[$0] - x).length < (rest[$1] - x).length }),
              (rest[k] - x).length <= tolerance else { return false }
        rest.remove(at: k)
    }
    return true
}

@Suite struct SpectrumTests {
    @Test("Bilinear A = U·diag(σ)·V gives eigenvalues ±iσᵢ (and 0 for the extra rows of a 3×2 A)")
    func bilinearEigenvalues() throws {
        let sigma = [0.5, 1.5, 3.0]
        let u = randomOrthogonal(3, seed: 1), v = randomOrthogonal(3, seed: 2)
        var d = Matrix(zeros: 3, 3)
        for i in 0..<3 { d[i, i] = sigma[i] }
        let game = try BilinearGame(A: u * d * v)
        let s = try Spectrum(of: game, at: [Double](repeating: 0.3, count: 6))
        let expected = sigma.flatMap { [Complex(0, $0), Complex(0, -$0)] }
        #expect(sameMultiset(s.eigenvalues, expected, tolerance: 1e-12))
        #expect(s.maxImagRealRatio == nil && s.maxStableEulerStep == nil)

        var d2 = Matrix(zeros: 3, 2)
        d2[0, 0] = 2; d2[1, 1] = 0.7
        let rect = try Spectrum(of: try BilinearGame(A: u * d2 * randomOrthogonal(2, seed: 3)), at: [0, 0, 0, 0, 0])
        #expect(sameMultiset(rect.eigenvalues, [Complex(0, 2), Complex(0, -2), Complex(0, 0.7), Complex(0, -0.7), Complex(0, 0)], tolerance: 1e-12))
    }

    @Test("Dirac-GAN at equilibrium: ±i/2; with R1 γ = 1 a double eigenvalue −1/2")
    func diracEigenvalues() throws {
        let plain = try Spectrum(of: try DiracGAN(), at: [0, 0])
        #expect(sameMultiset(plain.eigenvalues, [Complex(0, 0.5), Complex(0, -0.5)], tolerance: 1e-15))
        let critical = try Spectrum(of: try DiracGAN(r1: 1), at: [0, 0])
        // A defective double eigenvalue is only determined to about √ε.
        #expect(sameMultiset(critical.eigenvalues, [Complex(-0.5, 0), Complex(-0.5, 0)], tolerance: 1e-7))
        #expect(abs(critical.maxStableEulerStep! - 4) < 1e-6)     // 2·½/(½)²
    }

    @Test("A random 6×6 M: LAPACK agrees with GSL's independent Francis QR to 1e-10")
    func randomMatrix() throws {
        var rng = SeededGenerator(seed: 21)
        let m = Matrix(rows: 6, columns: 6, storage: randomVector(36, &rng))
        let ours = try eigenvalues(of: m)
        #expect(sameMultiset(ours, gslEigenvalues(m), tolerance: 1e-10))
        let trace = (0..<6).map { m[$0, $0] }.reduce(0, +)
        #expect(abs(ours.map(\.real).reduce(0, +) - trace) < 1e-12)
    }

    @Test("Rank-deficient Jacobians (many zero eigenvalues) are handled")
    func rankDeficient() throws {
        var rng = SeededGenerator(seed: 9)
        let n = 60
        let b = Matrix(rows: n, columns: 2, storage: randomVector(2 * n, &rng))
        let c = Matrix(rows: 2, columns: n, storage: randomVector(2 * n, &rng))
        let s = try Spectrum(matrix: b * c)
        #expect(s.eigenvalues.count == n)
        #expect(s.eigenvalues.filter { $0.length < 1e-10 }.count == n - 2)
    }

    @Test func badMatrices() {
        #expect(throws: GameFlowError.self) { try eigenvalues(of: Matrix(rows: 2, columns: 3, storage: [1, 2, 3, 4, 5, 6])) }
        #expect(throws: GameFlowError.self) { try eigenvalues(of: Matrix(rows: 1, columns: 1, storage: [.nan])) }
    }
}

@Suite struct StabilityTests {
    /// A random 5×5 M with every Re λ < 0 and complex pairs.
    static func stableMatrix(seed: UInt64) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        var m = Matrix(rows: 5, columns: 5, storage: randomVector(25, &rng))
        for i in 0..<5 { for j in 0..<5 { m[i, j] -= m[j, i] * 0.5 } }   // tilt towards rotation
        for i in 0..<5 { m[i, i] -= (0..<5).map { abs(m[i, $0]) }.reduce(0, +) * 0.6 + 0.05 }
        return m
    }

    @Test("Euler: Lemma 4's h* equals the bisection on the step map's radius (1e-6 relative)", arguments: [1, 2, 3] as [UInt64])
    func eulerFrontier(seed: UInt64) throws {
        let m = Self.stableMatrix(seed: seed)
        let s = try Spectrum(matrix: m)
        let hStar = try #require(s.maxStableEulerStep)
        let viaStepMap = try Stability.largestStableStep(SimGA(), jacobian: m, players: [0..<2, 2..<5], useStabilityFunction: false)
        let viaR = try Stability.largestStableStep(SimGA(), jacobian: m, players: [0..<2, 2..<5])
        #expect(relativeError(try #require(viaStepMap.value), hStar) < 1e-6)
        #expect(relativeError(try #require(viaR.value), hStar) < 1e-9)
    }

    @Test("Implicit Euler is stable for every h when all Re λ < 0")
    func implicitUnbounded() throws {
        let m = Self.stableMatrix(seed: 4)
        #expect(try Spectrum(matrix: m).spectralAbscissa < 0)
        for useR in [true, false] {
            #expect(try Stability.largestStableStep(try ImplicitEuler(tolerance: 1e-12, maxIterations: 20), jacobian: m,
                                                    players: [0..<5], useStabilityFunction: useR) == .unbounded)
        }
    }

    @Test("Extragradient on bilinear σ = 1 is stable iff h < 1")
    func extragradientBilinear() throws {
        let j = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1])).jacobianMatrix(at: [0, 0])
        for useR in [true, false] {
            let b = try Stability.largestStableStep(Extragradient(), jacobian: j, players: [0..<1, 1..<2], useStabilityFunction: useR)
            #expect(relativeError(try #require(b.value), 1) < 1e-9)
        }
        #expect(try Stability.largestStableStep(SimGA(), jacobian: j, players: [0..<1, 1..<2]) == StableStepBound.none)
        #expect(try Stability.largestStableStep(Heun(), jacobian: j, players: [0..<1, 1..<2]) == StableStepBound.none)
    }

    @Test("Eigenvalues on the imaginary axis: implicit Euler stable for every h, AltGA (radius exactly 1) for none, RK4 up to 2√2/σ")
    func imaginaryAxis() throws {
        let sigma = 2.0
        let j = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma])).jacobianMatrix(at: [0, 0])
        let players = [0..<1, 1..<2]
        for useR in [true, false] {
            #expect(try Stability.largestStableStep(try ImplicitEuler(tolerance: 1e-12, maxIterations: 20), jacobian: j,
                                                    players: players, useStabilityFunction: useR) == .unbounded)
            let rk4 = try Stability.largestStableStep(RK4(), jacobian: j, players: players, useStabilityFunction: useR)
            #expect(relativeError(try #require(rk4.value), 2 * 2.0.squareRoot() / sigma) < 1e-9)
        }
        #expect(try Stability.largestStableStep(AltGA(), jacobian: j, players: players) == StableStepBound.none)
    }

    @Test("Stable sets from R(hλ)'s closed forms: half-lines from 2Re λ/|λ|², neutral rotations, zero eigenvalues set aside")
    func stableSets() throws {
        let players = [0..<1, 1..<2]
        let ie = try ImplicitEuler(tolerance: 1e-12, maxIterations: 20)
        // λ = a ± ib with a > 0: implicit Euler stable iff h > 2a/(a² + b²), on R and on the step map.
        for (a, b) in [(1.0, 1.0), (0.3, 2.0), (2.0, 0.5)] {
            let j = Matrix(rows: 2, columns: 2, storage: [a, b, -b, a])
            for useR in [true, false] {
                let set = try Stability.stableSteps(ie, jacobian: j, players: players, useStabilityFunction: useR)
                #expect(set.stable.count == 1 && set.neutral.isEmpty, "\(set)")
                #expect(relativeError(set.stable[0].lower, 2 * a / (a * a + b * b)) < 1e-9, "\(set)")
                #expect(set.stable[0].upper == nil && set.maxStableStep == .none)
                let mid = try Stability.stableSteps(try ImplicitMidpoint(ImplicitSolverOptions()), jacobian: j, players: players)
                #expect(mid.stable.isEmpty && mid.neutral.isEmpty)
            }
        }
        // A rotation σ: |R(iy)| = 1 for midpoint and trapezoidal at every h; AltGA's map has
        // determinant 1 and is neutral while hσ < 2.
        let sigma = 1.7
        let rot = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma])).jacobianMatrix(at: [0, 0])
        for scheme in [try ImplicitMidpoint(ImplicitSolverOptions()), try Trapezoidal(ImplicitSolverOptions())] as [any Scheme] {
            let set = try Stability.stableSteps(scheme, jacobian: rot, players: players)
            #expect(set.stable.isEmpty && set.neutral == [StepInterval(lower: 0, upper: nil)], "\(scheme.name) \(set)")
        }
        let alt = try Stability.stableSteps(AltGA(), jacobian: rot, players: players)
        #expect(alt.stable.isEmpty && alt.neutral.count == 1 && alt.neutral[0].lower == 0)
        #expect(relativeError(try #require(alt.neutral[0].upper), 2 / sigma) < 1e-9)
        // Heun (|R(iy)|² = 1 + y⁴/4) is unstable at every h, RK4 stable up to 2√2/σ.
        #expect(try Stability.stableSteps(Heun(), jacobian: rot, players: players).description == "none (unstable for every h)")
        // A 3×2 bilinear game: one zero eigenvalue, set aside; implicit Euler stable for every h.
        let j32 = try BilinearGame(A: Matrix(rows: 3, columns: 2, storage: [1, 0, 0, 2, 1, 1])).jacobianMatrix(at: [0, 0, 0, 0, 0])
        let p32 = [0..<3, 3..<5]
        for useR in [true, false] {
            let set = try Stability.stableSteps(ie, jacobian: j32, players: p32, useStabilityFunction: useR)
            #expect(set.zeroEigenvalues == 1 && set.stable == [StepInterval(lower: 0, upper: nil)], "\(set)")
        }
        // Only zero eigenvalues: every h is neutral.
        let zero = try Stability.stableSteps(SimGA(), jacobian: Matrix(zeros: 2, 2), players: players)
        #expect(zero.neutral == [StepInterval(lower: 0, upper: nil)] && zero.stable.isEmpty)
    }

    @Test("max |R(hλ)| equals the step map's spectral radius on linear games", arguments: [0.05, 0.3, 1.2])
    func amplificationMatchesStepMap(h: Double) throws {
        let m = Self.stableMatrix(seed: 7)
        let s = try Spectrum(matrix: m)
        let schemes: [any Scheme] = [SimGA(), Heun(), RK4(), Extragradient(), try ImplicitEuler(tolerance: 1e-12, maxIterations: 20)]
        for scheme in schemes {
            let amplification = s.maxAmplification(scheme, h: h)
            let viaR = try #require(amplification)
            let viaMap = try Stability.stepRadius(scheme, jacobian: m, players: [0..<2, 2..<5], h: h)
            #expect(relativeError(viaMap, viaR) < 1e-10, "\(scheme.name)")
        }
    }

    @Test("Step maps without a scalar R: AltGA on bilinear has radius 1 for hσ < 2; consensus is |1 − hγσ² + ihσ|")
    func noScalarR() throws {
        let sigma = 1.5
        let j = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma])).jacobianMatrix(at: [0, 0])
        let h = 0.4, gamma = 0.3
        #expect(abs(try Stability.stepRadius(AltGA(), jacobian: j, players: [0..<1, 1..<2], h: h) - 1) < 1e-12)
        let expected = hypot(1 - h * gamma * sigma * sigma, h * sigma)
        #expect(relativeError(try Stability.stepRadius(try Consensus(gamma: gamma), jacobian: j, players: [0..<1, 1..<2], h: h), expected) < 1e-12)
        // Optimistic's 2n×2n companion has the radius of μ² − (1 + 2hλ)μ + hλ at h = 0.1, σ = 1: 0.99493615 (prior-art §5.1).
        let j1 = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1])).jacobianMatrix(at: [0, 0])
        #expect(abs(try Stability.stepRadius(Optimistic(), jacobian: j1, players: [0..<1, 1..<2], h: 0.1) - 0.99493615) < 1e-8)
    }
}

@Suite struct Lemma9Tests {
    @Test("q(γ) ≤ 1/(c + 2ρ²γ) on random negative semi-definite matrices", arguments: [31, 32, 33, 34] as [UInt64])
    func bound(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let n = 4
        let p = Matrix(rows: n, columns: 2, storage: randomVector(2 * n, &rng))   // rank-2 symmetric part
        let k = Matrix(rows: n, columns: n, storage: randomVector(n * n, &rng))
        var a = Matrix(zeros: n, n)
        let ppt = p * p.transposed
        for i in 0..<n { for j in 0..<n { a[i, j] = -0.3 * ppt[i, j] + (k[i, j] - k[j, i]) } }
        for gamma in [0.0, 0.1, 1, 10] {
            let l = try Lemma9(A: a, gamma: gamma)
            #expect(l.rho > 0)
            let q = try #require(l.q)
            #expect(q <= l.bound * (1 + 1e-9), "γ = \(gamma): q = \(q), bound = \(l.bound)")
        }
        // More consensus, smaller q: the lemma's point.
        #expect(try Lemma9(A: a, gamma: 10).q! < Lemma9(A: a, gamma: 0.1).q!)
    }

    @Test("c is exactly 0 when S = A + Aᵀ is singular and H does not vanish on its null space (no bisection residue); c = 2/σ(K) for A = −I + K")
    func cExact() throws {
        // S = [[−2, 0], [0, 0]], K = [[0, 2], [−2, 0]]: −S ± tH has determinant −4t² < 0 for t > 0.
        #expect(try Lemma9(A: Matrix(rows: 2, columns: 2, storage: [-1, 1, -1, 0]), gamma: 1).c == 0)
        // The Dirac-GAN with R1 at its equilibrium: S = diag(0, −2γ), the same structure.
        let dirac = try DiracGAN(r1: 0.5)
        #expect(try Lemma9(A: dirac.jacobianMatrix(at: [0, 0]), gamma: 1).c == 0)
        // S = −2I, K = [[0, 3], [−3, 0]] (H's eigenvalues ±3): 2I ± tH ⪰ 0 iff t ≤ 2/3.
        let c = try Lemma9(A: Matrix(rows: 2, columns: 2, storage: [-1, 1.5, -1.5, -1]), gamma: 1).c
        #expect(abs(c - 2.0 / 3) < 1e-10, "c = \(c)")
    }
}

@Suite struct EquilibriumSetTests {
    /// A = [[1, 0.5], [0, 2], [1, 1]] (the README's 3×2 game): null(Aᵀ) is spanned by (4, 1, −4)/√33
    /// and null(A) = {0}, so the equilibria are a line.
    @Test("3×2 bilinear game: the distance is to the line of equilibria, ‖(P_range(A)φ, θ)‖, and the set has dimension 1")
    func bilinearLine() throws {
        let game = try BilinearGame(A: Matrix(rows: 3, columns: 2, storage: [1, 0.5, 0, 2, 1, 1]))
        #expect(game.equilibriumSetDimension == 1)
        let n = [4.0, 1, -4].map { $0 / 33.0.squareRoot() }
        let x = [2 * n[0] + 0.3, 2 * n[1], 2 * n[2], 0.5, -0.2]
        let expected = (0.09 * (1 - 16.0 / 33) + 0.25 + 0.04).squareRoot()
        #expect(abs(game.distanceToEquilibria(from: x)! - expected) < 1e-14)
        // On the line: 0, although ‖x‖ = 1.7.
        #expect(game.distanceToEquilibria(from: n.map { 1.7 * $0 } + [0, 0])! < 1e-15)
        // A run that converges to the line reports a distance near 0, not ‖x‖.
        let s = try solve(game, scheme: try Consensus(gamma: 0.5), from: [1, 0, 0, 1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 2000))
        #expect(s.vectorFieldNorm < 1e-12 && s.distanceToEquilibrium! < 1e-12 && norm2(s.finalState) > 0.6)
        #expect(s.equilibriumSetDimension == 1)
        // A square invertible game keeps its single equilibrium.
        let square = try BilinearGame(A: Matrix(rows: 2, columns: 2, storage: [1, 2, 3, 4]))
        #expect(square.equilibriumSetDimension == 0)
        #expect(abs(square.distanceToEquilibria(from: [1, 2, 3, 4])! - 30.0.squareRoot()) < 1e-13)
    }

    @Test("Singular affine game: distance to {Mx + b = 0} when b ∈ range(M); no equilibria (nil) when not")
    func affine() throws {
        // M = diag(1, 0): equilibria {x₀ = −b₀} when b₁ = 0.
        let m = Matrix(rows: 2, columns: 2, storage: [1, 0, 0, 0])
        let consistent = try AffineGame(M: m, b: [0.5, 0], playerSizes: [1, 1])
        #expect(consistent.equilibriumSetDimension == 1)
        #expect(abs(consistent.distanceToEquilibria(from: [2, 7])! - 2.5) < 1e-14)
        let none = try AffineGame(M: m, b: [0.5, 1], playerSizes: [1, 1])
        #expect(none.distanceToEquilibria(from: [2, 7]) == nil)
        #expect(none.equilibriumSetDimension == nil)
    }
}
