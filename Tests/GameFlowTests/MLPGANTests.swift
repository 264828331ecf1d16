import Foundation
import CKernels
import Testing
@testable import GameFlow

@Suite struct MLPGANDerivativeTests {
    static let cases: [(Activation, NetworkGAN.Utility)] = Activation.allCases.flatMap { a in NetworkGAN.Utility.allCases.map { (a, $0) } }

    static func game(_ a: Activation, _ u: NetworkGAN.Utility, layout: NetworkGAN.Layout = .generatorFirst) throws -> NetworkGAN {
        try mlpGAN([3, 5, 4, 2], [2, 5, 4, 1], activation: a, data: .ring8, batchSize: 7, utility: u, layout: layout, seed: 42)
    }

    /// A state with larger-than-init weights so that every nonlinearity is exercised.
    static func state(_ g: NetworkGAN, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        return (0..<g.dimension).map { _ in 0.7 * rng.normal() }
    }

    /// Central difference of a scalar function along coordinate i.
    static func partial(_ f: ([Double]) -> Double, _ x: [Double], _ i: Int) -> Double {
        let h = 1e-6 * max(1, abs(x[i]))
        var xp = x, xm = x
        xp[i] += h; xm[i] -= h
        return (f(xp) - f(xm)) / (2 * h)
    }

    /// ∇ of each player's utility with respect to its own block, by central differences.
    static func utilityGradient(_ g: NetworkGAN, at x: [Double], step: Int) -> [Double] {
        let gBlock = g.generatorOffset..<(g.generatorOffset + g.generator.parameterCount)
        return (0..<g.dimension).map { i in
            gBlock.contains(i) ? partial({ g.utilities(at: $0, step: step).generator }, x, i)
                               : partial({ g.utilities(at: $0, step: step).discriminator }, x, i)
        }
    }

    @Test("v = (∇_G g, ∇_D f) matches finite differences of the utilities (1e-6 relative)", arguments: cases)
    func gradients(activation: Activation, utility: NetworkGAN.Utility) throws {
        for layout in [NetworkGAN.Layout.generatorFirst, .discriminatorFirst] {
            let g = try Self.game(activation, utility, layout: layout)
            let x = Self.state(g, seed: 1)
            let v = g.vectorField(at: x, step: 3)
            let fd = Self.utilityGradient(g, at: x, step: 3)
            #expect(maxRelativeDifference(v, fd) < 1e-6, "\(activation) \(utility) \(layout)")
        }
    }

    @Test("v′u matches finite differences of v; ⟨u, v′w⟩ = ⟨v′ᵀu, w⟩ to 1e-10", arguments: cases)
    func hessianVectorProducts(activation: Activation, utility: NetworkGAN.Utility) throws {
        let g = try Self.game(activation, utility)
        var rng = SeededGenerator(seed: 9)
        for trial in 0..<3 {
            let x = Self.state(g, seed: UInt64(10 + trial))
            let u = randomVector(g.dimension, &rng), w = randomVector(g.dimension, &rng)
            var jvp = [Double](repeating: 0, count: g.dimension), fd = jvp, jtu = jvp
            g.jacobianVectorProduct(at: x, u, step: 5, into: &jvp)
            g.finiteDifferenceJVP(at: x, u, step: 5, into: &fd)
            #expect(maxRelativeDifference(fd, jvp) < 1e-6, "\(activation) \(utility)")
            var jw = jtu
            g.jacobianVectorProduct(at: x, w, step: 5, into: &jw)
            g.transposeJacobianVectorProduct(at: x, u, step: 5, into: &jtu)
            let lhs = dot(u, jw), rhs = dot(jtu, w)
            #expect(abs(lhs - rhs) <= 1e-10 * max(abs(lhs), 1e-300) + 1e-14, "\(activation) \(utility): \(lhs) vs \(rhs)")
            // v′ᵀu right after v at the same point reuses v's backward state: same numbers.
            _ = g.vectorField(at: x, step: 5)
            var again = jtu
            g.transposeJacobianVectorProduct(at: x, u, step: 5, into: &again)
            #expect(again == jtu, "\(activation) \(utility): reused backward state")
        }
    }

