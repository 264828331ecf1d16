import Foundation
import Testing
@testable import GameFlow

/// Exact derivatives against central finite differences, and the adjoint identity.
@Suite struct DerivativeTests {
    static func games() throws -> [(String, any Game)] {
        var rng = SeededGenerator(seed: 3)
        let m = Matrix(rows: 5, columns: 5, storage: randomVector(25, &rng))
        return [
            ("dirac", try DiracGAN()),
            ("dirac-r1", try DiracGAN(r1: 0.7)),
            ("bilinear-3x2", try BilinearGame(A: Matrix(rows: 3, columns: 2, storage: randomVector(6, &rng)))),
            ("affine", try AffineGame(M: m, b: randomVector(5, &rng), playerSizes: [2, 3])),
        ]
    }

    @Test("v′u matches central finite differences (1e-6 relative) and the dense Jacobian")
    func jvpMatchesFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 4)
        for (label, game) in try Self.games() {
            #expect(game.hasExactDerivatives)
            let n = game.dimension
            for _ in 0..<5 {
                let x = randomVector(n, &rng), u = randomVector(n, &rng)
                var exact = [Double](repeating: 0, count: n), fd = exact
                game.jacobianVectorProduct(at: x, u, step: 0, into: &exact)
                game.finiteDifferenceJVP(at: x, u, step: 0, into: &fd)
                #expect(maxRelativeDifference(fd, exact) < 1e-6, "\(label)")
                let dense = game.jacobianMatrix(at: x).multiply(u)
                #expect(maxRelativeDifference(dense, exact) < 1e-13, "\(label)")
            }
        }
    }

    @Test("⟨u, v′w⟩ = ⟨v′ᵀu, w⟩")
    func adjointIdentity() throws {
        var rng = SeededGenerator(seed: 6)
        for (label, game) in try Self.games() {
            let n = game.dimension
            for _ in 0..<5 {
                let x = randomVector(n, &rng), u = randomVector(n, &rng), w = randomVector(n, &rng)
                var jw = [Double](repeating: 0, count: n), jtu = jw
                game.jacobianVectorProduct(at: x, w, step: 0, into: &jw)
                game.transposeJacobianVectorProduct(at: x, u, step: 0, into: &jtu)
                let lhs = dot(u, jw), rhs = dot(jtu, w)
                #expect(abs(lhs - rhs) <= 1e-12 * max(1, abs(lhs)), "\(label)")
            }
        }
    }

    @Test("Closure games get finite-difference derivatives that satisfy the same identities")
    func closureDefaults() throws {
        let game = ClosureGame(dimension: 2, playerSizes: [1, 1], field: { x, v in
            v[0] = sin(x[1]) - 0.1 * x[0]
            v[1] = -sin(x[0]) + x[0] * x[1]
        })
        let x = [0.3, -0.8], u = [1.0, 2.0]
        var jvp = [0.0, 0.0], jtu = [0.0, 0.0]
        game.jacobianVectorProduct(at: x, u, step: 0, into: &jvp)
        let exact = [-0.1 * u[0] + cos(x[1]) * u[1], (-cos(x[0]) + x[1]) * u[0] + x[0] * u[1]]
        #expect(maxRelativeDifference(jvp, exact) < 1e-8)
        game.transposeJacobianVectorProduct(at: x, u, step: 0, into: &jtu)
        let exactT = [-0.1 * u[0] + (-cos(x[0]) + x[1]) * u[1], cos(x[1]) * u[0] + x[0] * u[1]]
        #expect(maxRelativeDifference(jtu, exactT) < 1e-8)
    }

    @Test("Dirac-GAN: v vanishes at the equilibrium, whose Jacobian is [[0, −½], [½, −γ]]")
    func diracEquilibrium() throws {
        for r1 in [0.0, 0.3, 1.0] {
            let g = try DiracGAN(r1: r1)
            #expect(g.vectorField(at: [0, 0]) == [0, 0])
            #expect(g.jacobianMatrix(at: [0, 0]).storage == [0, -0.5, 0.5, -r1])
        }
        // The unregularised exact flow conserves θ² + ψ²: ⟨x, v(x)⟩ = 0 everywhere.
        let g = try DiracGAN()
        var rng = SeededGenerator(seed: 8)
        for _ in 0..<10 {
            let x = randomVector(2, &rng)
            #expect(abs(dot(x, g.vectorField(at: x))) < 1e-15)
        }
    }

    @Test("Affine equilibrium solves Mx + b = 0; singular M has none")
    func affineEquilibrium() throws {
        let g = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 2, -2, -1]), b: [1, 3], playerSizes: [1, 1])
        #expect(maxAbs(g.vectorField(at: g.equilibrium!)) < 1e-15)
        let s = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [1, 2, 2, 4]), b: [1, 3], playerSizes: [1, 1])
        #expect(s.equilibrium == nil)
    }

    @Test("Bad game definitions are errors, not crashes")
    func invalidGames() {
        #expect(throws: GameFlowError.self) { try AffineGame(M: Matrix(rows: 2, columns: 3, storage: [1, 2, 3, 4, 5, 6]), b: [0, 0], playerSizes: [1, 1]) }
        #expect(throws: GameFlowError.self) { try AffineGame(M: .identity(2), b: [0], playerSizes: [1, 1]) }
        #expect(throws: GameFlowError.self) { try AffineGame(M: .identity(2), b: [0, 0], playerSizes: [1, 2]) }
        #expect(throws: GameFlowError.self) { try AffineGame(M: .identity(2), b: [.nan, 0], playerSizes: [1, 1]) }
        #expect(throws: GameFlowError.self) { try DiracGAN(r1: -1) }
        #expect(throws: GameFlowError.self) { try Consensus(gamma: .nan) }
        #expect(throws: GameFlowError.self) { try ImplicitEuler(tolerance: 0, maxIterations: 10) }
    }
}
