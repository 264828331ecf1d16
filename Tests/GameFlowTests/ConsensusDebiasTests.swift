import Foundation
import Testing
@testable import GameFlow

@Suite struct ConsensusDebiasTests {
    static func game(noise: Double, batch: Int = 8) throws -> NoisyLinearGame {
        try NoisyLinearGame(M: Matrix(rows: 2, columns: 2, storage: [0.2, 1, -1, 0.1]), b: [0.3, -0.2], playerSizes: [1, 1],
                            noise: noise, batchSize: batch, seed: 5)
    }

    @Test("Lemma 15: over 20,000 minibatches the naive ½‖v̄‖² averages L + nσ²/(2B); both debiased estimates average L (within 4 standard errors)")
    func lemma15() throws {
        let sigma = 0.5, batch = 8
        let g = try Self.game(noise: sigma, batch: batch)
        let x = [0.7, -0.4]
        let clean = g.base.vectorField(at: x)
        let l = 0.5 * dot(clean, clean)
        let k = 20_000
        var sums = [0.0, 0, 0], squares = [0.0, 0, 0]
        var f = [[Double]](repeating: [0, 0], count: batch)
        for step in 0..<k {
            for i in 0..<batch { g.evaluate(at: x, step: step, example: i, into: &f[i]) }
            let e = consensusEstimates(f)
            for (j, v) in [e.naive, e.variance, e.split].enumerated() { sums[j] += v; squares[j] += v * v }
        }
        let means = sums.map { $0 / Double(k) }
        let errors = (0..<3).map { ((squares[$0] / Double(k) - means[$0] * means[$0]) / Double(k)).squareRoot() }
        let bias = 2 * sigma * sigma / (2 * Double(batch))   // n σ² / (2B), n = 2
        #expect(abs(means[0] - (l + bias)) < 4 * errors[0], "naive \(means[0]) vs \(l + bias) ± \(errors[0])")
        #expect(abs(means[0] - l) > 10 * errors[0], "the naive estimate's bias is resolved")
        #expect(abs(means[1] - l) < 4 * errors[1], "variance \(means[1]) vs \(l) ± \(errors[1])")
        #expect(abs(means[2] - l) < 4 * errors[2], "split \(means[2]) vs \(l) ± \(errors[2])")
    }

    @Test("Debiased consensus: without noise every form is plain consensus (1e-14); with noise the gradients average ∇L = Mᵀ(Mx + b)")
    func steps() throws {
        let quiet = try Self.game(noise: 0)
        let x = [0.7, -0.4]
        let plain = try oneStep(quiet.base, try Consensus(gamma: 0.5), from: x, h: 0.1)
        for d in ConsensusDebias.allCases {
            let s = try oneStep(quiet, try Consensus(gamma: 0.5, debias: d), from: x, h: 0.1)
            #expect(maxRelativeDifference(s, plain) < 1e-14, "\(d)")
        }
        let noisy = try Self.game(noise: 0.5)
        let clean = noisy.base.vectorField(at: x)
        var grad = [0.0, 0]
        noisy.base.transposeJacobianVectorProduct(at: x, clean, step: 0, into: &grad)
        for d in [ConsensusDebias.variance, .split] {
            var sum = [0.0, 0], mean = [0.0, 0], out = [0.0, 0]
            var buffers = DebiasBuffers(batchSize: noisy.batchSize, dimension: 2)
            let k = 4000
            for step in 0..<k {
                debiasedConsensusGradient(noisy, at: x, step: step, debias: d, buffers: &buffers, mean: &mean, into: &out)
                sum[0] += out[0]; sum[1] += out[1]
            }
            #expect(abs(sum[0] / Double(k) - grad[0]) < 0.02 && abs(sum[1] / Double(k) - grad[1]) < 0.02, "\(d)")
        }
        #expect(throws: GameFlowError.self) { try solve(try DiracGAN(r1: 0), scheme: try Consensus(gamma: 1, debias: .split), from: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 1)) }
    }

