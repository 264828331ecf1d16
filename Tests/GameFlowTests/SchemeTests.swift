import Foundation
import Numerics
import Testing
@testable import GameFlow

/// Per-step contraction factors on bilinear games against their closed forms (prior-art §5.1).
@Suite struct BilinearContractionTests {
    /// ‖x_{k+1}‖/‖x_k‖ for one singular value σ, from the stability function at z = ±ihσ.
    static func predicted(_ name: SchemeName, h: Double, sigma: Double, gamma: Double) -> Double? {
        let s = h * sigma, s2 = s * s
        switch name {
        case .simga: return (1 + s2).squareRoot()
        // Rosenbrock–Euler is implicit Euler on a linear game; CGD too on a bilinear one (J = J_off).
        case .implicitEuler, .rosenbrockEuler, .cgd: return 1 / (1 + s2).squareRoot()
        case .implicitMidpoint, .trapezoidal: return 1
        case .extragradient: return (1 - s2 + s2 * s2).squareRoot()
        // SGA's λ and LA's α are makeScheme's `gamma`: on a bilinear game w = (J + λJ²)x,
        // consensus's update (LA: w = v + αJ_off·v = (J + αJ²)x, J = J_off).
        case .consensus, .sga, .la: return ((1 - h * gamma * sigma * sigma) * (1 - h * gamma * sigma * sigma) + s2).squareRoot()
        case .heun: return (1 + s2 * s2 / 4).squareRoot()
        case .rk4: return (1 - pow(s, 6) / 72 + pow(s, 8) / 576).squareRoot()
        // LOLA: the shaping term doubles LA's correction on a zero-sum bilinear game (γ = 2α). SOS
        // too while ‖v‖ ≥ b (0.1; ⟨S, w⟩ ≥ 0 there, so p = 1): these states keep ‖v‖ > 0.5.
        case .lola, .sos: return ((1 - 2 * h * gamma * sigma * sigma) * (1 - 2 * h * gamma * sigma * sigma) + s2).squareRoot()
        // HGD: x − h·JᵀJx, JᵀJ = σ²I on a bilinear game with equal singular values.
        case .hgd: return abs(1 - h * sigma * sigma)
        case .altga, .optimistic, .gdaAM, .rkf45, .rkck, .rk8pd: return nil
        }
    }

    static let cases: [(SchemeName, Double, Double)] = [SchemeName.simga, .implicitEuler, .implicitMidpoint, .trapezoidal, .extragradient, .consensus, .sga, .hgd, .la, .lola, .sos, .rosenbrockEuler, .cgd, .heun, .rk4]
        .flatMap { n in [(0.1, 1.0), (0.5, 1.0), (0.3, 2.5), (1.7, 0.8)].map { (n, $0.0, $0.1) } }

    @Test("1×1 bilinear: every step scales ‖x‖ by the closed-form factor (1e-12 relative)", arguments: cases)
    func scalarGame(name: SchemeName, h: Double, sigma: Double) throws {
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        let gamma = 0.37
        let scheme = try makeScheme(name, gamma: gamma)
        let expected = Self.predicted(name, h: h, sigma: sigma, gamma: gamma)!
        var x = [0.8, -1.3]
        for _ in 0..<5 {
            let next = try oneStep(game, scheme, from: x, h: h)
            #expect(relativeError(norm2(next) / norm2(x), expected) < 1e-12, "\(name) h=\(h) σ=\(sigma)")
            x = next
        }
    }

    @Test("3×2 bilinear (non-square A, both σ equal): same closed forms", arguments: [SchemeName.simga, .implicitEuler, .extragradient, .consensus, .sga, .hgd, .la, .lola, .sos, .rosenbrockEuler, .cgd, .heun, .rk4])
    func nonSquare(name: SchemeName) throws {
        let sigma = 1.3, h = 0.4, gamma = 0.25
        let game = try BilinearGame(A: equalSingularValues3x2(sigma))
        #expect(game.dimension == 5 && game.players == [0..<3, 3..<5])
        // φ in range(A) (so no component in the stationary null space of Aᵀ), θ arbitrary.
        let a = game.A
        let phi = [a[0, 0] + 0.5 * a[0, 1], a[1, 0] + 0.5 * a[1, 1], a[2, 0] + 0.5 * a[2, 1]]
        let x0 = phi + [0.7, -0.2]
        let next = try oneStep(game, try makeScheme(name, gamma: gamma), from: x0, h: h)
        let expected = Self.predicted(name, h: h, sigma: sigma, gamma: gamma)!
        #expect(relativeError(norm2(next) / norm2(x0), expected) < 1e-12, "\(name)")
    }

