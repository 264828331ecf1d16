import Foundation
import Numerics
import Testing
@testable import GameFlow
import GameFlowTestSupport

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
            #expect(try resumesBitForBit(game, try Momentum(SimGA(), form: form, weight: 0.5), from: [1, 1], h: 0.1, split: 17, total: 40), "\(form)")
        }
    }
}

@Suite struct AlternatingMomentumTests {
    @Test("withMomentum(AltGA) is Gidel et al.'s method: its 2n×2n map's radius is the largest root of (z − 1)²(z − β)² + a²z³, and runs contract at it")
    func gidelPolynomial() throws {
        let sigma = 1.3
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        let j = game.jacobianMatrix(at: [0, 0])
        var contracting = 0
        for a in [0.3, 0.7, 1.0, 1.5] {
            for beta in [-0.7, -0.5, -0.2, 0.3] {
                let h = a / sigma
                let scheme = try withMomentum(AltGA(), form: .polyak, weight: beta)
                #expect(scheme is AlternatingMomentum)
                let predicted = try gidelRate(a: a, beta: beta)
                let radius = try Spectrum(matrix: scheme.linearizedStepMatrix(jacobian: j, players: game.players, h: h)).spectralRadius
                #expect(abs(radius - predicted) < 1e-9, "a \(a) β \(beta)")
                // Measured over steps 300 → 600 (a rate below 1 decays, above 1 grows; stay finite).
                guard predicted < 1.05 else { continue }
                let first = try solve(game, scheme: scheme, from: [1, 0.5], options: SolveOptions(stepSize: h, maxSteps: 300, divergenceBound: 1e300))
                let second = try solve(game, scheme: scheme, from: [1, 0.5], options: SolveOptions(stepSize: h, maxSteps: 600, divergenceBound: 1e300))
                let measured = pow(norm2(second.finalState) / norm2(first.finalState), 1.0 / 300)
                #expect(abs(measured - predicted) < 3e-3, "a \(a) β \(beta): measured \(measured), predicted \(predicted)")
                if predicted < 1 { contracting += 1 }
            }
        }
        #expect(contracting >= 6)
        // The point: at hσ = 1, β = −½ Gidel's method has rate 1 (to 1e-6); the whole-step wrapper does not.
        #expect(abs(try gidelRate(a: 1, beta: -0.5) - 1) < 1e-6)
        let wrapper = try Momentum(AltGA(), form: .polyak, weight: -0.5)
        let wrapperRate = try Spectrum(matrix: wrapper.linearizedStepMatrix(jacobian: j, players: game.players, h: 1 / sigma)).spectralRadius
        #expect(abs(wrapperRate - 1) > 0.1)
    }

    @Test("Alternating momentum resumes bit for bit, β = 0 is AltGA bit for bit, and a bad β is a clear error")
    func checkpoints() throws {
        let game = try DiracGAN(r1: 0.2)
        let alt = try solve(game, scheme: AltGA(), from: [1, 1], options: SolveOptions(stepSize: 0.3, maxSteps: 30))
        let zero = try solve(game, scheme: try AlternatingMomentum(AltGA(), beta: 0), from: [1, 1], options: SolveOptions(stepSize: 0.3, maxSteps: 30))
        #expect(alt.finalState == zero.finalState)
        #expect(throws: GameFlowError.self) { try AlternatingMomentum(AltGA(), beta: -1) }
        #expect(try resumesBitForBit(game, try AlternatingMomentum(AltGA(substeps: [2, 1]), beta: -0.3), from: [1, 1], h: 0.2, split: 13, total: 40))
    }
}
