import Foundation
import Testing
@testable import GameFlow

/// A random 6×6 M with its spectrum shifted left, so that I − hM is invertible for every h > 0.
private func stableAffine(seed: UInt64) throws -> (AffineGame, Matrix, [Double], [Double]) {
    var rng = SeededGenerator(seed: seed)
    let n = 6
    var m = Matrix(rows: n, columns: n, storage: randomVector(n * n, &rng))
    for i in 0..<n { m[i, i] -= (0..<n).map { abs(m[i, $0]) }.reduce(0, +) + 0.1 }
    let b = randomVector(n, &rng)
    return (try AffineGame(M: m, b: b, playerSizes: [3, 3]), m, b, randomVector(n, &rng))
}

private func newtonKrylov(tolerance: Double = 1e-12, budget: (Int, Int)? = nil) -> ImplicitSolverOptions {
    var o = ImplicitSolverOptions(method: .newtonKrylov, tolerance: tolerance, maxIterations: 100)
    if let (k, m) = budget { o.budget = (k, m) }
    return o
}

/// The scalar bilinear game f = σ·φθ: v = (σθ, −σφ).
private func scalarBilinear(_ sigma: Double) throws -> BilinearGame {
    try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
}

@Suite struct NewtonKrylovImplicitEulerTests {
    @Test("Newton–Krylov implicit Euler on an affine game equals (I − hM)⁻¹(x + hb) to 1e-9, h from 1e-2 to 1e4",
          arguments: [1e-2, 0.3, 1.0, 10.0, 1e4])
    func affineClosedForm(h: Double) throws {
        let (game, m, b, x0) = try stableAffine(seed: 5)
        var iMinusHM = Matrix.identity(6)
        for i in 0..<36 { iMinusHM.storage[i] -= h * m.storage[i] }
        let scheme = try ImplicitEuler(newtonKrylov())
        var x = x0
        for _ in 0..<3 {
            let expected = try iMinusHM.solve(zip(x, b).map { $0 + h * $1 })
            let next = try oneStep(game, scheme, from: x, h: h)
            #expect(maxRelativeDifference(next, expected) < 1e-9, "h = \(h)")
            x = next
        }
    }

    @Test("On a bilinear game it contracts ‖x‖ by 1/√(1 + h²σ²) per step to 1e-9", arguments: [0.1, 1.0, 7.0])
    func bilinearContraction(h: Double) throws {
        let sigma = 1.3
        let s = try integrate(try scalarBilinear(sigma), try ImplicitEuler(newtonKrylov()), from: [0.6, -0.8], h: h, steps: 10)
        #expect(s.status == .completed)
        let factor = 1 / (1 + h * h * sigma * sigma).squareRoot()
        #expect(relativeError(norm2(s.finalState), pow(factor, 10)) < 1e-9)
        #expect(s.stats.newtonIterations > 0 && s.stats.krylovIterations > 0)
        #expect(s.stats.jacobianVectorProducts >= s.stats.krylovIterations)
        #expect(s.stats.jacobianEvaluations == 0)
    }

    @Test("v = 1 + x² at h = 1 has no implicit step: failed with KINSOL's reason, process alive, state kept")
    func noRoot() throws {
        let game = ClosureGame(name: "riccati", dimension: 1, field: { x, v in v[0] = 1 + x[0] * x[0] },
                               jacobian: { x, j in j[0] = 2 * x[0] })
        var options = newtonKrylov(tolerance: 1e-10)
        options.stallTolerance = nil
        let s = try integrate(game, try ImplicitEuler(options), from: [0], h: 1, steps: 5)
        guard case .failed(let reason) = s.status else { Issue.record("expected failed, got \(s.status)"); return }
        #expect(reason.contains("KINSOL") && reason.contains("KIN_"), "\(reason)")
        #expect(s.steps == 0 && s.finalState == [0])
        #expect(s.stats.rootFailures == 1)
    }

    @Test("auto is dense GSL up to the dense limit and Newton–Krylov above it")
    func autoChoice() {
        #expect(RootMethod.auto.resolved(dimension: RootMethod.denseLimit, exactDerivatives: true) == .hybridsj)
        #expect(RootMethod.auto.resolved(dimension: RootMethod.denseLimit, exactDerivatives: false) == .hybrids)
        #expect(RootMethod.auto.resolved(dimension: RootMethod.denseLimit + 1, exactDerivatives: true) == .newtonKrylov)
        #expect(RootMethod.hybridsj.resolved(dimension: 10_000, exactDerivatives: true) == .hybridsj)
    }
}