    @Test("Consensus with γ = h has exactly extragradient's update matrix")
    func consensusEqualsExtragradient() throws {
        var rng = SeededGenerator(seed: 11)
        let game = try BilinearGame(A: Matrix(rows: 3, columns: 2, storage: randomVector(6, &rng)))
        for h in [0.05, 0.3, 0.9] {
            let c = try stepMatrix(game, try Consensus(gamma: h), h: h)
            let e = try stepMatrix(game, Extragradient(), h: h)
            #expect(maxRelativeDifference(c.storage, e.storage) < 1e-14, "h = \(h)")
        }
    }

    @Test("AltGA: player 1 moves first, player 2 sees the update; the orbit keeps φ²+θ²+hσφθ and stays bounded")
    func alternatingBoundedOrbit() throws {
        let sigma = 1.2, h = 0.5
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        let first = try oneStep(game, AltGA(), from: [1, 1], h: h)
        let phi1 = 1 + h * sigma * 1
        #expect(first == [phi1, 1 - h * sigma * phi1])
        let q = { (x: [Double]) in x[0] * x[0] + x[1] * x[1] + h * sigma * x[0] * x[1] }
        var x = [1.0, 1.0]
        let q0 = q(x)
        var lo = Double.infinity, hi = 0.0
        for _ in 0..<2000 {
            x = try oneStep(game, AltGA(), from: x, h: h)
            #expect(relativeError(q(x), q0) < 1e-11)
            lo = min(lo, norm2(x)); hi = max(hi, norm2(x))
        }
        // Bounded away from 0 and from infinity: neither converges nor diverges.
        #expect(lo > 0.5 && hi < 3)
    }

    @Test("Optimistic: first step is Euler, later rate is the largest root of μ² − (1+2ihσ)μ + ihσ")
    func optimisticRate() throws {
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1]))
        let h = 0.1
        #expect(try oneStep(game, Optimistic(), from: [1, 1], h: h) == oneStep(game, SimGA(), from: [1, 1], h: h))
        // |μ| of the dominant root, from the quadratic formula in complex arithmetic.
        let (br, bi) = (1.0, 2 * h)            // b = 1 + 2ih
        let (cr, ci) = (0.0, h)                // c = ih
        let dr = br * br - bi * bi - 4 * cr, di = 2 * br * bi - 4 * ci
        let mod = (dr * dr + di * di).squareRoot()
        let sr = ((mod + dr) / 2).squareRoot(), si = (di >= 0 ? 1.0 : -1.0) * ((mod - dr) / 2).squareRoot()
        let rho = max(hypot((br + sr) / 2, (bi + si) / 2), hypot((br - sr) / 2, (bi - si) / 2))
        let s100 = try integrate(game, Optimistic(), from: [1, 1], h: h, steps: 100)
        let s200 = try integrate(game, Optimistic(), from: [1, 1], h: h, steps: 200)
        let measured = pow(norm2(s200.finalState) / norm2(s100.finalState), 1.0 / 100)
        #expect(relativeError(measured, rho) < 1e-9)
        #expect(rho < 1)
    }
}

