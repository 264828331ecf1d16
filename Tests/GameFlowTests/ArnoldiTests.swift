import Foundation
import Numerics
import Testing
@testable import GameFlow

/// ARPACK's eigenvalues against closed forms and against the dense eigen-decomposition.
@Suite struct ArnoldiTests {
    /// f = φᵀAθ has v′ = [[0, A], [−Aᵀ, 0]] (up to the players' order), whose eigenvalues are
    /// ±iσ for the singular values σ of A: the 10 largest in magnitude are ±iσ₁ … ±iσ₅.
    @Test func bilinearGameGivesPlusMinusISigma() throws {
        let game = try BilinearGame.random(rows: 300, columns: 300, seed: 4)
        let x = [Double](repeating: 0, count: game.dimension)
        let r = try ArnoldiSpectrum.jacobian(game, at: x, step: 0, count: 10, target: .largestMagnitude)
        #expect(r.failure == nil)
        // σ² are the eigenvalues of AᵀA (LAPACK dsyev), largest first.
        let n = 300
        var ata = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { var s = 0.0; for k in 0..<n { s += game.A[k, i] * game.A[k, j] }; ata[i * n + j] = s } }
        let sigma = try ImageMetrics.symmetricEigen(ata, dimension: n).values.sorted(by: >).prefix(5).map { $0.squareRoot() }
        let found = r.eigenvalues.map(\.imaginary.magnitude).sorted(by: >)
        #expect(found.count == 10)
        for k in 0..<5 {
            #expect(relativeError(found[2 * k], sigma[k]) < 1e-9 && relativeError(found[2 * k + 1], sigma[k]) < 1e-9, "σ\(k + 1)")
        }
        #expect(r.eigenvalues.allSatisfy { abs($0.real) < 1e-9 * sigma[0] })
        #expect(r.residuals.allSatisfy { $0 < 1e-8 * sigma[0] }, "\(r.residuals)")
    }

    /// A small MLP GAN at its evaluation batch: the 20 largest-magnitude and the 5 rightmost
    /// eigenvalues equal the dense decomposition's to 1e-7 of the spectral radius; consensus's
    /// matrix too.
    @Test func ganEigenvaluesMatchTheDenseOnes() throws {
        let gan = try mlpGAN([4, 12, 12, 2], [2, 12, 12, 1], activation: .tanh, data: .ring8, batchSize: 64, seed: 2)
        let x = gan.initialState(seed: 3)
        let step = NetworkGAN.evaluationStep
        let j = gan.jacobianMatrix(at: x, step: step)
        let dense = try eigenvalues(of: j)
        let radius = dense.map(\.length).max()!
        func check(_ r: ArnoldiSpectrum, against all: [Complex<Double>], _ key: (Complex<Double>) -> Double, count: Int) {
            // One more when the count cuts a complex pair (its conjugate is reported too).
            #expect(r.eigenvalues.count == count || r.eigenvalues.count == count + 1, "\(r.failure ?? "")")
            #expect(r.eigenvalues.allSatisfy { z in z.imaginary == 0 || r.eigenvalues.contains(Complex(z.real, -z.imaginary)) })
            let expected = all.sorted { key($0) > key($1) }.prefix(count)
            for e in r.eigenvalues {
                let nearest = all.map { ($0 - e).length }.min()!
                #expect(nearest < 1e-7 * radius, "\(e)")
            }
            // The same set: the k-th largest key agrees.
            #expect(abs(r.eigenvalues.map(key).sorted(by: >).last! - expected.map(key).last!) < 1e-7 * radius)
        }
        check(try ArnoldiSpectrum.jacobian(gan, at: x, step: step, count: 20, target: .largestMagnitude), against: dense, \.length, count: 20)
        let right = try ArnoldiSpectrum.jacobian(gan, at: x, step: step, count: 5, target: .rightmost)
        check(right, against: dense, \.real, count: 5)
        let consensus = try eigenvalues(of: consensusJacobian(j, gamma: 2))
        check(try ArnoldiSpectrum.jacobian(gan, at: x, step: step, count: 6, target: .largestMagnitude, consensusGamma: 2), against: consensus,
              \.length, count: 6)
    }

    @Test func badRequestsAreErrors() throws {
        let game = try BilinearGame.random(rows: 3, columns: 3, seed: 1)
        #expect(throws: GameFlowError.self) { try ArnoldiSpectrum.jacobian(game, at: [0, 0, 0, 0, 0, 0], step: 0, count: 5, target: .largestMagnitude) }
        let big = try BilinearGame.random(rows: 50, columns: 50, seed: 1)
        let r = try ArnoldiSpectrum.jacobian(big, at: [Double](repeating: 0, count: 100), step: 0, count: 6, target: .largestMagnitude, maxIterations: 1)
        #expect(r.failure?.contains("iteration limit") == true, "\(r.failure ?? "nil")")
    }
}