    @Test("Sub-batched games: P parts of b samples; the naive ½‖v̄‖² averages L + nσ²/(2Pb), both debiased estimates over the parts average L (Lemma 15 with the parts as examples)")
    func subBatchedLemma15() throws {
        let sigma = 0.5, b = 3, parts = 4
        let g = try SubBatchedGame(try Self.game(noise: sigma, batch: b), parts: parts)
        #expect(g.batchSize == parts)
        let x = [0.7, -0.4]
        let clean = g.base.base.vectorField(at: x)
        let l = 0.5 * dot(clean, clean)
        let k = 20_000
        var sums = [0.0, 0, 0], squares = [0.0, 0, 0]
        var f = [[Double]](repeating: [0, 0], count: parts)
        var whole = [0.0, 0]
        for step in 0..<k {
            for i in 0..<parts { g.evaluate(at: x, step: step, example: i, into: &f[i]) }
            // The game's field is the mean of its parts.
            g.evaluate(at: x, step: step, into: &whole)
            let mean = (0..<2).map { j in f.map { $0[j] }.reduce(0, +) / Double(parts) }
            #expect(maxRelativeDifference(whole, mean) < 1e-14)
            let e = consensusEstimates(f)
            for (j, v) in [e.naive, e.variance, e.split].enumerated() { sums[j] += v; squares[j] += v * v }
        }
        let means = sums.map { $0 / Double(k) }
        let errors = (0..<3).map { ((squares[$0] / Double(k) - means[$0] * means[$0]) / Double(k)).squareRoot() }
        let bias = 2 * sigma * sigma / (2 * Double(parts * b))
        #expect(abs(means[0] - (l + bias)) < 4 * errors[0], "naive \(means[0]) vs \(l + bias) ± \(errors[0])")
        #expect(abs(means[1] - l) < 4 * errors[1], "variance \(means[1]) vs \(l) ± \(errors[1])")
        #expect(abs(means[2] - l) < 4 * errors[2], "split \(means[2]) vs \(l) ± \(errors[2])")
    }

    @Test("MLP GAN, split in two halves: debiased consensus's ∇L̂ is ½(v_A′ᵀv_B + v_B′ᵀv_A), the exact gradient of ½⟨v_A, v_B⟩ (central differences, relative 1e-6); variance's matches its formula over B one-sample parts")
    func mlpGANSplit() throws {
        let gan = try NetworkGAN.paperSetup(data: .ring8, hidden: 4, depth: 1, latent: 2, batchSize: 4, activation: .tanh, seed: 3)
        let x = gan.initialState(seed: 3)
        let n = gan.dimension
        let step = 7
        for (d, parts) in [(ConsensusDebias.split, 2), (.variance, 5)] {
            let g = try SubBatchedGame(gan, parts: parts)
            var buffers = DebiasBuffers(batchSize: parts, dimension: n)
            var mean = [Double](repeating: 0, count: n), grad = mean
            debiasedConsensusGradient(g, at: x, step: step, debias: d, buffers: &buffers, mean: &mean, into: &grad)
            /// The estimate L̂ at y on the same batch.
            func estimate(_ y: [Double]) -> Double {
                var f = [[Double]](repeating: [Double](repeating: 0, count: n), count: parts)
                for i in 0..<parts { g.evaluate(at: y, step: step, example: i, into: &f[i]) }
                let e = consensusEstimates(f)
                return d == .split ? e.split : e.variance
            }
            var fd = [Double](repeating: 0, count: n)
            for j in 0..<n {
                var a = x, c = x
                let e = 1e-5 * max(1, abs(x[j]))
                a[j] += e; c[j] -= e
                fd[j] = (estimate(a) - estimate(c)) / (2 * e)
            }
            let scale = fd.map(abs).max()!
            let worst = zip(grad, fd).map { abs($0 - $1) }.max()! / scale
            #expect(worst < 1e-6, "\(d): relative difference \(worst)")
        }
    }
}