/// Lemma 4 on affine games with eigenvalues a ± ib.
@Suite struct Lemma4Tests {
    @Test("Euler contracts just below h* = 2|a|/(a²+b²) and expands just above", arguments: [(-0.1, 2.0), (-1.0, 0.5), (-0.02, 3.0)])
    func eulerThreshold(a: Double, b: Double) throws {
        // Eigenvalues a ± ib on the first block, a much more stable pair on the second.
        let m = Matrix(rows: 4, columns: 4, storage: [a, b, 0, 0, -b, a, 0, 0, 0, 0, a * 2, 0, 0, 0, 0, a * 2])
        let xbar = [0.5, -1.0, 2.0, 0.25]
        let bvec = m.multiply(xbar).map { -$0 }
        let game = try AffineGame(M: m, b: bvec, playerSizes: [2, 2])
        #expect(maxRelativeDifference(game.equilibrium!, xbar) < 1e-12)
        let hStar = 2 * abs(a) / (a * a + b * b)
        let x0 = [1.5, 0.0, 2.0, 0.25]
        let steps = 400
        let below = try integrate(game, SimGA(), from: x0, h: hStar * (1 - 1e-3), steps: steps)
        let above = try integrate(game, SimGA(), from: x0, h: hStar * (1 + 1e-3), steps: steps)
        let d0 = distance(x0, xbar)
        #expect(below.distanceToEquilibrium! < d0)
        #expect(above.distanceToEquilibrium! > d0)
        // And the per-step factor is |1 + hλ| exactly.
        let h = hStar * (1 + 1e-3)
        let factor = ((1 + h * a) * (1 + h * a) + h * h * b * b).squareRoot()
        #expect(relativeError(above.distanceToEquilibrium! / d0, pow(factor, Double(steps))) < 1e-9)
    }
}

/// Implicit Euler through GSL.
@Suite struct ImplicitEulerTests {
    @Test("On an affine game each step equals (I − hM)⁻¹(x + hb) to 1e-10, for h from 1e-2 to 1e4", arguments: [1e-2, 0.3, 1.0, 10.0, 1e4])
    func affineClosedForm(h: Double) throws {
        var rng = SeededGenerator(seed: 5)
        let n = 6
        var m = Matrix(rows: n, columns: n, storage: randomVector(n * n, &rng))
        // Shift the spectrum left (Gershgorin) so that I − hM is invertible for every h > 0.
        for i in 0..<n { m[i, i] -= (0..<n).map { abs(m[i, $0]) }.reduce(0, +) + 0.1 }
        let b = randomVector(n, &rng)
        let game = try AffineGame(M: m, b: b, playerSizes: [3, 3])
        var x = randomVector(n, &rng)
        var iMinusHM = Matrix.identity(n)
        for i in 0..<(n * n) { iMinusHM.storage[i] -= h * m.storage[i] }
        let scheme = try ImplicitEuler(tolerance: 1e-12, maxIterations: 50)
        for _ in 0..<3 {
            let expected = try iMinusHM.solve(zip(x, b).map { $0 + h * $1 })
            let next = try oneStep(game, scheme, from: x, h: h)
            #expect(maxRelativeDifference(next, expected) < 1e-10, "h = \(h)")
            x = next
        }
    }

    @Test("v(x) = 1 + x² at h = 1 has no real implicit step: status failed with GSL's reason, process alive", arguments: [RootMethod.hybridsj, .hybrids])
    func noRealRoot(method: RootMethod) throws {
        let game = ClosureGame(name: "riccati", dimension: 1,
                               field: { x, v in v[0] = 1 + x[0] * x[0] },
                               jacobian: { x, j in j[0] = 2 * x[0] })
        let scheme = try ImplicitEuler(tolerance: 1e-10, maxIterations: 200, method: method)
        let s = try integrate(game, scheme, from: [0], h: 1, steps: 10)
        guard case .failed(let reason) = s.status else {
            Issue.record("expected failed, got \(s.status)"); return
        }
        #expect(reason.contains("GSL") || reason.contains("iterations"), "\(reason)")
        #expect(s.steps == 0 && s.finalState == [0])
        #expect(s.stats.rootFailures == 1 && s.stats.rootSolves == 1)
    }

    @Test("Without an exact Jacobian the default is hybrids, and it still solves the affine step")
    func hybridsFallback() throws {
        let game = ClosureGame(dimension: 2, playerSizes: [1, 1], field: { x, v in v[0] = x[1]; v[1] = -x[0] })
        #expect(!game.hasExactDerivatives)
        let h = 0.5
        let s = try integrate(game, try ImplicitEuler(tolerance: 1e-12, maxIterations: 50), from: [1, 1], h: h, steps: 1)
        #expect(s.stats.jacobianEvaluations == 0)
        #expect(maxRelativeDifference(s.finalState, [1.2, 0.4]) < 1e-10)   // (I − hJ)⁻¹x₀, toolchain §3
    }
}

