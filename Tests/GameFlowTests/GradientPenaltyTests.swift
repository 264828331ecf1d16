import Foundation
import Testing
@testable import GameFlow

@Suite struct GradientPenaltyTests {
    static let cases: [(Activation, Int)] = Activation.allCases.flatMap { a in [0, 1, 2].map { (a, $0) } }

    static func game(_ a: Activation, _ kind: Int, layout: NetworkGAN.Layout = .generatorFirst) throws -> NetworkGAN {
        var g = try mlpGAN([3, 5, 2], [2, 5, 4, 1], activation: a, data: .ring8, batchSize: 6, utility: .nonSaturating, layout: layout, seed: 8)
        g.penalties = try GradientPenalties(r1: kind == 0 ? 0.7 : 0, r2: kind == 1 ? 0.9 : 0, gp: kind == 2 ? 1.3 : 0)
        return g
    }

    @Test("R1, R2 and GP: v = (∇_G g, ∇_D (f − P)) is exact: it matches finite differences of the utilities (relative 1e-6), every activation",
          arguments: cases)
    func gradients(activation: Activation, kind: Int) throws {
        for layout in [NetworkGAN.Layout.generatorFirst, .discriminatorFirst] {
            let g = try Self.game(activation, kind, layout: layout)
            let x = MLPGANDerivativeTests.state(g, seed: 3)
            let v = g.vectorField(at: x, step: 2)
            let gBlock = g.generatorOffset..<(g.generatorOffset + g.generator.parameterCount)
            let fd = MLPGANDerivativeTests.utilityGradient(g, at: x, step: 2)
            #expect(maxRelativeDifference(v, fd) < 1e-6, "\(activation) kind \(kind) \(layout)")
            // The penalty changes D's block only, and does change it.
            var plain = g
            plain.penalties = GradientPenalties()
            let v0 = plain.vectorField(at: x, step: 2)
            #expect(gBlock.allSatisfy { v[$0] == v0[$0] })
            #expect(v != v0)
            // One player's block is that block of the full field.
            var block = [Double](repeating: .nan, count: g.dimension)
            let dPlayer = layout == .generatorFirst ? 1 : 0
            g.evaluate(at: x, step: 2, player: dPlayer, into: &block)
            #expect(g.players[dPlayer].allSatisfy { block[$0] == v[$0] })
        }
    }

    @Test("With a penalty, v′u agrees with finite differences of v and ⟨u, v′w⟩ = ⟨v′ᵀu, w⟩ (relative 1e-5)", arguments: [(Activation.tanh, 0), (.tanh, 1), (.tanh, 2), (.relu, 1)])
    func products(activation: Activation, kind: Int) throws {
        let g = try Self.game(activation, kind)
        var rng = SeededGenerator(seed: 4)
        let x = MLPGANDerivativeTests.state(g, seed: 5)
        let u = randomVector(g.dimension, &rng), w = randomVector(g.dimension, &rng)
        var jvp = [Double](repeating: 0, count: g.dimension), fd = jvp, jw = jvp, jtu = jvp
        g.jacobianVectorProduct(at: x, u, step: 1, into: &jvp)
        g.finiteDifferenceJVP(at: x, u, step: 1, into: &fd)
        #expect(maxRelativeDifference(jvp, fd) < 1e-5, "\(activation) \(kind)")
        g.jacobianVectorProduct(at: x, w, step: 1, into: &jw)
        g.transposeJacobianVectorProduct(at: x, u, step: 1, into: &jtu)
        let lhs = dot(u, jw), rhs = dot(jtu, w)
        #expect(abs(lhs - rhs) <= 1e-5 * max(abs(lhs), 1e-12), "\(activation) \(kind): \(lhs) vs \(rhs)")
    }

    @Test("Bad weights are clear errors")
    func validation() {
        #expect(throws: GameFlowError.self) { try GradientPenalties(r1: -1) }
        #expect(throws: GameFlowError.self) { try GradientPenalties(gp: .nan) }
    }
}