    @Test("One player's block of v is that block of the full v, bit for bit, and leaves v′ᵀu unchanged", arguments: cases)
    func playerBlocks(activation: Activation, utility: NetworkGAN.Utility) throws {
        for layout in [NetworkGAN.Layout.generatorFirst, .discriminatorFirst] {
            let g = try Self.game(activation, utility, layout: layout)
            let x = Self.state(g, seed: 4)
            let v = g.vectorField(at: x, step: 2)
            var rng = SeededGenerator(seed: 8)
            let u = randomVector(g.dimension, &rng)
            var jtu = [Double](repeating: 0, count: g.dimension)
            g.transposeJacobianVectorProduct(at: x, u, step: 2, into: &jtu)
            let elsewhere = Self.state(g, seed: 5)
            for (player, block) in g.players.enumerated() {
                _ = g.vectorField(at: elsewhere, step: 2)   // every network's δ's now belong to another x
                var w = [Double](repeating: .nan, count: g.dimension)
                g.evaluate(at: x, step: 2, player: player, into: &w)
                #expect(Array(w[block]) == Array(v[block]), "\(activation) \(utility) \(layout) player \(player)")
                // The partial pass must not leave δ's that v′ᵀu would take for v's.
                var again = jtu
                g.transposeJacobianVectorProduct(at: x, u, step: 2, into: &again)
                #expect(again == jtu, "\(activation) \(utility) \(layout): v′ᵀu after player \(player)'s block")
            }
        }
    }

    /// `game` with only `Game`'s default `evaluate(at:step:player:into:)` (the full v).
    struct FullFieldOnly: Game {
        let game: NetworkGAN
        var dimension: Int { game.dimension }
        var players: [Range<Int>] { game.players }
        func evaluate(at x: [Double], step: Int, into v: inout [Double]) { game.evaluate(at: x, step: step, into: &v) }
    }

    @Test("AltGA on one player's block at a time takes the same steps as on full evaluations")
    func altgaUsesBlocks() throws {
        for layout in [NetworkGAN.Layout.generatorFirst, .discriminatorFirst] {
            let g = try Self.game(.relu, .nonSaturating, layout: layout)
            let x0 = g.initialState(seed: 3), opts = SolveOptions(stepSize: 0.05, maxSteps: 20)
            var blocks = try Integrator(game: g, scheme: AltGA(), initialState: x0, options: opts)
            var full = try Integrator(game: FullFieldOnly(game: Self.game(.relu, .nonSaturating, layout: layout)), scheme: AltGA(),
                                      initialState: x0, options: opts)
            while blocks.step() == nil {}
            while full.step() == nil {}
            #expect(blocks.state == full.state && blocks.state != x0, "\(layout)")
            #expect(blocks.stats == full.stats)
        }
    }

    @Test("The minibatch is a pure function of (seed, step): same step, same v; other step, other v")
    func batchesArePure() throws {
        let g = try Self.game(.tanh, .nonSaturating)
        let x = Self.state(g, seed: 2)
        let a = g.vectorField(at: x, step: 7), b = g.vectorField(at: x, step: 8)
        _ = g.vectorField(at: x, step: 100)
        #expect(g.vectorField(at: x, step: 7) == a)
        #expect(a != b)
        let twin = try Self.game(.tanh, .nonSaturating)
        #expect(twin.vectorField(at: x, step: 7) == a)
    }

    @Test("Paper setup has ≈2,000 parameters (G 1,122 for latent 16, D 881)")
    func paperSize() throws {
        let g = try NetworkGAN.paperSetup(data: .ring8, seed: 0)
        #expect(g.generator.parameterCount == 16 * 16 + 16 + 3 * (16 * 16 + 16) + 16 * 2 + 2)
        #expect(g.discriminator.parameterCount == 2 * 16 + 16 + 3 * (16 * 16 + 16) + 16 + 1)
        #expect(g.generator.parameterCount == 1122 && g.discriminator.parameterCount == 881)
    }
}

@Suite struct ModeCoverageTests {
    @Test("Samples from the mixture itself cover every mode with high quality and small KL")
    func trueSamples() {
        for mix in [GaussianMixture.ring8, .grid25, .grid16] {
            var rng = SeededGenerator(seed: 1)
            var s = [Double](repeating: 0, count: 20_000)
            s.withUnsafeMutableBufferPointer { mix.sample(10_000, into: $0.baseAddress!, rng: &rng) }
            let m = ModeCoverage(samples: s, mixture: mix)
            #expect(m.modesCaptured == mix.means.count)
            // Within 3σ of a 2-D Gaussian's centre: 1 − e^{−4.5} = 0.98889 (binomial sd ≈ 0.001 at n = 10⁴).
            #expect(abs(m.highQualityFraction - (1 - exp(-4.5))) < 0.005)
            #expect(m.klModes < 1e-2)
        }
    }

