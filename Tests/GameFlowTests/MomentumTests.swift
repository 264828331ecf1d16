import Foundation
import Numerics
import Testing
@testable import GameFlow

@Suite struct MomentumTests {
    @Test("Lemma 11: the supplement form's step map is I + hG′, and every eigenvalue λ of G′ has λ(λ + γ) an eigenvalue of v′")
    func lemma11() throws {
        let j = Matrix(rows: 3, columns: 3, storage: [-0.3, 1.2, 0.1, -1.0, -0.2, 0.5, 0.3, -0.6, -0.4])
        let game = try AffineGame(M: j, b: [0, 0, 0], playerSizes: [1, 2])
        let mu = try eigenvalues(of: j)
        for (gamma, h) in [(0.5, 0.1), (2.0, 0.05), (0.0, 0.2)] {
            let m = try Momentum(SimGA(), form: .supplement, weight: gamma).linearizedStepMatrix(jacobian: j, players: game.players, h: h)
            #expect(m.rows == 6)
            for nu in try eigenvalues(of: m) {
                let lambda = (nu - Complex(1.0, 0)).divided(by: h)
                let image = lambda * (lambda + Complex(gamma, 0))
                let nearest = mu.map { ($0 - image).length }.min()!
                #expect(nearest < 1e-9, "γ \(gamma): λ(λ + γ) = \(image) is no eigenvalue of v′ \(mu)")
            }
        }
    }

    @Test("The step matrices are exact: a run on an affine game from (x₀, memory) follows the 2n × 2n map (both forms)")
    func stepMatrixMatchesRun() throws {
        let j = Matrix(rows: 2, columns: 2, storage: [-0.2, 1.0, -1.0, -0.1])
        let game = try AffineGame(M: j, b: [0, 0], playerSizes: [1, 1])
        for (form, w) in [(MomentumForm.polyak, -0.4), (.polyak, 0.6), (.supplement, 0.7)] {
            let scheme = try Momentum(AltGA(), form: form, weight: w)
            let h = 0.3
            let m = try scheme.linearizedStepMatrix(jacobian: j, players: game.players, h: h)
            // The initial memory is x₋₁ = x₀ (Polyak) or m₀ = 0 (supplement).
            let x0 = [0.7, -0.5]
            var z = x0 + (form == .polyak ? x0 : [0, 0])
            let run = try solve(game, scheme: scheme, from: x0, options: SolveOptions(stepSize: h, maxSteps: 25))
            for _ in 0..<25 { let old = z; z = (0..<4).map { i in (0..<4).reduce(0.0) { $0 + m[i, $1] * old[$1] } } }
            #expect(maxRelativeDifference(run.finalState, Array(z[0..<2])) < 1e-12, "\(form) \(w)")
        }
    }

    @Test("f = φθ: AltGA with negative momentum contracts at the largest root of λ² − (μ + β)λ + β over AltGA's eigenvalues μ; β > 0 diverges")
    func negativeMomentum() throws {
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1]))
        let h = 0.5
        let phi = try AltGA().linearizedStepMatrix(jacobian: game.jacobianMatrix(at: [0, 0]), players: game.players, h: h)
        let mus = try eigenvalues(of: phi)
        #expect(mus.allSatisfy { abs($0.length - 1) < 1e-12 })   // AltGA alone: bounded, no contraction
        func rate(_ beta: Double) -> Double {
            mus.map { mu -> Double in
                let p = mu + Complex(beta, 0), disc = Complex.sqrt(p * p - 4 * Complex(beta, 0))
                return max(((p + disc) / 2).length, ((p - disc) / 2).length)
            }.max()!
        }
        for beta in [-0.1, -0.3, -0.5] {
            let expected = rate(beta)
            #expect(expected < 1)
            let scheme = try Momentum(AltGA(), form: .polyak, weight: beta)
            let r = try Spectrum(matrix: scheme.linearizedStepMatrix(jacobian: game.jacobianMatrix(at: [0, 0]), players: game.players, h: h)).spectralRadius
            #expect(abs(r - expected) < 1e-12, "β \(beta)")
            // Measured: the norm ratio over steps 200 → 400 of a run.
            let a = try solve(game, scheme: scheme, from: [1, 0.5], options: SolveOptions(stepSize: h, maxSteps: 200))
            let b = try solve(game, scheme: scheme, from: [1, 0.5], options: SolveOptions(stepSize: h, maxSteps: 400))
            let measured = pow(norm2(b.finalState) / norm2(a.finalState), 1.0 / 200)
            #expect(abs(measured - expected) < 2e-3, "β \(beta): measured \(measured), predicted \(expected)")
        }
        #expect(rate(0.3) > 1)
        let pos = try solve(game, scheme: try Momentum(AltGA(), form: .polyak, weight: 0.3), from: [1, 0.5],
                            options: SolveOptions(stepSize: h, maxSteps: 5000, divergenceBound: 1e6))
        #expect(pos.status.name == "diverged")
    }

    @Test("β = 0 is the base scheme bit for bit; bad weights are clear errors; resume carries the memory bit for bit")
    func reductionsAndCheckpoints() throws {
        let game = try DiracGAN(r1: 0.2)
        let plain = try solve(game, scheme: Heun(), from: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 30))
        let zero = try solve(game, scheme: try Momentum(Heun(), form: .polyak, weight: 0), from: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 30))
        #expect(plain.finalState == zero.finalState)
        #expect(throws: GameFlowError.self) { try Momentum(SimGA(), form: .polyak, weight: 1) }
        #expect(throws: GameFlowError.self) { try Momentum(SimGA(), form: .supplement, weight: -0.1) }
        for form in MomentumForm.allCases {
            let scheme = try Momentum(SimGA(), form: form, weight: 0.5)
            let options = SolveOptions(stepSize: 0.1, maxSteps: 40)
            var straight = try Integrator(game: game, scheme: scheme, initialState: [1, 1], options: options)
            let full = straight.solve()
            var first = try Integrator(game: game, scheme: scheme, initialState: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 17))
            _ = first.solve()
            var resumed = try Integrator(game: game, scheme: scheme, resumingFrom: first.checkpoint, options: options)
            #expect(resumed.solve().finalState == full.finalState, "\(form)")
        }
    }
}
