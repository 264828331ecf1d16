import Foundation
import Numerics
import Testing
@testable import GameFlow

/// Time scales (TTUR): dx/dt = S·v with S = diag(sᵢ) per player.
@Suite struct TimeScaleTests {
    /// f = φθ: v = (θ, −φ).
    func scaledBilinear(_ s1: Double, _ s2: Double) throws -> TimeScaledGame<BilinearGame> {
        try TimeScaledGame(BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1])), scale: StepScale([s1, s2]))
    }

    @Test("f = φθ: explicit Euler's step map has spectral radius √(1 + h²s₁s₂)",
          arguments: [(1.0, 1.0), (0.5, 4.0), (3.0, 0.1)])
    func simgaRadius(scales: (Double, Double)) throws {
        let game = try scaledBilinear(scales.0, scales.1)
        for h in [0.01, 0.1, 0.7] {
            let j = game.jacobianMatrix(at: [0, 0])
            let r = try Stability.stepRadius(SimGA(), jacobian: j, players: game.players, h: h)
            #expect(abs(r - (1 + h * h * scales.0 * scales.1).squareRoot()) < 1e-13, "h \(h)")
        }
    }

    @Test("f = φθ: AltGA stays bounded iff h²s₁s₂ < 4 (radius 1 below, > 1 above; 20,000 steps at ±5 %)")
    func altgaBoundary() throws {
        let (s1, s2) = (0.5, 2.0)   // h²s₁s₂ = 4 at h = 2
        let game = try scaledBilinear(s1, s2)
        for (h, bounded) in [(2 * 0.95.squareRoot(), true), (2 * 1.05.squareRoot(), false)] {
            let j = game.jacobianMatrix(at: [0, 0])
            let r = try Stability.stepRadius(AltGA(), jacobian: j, players: game.players, h: h)
            // Step map [[1, a], [−b, 1 − ab]] (a = hs₁, b = hs₂): det 1, trace 2 − ab.
            let ab = h * h * s1 * s2
            let expected = bounded ? 1 : (abs(2 - ab) + (ab * (ab - 4)).squareRoot()) / 2
            #expect(abs(r - expected) < 1e-12, "h \(h): \(r) vs \(expected)")
            let run = try solve(game, scheme: AltGA(), from: [1, 0], options: SolveOptions(stepSize: h, maxSteps: 20_000))
            if bounded {
                #expect(run.status == .completed && maxAbs(run.finalState) < 10, "\(run.finalState)")
            } else {
                #expect(run.status.name == "diverged", "\(run.status)")
            }
        }
    }

    @Test("The scaled field's spectrum is that of S·v′: ±i√(s₁s₂)σₖ for f = φᵀAθ, A = diag(1, 2, 3)")
    func spectrum() throws {
        let a = Matrix(rows: 3, columns: 3, storage: [1, 0, 0, 0, 2, 0, 0, 0, 3])
        let game = try TimeScaledGame(BilinearGame(A: a), scale: StepScale([0.25, 9]))
        let eig = try eigenvalues(of: game.jacobianMatrix(at: [Double](repeating: 0, count: 6)))
        let imag = eig.map(\.imaginary).sorted()
        let expected = [1.0, 2, 3].flatMap { [1.5 * $0, -1.5 * $0] }.sorted()
        for (x, y) in zip(imag, expected) { #expect(abs(x - y) < 1e-12) }
        #expect(eig.allSatisfy { abs($0.real) < 1e-12 })
    }

    @Test("Every scheme with a stability function contracts by |R(±ih√(s₁s₂))| on the scaled f = φθ")
    func everyScheme() throws {
        let game = try scaledBilinear(0.5, 8)   // √(s₁s₂) = 2
        let j = game.jacobianMatrix(at: [0, 0])
        var checked: [SchemeName] = []
        for name in SchemeName.fixedStep {
            let scheme = try makeScheme(name)
            let h = 0.1
            guard let rz = scheme.stabilityFunction(Complex(0, 2 * h)) else { continue }
            let r = try Stability.stepRadius(scheme, jacobian: j, players: game.players, h: h)
            #expect(abs(r - rz.length) < 1e-9, "\(name): \(r) vs \(rz.length)")
            checked.append(name)
        }
        #expect(checked.count >= 6, "\(checked)")
    }

    @Test("Scaled derivatives are exact: JVP, VJP and the dense Jacobian agree with finite differences of S·v")
    func derivatives() throws {
        let game = try TimeScaledGame(DiracGAN(r1: 0.3), scale: StepScale([0.5, 3]))
        let x = [0.7, -0.4], u = [0.3, 1.1]
        var jvp = [0.0, 0], fd = [0.0, 0], vjp = [0.0, 0]
        game.jacobianVectorProduct(at: x, u, step: 0, into: &jvp)
        game.finiteDifferenceJVP(at: x, u, step: 0, into: &fd)
        #expect(maxAbs(zip(jvp, fd).map { $0 - $1 }) < 1e-8)
        let j = game.jacobianMatrix(at: x)
        game.transposeJacobianVectorProduct(at: x, u, step: 0, into: &vjp)
        for c in 0..<2 { #expect(abs(vjp[c] - (j[0, c] * u[0] + j[1, c] * u[1])) < 1e-14) }
        // Zeros are unchanged; the field is S·v.
        let plain = try DiracGAN(r1: 0.3).vectorField(at: x)
        let scaled = game.vectorField(at: x)
        #expect(scaled[0] == 0.5 * plain[0] && scaled[1] == 3 * plain[1])
    }

    @Test("Under RMSProp the scales multiply the preconditioned update (they do not cancel): first step h·sᵢ·d/√(ρ + (1 − ρ)d²), then h·sᵢ on a constant field")
    func rmsprop() throws {
        let game = try DiracGAN(r1: 0)
        let x0 = [1.0, 1.0], h = 0.01
        let scale = try StepScale([1, 4])
        let s = try solve(game, scheme: Preconditioned(SimGA(), method: .referenceRMSProp, stepScale: scale),
                          from: x0, options: SolveOptions(stepSize: h, maxSteps: 1))
        let d = game.vectorField(at: x0)
        for i in 0..<2 {
            let expected = x0[i] + h * scale.factors[i] * d[i] / (0.9 + 0.1 * d[i] * d[i] + 1e-10).squareRoot()
            #expect(abs(s.finalState[i] - expected) < 1e-15)
        }
        // On a constant field (d = 0.5 per coordinate) the accumulator tends to d², so the
        // step tends to h·sᵢ·sign(d): put into the field instead, sᵢ would cancel.
        let constant = try AffineGame(M: Matrix(zeros: 2, 2), b: [0.5, 0.5], playerSizes: [1, 1])
        func lastMove(_ g: some Game, _ scheme: some Scheme) throws -> [Double] {
            let a = try solve(g, scheme: scheme, from: [0, 0], options: SolveOptions(stepSize: h, maxSteps: 400))
            let b = try solve(g, scheme: scheme, from: [0, 0], options: SolveOptions(stepSize: h, maxSteps: 401))
            return zip(b.finalState, a.finalState).map { ($0 - $1) / h }
        }
        let post = try lastMove(constant, Preconditioned(SimGA(), method: .referenceRMSProp, stepScale: scale))
        let inField = try lastMove(TimeScaledGame(constant, scale: scale), Preconditioned(SimGA(), method: .referenceRMSProp))
        #expect(abs(post[0] - 1) < 1e-9 && abs(post[1] - 4) < 1e-9, "\(post)")
        #expect(abs(inField[0] - 1) < 1e-9 && abs(inField[1] - 1) < 1e-9, "\(inField)")
    }

    @Test("Bad scales are one clear error: wrong count, zero, negative, non-finite")
    func validation() throws {
        let game = try DiracGAN(r1: 0)
        #expect(throws: GameFlowError.self) { try game.timeScaled(StepScale([1, 2, 3])) }
        #expect(throws: GameFlowError.self) { try game.timeScaled(StepScale([1])) }
        for bad in [0.0, -1, .infinity, .nan] {
            #expect(throws: GameFlowError.self) { try StepScale([1, bad]) }
        }
        #expect(try game.timeScaled(StepScale([1, 1])) is DiracGAN)
    }
}