    @Test("All samples on one mode: 1 mode, KL = log K")
    func collapsed() {
        let s = [Double](repeating: 0, count: 2000).enumerated().map { $0.offset % 2 == 0 ? 1.0 : 0.0 }
        let m = ModeCoverage(samples: s, mixture: .ring8)
        #expect(m.modesCaptured == 1 && m.highQualityFraction == 1)
        #expect(abs(m.klModes - log(8)) < 1e-12)
    }
}

@Suite struct RandomTests {
    @Test("Ziggurat normals: moments and tail probabilities of N(0, 1) (4-sigma bounds at n = 10⁶)")
    func zigguratNormals() {
        let n = 1_000_000
        var rng = SeededGenerator(seed: 77)
        var xs = [Double](repeating: 0, count: n)
        xs.withUnsafeMutableBufferPointer { rng.fillNormals($0.baseAddress!, count: n) }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean) < 4 / Double(n).squareRoot())
        #expect(abs(variance - 1) < 4 * 2.0.squareRoot() / Double(n).squareRoot())
        // P(X < 1) = 0.841345, P(X < −2) = 0.0227501, P(|X| > 3.5) = 4.6523e-4 (beyond the ziggurat's base R ≈ 3.44).
        for (threshold, p, pick) in [(1.0, 0.841345, { (x: Double) in x < 1 }), (-2.0, 0.0227501, { $0 < -2 }),
                                     (3.5, 4.6523e-4, { abs($0) > 3.5 })] as [(Double, Double, (Double) -> Bool)] {
            let observed = Double(xs.filter(pick).count) / Double(n)
            let sd = (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs(observed - p) < 4 * sd, "threshold \(threshold): \(observed) vs \(p)")
        }
    }

    @Test("A ziggurat draw on the fast path is u·x[i] from the generator's next word, and uses that word only")
    func zigguratDrawsFollowNext() {
        let z = Ziggurat.shared
        var fastPath = 0
        for seed in UInt64(0)..<2000 {
            var rng = SeededGenerator(seed: seed), copy = rng
            let bits = copy.next()
            let i = Int(bits & 127), u = 2 * (Double(bits >> 11) * 0x1p-53) - 1
            guard abs(u) < z.ratio[i] else { continue }   // the wedge or the tail: more words
            fastPath += 1
            var x = 0.0
            rng.fillNormals(&x, count: 1)
            #expect(x == u * z.x[i], "seed \(seed)")
            #expect(rng.next() == copy.next(), "seed \(seed): the stream must go on after exactly one word")
        }
        #expect(fastPath > 1900)   // ≈ 98 % of draws
    }

    @Test("Normals drawn in pieces are the normals drawn at once: no word lost or reused around the wedge and tail")
    func zigguratPiecesMatchWhole() {
        let n = 20_000
        var whole = [Double](repeating: 0, count: n), pieces = whole
        var rng = SeededGenerator(seed: 5)
        whole.withUnsafeMutableBufferPointer { rng.fillNormals($0.baseAddress!, count: n) }
        let after = rng.next()
        var again = SeededGenerator(seed: 5), k = 0, size = 1
        pieces.withUnsafeMutableBufferPointer { p in
            while k < n {   // pieces of 1, 2, 3, … draws: ~200 boundaries, some right after a slow draw
                let m = min(size, n - k)
                again.fillNormals(p.baseAddress! + k, count: m)
                k += m
                size += 1
            }
        }
        #expect(whole.indices.first { pieces[$0] != whole[$0] } == nil, "first draw that differs")
        #expect(again.next() == after)
        // The run exercised the slow path (about 2 % of draws beyond the rectangles).
        let z = Ziggurat.shared
        var check = SeededGenerator(seed: 5), slow = 0
        for _ in 0..<n {
            let bits = check.next()
            if abs(2 * (Double(bits >> 11) * 0x1p-53) - 1) >= z.ratio[Int(bits & 127)] { slow += 1 }
        }
        #expect(slow > 100)
    }
}