/// The Dirac-GAN at the settings of Mescheder et al. (2018): h = 0.2 from (1, 1), 500 steps.
@Suite struct DiracGANSchemeTests {
    let x0 = [1.0, 1.0]

    @Test func eulerSpiralsOut() throws {
        let s = try integrate(try DiracGAN(), SimGA(), from: x0, h: 0.2, steps: 500)
        #expect(norm2(s.finalState) > 2 * 2.0.squareRoot())
    }

    @Test func rk4FollowsTheConservativeFlow() throws {
        let s = try integrate(try DiracGAN(), RK4(), from: x0, h: 0.2, steps: 500)
        #expect(abs(norm2(s.finalState) / 2.0.squareRoot() - 1) < 0.01)
    }

    @Test func dissipativeSchemesShrink() throws {
        let ie = try integrate(try DiracGAN(), try ImplicitEuler(tolerance: 1e-12, maxIterations: 50), from: x0, h: 0.2, steps: 500)
        let eg = try integrate(try DiracGAN(), Extragradient(), from: x0, h: 0.2, steps: 500)
        #expect(ie.status == .completed && eg.status == .completed)
        #expect(norm2(ie.finalState) < 0.2 && norm2(eg.finalState) < 0.2)
    }

    @Test func eulerConvergesWithCriticalR1() throws {
        let s = try integrate(try DiracGAN(r1: 1), SimGA(), from: x0, h: 0.2, steps: 500, tolerance: 1e-12)
        #expect(s.status == .converged)
        #expect(s.vectorFieldNorm <= 1e-12)
    }
}

/// Work counts per step are measured where the work happens.
@Suite struct StatsTests {
    @Test("Evaluations per step", arguments: [
        (SchemeName.simga, 1, 0), (.altga, 2, 0), (.heun, 2, 0), (.rk4, 4, 0),
        (.extragradient, 2, 0), (.optimistic, 1, 0), (.consensus, 1, 1),
    ])
    func perStep(name: SchemeName, fields: Int, vjps: Int) throws {
        let steps = 7
        let scheme = try makeScheme(name)
        let s = try integrate(try DiracGAN(), scheme, from: [1, 1], h: 0.1, steps: steps)
        #expect(s.stats.fieldEvaluations == fields * steps)
        #expect(s.stats.transposeJacobianVectorProducts == vjps * steps)
        #expect(s.stats.jacobianVectorProducts == 0)
        #expect(scheme.evaluationsPerStep == fields)
    }

    @Test("Implicit Euler counts solves, iterations, residual and Jacobian evaluations")
    func implicitCounts() throws {
        let s = try integrate(try DiracGAN(), try ImplicitEuler(tolerance: 1e-12, maxIterations: 50), from: [1, 1], h: 0.2, steps: 5)
        #expect(s.stats.rootSolves == 5 && s.stats.rootFailures == 0)
        #expect(s.stats.rootIterations >= 5)
        #expect(s.stats.fieldEvaluations >= s.stats.rootIterations)
        #expect(s.stats.jacobianEvaluations >= 5)
    }
}

/// The literature's schemes with their own parameters: SGA, extragradient's η, optimistic's b.
@Suite struct ParameterisedSchemeTests {
    @Test("Extragradient with its own η: one step on f = σφθ scales ‖x‖ by √((1 − hησ²)² + h²σ²) (1e-12)")
    func extragradientEta() throws {
        let sigma = 1.3
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        for (h, eta) in [(0.1, 0.5), (0.4, 0.05), (0.3, 0.3), (0.2, 2.0)] {
            let next = try oneStep(game, try Extragradient(extrapolationStep: eta), from: [0.8, -1.3], h: h)
            let expected = ((1 - h * eta * sigma * sigma) * (1 - h * eta * sigma * sigma) + h * h * sigma * sigma).squareRoot()
            #expect(relativeError(norm2(next) / norm2([0.8, -1.3]), expected) < 1e-12, "h \(h) η \(eta)")
        }
        // η = h is the plain scheme, bit for bit.
        let a = try oneStep(game, try Extragradient(extrapolationStep: 0.3), from: [0.8, -1.3], h: 0.3)
        #expect(a == (try oneStep(game, Extragradient(), from: [0.8, -1.3], h: 0.3)))
        #expect(throws: GameFlowError.self) { try Extragradient(extrapolationStep: 0) }
    }

