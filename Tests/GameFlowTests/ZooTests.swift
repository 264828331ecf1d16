import Foundation
import Numerics
import Testing
@testable import GameFlow

/// The game-optimisation zoo's schemes against their formulas on affine games with non-zero
/// diagonal blocks and three players (the bilinear closed forms are in `BilinearContractionTests`).
@Suite struct ZooTests {
    /// A random affine game v = Mx + b with players of sizes 2, 1, 3.
    static func game() throws -> (AffineGame, Matrix, [Double]) {
        var rng = SeededGenerator(seed: 21)
        let n = 6
        let m = Matrix(rows: n, columns: n, storage: randomVector(n * n, &rng))
        let b = randomVector(n, &rng)
        return (try AffineGame(M: m, b: b, playerSizes: [2, 1, 3]), m, b)
    }

    static func apply(_ m: Matrix, _ x: [Double]) -> [Double] {
        (0..<m.rows).map { i in (0..<m.columns).reduce(0) { $0 + m[i, $1] * x[$1] } }
    }

    @Test("LA: x + h(v + α·J_off·v), J_off = M without its diagonal player blocks (three players, 1e-13)")
    func lookAhead() throws {
        let (game, m, b) = try Self.game()
        var off = m
        for block in game.players { for i in block { for j in block { off[i, j] = 0 } } }
        var rng = SeededGenerator(seed: 2)
        let x = randomVector(6, &rng)
        for (h, alpha) in [(0.1, 0.0), (0.2, 0.7), (0.05, 3.0)] {
            let v = zip(Self.apply(m, x), b).map { $0 + $1 }
            let jv = Self.apply(off, v)
            let expected = (0..<6).map { x[$0] + h * (v[$0] + alpha * jv[$0]) }
            let got = try oneStep(game, try LookAheadGradient(alpha: alpha), from: x, h: h)
            #expect(maxRelativeDifference(got, expected) < 1e-13, "h \(h) α \(alpha)")
        }
    }

    @Test("HGD: x − h·Mᵀ(Mx + b) on an affine game (1e-13)")
    func hamiltonian() throws {
        let (game, m, b) = try Self.game()
        var rng = SeededGenerator(seed: 3)
        let x = randomVector(6, &rng)
        let v = zip(Self.apply(m, x), b).map { $0 + $1 }
        let mtv = (0..<6).map { j in (0..<6).reduce(0) { $0 + m[$1, j] * v[$1] } }
        let h = 0.15
        let got = try oneStep(game, HGD(), from: x, h: h)
        #expect(maxRelativeDifference(got, (0..<6).map { x[$0] - h * mtv[$0] }) < 1e-13)
    }

    @Test("HGD converges on a random 5×5 bilinear game where SimGA diverges; LA with α = γ takes consensus's steps")
    func bilinearRuns() throws {
        var rng = SeededGenerator(seed: 5)
        let game = try BilinearGame(A: Matrix(rows: 5, columns: 5, storage: randomVector(25, &rng)))
        let x0 = randomVector(10, &rng)
        // v′ = J has eigenvalues ±iσ (σ the singular values of A); HGD's factor per mode is
        // |1 − hσ²|, slowest at the ends: with h = 2/(σ²_max + σ²_min) both are (κ² − 1)/(κ² + 1).
        let sigmas = try Spectrum(matrix: game.jacobianMatrix(at: x0)).eigenvalues.map { $0.imaginary.magnitude }
        let (lo, hi) = (sigmas.min()!, sigmas.max()!)
        let h = 2 / (hi * hi + lo * lo), rate = (hi * hi - lo * lo) / (hi * hi + lo * lo)
        let needed = Int((log(1e-8 / norm2(game.vectorField(at: x0))) / log(rate)).rounded(.up))
        let hgd = try solve(game, scheme: HGD(), from: x0, options: SolveOptions(stepSize: h, maxSteps: needed + needed / 5 + 10, tolerance: 1e-8))
        #expect(hgd.status == .converged, "\(hgd.status) after \(hgd.steps) of \(needed) predicted")
        let sim = try solve(game, scheme: SimGA(), from: x0, options: SolveOptions(stepSize: h, maxSteps: 200))
        #expect(norm2(sim.finalState) > norm2(x0))
        let la = try solve(game, scheme: try LookAheadGradient(alpha: 0.4), from: x0, options: SolveOptions(stepSize: 0.1, maxSteps: 50))
        let cons = try solve(game, scheme: try Consensus(gamma: 0.4), from: x0, options: SolveOptions(stepSize: 0.1, maxSteps: 50))
        #expect(maxRelativeDifference(la.finalState, cons.finalState) < 1e-10)
    }

