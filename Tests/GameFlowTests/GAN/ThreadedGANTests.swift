import Testing
import GameFlow

/// `NetworkGAN.withThreads(n)`: the minibatch split into n parts on n threads gives one thread's
/// v, v′u, v′ᵀu and player blocks up to the reassociation of the batch sums, and the same bits
/// every time for a given n.
@Suite struct ThreadedGANTests {
    static func products(_ game: NetworkGAN, at x: [Double], _ u: [Double], step: Int) -> [[Double]] {
        let n = game.dimension
        var v = [Double](repeating: 0, count: n), jv = v, vj = v, p0 = [Double](repeating: 7, count: n), p1 = p0
        game.evaluate(at: x, step: step, into: &v)
        game.jacobianVectorProduct(at: x, u, step: step, into: &jv)
        game.transposeJacobianVectorProduct(at: x, u, step: step, into: &vj)
        game.evaluate(at: x, step: step, player: 0, into: &p0)
        game.evaluate(at: x, step: step, player: 1, into: &p1)
        return [v, jv, vj, p0, p1]
    }

    /// Without penalties every product agrees to 1e-13; with them v and the player blocks still
    /// do, while v′u and v′ᵀu take the penalties' Hessian by central differences of ∇P, which
    /// amplify the batch sums' reassociation by 1/(2ε) (agreement 1e-9).
    @Test("MLP GAN, three objectives, with and without R1 + R2 + GP, batch 10 in 2 and 3 parts: one thread's products, bitwise repeatable",
          arguments: [NetworkGAN.Utility.nonSaturating, .standard, .wgan])
    func mlp(_ utility: NetworkGAN.Utility) throws {
        for penalized in [false, true] {
            var game = try mlpGAN([3, 7, 2], [2, 6, 5, 1], activation: .tanh, data: .ring8, batchSize: 10, utility: utility, seed: 4)
            if penalized { game.penalties = try GradientPenalties(r1: 0.3, r2: 0.2, gp: 0.5) }
            let tolerances = penalized ? [1e-13, 1e-9, 1e-9, 1e-13, 1e-13] : [Double](repeating: 1e-13, count: 5)
            var rng = SeededGenerator(seed: 2)
            let x = game.initialState(seed: 4), u = randomVector(game.dimension, &rng)
            let one = Self.products(game, at: x, u, step: 3)
            for n in [2, 3] {
                let threaded = try game.withThreads(n)
                #expect(threaded.threads == n)
                let a = Self.products(threaded, at: x, u, step: 3), b = Self.products(threaded, at: x, u, step: 3)
                for (k, (got, want)) in zip(a, one).enumerated() {
                    #expect(maxRelativeDifference(got, want) < tolerances[k], "penalties \(penalized), n = \(n), product \(k)")
                }
                #expect(a == b)
            }
        }
    }

    @Test("Convolutional GAN in 2 parts: one thread's products to 1e-13")
    func convolutional() throws {
        let game = try NetworkGANTests.convGAN(.nonSaturating)
        var rng = SeededGenerator(seed: 5)
        let x = game.initialState(seed: 3), u = randomVector(game.dimension, &rng)
        let one = Self.products(game, at: x, u, step: 1)
        let two = Self.products(try game.withThreads(2), at: x, u, step: 1)
        for (k, (got, want)) in zip(two, one).enumerated() { #expect(maxRelativeDifference(got, want) < 1e-13, "product \(k)") }
        #expect(throws: GameFlowError.self) { try game.withThreads(0) }
        #expect(throws: GameFlowError.self) { try game.withThreads(game.batchSize + 1) }
    }
}
