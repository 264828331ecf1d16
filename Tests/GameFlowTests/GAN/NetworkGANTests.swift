import Foundation
import Testing
import GameFlowBenchKit
@testable import GameFlow

/// The GAN as a composition of layer networks: the MLP GAN on the fused dense kernels equals the
/// same networks on OpenBLAS with activations as separate layers (a second implementation of
/// every product) to round-off; with convolutions its products agree with finite differences
/// and with each other (adjoint identity).
@Suite struct NetworkGANTests {
    static func pair(_ utility: NetworkGAN.Utility, _ layout: NetworkGAN.Layout, _ activation: Activation,
                     penalties: GradientPenalties = GradientPenalties()) throws -> (NetworkGAN, NetworkGAN) {
        var mlp = try NetworkGAN.paperSetup(data: GaussianMixture.ring8, generatorHidden: [7, 5], discriminatorHidden: [6, 4, 5], latent: 3,
                                        batchSize: 9, activation: activation, utility: utility, layout: layout, seed: 5)
        mlp.penalties = penalties
        let arch = Architecture.mlp(latent: 3, generatorHidden: [7, 5], discriminatorHidden: [6, 4, 5], dataDimension: 2,
                                    generatorActivation: activation, discriminatorActivation: activation)
        var net = try NetworkGAN(architecture: arch, source: GaussianMixture.ring8, batchSize: 9, utility: utility, layout: layout, seed: 5,
                                 denseKernels: false)
        net.penalties = penalties
        return (mlp, net)
    }

    @Test("The MLP GAN on the fused kernels is the same game on OpenBLAS: v, v′u, v′ᵀu, utilities",
          arguments: [NetworkGAN.Utility.nonSaturating, .standard, .wgan])
    func kernelsAreTheBLASNetworks(_ utility: NetworkGAN.Utility) throws {
        for (layout, activation) in [(NetworkGAN.Layout.generatorFirst, Activation.tanh), (.discriminatorFirst, .leakyRelu), (.generatorFirst, .relu)] {
            let (mlp, net) = try Self.pair(utility, layout, activation)
            let x = mlp.initialState(seed: 2)
            #expect(net.initialState(seed: 2) == x)
            #expect(net.players == mlp.players)
            var rng = SeededGenerator(seed: 9)
            let u = randomVector(x.count, &rng)
            for step in [0, 4, NetworkGAN.evaluationStep] {
                #expect(maxRelativeDifference(net.vectorField(at: x, step: step), mlp.vectorField(at: x, step: step)) < 1e-12)
                var a = [Double](repeating: 0, count: x.count), b = a
                net.jacobianVectorProduct(at: x, u, step: step, into: &a)
                mlp.jacobianVectorProduct(at: x, u, step: step, into: &b)
                #expect(maxRelativeDifference(a, b) < 1e-11, "v′u \(utility) \(layout) \(activation)")
                net.transposeJacobianVectorProduct(at: x, u, step: step, into: &a)
                mlp.transposeJacobianVectorProduct(at: x, u, step: step, into: &b)
                #expect(maxRelativeDifference(a, b) < 1e-11, "v′ᵀu \(utility) \(layout) \(activation)")
            }
            // Each player's block alone is the full field's block, bit for bit (AltGA's updates).
            let full = net.vectorField(at: x, step: 3)
            for (k, range) in net.players.enumerated() {
                var block = [Double](repeating: .nan, count: x.count)
                net.evaluate(at: x, step: 3, player: k, into: &block)
                #expect(Array(block[range]) == Array(full[range]), "player \(k)")
            }
            let (fn, gn) = net.utilities(at: x, step: 1), (fm, gm) = mlp.utilities(at: x, step: 1)
            #expect(relativeError(fn, fm) < 1e-12 && relativeError(gn, gm) < 1e-12)
        }
    }

    @Test("Penalties on the fused kernels equal those on OpenBLAS")
    func penaltiesOnBothBackends() throws {
        let (mlp, net) = try Self.pair(.wgan, .generatorFirst, .tanh, penalties: try GradientPenalties(r1: 0.7, r2: 0.3, gp: 2))
        var rng = SeededGenerator(seed: 4)
        let x = mlp.initialState(seed: 1).map { $0 + 0.05 * rng.normal() }
        let u = randomVector(x.count, &rng)
        #expect(maxRelativeDifference(net.vectorField(at: x, step: 2), mlp.vectorField(at: x, step: 2)) < 1e-12)
        var a = [Double](repeating: 0, count: x.count), b = a
        net.jacobianVectorProduct(at: x, u, step: 2, into: &a)
        mlp.jacobianVectorProduct(at: x, u, step: 2, into: &b)
        #expect(maxRelativeDifference(a, b) < 1e-7)   // the penalties' part is a central difference in both
        #expect(relativeError(net.utilities(at: x, step: 2).discriminator, mlp.utilities(at: x, step: 2).discriminator) < 1e-12)
    }