@Suite struct TrainingTests {
    static func tinyGAN(seed: UInt64) throws -> NetworkGAN {
        try mlpGAN([4, 8, 2], [2, 8, 1], activation: .relu, data: .ring8, batchSize: 32, seed: seed)
    }

    @Test("Same seed ⇒ bit-identical trajectories (consensus + RMSProp, 50 steps); another seed differs")
    func determinism() throws {
        func run(_ seed: UInt64) throws -> [Double] {
            let g = try Self.tinyGAN(seed: seed)
            let s = try solve(g, scheme: Preconditioned(try Consensus(gamma: 10), method: .referenceRMSProp),
                              from: g.initialState(seed: seed), options: SolveOptions(stepSize: 1e-3, maxSteps: 50))
            return s.finalState
        }
        #expect(try run(3) == run(3))
        #expect(try run(3) != run(4))
        // Across processes: CLITests.testSameSeedIsTheSameRunAcrossProcesses.
    }

    @Test("Consensus on the paper's nets takes the same bits with the AVX-512 and the AVX2 kernels (ReLU and tanh)",
          .enabled(if: kernelWidths.contains(8), "this CPU has no AVX-512"), arguments: [Activation.relu, .tanh])
    func kernelBuildsAgree(activation: Activation) throws {
        let g = try mlpGAN([16, 16, 16, 16, 16, 2], [2, 16, 16, 16, 16, 1], activation: activation, data: .ring8, batchSize: 64, seed: 5)
        func run(width: Int32) throws -> [Double] {
            try withKernelWidth(width) {
                try solve(g, scheme: Preconditioned(try Consensus(gamma: 10), method: .referenceRMSProp),
                          from: g.initialState(seed: 5), options: SolveOptions(stepSize: 1e-3, maxSteps: 5)).finalState
            }
        }
        let four = try run(width: 4), eight = try run(width: 8)
        let differing = zip(four, eight).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(four.count) coordinates differ between the 4- and 8-wide builds")
        #expect(four != g.initialState(seed: 5))
    }

    @Test("RMSProp around SimGA is the reference update: s = 0.9·1 + 0.1·v², x + h·v/√(s + 1e-10)")
    func rmspropStep() throws {
        let g = try Self.tinyGAN(seed: 1)
        let x = g.initialState(seed: 1)
        let v = g.vectorField(at: x, step: 0)
        let h = 0.01
        let next = try oneStep(g, Preconditioned(SimGA(), method: .referenceRMSProp), from: x, h: h)
        let expected = (0..<x.count).map { i in x[i] + h * v[i] / (0.9 + 0.1 * v[i] * v[i] + 1e-10).squareRoot() }
        #expect(maxRelativeDifference(next, expected) < 1e-12)
    }

    @Test("Adam's first step moves every coordinate by h·sign(d) (bias correction)")
    func adamFirstStep() throws {
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 2, -2, -1]), b: [3, -1], playerSizes: [1, 1])
        let x = [0.5, 0.25], h = 0.1
        let v = game.vectorField(at: x)
        let next = try oneStep(game, Preconditioned(SimGA(), method: .standardAdam), from: x, h: h)
        for i in 0..<2 { #expect(abs((next[i] - x[i]) - h * (v[i] > 0 ? 1 : -1)) < 1e-8) }
    }

    @Test("Mode metrics of the generator's samples are reproducible and well-formed")
    func samples() throws {
        let g = try Self.tinyGAN(seed: 2)
        var x = g.initialState(seed: 2)
        let a = g.samples(at: x, count: 5000, sampleSeed: 9), b = g.samples(at: x, count: 5000, sampleSeed: 9)
        #expect(a == b && a.count == 10_000 && a.allSatisfy(\.isFinite))
        #expect(a != g.samples(at: x, count: 5000, sampleSeed: 10))
        // A generator whose last layer has W = 0 and b = a ring mode outputs that mode exactly,
        // whatever the latents: one mode captured, every sample within 3σ, KL to uniform = log 8.
        let last = g.generator.layers.last!, o = g.generatorOffset + last.offset
        let fanIn = last.inputShape[0]
        for i in 0..<(fanIn * 2) { x[o + i] = 0 }
        let mode = GaussianMixture.ring8.means[3]
        x[o + fanIn * 2] = mode.0
        x[o + fanIn * 2 + 1] = mode.1
        let constant = g.samples(at: x, count: 3000, sampleSeed: 9)
        #expect((0..<3000).allSatisfy { constant[2 * $0] == mode.0 && constant[2 * $0 + 1] == mode.1 })
        let one = ModeCoverage(samples: constant, mixture: .ring8)
        #expect(one.modesCaptured == 1 && one.countsWithin[3] == 3000 && one.highQualityFraction == 1)
        #expect(abs(one.klModes - log(8.0)) < 1e-12)
        // The mixture's own samples: 8 modes, P(‖z‖ ≤ 3σ) = 1 − e^{−9/2} within, KL near 0.
        var rng = SeededGenerator(seed: 4)
        var real = [Double](repeating: 0, count: 2 * 20_000)
        real.withUnsafeMutableBufferPointer { GaussianMixture.ring8.sample(20_000, into: $0.baseAddress!, rng: &rng) }
        let all = ModeCoverage(samples: real, mixture: .ring8)
        #expect(all.modesCaptured == 8)
        #expect(abs(all.highQualityFraction - (1 - exp(-4.5))) < 3e-3)
        #expect(all.klModes < 2e-3)
    }
}