    @Test("CGD on f = αxy, η = h = 0.2 (the CGD paper's Figure 2): every step contracts by 1/√(1 + η²α²) (1e-9)",
          arguments: [1.0, 3.0, 6.0])
    func cgdOnBilinear(alpha: Double) throws {
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [alpha]))
        let scheme = try LinearlyImplicit(.cgd)
        var x = [0.9, -0.4]
        for _ in 0..<5 {
            let next = try oneStep(game, scheme, from: x, h: 0.2)
            #expect(relativeError(norm2(next) / norm2(x), 1 / (1 + 0.04 * alpha * alpha).squareRoot()) < 1e-9)
            x = next
        }
    }

    @Test("Affine game with non-zero diagonal blocks: cgd is x + h(I − hJ_off)⁻¹(Mx + b), rosenbrock-euler (I − hM)⁻¹(x + hb) (1e-9)")
    func linearlyImplicitOnAffine() throws {
        let (game, m, b) = try Self.game()
        var off = m
        for block in game.players { for i in block { for j in block { off[i, j] = 0 } } }
        var rng = SeededGenerator(seed: 8)
        let x = randomVector(6, &rng)
        for h in [0.05, 0.3, 2.0] {
            let v = zip(Self.apply(m, x), b).map { $0 + $1 }
            var a = Matrix.identity(6), shifted = Matrix.identity(6)
            for i in 0..<6 { for j in 0..<6 { a[i, j] -= h * off[i, j]; shifted[i, j] -= h * m[i, j] } }
            let d = try a.solve(v)
            let cgd = try oneStep(game, try LinearlyImplicit(.cgd), from: x, h: h)
            #expect(maxRelativeDifference(cgd, (0..<6).map { x[$0] + h * d[$0] }) < 1e-9, "cgd h \(h)")
            let re = try oneStep(game, try LinearlyImplicit(.rosenbrockEuler), from: x, h: h)
            let expected = try shifted.solve((0..<6).map { x[$0] + h * b[$0] })
            #expect(maxRelativeDifference(re, expected) < 1e-9, "rosenbrock-euler h \(h)")
        }
    }

    @Test("The linearly implicit schemes' step matrices are their runs' (n JVP-free closed forms against steps on basis vectors)")
    func linearlyImplicitStepMatrices() throws {
        let (game, m, _) = try Self.game()
        let linear = try AffineGame(M: m, b: [Double](repeating: 0, count: 6), playerSizes: [2, 1, 3])
        for variant in [LinearlyImplicit.Variant.cgd, .rosenbrockEuler] {
            let scheme = try LinearlyImplicit(variant)
            let closed = try scheme.linearizedStepMatrix(jacobian: m, players: game.players, h: 0.4)
            let measured = try stepMatrix(linear, scheme, h: 0.4)
            #expect(maxRelativeDifference(closed.storage, measured.storage) < 1e-9, "\(variant)")
        }
    }

    @Test("LOLA on a random bilinear game takes consensus's steps with γ = 2α; on games without utility gradients it is refused in one line")
    func lolaOnBilinear() throws {
        let game = try BilinearGame.random(rows: 4, columns: 3, seed: 9)
        var rng = SeededGenerator(seed: 1)
        let x0 = randomVector(game.dimension, &rng)
        let lola = try solve(game, scheme: try LOLA.scheme(alpha: 0.3), from: x0, options: SolveOptions(stepSize: 0.1, maxSteps: 40))
        let cons = try solve(game, scheme: try Consensus(gamma: 0.6), from: x0, options: SolveOptions(stepSize: 0.1, maxSteps: 40))
        #expect(maxRelativeDifference(lola.finalState, cons.finalState) < 1e-12)
        let (affine, _, _) = try Self.game()
        #expect(throws: GameFlowError.self) { try solve(affine, scheme: try LOLA.scheme(alpha: 0.3), from: [Double](repeating: 0, count: 6), options: SolveOptions(stepSize: 0.1, maxSteps: 1)) }
    }

    @Test("LOLA's shaping term on a general-sum game equals central differences of the utilities' look-ahead (Dirac-GAN with R1)")
    func lolaShaping() throws {
        // Player i's LOLA gradient is ∇_i of u_i(x_i, x_j + α·v_j(x)) at α → first order:
        // v_i + α(∂_j v_i·v_j + (∂_i v_j)ᵀ∇_j u_i). Check the full w against finite differences
        // of that composite utility (with x_j's look-ahead a function of x_i too).
        let game = try DiracGAN(r1: 0.7), x = [0.6, -0.9], alpha = 1e-3, h = 1.0
        // u_G = −f(θψ), u_D = f(θψ) − (γ/2)ψ², f(t) = log σ(t) = −softplus(−t) (f′(t) = σ(−t)).
        func u(_ p: Int, _ y: [Double]) -> Double {
            let t = y[0] * y[1], f = -(t < 0 ? -t + log1p(exp(t)) : log1p(exp(-t)))
            return p == 0 ? -f : f - 0.5 * game.r1 * y[1] * y[1]
        }
        func lookAheadUtility(_ p: Int, _ y: [Double]) -> Double {
            let v = game.vectorField(at: y)
            var z = y
            let j = 1 - p
            z[j] += alpha * v[j]
            return u(p, z)
        }
        var expected = [0.0, 0.0]
        let e = 1e-6
        for p in 0..<2 {
            var a = x, b = x
            a[p] += e; b[p] -= e
            expected[p] = (lookAheadUtility(p, a) - lookAheadUtility(p, b)) / (2 * e)
        }
        let next = try oneStep(game, try LOLA.scheme(alpha: alpha), from: x, h: h)
        let w = [next[0] - x[0], next[1] - x[1]]
        // First order in α: the difference is O(α²).
        #expect(maxRelativeDifference(w, expected) < 1e-5, "\(w) vs \(expected)")
    }

    @Test("SOS on f = σφθ: ⟨S, w⟩ ≥ 0, so p = ‖v‖² below b and each step scales ‖x‖ by √((1 − hασ²(1 + p))² + h²σ²) (1e-12)",
          arguments: [(0.2, 0.3, 1.5), (0.1, 0.8, 1.0), (0.05, 0.5, 2.0)])
    func sosOnBilinear(h: Double, alpha: Double, sigma: Double) throws {
        // J·v = −σ²x, so w = v − ασ²x and S = J·v: x + h(w + pαS) = (1 − hασ²(1 + p))x + hv, v ⟂ x.
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        let scheme = try LOLA.sos(alpha: alpha, a: 0.5, b: 0.99)
        var x = [0.3 / sigma, -0.4 / sigma]   // ‖v‖ = 0.5 < b
        for _ in 0..<20 {
            let r2 = x[0] * x[0] + x[1] * x[1], p = sigma * sigma * r2   // ‖v‖² (< b², so p₂ applies)
            let c = 1 - h * alpha * sigma * sigma * (1 + p)
            let expected = (c * c + h * h * sigma * sigma).squareRoot()
            let next = try oneStep(game, scheme, from: x, h: h)
            #expect(relativeError(norm2(next) / r2.squareRoot(), expected) < 1e-12)
            x = next
        }
    }

    @Test("SOS on Letcher et al.'s tandem game: it keeps the fixed points LOLA leaves (by hα·(4, 4)), and where LOLA's shaping opposes LA p₁ turns the step to ⟨d, w⟩ = (1 − a)‖w‖²")
    func sosOnTandem() throws {
        // Losses (x + y)² − 2x and (x + y)² − 2y; GameFlow maximises u = −L. v = (2 − 2(x + y))(1, 1),
        // J_off = −2·[[0, 1], [1, 0]], S = 4(x + y)(1, 1).
        let game = try UtilityGame(FormulaUtilities(try ["-((x + y)^2 - 2*x)", "-((x + y)^2 - 2*y)"].map { try Formula.parse($0, variables: ["x", "y"]) }),
                                   playerSizes: [1, 1])
        let h = 0.1, alpha = 0.8
        let sos = try LOLA.sos(alpha: alpha), lola = try LOLA.scheme(alpha: alpha), la = try LookAheadGradient(alpha: alpha)
        let fixed = [0.25, 0.75]
        #expect(try oneStep(game, sos, from: fixed, h: h) == fixed)
        #expect(try oneStep(game, la, from: fixed, h: h) == fixed)
        #expect(maxRelativeDifference(try oneStep(game, lola, from: fixed, h: h), [0.25 + h * alpha * 4, 0.75 + h * alpha * 4]) < 1e-14)
        // At (0.5, 0): v = (1, 1), w = (1 − 2α)(1, 1) = (−0.6, −0.6), S = (2, 2), α⟨S, w⟩ = −1.92 < 0:
        // p₁ = a‖w‖²/1.92 = 0.1875 (a = 0.5), p₂ = 1 (‖v‖ = √2 ≥ b); d = w + pαS = (−0.3, −0.3).
        let x = [0.5, 0.0]
        #expect(LookAheadGradient.sosWeight(shapingAlongLookAhead: -1.92, lookAheadNormSquared: 0.72, fieldNormSquared: 2, a: 0.5, b: 0.1) == 0.1875)
        let d = try oneStep(game, sos, from: x, h: h)
        #expect(maxRelativeDifference(d, [0.5 - h * 0.3, -h * 0.3]) < 1e-14)
        let dl = try oneStep(game, lola, from: x, h: h)
        #expect(maxRelativeDifference(dl, [0.5 + h * 1.0, h * 1.0]) < 1e-14)
        #expect(throws: GameFlowError.self) { try LOLA.sos(alpha: 0.1, a: 1, b: 0.1) }
        #expect(throws: GameFlowError.self) { try LOLA.sos(alpha: 0.1, a: 0.5, b: 0) }
    }

    @Test("Lookahead around SimGA on f = σφθ: each cycle of k steps scales ‖x‖ by |1 − α + α(1 + ihσ)ᵏ| (1e-12)",
          arguments: [(5, 0.5, 0.3, 1.0), (10, 0.2, 0.1, 2.0), (1, 1.0, 0.4, 1.0), (6, 0.8, 0.25, 1.5)])
    func lookaheadCycles(k: Int, alpha: Double, h: Double, sigma: Double) throws {
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        let scheme = try Lookahead(SimGA(), k: k, alpha: alpha)
        var power = Complex<Double>(1, 0)
        for _ in 0..<k { power = power * Complex(1, h * sigma) }
        let factor = (Complex(1 - alpha, 0) + Complex(alpha, 0) * power).length
        let x0 = [0.6, -1.1]
        var integrator = try Integrator(game: game, scheme: scheme, initialState: x0, options: SolveOptions(stepSize: h, maxSteps: 3 * k))
        var previous = norm2(x0)
        for _ in 0..<3 {
            for _ in 0..<k { integrator.step() }
            let now = norm2(integrator.state)
            #expect(relativeError(now / previous, factor) < 1e-12, "k \(k) α \(alpha)")
            previous = now
        }
    }

    @Test("GDA-AM with depth ≥ 2n + 1 reaches ‖v‖ ≤ 1e-8 within 200 steps on a random 5×5 bilinear game where SimGA diverges; depth 0 is SimGA")
    func gdaAM() throws {
        let game = try BilinearGame(A: Matrix(rows: 5, columns: 5, storage: { var r = SeededGenerator(seed: 13); return randomVector(25, &r) }()))
        var rng = SeededGenerator(seed: 14)
        let x0 = randomVector(10, &rng)
        for h in [0.1, 0.5] {
            let am = try solve(game, scheme: try GDAAM(depth: 21), from: x0, options: SolveOptions(stepSize: h, maxSteps: 200, tolerance: 1e-8))
            #expect(am.status == .converged, "h \(h): \(am.status) after \(am.steps) steps")
            let sim = try solve(game, scheme: SimGA(), from: x0, options: SolveOptions(stepSize: h, maxSteps: 200))
            #expect(norm2(sim.finalState) > 2 * norm2(x0), "SimGA at h \(h)")
        }
        let zero = try solve(game, scheme: try GDAAM(depth: 0), from: x0, options: SolveOptions(stepSize: 0.1, maxSteps: 30))
        let sim = try solve(game, scheme: SimGA(), from: x0, options: SolveOptions(stepSize: 0.1, maxSteps: 30))
        #expect(zero.finalState == sim.finalState)
    }

    @Test("Uniform averaging of AltGA's bounded orbit on f = σφθ is (1/k)(I − R)⁻¹(R − R^{k+1})x₀ (1e-12), falling as 1/k; EMA is its recursion over the iterates")
    func averaging() throws {
        let sigma = 1.3, h = 0.5
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        let r = try stepMatrix(game, AltGA(), h: h)
        let x0 = [0.7, -0.4]
        func apply(_ m: Matrix, _ x: [Double]) -> [Double] { [m[0, 0] * x[0] + m[0, 1] * x[1], m[1, 0] * x[0] + m[1, 1] * x[1]] }
        var previous = 0.0
        for k in [500, 1000] {
            let s = try solve(game, scheme: try Averaged(AltGA(), kind: .uniform), from: x0, options: SolveOptions(stepSize: h, maxSteps: k))
            var rk1 = x0
            for _ in 0...k { rk1 = apply(r, rk1) }
            let rx = apply(r, x0)
            var iMinusR = Matrix.identity(2)
            for i in 0..<2 { for j in 0..<2 { iMinusR[i, j] -= r[i, j] } }
            let expected = try iMinusR.solve([rx[0] - rk1[0], rx[1] - rk1[1]]).map { $0 / Double(k) }
            let average = try #require(s.average)
            #expect(maxRelativeDifference(average.state, expected) < 1e-12, "k \(k)")
            #expect(average.distanceToEquilibrium! < 5 / Double(k))
            if previous > 0 { #expect(average.distanceToEquilibrium! < 0.75 * previous) }
            previous = average.distanceToEquilibrium!
        }
        // EMA with β = 0.9 over AltGA's iterates, by hand.
        var x = x0, ema = x0
        for _ in 0..<50 { x = apply(r, x); ema = (0..<2).map { 0.9 * ema[$0] + 0.1 * x[$0] } }
        let e = try solve(game, scheme: try Averaged(AltGA(), kind: .ema(0.9)), from: x0, options: SolveOptions(stepSize: h, maxSteps: 50))
        #expect(maxRelativeDifference(try #require(e.average).state, ema) < 1e-12)
        #expect(e.finalState == (try solve(game, scheme: AltGA(), from: x0, options: SolveOptions(stepSize: h, maxSteps: 50))).finalState)
    }
}