    /// The upper end of optimistic's region in α for given β and σ (see `Optimistic`).
    static func alphaMax(beta: Double, sigma: Double) -> Double {
        let u = beta * beta * sigma * sigma
        return beta * (3 - u) / (1 + u)
    }

    @Test("Optimistic (α, β) = ((1 + b)h, bh): its companion matrix's radius is the largest root of λ² − (1 + iασ)λ + iβσ (1e-12)")
    func optimisticRate() throws {
        let sigma = 1.1
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        for (h, b) in [(0.2, 1.0), (0.1, 3.0), (0.3, 0.5), (0.05, 0.0)] {
            let m = try Optimistic(pastWeight: b).linearizedStepMatrix(jacobian: game.jacobianMatrix(at: [0, 0]), players: game.players, h: h)
            let r = try Spectrum(matrix: m).spectralRadius
            // Roots of λ² − (1 + iασ)λ + iβσ.
            let alpha = (1 + b) * h, beta = b * h
            let p = Complex(1.0, alpha * sigma), q = Complex(0.0, beta * sigma)
            let disc = Complex.sqrt(p * p - 4 * q)
            let expected = max(((p + disc) / 2).length, ((p - disc) / 2).length)
            #expect(abs(r - expected) < 1e-12, "h \(h) b \(b)")
        }
    }

    @Test("Optimistic's convergence region 0 < βσ < 1, β < α < β(3 − β²σ²)/(1 + β²σ²) holds at ±5 % of its upper boundaries (runs of 4,000 steps)")
    func optimisticRegion() throws {
        let sigma = 1.0
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        func converges(alpha: Double, beta: Double) throws -> Bool {
            // α = (1 + b)h, β = bh ⇒ h = α − β, b = β/h.
            let h = alpha - beta
            let s = try solve(game, scheme: try Optimistic(pastWeight: beta / h), from: [1, 0.5],
                              options: SolveOptions(stepSize: h, maxSteps: 4000, divergenceBound: 1e6))
            return s.status == .completed && norm2(s.finalState) < 1e-3
        }
        for beta in [0.2, 0.5, 0.8] {
            let top = Self.alphaMax(beta: beta, sigma: sigma)
            #expect(try converges(alpha: 0.95 * top, beta: beta), "β \(beta) α \(0.95 * top)")
            #expect(!(try converges(alpha: 1.05 * top, beta: beta)), "β \(beta) α \(1.05 * top)")
        }
        // βσ < 1: just inside, the α-interval is (β, β·(3 − u)/(1 + u)) with u ≈ 0.9; just outside it is empty.
        let inside = 0.95, mid = (inside + Self.alphaMax(beta: inside, sigma: sigma)) / 2
        #expect(try converges(alpha: mid, beta: inside))
        #expect(Self.alphaMax(beta: 1.05, sigma: sigma) < 1.05)
        for alpha in [1.06, 1.1, 1.3] { #expect(!(try converges(alpha: alpha, beta: 1.05)), "α \(alpha)") }
        // Today's b = 1 (α = 2β = 2h): the region is hσ < 1/√3.
        #expect(abs(Self.alphaMax(beta: 1 / 3.0.squareRoot(), sigma: 1) - 2 / 3.0.squareRoot()) < 1e-15)
    }

    @Test("SGA: on a potential game (symmetric v′) it is SimGA; its work per step is 1 v, 1 JVP, 1 transpose JVP")
    func sgaPotential() throws {
        // v = M·x with M symmetric: A = 0.
        let m = Matrix(rows: 2, columns: 2, storage: [-1, 0.4, 0.4, -2])
        let game = try AffineGame(M: m, b: [0.3, -0.1], playerSizes: [1, 1])
        let sga = try solve(game, scheme: try SGA(lambda: 0.7), from: [1, 2], options: SolveOptions(stepSize: 0.1, maxSteps: 10))
        let sim = try solve(game, scheme: SimGA(), from: [1, 2], options: SolveOptions(stepSize: 0.1, maxSteps: 10))
        #expect(maxRelativeDifference(sga.finalState, sim.finalState) < 1e-14)
        #expect(sga.stats.jacobianVectorProducts == 10 && sga.stats.transposeJacobianVectorProducts == 10, "\(sga.stats)")
        #expect(sga.stats.fieldEvaluations == sim.stats.fieldEvaluations)
    }

    @Test("SGA's alignment flips λ's sign where ⟨ξ, ∇H⟩⟨Aᵀξ, ∇H⟩ < 0 (a closed-form check of one step)")
    func sgaAlign() throws {
        // v = M·x, M = [[a, c], [−c + d, a]]: v′ = M, A = [[0, c − d/2], [−(c − d/2), 0]].
        let m = Matrix(rows: 2, columns: 2, storage: [0.5, 1.0, -0.2, 0.5])
        let game = try AffineGame(M: m, b: [0, 0], playerSizes: [1, 1])
        let x = [2.0, 1.0], h = 0.1, lambda = 0.8
        let v = game.vectorField(at: x)
        let mt = [m[0, 0] * v[0] + m[1, 0] * v[1], m[0, 1] * v[0] + m[1, 1] * v[1]]   // v′ᵀv
        let mv = [m[0, 0] * v[0] + m[0, 1] * v[1], m[1, 0] * v[0] + m[1, 1] * v[1]]   // v′v
        let atv = [(mt[0] - mv[0]) / 2, (mt[1] - mv[1]) / 2]
        let xiH = -(v[0] * mt[0] + v[1] * mt[1]), aH = atv[0] * mt[0] + atv[1] * mt[1]
        let sign: Double = xiH * aH / 2 + 0.1 < 0 ? -1 : 1
        let expected = [x[0] + h * (v[0] - sign * lambda * atv[0]), x[1] + h * (v[1] - sign * lambda * atv[1])]
        let next = try oneStep(game, try SGA(lambda: lambda, align: true), from: x, h: h)
        #expect(maxRelativeDifference(next, expected) < 1e-14)
        #expect(sign == -1, "this state should flip the sign (xiH \(xiH), aH \(aH))")
        // Where the rule keeps the sign, the aligned step is the plain one.
        let keep = [0.9, -0.4]
        #expect(try oneStep(game, try SGA(lambda: lambda, align: true), from: keep, h: h)
                == (try oneStep(game, try SGA(lambda: lambda), from: keep, h: h)))
    }
}