/// What a step costs in multiply-adds of the dense products, counted by the kernels and checked
/// against the pass structure: with P_j = B·w_{j−1}·w_j the cost of layer j's product and Σ
/// a network's total,
/// - v (forward G, D on real and fakes; backward through both D's (weight gradients everywhere,
///   δ below every layer but the real D's first) and through G (no latent gradient)):
///   3Σ_G − P_G1 + 6Σ_D − P_D1;
/// - v′ᵀv after v (its forward state and δ's reused): a tangent forward pass (one product where
///   the input has no tangent, else two) and an R-backward (two for R{δ}, two for R{∇W}, one less
///   each at a first layer whose input has no tangent) on G, the real D and the fake D:
///   6Σ_G − 4P_G1 + 12Σ_D − 4P_D1, plus, for tanh only, v's δ propagation again
///   (Σ_G − P_G1 + 2Σ_D − P_D1): its σ″ term needs δ before σ′, which v does not keep.
/// A pass done twice (say, the forward state not reused) or a product not merged shows up here.
@Suite struct MLPGANCostTests {
    static func costs(_ widths: [Int], batch: Int) -> (sum: Int, first: Int) {
        let p = (1..<widths.count).map { batch * widths[$0 - 1] * widths[$0] }
        return (p.reduce(0, +), p[0])
    }

    static func measured(_ body: () throws -> Void) rethrows -> Int {
        let before = gf_multiply_adds()
        try body()
        return Int(gf_multiply_adds() - before)
    }

    @Test("Multiply-adds of v, of v′ᵀv and of SimGA and consensus steps match the pass structure",
          arguments: [Activation.relu, .tanh])
    func productCounts(activation: Activation) throws {
        let gw = [3, 5, 6, 2], dw = [2, 7, 4, 1], batch = 9
        let game = try mlpGAN(gw, dw, activation: activation, data: .ring8, batchSize: batch, seed: 5)
        let g = Self.costs(gw, batch: batch), d = Self.costs(dw, batch: batch)
        let field = 3 * g.sum - g.first + 6 * d.sum - d.first
        let transposed = 6 * g.sum - 4 * g.first + 12 * d.sum - 4 * d.first
            + (activation == .tanh ? g.sum - g.first + 2 * d.sum - d.first : 0)
        let x = game.initialState(seed: 5)
        var v = [Double](repeating: 0, count: game.dimension), out = v
        #expect(Self.measured { game.evaluate(at: x, step: 3, into: &v) } == field)
        #expect(Self.measured { game.transposeJacobianVectorProduct(at: x, v, step: 3, into: &out) } == transposed)
        // Steps from a state the workspace does not hold.
        let y = x.map { $0 * 1.01 }
        #expect(try Self.measured { _ = try oneStep(game, SimGA(), from: y, h: 1e-3) } == field)
        let z = x.map { $0 * 0.99 }
        #expect(try Self.measured { _ = try oneStep(game, Consensus(gamma: 10), from: z, h: 1e-3) } == field + transposed)
    }
}