@Suite struct ScaleSafeImplicitTests {
    static let solvers: [RootMethod] = [.hybridsj, .hybrids, .newtonKrylov]

    @Test("A linear step scales with x0: x0 = 1e-170 and 1e200 give the step from x0 = 1 scaled", arguments: solvers)
    func homogeneous(method: RootMethod) throws {
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-0.1, 1, -1, -0.1]), b: [0, 0], playerSizes: [1, 1])
        let scheme = try ImplicitEuler(ImplicitSolverOptions(method: method, tolerance: 1e-12, maxIterations: 50))
        func step(_ c: Double) throws -> [Double] {
            let s = try integrate(game, scheme, from: [c, c], h: 1, steps: 1, bound: 1e300)
            #expect(s.status == .completed, "scale \(c), \(method): \(s.status)")
            return s.finalState
        }
        let unit = try step(1)
        for c in [1e-170, 1e200, 0x1p-600] {
            #expect(maxRelativeDifference(try step(c).map { $0 / c }, unit) < 1e-12, "scale \(c), \(method)")
        }
        // A power-of-two scale is exact.
        #expect(try step(0x1p-600) == unit.map { $0 * 0x1p-600 })
    }

    @Test("1000 steps at h = 10 to the equilibrium at 0 end completed, never failed", arguments: solvers)
    func runToZero(method: RootMethod) throws {
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-0.1, 1, -1, -0.1]), b: [0, 0], playerSizes: [1, 1])
        let s = try integrate(game, try ImplicitEuler(ImplicitSolverOptions(method: method)), from: [1, 1], h: 10, steps: 1000)
        #expect(s.status == .completed || s.status == .converged, "\(s.status)")
        #expect(maxAbs(s.finalState) < 1e-300)
    }

    @Test("x = 0 with v(0) = 0 is its own step, exactly")
    func zeroState() throws {
        let s = try integrate(try DiracGAN(r1: 1), try ImplicitEuler(ImplicitSolverOptions()), from: [0, 0], h: 1, steps: 3)
        #expect(s.status == .completed && s.finalState == [0, 0])
    }
}

@Suite struct SecondOrderImplicitTests {
    static let schemes: [(String, @Sendable (ImplicitSolverOptions) throws -> any Scheme)] = [
        ("implicit-midpoint", { try ImplicitMidpoint($0) }), ("trapezoidal", { try Trapezoidal($0) }),
    ]

    @Test("Implicit midpoint and trapezoidal keep ‖x‖ on a bilinear game to 1e-10 over 1000 steps at h = 1",
          arguments: [RootMethod.hybridsj, .newtonKrylov])
    func conserveNorm(method: RootMethod) throws {
        let game = try BilinearGame(A: equalSingularValues3x2(1.7))
        let x0 = [0.3, -0.2, 0.5, 1.0, -0.4]
        for (name, make) in Self.schemes {
            let s = try integrate(game, try make(ImplicitSolverOptions(method: method, tolerance: 1e-13, maxIterations: 50)),
                                  from: x0, h: 1, steps: 1000)
            #expect(s.status == .completed)
            #expect(relativeError(norm2(s.finalState), norm2(x0)) < 1e-10, "\(name), \(method)")
        }
    }

    @Test("On a linear game both steps are (I − hA/2)⁻¹(I + hA/2), as is their linearised step matrix", arguments: [0.1, 1.0, 5.0])
    func closedForm(h: Double) throws {
        let (game, m, _, _) = try stableAffine(seed: 9)
        let linear = try AffineGame(M: m, b: [Double](repeating: 0, count: 6), playerSizes: [3, 3])
        var a = Matrix.identity(6), b = Matrix.identity(6)
        for i in 0..<36 { a.storage[i] -= h / 2 * m.storage[i]; b.storage[i] += h / 2 * m.storage[i] }
        var expected = Matrix(zeros: 6, 6)
        for k in 0..<6 {
            let col = try a.solve((0..<6).map { b[$0, k] })
            for i in 0..<6 { expected[i, k] = col[i] }
        }
        _ = game
        for (name, make) in Self.schemes {
            let scheme = try make(ImplicitSolverOptions(tolerance: 1e-13, maxIterations: 50))
            let measured = try stepMatrix(linear, scheme, h: h)
            #expect(maxRelativeDifference(measured.storage, expected.storage) < 1e-10, "\(name)")
            let predicted = try scheme.linearizedStepMatrix(jacobian: m, players: linear.players, h: h)
            #expect(maxRelativeDifference(predicted.storage, expected.storage) < 1e-12, "\(name)")
        }
    }