@Suite struct ConsensusOnDiscriminatorTests {
    @Test("Consensus on D = φ only, f = σφθ: step map [[1 − hγσ², hσ], [−hσ, 1]], radius √(1 − hγσ² + h²σ²) while complex")
    func bilinear() throws {
        let sigma = 1.2
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        for (h, gamma) in [(0.1, 0.5), (0.3, 1.0), (0.05, 0.5)] {
            let tr = 2 - h * gamma * sigma * sigma, det = 1 - h * gamma * sigma * sigma + h * h * sigma * sigma
            #expect(tr * tr < 4 * det)   // a complex pair
            let scheme = try Consensus(gamma: gamma, onlyPlayer: game.discriminatorPlayer)
            let m = try scheme.linearizedStepMatrix(jacobian: game.jacobianMatrix(at: [0, 0]), players: game.players, h: h)
            let expected = [1 - h * gamma * sigma * sigma, h * sigma, -h * sigma, 1]
            #expect(maxRelativeDifference(m.storage, expected) < 1e-14)
            let r = try Spectrum(matrix: m).spectralRadius
            #expect(abs(r - (1 - h * gamma * sigma * sigma + h * h * sigma * sigma).squareRoot()) < 1e-12)
        }
        // The Dirac-GAN's discriminator is ψ (player 1): only ψ's entry changes.
        let dirac = try DiracGAN(r1: 0)
        let full = try oneStep(dirac, try Consensus(gamma: 0.7), from: [0.8, -0.3], h: 0.1)
        let onD = try oneStep(dirac, try Consensus(gamma: 0.7, onlyPlayer: dirac.discriminatorPlayer), from: [0.8, -0.3], h: 0.1)
        let simga = try oneStep(dirac, SimGA(), from: [0.8, -0.3], h: 0.1)
        #expect(onD[0] == simga[0] && onD[1] == full[1] && full[0] != simga[0])
    }
}
