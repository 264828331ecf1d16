import Foundation
import Numerics
import Testing
@testable import GameFlow

@Suite struct NKPenaltyTests {
    @Test("f = φᵀAθ (D = φ): ṽ′ = [[0, A], [−Aᵀ, −2ηAᵀA]] everywhere, eigenvalues −ησ² ± √(η²σ⁴ − σ²)")
    func bilinear() throws {
        let a = Matrix(rows: 2, columns: 2, storage: [1.5, 0, 0, 0.5])   // σ = 1.5, 0.5
        let eta = 0.3
        let game = try NKPenalizedGame(BilinearGame(A: a), eta: eta)
        let x = [0.4, -0.2, 0.7, 1.1]
        let j = game.jacobianMatrix(at: x)
        var expected = Matrix(zeros: 4, 4)
        for i in 0..<2 {
            for k in 0..<2 {
                expected[i, 2 + k] = a[i, k]
                expected[2 + i, k] = -a[k, i]
                expected[2 + i, 2 + k] = -2 * eta * (0..<2).reduce(0) { $0 + a[$1, i] * a[$1, k] }
            }
        }
        #expect(maxRelativeDifference(j.storage, expected.storage) < 1e-14)
        let eig = try eigenvalues(of: j)
        for sigma in [1.5, 0.5] {
            let re = -eta * sigma * sigma, disc = eta * eta * pow(sigma, 4) - sigma * sigma
            let roots = disc >= 0 ? [Complex(re + disc.squareRoot(), 0), Complex(re - disc.squareRoot(), 0)]
                                  : [Complex(re, (-disc).squareRoot()), Complex(re, -(-disc).squareRoot())]
            for r in roots { #expect(eig.map { ($0 - r).length }.min()! < 1e-12, "σ \(sigma): \(r) not in \(eig)") }
        }
        // The transpose product is the transpose.
        let u = [0.3, -1.0, 0.5, 2.0]
        var vjp = [Double](repeating: 0, count: 4)
        game.transposeJacobianVectorProduct(at: x, u, step: 0, into: &vjp)
        for c in 0..<4 { #expect(abs(vjp[c] - (0..<4).reduce(0) { $0 + j[$1, c] * u[$1] }) < 1e-13) }
    }

    @Test("Dirac-GAN: SimGA with the penalty converges where it spirals out without it (h = 0.1, 3000 steps)")
    func diracConverges() throws {
        let plain = try solve(try DiracGAN(r1: 0), scheme: SimGA(), from: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 3000))
        let penalised = try solve(try NKPenalizedGame(DiracGAN(r1: 0), eta: 0.5), scheme: SimGA(), from: [1, 1],
                                  options: SolveOptions(stepSize: 0.1, maxSteps: 3000))
        #expect(norm2(plain.finalState) > 2.0.squareRoot())   // spirals out from ‖x₀‖ = √2
        #expect(norm2(penalised.finalState) < 1e-3, "\(penalised.finalState)")
        // At the equilibrium the penalised Jacobian's eigenvalues have negative real parts.
        let j = try NKPenalizedGame(DiracGAN(r1: 0), eta: 0.5).jacobianMatrix(at: [0, 0])
        #expect(try eigenvalues(of: j).allSatisfy { $0.real < 0 })
    }

    @Test("Away from equilibria the products agree with finite differences of ṽ (Dirac-GAN, relative 1e-6)")
    func finiteDifferences() throws {
        let game = try NKPenalizedGame(DiracGAN(r1: 0.2), eta: 0.7)
        for x in [[0.8, -0.5], [1.5, 2.0], [-0.3, 0.9]] {
            let u = [0.6, -1.1]
            var jvp = [0.0, 0], fd = [0.0, 0]
            game.jacobianVectorProduct(at: x, u, step: 0, into: &jvp)
            game.finiteDifferenceJVP(at: x, u, step: 0, into: &fd)
            #expect(maxRelativeDifference(jvp, fd) < 1e-6, "\(x): \(jvp) vs \(fd)")
            // ṽ′ᵀu against the finite-difference Jacobian's transpose.
            var vjp = [0.0, 0], c0 = [0.0, 0], c1 = [0.0, 0]
            game.transposeJacobianVectorProduct(at: x, u, step: 0, into: &vjp)
            game.finiteDifferenceJVP(at: x, [1, 0], step: 0, into: &c0)
            game.finiteDifferenceJVP(at: x, [0, 1], step: 0, into: &c1)
            let expected = [c0[0] * u[0] + c0[1] * u[1], c1[0] * u[0] + c1[1] * u[1]]
            #expect(maxRelativeDifference(vjp, expected) < 1e-6, "\(x): \(vjp) vs \(expected)")
        }
        // The penalty is on the generator's block only (θ, player 0 of the Dirac-GAN).
        let v = game.vectorField(at: [0.8, -0.5]), v0 = try DiracGAN(r1: 0.2).vectorField(at: [0.8, -0.5])
        #expect(v[1] == v0[1] && v[0] != v0[0])
    }

    @Test("Bad input: negative η, a game without a discriminator")
    func validation() throws {
        #expect(throws: GameFlowError.self) { try NKPenalizedGame(DiracGAN(r1: 0), eta: -1) }
        let three = try AffineGame(M: Matrix(zeros: 3, 3), b: [0, 0, 0], playerSizes: [1, 1, 1])
        #expect(throws: GameFlowError.self) { try NKPenalizedGame(three, eta: 1) }
    }
}