    @Test("R(iy) has modulus 1 for both (A-stable on the imaginary axis)")
    func stabilityOnAxis() throws {
        for (_, make) in Self.schemes {
            let scheme = try make(ImplicitSolverOptions())
            for y in [0.1, 1.0, 10.0, 1e3] {
                let r = scheme.stabilityFunction(.init(0, y))!
                #expect(abs(r.length - 1) < 1e-14)
            }
            #expect(scheme.order == 2)
        }
    }
}

@Suite struct InexactImplicitEulerTests {
    @Test("K = 1 Newton iteration of M ≥ n GMRES iterations equals exact implicit Euler on a linear game")
    func oneNewtonFullKrylov() throws {
        let (game, _, _, x0) = try stableAffine(seed: 11)
        let exact = try oneStep(game, try ImplicitEuler(ImplicitSolverOptions(method: .hybridsj, tolerance: 1e-14, maxIterations: 50)),
                                from: x0, h: 2)
        let inexact = try oneStep(game, try ImplicitEuler(newtonKrylov(budget: (1, 6))), from: x0, h: 2)
        #expect(maxRelativeDifference(inexact, exact) < 1e-10)
    }

    @Test("The error against the exact step decreases as M grows, and the work is the budget")
    func errorFallsWithM() throws {
        var rng = SeededGenerator(seed: 3)
        let n = 40
        let a = Matrix(rows: n / 2, columns: n / 2, storage: randomVector(n * n / 4, &rng).map { $0 / Double(n).squareRoot() })
        let game = try BilinearGame(A: a)
        let x0 = randomVector(n, &rng)
        let h = 0.7
        let exact = try oneStep(game, try ImplicitEuler(ImplicitSolverOptions(method: .hybridsj, tolerance: 1e-14, maxIterations: 50)),
                                from: x0, h: h)
        var errors: [Double] = []
        for m in [1, 2, 4, 8, 16] {
            let s = try integrate(game, try ImplicitEuler(newtonKrylov(budget: (1, m))), from: x0, h: h, steps: 1)
            errors.append(maxRelativeDifference(s.finalState, exact))
            #expect(s.stats.newtonIterations == 1)
            #expect(s.stats.krylovIterations <= m)
        }
        for i in 1..<errors.count { #expect(errors[i] < errors[i - 1], "\(errors)") }
        #expect(errors.last! < 1e-3)
    }
}

@Suite struct ImplicitMetricTests {
    @Test("RMSProp metric on v = λx: z = x/(1 − hPλ) with P = 1/√(ρs + (1 − ρ)(λx)² + ε), and s updated with v(x)")
    func rmspropScalar() throws {
        let lambda = -3.0, h = 0.5
        let game = ClosureGame(dimension: 1, field: { x, v in v[0] = lambda * x[0] }, jacobian: { _, j in j[0] = lambda })
        let scheme = try ImplicitEuler(ImplicitSolverOptions(method: .hybridsj, tolerance: 1e-14), metric: .referenceRMSProp)
        var integrator = try Integrator(game: game, scheme: scheme, initialState: [2], options: SolveOptions(stepSize: h, maxSteps: 3))
        var x = 2.0, s = 1.0
        for _ in 0..<3 {
            integrator.step()
            s = 0.9 * s + (1 - 0.9) * (lambda * x) * (lambda * x)
            let p = 1 / (s + 1e-10).squareRoot()
            x = x / (1 - h * p * lambda)
            #expect(relativeError(integrator.state[0], x) < 1e-13)
        }
        #expect(integrator.checkpoint.carried == [3, 0, s])
    }