    /// A small convolutional GAN on 1×8×8 "images" (a point data set of dimension 64): the
    /// allocation survey's (`AllocationSurvey.convolutionalGAN`).
    static func convGAN(_ utility: NetworkGAN.Utility, r1: Double = 0) throws -> NetworkGAN {
        try AllocationSurvey.convolutionalGAN(utility: utility, r1: r1)
    }

    @Test(arguments: [NetworkGAN.Utility.nonSaturating, .standard, .wgan])
    func convolutionalGANProductsAgreeWithDifferences(_ utility: NetworkGAN.Utility) throws {
        let gan = try Self.convGAN(utility)
        var rng = SeededGenerator(seed: 6)
        let x = gan.initialState(seed: 0).map { $0 + 0.05 * rng.normal() }
        let u = randomVector(x.count, &rng), w = randomVector(x.count, &rng)
        // v against differences of the utilities, each player's block along its own direction.
        let e = 1e-6
        var uG = [Double](repeating: 0, count: x.count), uD = uG
        for r in gan.players[gan.discriminatorPlayer!] { uD[r] = u[r] }
        for r in gan.players[1 - gan.discriminatorPlayer!] { uG[r] = u[r] }
        func shifted(_ d: [Double], _ t: Double) -> [Double] { zip(x, d).map { $0 + t * $1 } }
        let fd = (gan.utilities(at: shifted(uD, e), step: 0).discriminator - gan.utilities(at: shifted(uD, -e), step: 0).discriminator) / (2 * e)
            + (gan.utilities(at: shifted(uG, e), step: 0).generator - gan.utilities(at: shifted(uG, -e), step: 0).generator) / (2 * e)
        let v = gan.vectorField(at: x, step: 0)
        #expect(relativeError(dot(v, u), fd) < 1e-7)
        // v′u against differences of v.
        var j = [Double](repeating: 0, count: x.count), jt = j
        gan.jacobianVectorProduct(at: x, u, step: 0, into: &j)
        let fdj = zip(gan.vectorField(at: shifted(u, e), step: 0), gan.vectorField(at: shifted(u, -e), step: 0)).map { ($0 - $1) / (2 * e) }
        #expect(maxRelativeDifference(j, fdj) < 1e-6)
        // ⟨w, v′u⟩ = ⟨v′ᵀw, u⟩.
        gan.transposeJacobianVectorProduct(at: x, w, step: 0, into: &jt)
        #expect(abs(dot(w, j) - dot(jt, u)) < 1e-12 * norm2(w) * norm2(j) * 10)
    }

    @Test func convolutionalR1PenaltyGradientIsExact() throws {
        let gan = try Self.convGAN(.nonSaturating, r1: 0.5)
        var rng = SeededGenerator(seed: 2)
        let x = gan.initialState(seed: 0).map { $0 + 0.05 * rng.normal() }
        var uD = [Double](repeating: 0, count: x.count)
        for r in gan.players[gan.discriminatorPlayer!] { uD[r] = rng.normal() }
        let e = 1e-6
        let fd = (gan.utilities(at: zip(x, uD).map { $0 + e * $1 }, step: 1).discriminator
                  - gan.utilities(at: zip(x, uD).map { $0 - e * $1 }, step: 1).discriminator) / (2 * e)
        #expect(relativeError(dot(gan.vectorField(at: x, step: 1), uD), fd) < 1e-7)
    }

    @Test("Utility gradients (LOLA's cross blocks): ∇g and ∇(f − P) over every parameter equal central differences of the utilities",
          arguments: [NetworkGAN.Utility.nonSaturating, .standard, .wgan])
    func utilityGradients(_ utility: NetworkGAN.Utility) throws {
        let (gan, _) = try Self.pair(utility, .discriminatorFirst, .tanh, penalties: try GradientPenalties(r1: 0.4, r2: 0.3, gp: 0.5))
        var rng = SeededGenerator(seed: 6)
        let x = gan.initialState(seed: 3).map { $0 + 0.1 * rng.normal() }
        for player in 0..<2 {
            var g = [Double](repeating: .nan, count: x.count)
            gan.utilityGradient(player: player, at: x, step: 2, into: &g)
            let isD = player == gan.discriminatorPlayer
            func u(_ y: [Double]) -> Double {
                let w = gan.utilities(at: y, step: 2)
                return isD ? w.discriminator : w.generator
            }
            var fd = [Double](repeating: 0, count: x.count)
            for i in 0..<x.count {
                let e = 1e-6 * max(1, abs(x[i]))
                var a = x, b = x
                a[i] += e; b[i] -= e
                fd[i] = (u(a) - u(b)) / (2 * e)
            }
            #expect(maxRelativeDifference(g, fd) < 1e-6, "player \(player)")
            // Its own block is v's.
            let v = gan.vectorField(at: x, step: 2)
            #expect(Array(g[gan.players[player]]) == Array(v[gan.players[player]]))
        }
    }
}