    @Test("A run in the Adam metric continues bit for bit from its checkpoint")
    func adamResume() throws {
        let game = try DiracGAN(r1: 0.3)
        let scheme = try ImplicitMidpoint(ImplicitSolverOptions(tolerance: 1e-13), metric: .standardAdam)
        let options = SolveOptions(stepSize: 0.3, maxSteps: 20)
        var whole = try Integrator(game: game, scheme: scheme, initialState: [1, 1], options: options)
        _ = whole.solve()
        var first = try Integrator(game: game, scheme: scheme, initialState: [1, 1], options: SolveOptions(stepSize: 0.3, maxSteps: 8))
        _ = first.solve()
        var rest = try Integrator(game: game, scheme: scheme, resumingFrom: first.checkpoint, options: options)
        _ = rest.solve()
        #expect(rest.state == whole.state)
        #expect(whole.state != [1, 1])
    }
}

@Suite struct ImplicitGANTests {
    @Test("Newton–Krylov implicit Euler on the ReLU MoG GAN (paper setup, no optimizer, h = 0.01) solves every step")
    func ganSteps() throws {
        let game = try NetworkGAN.paperSetup(data: .ring8, batchSize: 128, seed: 0)
        let s = try integrate(game, try ImplicitEuler(ImplicitSolverOptions(method: .newtonKrylov)),
                              from: game.initialState(seed: 0), h: 0.01, steps: 8)
        #expect(s.status == .completed, "\(s.status)")
        #expect(s.stats.rootSolves == 8 && s.stats.rootFailures == 0)
        #expect(s.stats.jacobianEvaluations == 0)      // matrix-free
        #expect(s.stats.krylovIterations > 0 && s.stats.jacobianVectorProducts >= s.stats.krylovIterations)
    }
}

@Suite struct DenseImplicitSolverTests {
    /// A random n×n M: stable (spectrum shifted left of −0.5) or near-rotational (skew − 0.01·I).
    static func game(n: Int, rotational: Bool, seed: UInt64) throws -> (AffineGame, Matrix, [Double], [Double]) {
        var rng = SeededGenerator(seed: seed)
        let a = Matrix(rows: n, columns: n, storage: randomVector(n * n, &rng))
        var m = Matrix(zeros: n, n)
        for i in 0..<n { for k in 0..<n { m[i, k] = rotational ? a[i, k] - a[k, i] : a[i, k] } }
        let shift = rotational ? 0.01 : try Spectrum(matrix: a).spectralAbscissa + 0.5
        for i in 0..<n { m[i, i] -= shift }
        let b = randomVector(n, &rng)
        return (try AffineGame(M: m, b: b, playerSizes: [n / 2, n - n / 2]), m, b, randomVector(n, &rng))
    }

    @Test("hybrids and hybridsj equal (I − hM)⁻¹(x + hb) over 5 steps, h from 1e-2 to 1e4, τ = 1e-10 and 1e-14, no stall accepted",
          arguments: [RootMethod.hybrids, .hybridsj])
    func affineClosedForm(method: RootMethod) throws {
        for (seed, n, rotational) in [(UInt64(1), 12, false), (2, 6, true), (3, 12, false), (4, 6, true)] {
            let (game, m, b, x0) = try Self.game(n: n, rotational: rotational, seed: seed)
            for h in [1e-2, 0.1, 1, 10, 100, 1e4] {
                var iMinusHM = Matrix.identity(n)
                for i in 0..<(n * n) { iMinusHM.storage[i] -= h * m.storage[i] }
                for tau in [1e-10, 1e-14] {
                    let scheme = try ImplicitEuler(ImplicitSolverOptions(method: method, tolerance: tau, maxIterations: 100, stallTolerance: nil))
                    let s = try integrate(game, scheme, from: x0, h: h, steps: 5)
                    #expect(s.status == .completed, "seed \(seed) h \(h) τ \(tau): \(s.status)")
                    var z = x0
                    for _ in 0..<5 { z = try iMinusHM.solve(zip(z, b).map { $0 + h * $1 }) }
                    // The solve's own error is τ (relative); the linear solves' is cond·ε.
                    #expect(maxRelativeDifference(s.finalState, z) < 1e3 * max(tau, 1e-13), "seed \(seed) h \(h) τ \(tau)")
                }
            }
        }
    }

    @Test("A stiff linear game diag(−1, −1e12) at h = 1: every solver's step is x/(1 − hλ) (the Newton-correction test)",
          arguments: [RootMethod.hybridsj, .hybrids])
    func stiffLinear(method: RootMethod) throws {
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 0, 0, -1e12]), b: [0, 0], playerSizes: [1, 1])
        let scheme = try ImplicitEuler(ImplicitSolverOptions(method: method, tolerance: 1e-10, maxIterations: 100, stallTolerance: nil))
        let s = try integrate(game, scheme, from: [1, 1], h: 1, steps: 3)
        #expect(s.status == .completed, "\(s.status)")
        #expect(relativeError(s.finalState[0], 0.125) < 1e-9)
        // The stiff component is 1e-36 exactly; the tolerance is relative to the state (0.25).
        #expect(abs(s.finalState[1]) < 1e-10 * 0.25)
    }
}
