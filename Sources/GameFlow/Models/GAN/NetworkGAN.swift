import CKernels
import Foundation

/// A GAN as a composition: a generator `Network` (latent → sample), a discriminator `Network`
/// (sample → one logit), a `GANObjective`, gradient penalties on D, a minibatch source and a
/// layout of x — for any architecture the layers express (dense, conv, deconv, …).
///
/// **Players and signs.** D maximises f − P (P its penalties), f = E_data[φ_r(D(x))] +
/// E_z[φ_f(D(G(z)))], G maximises g = E_z[ψ(D(G(z)))] (`Utility`, `GANObjective`), and
/// v = (∇_θG g, ∇_φD f − ∇_φD P): the paper's convention, players maximise. **Layout:** x =
/// (θ_G, φ_D) by default (the paper's player 1 first); `.discriminatorFirst` puts D first (AltGA
/// then updates D first, as the reference code). **Data:** the minibatch of step k (real samples
/// and latents z ~ N(0, I)) is a pure function of (seed, k), so every stage of a step and every
/// iteration of an implicit solve sees the same batch; step −1 is the evaluation batch.
///
/// **Derivatives** are exact, from the networks' four products: v by backpropagation (one pass
/// through D over the fakes serves both players); v′u = ((H_g u)_G, (H_f u)_D) by one
/// R-operator pass along u; v′ᵀu = H_g·(u_G, 0) + H_f·(0, u_D) by one merged R-operator sweep
/// that reuses v's adjoints (H the Hessians of the utilities; see `vjpPass`). The penalties'
/// second derivatives are central differences of their exact gradients (the checked fallback).
///
/// Buffers are preallocated; evaluations of one value are serialised by a lock (share a game
/// between threads if you must, but use one per thread for parallel speed).
public struct NetworkGAN: Game {
    /// The GAN objective in the players' utilities (f for D, g for G; both maximised).
    public enum Utility: String, Sendable, CaseIterable {
        /// The minimax GAN: f = E log D(x) + E log(1 − D(G(z))), g = −f.
        case standard
        /// The non-saturating GAN (the reference code's): G maximises E log D(G(z)) instead.
        case nonSaturating = "non-saturating"
        /// The Wasserstein objective on the raw output: f = E t(x) − E t(G(z)), g = −f.
        case wgan
    }

    /// Which network's parameters come first in x.
    public enum Layout: String, Sendable {
        /// x = (θ_G, φ_D): the paper's player order (the default).
        case generatorFirst = "generator-first"
        /// x = (φ_D, θ_G): AltGA then moves D first, as the reference code does.
        case discriminatorFirst = "discriminator-first"
    }

    public private(set) var generator: Network
    public private(set) var discriminator: Network
    public let source: any SampleSource
    /// The shape of one sample (channels-first), e.g. [1, 28, 28].
    public let sampleShape: [Int]
    public let batchSize: Int
    public let utility: Utility
    public let objective: any GANObjective
    public let layout: Layout
    public let seed: UInt64
    public var penalties = GradientPenalties()
    /// The hidden widths when the networks are MLPs (`mlp(…)`): state files then name the
    /// networks by their widths, as they always have for MLP GANs.
    public private(set) var mlpWidths: (generator: [Int], discriminator: [Int])?
    public let generatorOffset: Int
    public let discriminatorOffset: Int
    /// The step index of the fixed evaluation batch.
    public static let evaluationStep = -1
    private var workspace: NetworkGANWorkspace
    /// The minibatch's parts when v, v′u and v′ᵀu run on several threads (`withThreads`).
    private var parts: NetworkGANParts?
    /// Threads that share v, v′u and v′ᵀu (1: the calling thread alone; `withThreads`).
    public var threads: Int { parts?.workspaces.count ?? 1 }

    /// A GAN of `architecture`'s networks on `source`, whose samples have `sampleShape`
    /// (default: flat, the source's dimension).
    /// `denseKernels` false: no fused dense kernels (`Network.init`), for tests.
    /// - Throws: when the networks do not fit the samples (naming the layer) or the batch is empty.
    public init(architecture: Architecture, source: any SampleSource, sampleShape: [Int]? = nil, batchSize: Int,
                utility: Utility = .nonSaturating, layout: Layout = .generatorFirst, seed: UInt64, denseKernels: Bool = true) throws {
        let shape = sampleShape ?? [source.dimension]
        guard shape.reduce(1, *) == source.dimension else {
            throw GameFlowError.invalidInput("samples of shape \(shape) hold \(shape.reduce(1, *)) numbers, the data's have \(source.dimension)")
        }
        guard batchSize >= 1 else { throw GameFlowError.invalidInput("batch size must be at least 1 (got \(batchSize))") }
        let (g, d) = try architecture.networks(sampleShape: shape, denseKernels: denseKernels)
        self.generator = g
        self.discriminator = d
        self.source = source
        self.sampleShape = shape
        self.batchSize = batchSize
        self.utility = utility
        self.objective = utility.objective
        self.layout = layout
        self.seed = seed
        switch layout {
        case .generatorFirst: (generatorOffset, discriminatorOffset) = (0, g.parameterCount)
        case .discriminatorFirst: (generatorOffset, discriminatorOffset) = (d.parameterCount, 0)
        }
        workspace = NetworkGANWorkspace(generator: g, discriminator: d, batch: batchSize)
    }

    /// The MLP GAN: G latent → `generatorHidden`… → d, D d → `discriminatorHidden`… → 1, each
    /// hidden layer dense then its activation (leaky ReLU's slope `leakySlope`), output layers
    /// linear, Xavier-uniform weights and zero biases (the paper's reference code); dense layers
    /// this narrow run on the fused kernels.
    public static func mlp(data: any SampleSource, latent: Int, generatorHidden: [Int], discriminatorHidden: [Int],
                           generatorActivation: Activation = .relu, discriminatorActivation: Activation = .relu, batchSize: Int,
                           utility: Utility = .nonSaturating, layout: Layout = .generatorFirst, seed: UInt64) throws -> NetworkGAN {
        guard latent >= 1, !generatorHidden.isEmpty, !discriminatorHidden.isEmpty, (generatorHidden + discriminatorHidden).allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("hidden widths and the latent size must be ≥ 1")
        }
        let d = data.dimension
        var game = try NetworkGAN(architecture: .mlp(latent: latent, generatorHidden: generatorHidden, discriminatorHidden: discriminatorHidden,
                                                     dataDimension: d, generatorActivation: generatorActivation,
                                                     discriminatorActivation: discriminatorActivation),
                                  source: data, batchSize: batchSize, utility: utility, layout: layout, seed: seed)
        game.mlpWidths = ([latent] + generatorHidden + [d], [d] + discriminatorHidden + [1])
        return game
    }

    /// The paper's setup (its reference code): `depth` hidden layers of `width` units in both
    /// networks, latent 16, batch 512, ReLU, the non-saturating objective.
    public static func paperSetup(data: any SampleSource, hidden width: Int = 16, depth: Int = 4, latent: Int = 16, batchSize: Int = 512,
                                  activation: Activation = .relu, utility: Utility = .nonSaturating, layout: Layout = .generatorFirst,
                                  seed: UInt64) throws -> NetworkGAN {
        guard depth >= 1, width >= 1 else { throw GameFlowError.invalidInput("hidden width, depth and latent size must be ≥ 1") }
        let hidden = [Int](repeating: width, count: depth)
        return try mlp(data: data, latent: latent, generatorHidden: hidden, discriminatorHidden: hidden, generatorActivation: activation,
                       discriminatorActivation: activation, batchSize: batchSize, utility: utility, layout: layout, seed: seed)
    }

    /// The paper's networks with their own hidden widths (one per hidden layer) and one activation.
    public static func paperSetup(data: any SampleSource, generatorHidden: [Int], discriminatorHidden: [Int], latent: Int = 16,
                                  batchSize: Int = 512, activation: Activation = .relu, utility: Utility = .nonSaturating,
                                  layout: Layout = .generatorFirst, seed: UInt64) throws -> NetworkGAN {
        try mlp(data: data, latent: latent, generatorHidden: generatorHidden, discriminatorHidden: discriminatorHidden,
                generatorActivation: activation, discriminatorActivation: activation, batchSize: batchSize, utility: utility,
                layout: layout, seed: seed)
    }

    public var name: String { mlpWidths == nil ? "network-gan" : "mlp-gan" }
    public var dimension: Int { generator.parameterCount + discriminator.parameterCount }
    public var dataDimension: Int { source.dimension }
    public var latentDimension: Int { generator.inputCount }
    public var players: [Range<Int>] {
        let g = generatorOffset..<(generatorOffset + generator.parameterCount)
        let d = discriminatorOffset..<(discriminatorOffset + discriminator.parameterCount)
        return layout == .generatorFirst ? [g, d] : [d, g]
    }
    public var hasExactDerivatives: Bool { true }
    public var discriminatorPlayer: Int? { layout == .generatorFirst ? 1 : 0 }
    /// Whether player `player` (0 or 1) is G, without making `players`' array (a step asks).
    func isGenerator(player: Int) -> Bool {
        precondition(player == 0 || player == 1, "NetworkGAN has players 0 and 1 (asked for \(player))")
        return (player == 0) == (layout == .generatorFirst)
    }
    /// Multiply-adds of one forward pass of G and of D over a batch (the bilinear maps').
    public var forwardMultiplyAdds: (generator: Int, discriminator: Int) {
        (generator.multiplyAddsPerSample * batchSize, discriminator.multiplyAddsPerSample * batchSize)
    }

    /// Both networks' initial parameters from `seed` (`Network.initialize`), G then D from one stream.
    public func initialState(seed: UInt64) -> [Double] {
        var x = [Double](repeating: 0, count: dimension)
        var rng = SeededGenerator(seed: seed, stream: -2)
        generator.initialize(&x, at: generatorOffset, rng: &rng)
        discriminator.initialize(&x, at: discriminatorOffset, rng: &rng)
        return x
    }

    // MARK: - Game

    /// This GAN with v, v′u and v′ᵀu split over `n` threads, each on a part of every minibatch
    /// (samples in order, parts as equal as the batch allows): each part's sums over its samples
    /// are then added in part order. The same samples, latents and penalty draws as with one
    /// thread, so the results differ from one thread's only by that reassociation of the batch
    /// sums (within 1e-13 relative per product in the tests; 1e-9 for v′u and v′ᵀu with gradient
    /// penalties, whose Hessian is a central difference of ∇P that amplifies it); for a given `n`
    /// they are reproducible bit for bit.
    /// The other computations (utilities, samples, LOLA's utility gradients) stay on one thread.
    /// - Throws: for n < 1 or more threads than samples in a minibatch.
    public func withThreads(_ n: Int) throws -> NetworkGAN {
        guard n >= 1, n <= batchSize else {
            throw GameFlowError.invalidInput("threads must be between 1 and the batch size \(batchSize) (got \(n))")
        }
        var copy = self
        copy.parts = n == 1 ? nil : NetworkGANParts(generator: generator, discriminator: discriminator, batch: batchSize, parts: n)
        return copy
    }

    /// The arithmetic inside both networks (`Precision`; x, v and the products stay double).
    public var precision: Precision { generator.precision }

    /// This GAN with both networks' passes in `precision` (float32: float arithmetic and sgemm
    /// inside the networks, converted at their boundary; `Precision`). The same parameters,
    /// batches and threads; the penalties' Hessian products take their central-difference step
    /// for the networks' round-off (ε^⅓ of float's ε in float32).
    public func withPrecision(_ precision: Precision) throws -> NetworkGAN {
        guard precision != self.precision else { return self }
        var copy = self
        copy.generator = generator.withPrecision(precision)
        copy.discriminator = discriminator.withPrecision(precision)
        copy.workspace = NetworkGANWorkspace(generator: copy.generator, discriminator: copy.discriminator, batch: batchSize)
        copy.parts = nil
        return try copy.withThreads(threads)
    }

    /// One of the passes `withThreads` splits over the minibatch's parts (data, not a closure:
    /// handing a closure to another thread would allocate).
    enum Pass {
        case field(UnsafePointer<Double>, step: Int, discriminatorBlock: Bool, generatorBlock: Bool)
        case jvp(UnsafePointer<Double>, UnsafePointer<Double>, step: Int)
        case vjp(UnsafePointer<Double>, UnsafePointer<Double>, step: Int)
    }

    /// `pass` on the samples of `ws`, into `out`.
    func execute(_ pass: Pass, _ ws: NetworkGANWorkspace, into out: UnsafeMutablePointer<Double>) {
        switch pass {
        case let .field(x, step, d, g):
            fieldPass(x, step: step, ws, into: out, discriminatorBlock: d, generatorBlock: g)
        case let .jvp(x, u, step):
            jvpPass(x, u, step, ws, into: out)
            if penalties.isActive { penaltyProduct(x, u, step, ws, transpose: false, into: out) }
        case let .vjp(x, u, step):
            vjpPass(x, u, step, ws, into: out)
            if penalties.isActive { penaltyProduct(x, u, step, ws, transpose: true, into: out) }
        }
    }

    /// Runs `pass` on the whole batch (one thread) or on every part at once, summing the parts'
    /// `range` of the output into `out`.
    private func passes(_ pass: Pass, into out: UnsafeMutablePointer<Double>, range: Range<Int>) {
        if let parts {
            parts.run(self, pass, into: out, range: range)
        } else {
            workspace.locked { execute(pass, $0, into: out) }
        }
    }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        x.withUnsafeBufferPointer { xs in
            v.withUnsafeMutableBufferPointer { vs in
                passes(.field(xs.baseAddress!, step: step, discriminatorBlock: true, generatorBlock: true), into: vs.baseAddress!, range: 0..<dimension)
            }
        }
    }

    /// One player's block: D's needs no backward pass through G, G's no pass over the real batch
    /// and no weight gradient of D (AltGA's updates). The same values as `evaluate`'s block, bit for bit.
    public func evaluate(at x: [Double], step: Int, player: Int, into v: inout [Double]) {
        let generatorBlock = isGenerator(player: player)
        let block = generatorBlock ? generatorOffset..<(generatorOffset + generator.parameterCount)
                                   : discriminatorOffset..<(discriminatorOffset + discriminator.parameterCount)
        x.withUnsafeBufferPointer { xs in
            v.withUnsafeMutableBufferPointer { vs in
                passes(.field(xs.baseAddress!, step: step, discriminatorBlock: !generatorBlock, generatorBlock: generatorBlock),
                       into: vs.baseAddress!, range: block)
            }
        }
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        x.withUnsafeBufferPointer { xs in
            u.withUnsafeBufferPointer { us in
                out.withUnsafeMutableBufferPointer { os in
                    passes(.jvp(xs.baseAddress!, us.baseAddress!, step: step), into: os.baseAddress!, range: 0..<dimension)
                }
            }
        }
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        x.withUnsafeBufferPointer { xs in
            u.withUnsafeBufferPointer { us in
                out.withUnsafeMutableBufferPointer { os in
                    passes(.vjp(xs.baseAddress!, us.baseAddress!, step: step), into: os.baseAddress!, range: 0..<dimension)
                }
            }
        }
    }

    /// The utilities (f − P of D, g of G) on the batch of `step`.
    public func utilities(at x: [Double], step: Int) -> (discriminator: Double, generator: Double) {
        workspace.locked { ws in
            x.withUnsafeBufferPointer { xs in
                let p = xs.baseAddress!
                forwardAll(p, step: step, ws)
                let b = ws.batch, nb = Double(b)
                var f = 0.0, g = 0.0
                for r in 0..<b {
                    f += objective.real(ws.realLogit[r]).value / nb + objective.fake(ws.fakeLogit[r]).value / nb
                    g += objective.generator(ws.fakeLogit[r]).value / nb
                }
                if penalties.isActive { f -= penaltyPass(p, step: step, ws, gradD: nil, gradG: nil) }
                return (f, g)
            }
        }
    }

    /// `count` generator samples (count × sample size) for latents drawn from `sampleSeed`.
    public func samples(at x: [Double], count: Int, sampleSeed: UInt64) -> [Double] {
        let d = dataDimension, chunk = min(count, 1024)
        var out = [Double](repeating: 0, count: d * count)
        guard count > 0 else { return out }
        let ws = NetworkWorkspace(generator, capacity: chunk)
        var rng = SeededGenerator(seed: sampleSeed, stream: -3)
        var z = [Double](repeating: 0, count: chunk * latentDimension)
        x.withUnsafeBufferPointer { xs in
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                z.withUnsafeMutableBufferPointer { rng.fillNormals($0.baseAddress!, count: n * latentDimension) }
                let o = generator.forward(xs.baseAddress! + generatorOffset, input: z, batch: n, ws)
                for i in 0..<(d * n) { out[d * done + i] = o[i] }
                done += n
            }
        }
        return out
    }

    // MARK: - Passes (workspace locked)

    /// G on the latents, D on the real batch (unless `real` is false: G's block alone) and on
    /// the fakes. Skipped when the workspace already holds them for this (x, step): consensus
    /// evaluates v and then v′ᵀv at the same point, and backward and tangent passes leave the
    /// forward state intact. Without the real batch the workspace holds no complete forward
    /// state, and the next pass that needs one recomputes it.
    private func forwardAll(_ p: UnsafePointer<Double>, step: Int, _ ws: NetworkGANWorkspace, real: Bool = true) {
        if ws.holdsForward(of: p, count: dimension, step: step) { return }
        ws.prepareBatch(step: step, seed: seed, data: source, latent: latentDimension)
        let b = ws.batch, dp = p + discriminatorOffset
        ws.fake.update(from: generator.forward(p + generatorOffset, input: ws.latents, batch: b, ws.g), count: dataDimension * b)
        if real { ws.realLogit.update(from: discriminator.forward(dp, input: ws.real, batch: b, ws.dReal), count: b) }
        ws.fakeLogit.update(from: discriminator.forward(dp, input: ws.fake, batch: b, ws.dFake), count: b)
        if real { ws.rememberForward(of: p, count: dimension, step: step) } else { ws.forgetForward() }
        ws.backwardIsCurrent = false
    }

    /// v by backpropagation. D's output is one logit per sample, so its adjoints are linear in
    /// that sample's upstream: one backward pass over the fakes with upstream 1/b serves both
    /// players — f's parameter gradient weights sample r by φ_f′(t_r) (a row scale), and g's
    /// gradient enters G through D's input as ψ′(t_r)·e₀, e₀ = ∂t/∂x/b. The adjoints and the
    /// logits' derivatives stay in the workspace for `vjpPass`. With one block (AltGA), the
    /// passes only the other block needs are skipped.
    private func fieldPass(_ p: UnsafePointer<Double>, step: Int, _ ws: NetworkGANWorkspace, into v: UnsafeMutablePointer<Double>,
                           discriminatorBlock: Bool = true, generatorBlock: Bool = true, withPenalties: Bool = true) {
        forwardAll(p, step: step, ws, real: discriminatorBlock)
        let b = ws.batch, inv = ws.inverseBatch
        let dp = p + discriminatorOffset, gp = p + generatorOffset
        let vD = v + discriminatorOffset, vG = v + generatorOffset
        if discriminatorBlock {
            vD.update(repeating: 0, count: discriminator.parameterCount)
            for r in 0..<b {
                let t = objective.realDerivatives(ws.realLogit[r])
                ws.realUpstream[r] = t.d1 * inv
                ws.realCurvature[r] = t.d2
            }
            discriminator.vjp(dp, dOut: ws.realUpstream, ws.dReal, gradient: vD, inputGradient: nil)
        }
        for r in 0..<b {
            let f = objective.fakeDerivatives(ws.fakeLogit[r])
            ws.phiFake1[r] = f.phi1; ws.psi1[r] = f.psi1; ws.psi2[r] = f.psi2; ws.kappa[r] = f.kappa
        }
        discriminator.vjp(dp, dOut: ws.unitUpstream, ws.dFake, gradient: discriminatorBlock ? vD : nil, gradientRowScale: ws.phiFake1,
                          inputGradient: generatorBlock ? ws.fakeInputUnit : nil)
        if generatorBlock {
            vG.update(repeating: 0, count: generator.parameterCount)
            let d = dataDimension
            for r in 0..<b { for j in 0..<d { ws.inputGrad[d * r + j] = ws.psi1[r] * ws.fakeInputUnit[d * r + j] } }
            generator.vjp(gp, dOut: ws.inputGrad, ws.g, gradient: vG, inputGradient: nil)
        }
        if discriminatorBlock && withPenalties && penalties.isActive {
            // D maximises f − P: v_D −= ∇_D P (D's own workspace: the adjoints above stay current).
            ws.penaltyGradient.update(repeating: 0, count: discriminator.parameterCount)
            _ = penaltyPass(p, step: step, ws, gradD: ws.penaltyGradient, gradG: nil)
            for i in 0..<discriminator.parameterCount { vD[i] -= ws.penaltyGradient[i] }
        }
        ws.backwardIsCurrent = discriminatorBlock && generatorBlock
    }

    /// v′u = ((H_g u)_G, (H_f u)_D): tangents of every network along u, then R-backward passes.
    private func jvpPass(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: NetworkGANWorkspace,
                         into out: UnsafeMutablePointer<Double>) {
        forwardAll(p, step: step, ws)
        ws.backwardIsCurrent = false   // the passes below overwrite fieldPass's adjoints
        out.update(repeating: 0, count: dimension)
        let gp = p + generatorOffset, dp = p + discriminatorOffset
        let uG = u + generatorOffset, uD = u + discriminatorOffset
        let oG = out + generatorOffset, oD = out + discriminatorOffset
        let d = dataDimension, b = ws.batch, inv = ws.inverseBatch
        ws.fakeTangent.update(from: generator.jvp(gp, direction: uG, inputDirection: nil, ws.g), count: d * b)
        ws.rRealLogit.update(from: discriminator.jvp(dp, direction: uD, inputDirection: nil, ws.dReal), count: b)
        ws.rFakeLogit.update(from: discriminator.jvp(dp, direction: uD, inputDirection: ws.fakeTangent, ws.dFake), count: b)
        // (H_f u)_D: the real term, then the fakes'.
        for r in 0..<b {
            let t = objective.realDerivatives(ws.realLogit[r])
            ws.upstream[r] = t.d1 * inv
            ws.rUpstream[r] = t.d2 * ws.rRealLogit[r] * inv
        }
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: uD, ws.dReal, gradient: nil,
                                gradientTangent: oD, inputGradient: nil, inputGradientTangent: nil)
        // ψ′ and ψ″ go into fieldPass's per-sample buffers (stale now: backwardIsCurrent is false).
        for r in 0..<b {
            let f = objective.fakeDerivatives(ws.fakeLogit[r])
            ws.upstream[r] = f.phi1 * inv
            ws.rUpstream[r] = f.phi2 * ws.rFakeLogit[r] * inv
            ws.psi1[r] = f.psi1; ws.psi2[r] = f.psi2
        }
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: uD, ws.dFake, gradient: nil,
                                gradientTangent: oD, inputGradient: nil, inputGradientTangent: nil)
        // (H_g u)_G: through D's input, then G.
        for r in 0..<b {
            ws.upstream[r] = ws.psi1[r] * inv
            ws.rUpstream[r] = ws.psi2[r] * ws.rFakeLogit[r] * inv
        }
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: uD, ws.dFake, gradient: nil,
                                gradientTangent: nil, inputGradient: ws.inputGrad, inputGradientTangent: ws.rInputGrad)
        generator.rBackward(gp, dOut: ws.inputGrad, dOutTangent: ws.rInputGrad, direction: uG, ws.g, gradient: nil,
                            gradientTangent: oG, inputGradient: nil, inputGradientTangent: nil)
    }

    /// v′ᵀu = H_g·(u_G, 0) + H_f·(0, u_D) in one forward-over-reverse sweep.
    ///
    /// Both terms are R-operator passes; they differ only in the direction and, on the fakes, in
    /// the loss of the logit (ψ for g, φ_f for f). Tangents are linear in the direction and a
    /// batch's samples are independent, so the two passes merge into one with the per-sample
    /// direction (ψ′_r·Ġ_r into D's input, φ_f′_r·u_D on D's parameters), the adjoints of the unit
    /// upstream (kept from `fieldPass`), and R{δ_L} = (ψ″ṡᴬ + φ_f″ṡᴮ)/b, where ṡᴬ = b·e₀·Ġ is
    /// the logit's tangent along u_G and φ_f″ṡᴮ = κ(ṡ − ψ′ṡᴬ) with κ = φ_f″/φ_f′ and ṡ the
    /// merged pass's logit tangent.
    private func vjpPass(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: NetworkGANWorkspace,
                         into out: UnsafeMutablePointer<Double>) {
        forwardAll(p, step: step, ws)
        if !ws.backwardIsCurrent { fieldPass(p, step: step, ws, into: ws.fieldScratch, withPenalties: false) }
        out.update(repeating: 0, count: dimension)
        let b = ws.batch, nb = Double(ws.fullBatch), inv = ws.inverseBatch, d = dataDimension
        let uG = u + generatorOffset, uD = u + discriminatorOffset
        let oG = out + generatorOffset, oD = out + discriminatorOffset
        let gp = p + generatorOffset, dp = p + discriminatorOffset
        // Tangents: G along u_G; D on real data along u_D; D on the fakes along the merged direction.
        let gDot = generator.jvp(gp, direction: uG, inputDirection: nil, ws.g)
        for r in 0..<b {
            var s = 0.0
            for j in 0..<d {
                let g = gDot[d * r + j]
                s += ws.fakeInputUnit[d * r + j] * g
                ws.fakeTangent[d * r + j] = ws.psi1[r] * g
            }
            ws.sA[r] = nb * s
        }
        let sReal = discriminator.jvp(dp, direction: uD, inputDirection: nil, ws.dReal)
        let sFake = discriminator.jvp(dp, direction: uD, inputDirection: ws.fakeTangent, directionRowScale: ws.phiFake1, ws.dFake)
        // D on real data: H_f(0, u_D), D block.
        for r in 0..<b { ws.rUpstream[r] = ws.realCurvature[r] * sReal[r] * inv }
        discriminator.rBackward(dp, dOut: ws.realUpstream, dOutTangent: ws.rUpstream, direction: uD, ws.dReal, gradient: nil,
                                gradientTangent: oD, inputGradient: nil, inputGradientTangent: nil, deltaIsCurrent: true)
        // D on the fakes, then G: both terms, both blocks.
        for r in 0..<b {
            let sA = ws.sA[r]
            ws.rUpstream[r] = (ws.psi2[r] * sA + ws.kappa[r] * (sFake[r] - ws.psi1[r] * sA)) * inv
        }
        discriminator.rBackward(dp, dOut: ws.unitUpstream, dOutTangent: ws.rUpstream, direction: uD, directionRowScale: ws.phiFake1,
                                ws.dFake, gradient: nil, gradientTangent: oD, inputGradient: nil, inputGradientTangent: ws.rInputGrad,
                                deltaIsCurrent: true)
        generator.rBackward(gp, dOut: ws.inputGrad, dOutTangent: ws.rInputGrad, direction: uG, ws.g, gradient: nil,
                            gradientTangent: oG, inputGradient: nil, inputGradientTangent: nil, deltaIsCurrent: true)
    }

    // MARK: - Penalties (GradientPenalties' definitions)

    /// P at `p` on the batch of `step`; with `gradD`, ∇_D P is added there; with `gradG`, ∇_G P.
    private func penaltyPass(_ p: UnsafePointer<Double>, step: Int, _ ws: NetworkGANWorkspace,
                             gradD: UnsafeMutablePointer<Double>?, gradG: UnsafeMutablePointer<Double>?) -> Double {
        forwardAll(p, step: step, ws)
        let b = ws.batch, d = dataDimension, dp = p + discriminatorOffset
        var total = 0.0
        for k in 0..<3 {
            let kind = GradientPenalties.Kind(rawValue: k)!, weight = penalties.weight(kind)
            guard weight > 0 else { continue }
            GradientPenalties.points(kind, real: ws.real, fake: ws.fake, batch: b, first: ws.offset, dimension: d, seed: seed, step: step,
                                     eps: ws.penEps, into: ws.penX)
            discriminator.forward(dp, input: ws.penX, batch: b, ws.pen)
            discriminator.vjp(dp, dOut: ws.penOnes, ws.pen, gradient: nil, inputGradient: ws.penG)
            total += GradientPenalties.value(kind, weight: weight, gradients: ws.penG, batch: b, of: ws.fullBatch, dimension: d, direction: ws.penW)
            guard gradD != nil || gradG != nil else { continue }
            // ∇_D⟨∇ₓt, w⟩ with w fixed, and ∇²ₓt·w: the R-backward along the input direction w.
            discriminator.jvp(dp, direction: nil, inputDirection: ws.penW, ws.pen)
            let throughG = gradG != nil && kind != .r1
            discriminator.rBackward(dp, dOut: ws.penOnes, dOutTangent: ws.penZeros, direction: nil, ws.pen, gradient: nil,
                                    gradientTangent: gradD ?? ws.penaltyGradient, inputGradient: nil, inputGradientTangent: throughG ? ws.penH : nil)
            if throughG, let gG = gradG {
                if kind == .gp { for r in 0..<b { for j in 0..<d { ws.penH[d * r + j] *= 1 - ws.penEps[r] } } }
                generator.vjp(p + generatorOffset, dOut: ws.penH, ws.g, gradient: gG, inputGradient: nil)
                ws.backwardIsCurrent = false   // G's adjoints are now the penalty's
            }
        }
        return total
    }

    private func penaltyGradientFull(_ x: UnsafePointer<Double>, step: Int, _ ws: NetworkGANWorkspace, into out: UnsafeMutablePointer<Double>) {
        out.update(repeating: 0, count: dimension)
        _ = penaltyPass(x, step: step, ws, gradD: out + discriminatorOffset, gradG: out + generatorOffset)
    }

    /// Adds the penalty's part of v′u (−P_D·H·u) or v′ᵀu (−H·P_D·u), H the Hessian of P, by
    /// central differences of the exact ∇P (step ε^⅓-scaled, ε the networks' unit round-off).
    private func penaltyProduct(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: NetworkGANWorkspace,
                                transpose: Bool, into out: UnsafeMutablePointer<Double>) {
        GradientPenalties.hessianProduct(dimension: dimension, roundOff: precision.epsilon, discriminator: discriminatorOffset..<(discriminatorOffset + discriminator.parameterCount),
                                         at: p, along: u, transpose: transpose, state: ws.penState, plus: ws.penFull, minus: ws.penFull2, into: out) {
            penaltyGradientFull($0, step: step, ws, into: $1)
        }
    }
}

/// The buffers of one `NetworkGAN`.
final class NetworkGANWorkspace: @unchecked Sendable {
    let g: NetworkWorkspace, dReal: NetworkWorkspace, dFake: NetworkWorkspace, pen: NetworkWorkspace
    /// The samples this workspace takes: all of the minibatch, or one part of it (`NetworkGAN.threads`).
    let batch: Int
    /// The whole minibatch (means divide by it) and where this part's samples start in it.
    let fullBatch: Int, offset: Int
    /// 1/fullBatch.
    let inverseBatch: Double
    /// The whole minibatch's real samples and latents (a part draws them all and takes its slice).
    private let allReal, allLatents: UnsafeMutablePointer<Double>
    let real, latents, fake, fakeTangent, inputGrad, rInputGrad: UnsafeMutablePointer<Double>
    let realLogit, fakeLogit, rRealLogit, rFakeLogit, upstream, rUpstream: UnsafeMutablePointer<Double>
    let penX, penG, penW, penH, penOnes, penZeros, penEps, penaltyGradient, penFull, penFull2, penState: UnsafeMutablePointer<Double>
    /// φ_r′/b and φ_r″ per real logit; 1/b; φ_f′, ψ′, ψ″ and κ per fake; e₀ = ∂t/∂x/b per fake;
    /// ṡᴬ per fake; a v-sized buffer for `vjpPass` when fieldPass's adjoints are stale.
    let realUpstream, realCurvature, unitUpstream, phiFake1, psi1, psi2, kappa, fakeInputUnit, sA, fieldScratch: UnsafeMutablePointer<Double>
    /// The adjoints of `fieldPass` at the current forward state are still in the network workspaces.
    var backwardIsCurrent = false
    private var forwardStep: Int?
    private var forwardX: [Double] = []
    private var batchStep: Int?
    private let lock = NSLock()
    private var owned: [UnsafeMutablePointer<Double>] = []

    /// The workspace of samples offset..<offset + batch of a minibatch of `fullBatch` (default: all of it).
    init(generator: Network, discriminator: Network, batch: Int, fullBatch: Int? = nil, offset: Int = 0) {
        self.batch = batch
        self.fullBatch = fullBatch ?? batch
        self.offset = offset
        self.inverseBatch = 1 / Double(fullBatch ?? batch)
        g = NetworkWorkspace(generator, capacity: batch)
        dReal = NetworkWorkspace(discriminator, capacity: batch)
        dFake = NetworkWorkspace(discriminator, capacity: batch)
        pen = NetworkWorkspace(discriminator, capacity: batch)
        var owned: [UnsafeMutablePointer<Double>] = []
        func make(_ n: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            owned.append(p)
            return p
        }
        let d = discriminator.inputCount, n = generator.parameterCount + discriminator.parameterCount
        allReal = make(d * self.fullBatch); allLatents = make(generator.inputCount * self.fullBatch)
        real = allReal + d * offset; latents = allLatents + generator.inputCount * offset; fake = make(d * batch)
        fakeTangent = make(d * batch); inputGrad = make(d * batch); rInputGrad = make(d * batch)
        realLogit = make(batch); fakeLogit = make(batch); rRealLogit = make(batch); rFakeLogit = make(batch)
        upstream = make(batch); rUpstream = make(batch)
        penX = make(d * batch); penG = make(d * batch); penW = make(d * batch); penH = make(d * batch)
        penOnes = make(batch); penZeros = make(batch); penEps = make(batch)
        penaltyGradient = make(discriminator.parameterCount)
        penFull = make(n); penFull2 = make(n); penState = make(n)
        realUpstream = make(batch); realCurvature = make(batch); unitUpstream = make(batch)
        phiFake1 = make(batch); psi1 = make(batch); psi2 = make(batch); kappa = make(batch)
        fakeInputUnit = make(d * batch); sA = make(batch); fieldScratch = make(n)
        penOnes.update(repeating: 1, count: batch)
        unitUpstream.update(repeating: inverseBatch, count: batch)
        self.owned = owned
    }

    /// Whether the forward state was computed at exactly this x (bitwise) and step.
    func holdsForward(of x: UnsafePointer<Double>, count: Int, step: Int) -> Bool {
        guard forwardStep == step, forwardX.count == count else { return false }
        return forwardX.withUnsafeBufferPointer { memcmp($0.baseAddress!, x, count * MemoryLayout<Double>.size) == 0 }
    }

    func forgetForward() { forwardStep = nil }

    func rememberForward(of x: UnsafePointer<Double>, count: Int, step: Int) {
        if forwardX.count != count { forwardX = [Double](repeating: 0, count: count) }
        forwardX.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: x, count: count) }
        forwardStep = step
    }

    deinit { for p in owned { p.deallocate() } }

    func locked<T>(_ body: (NetworkGANWorkspace) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }

    /// Draws the batch of `step` (the real samples, then the latents, from one stream) unless it
    /// is the current one; a part draws the whole minibatch and uses its slice.
    func prepareBatch(step: Int, seed: UInt64, data: any SampleSource, latent: Int) {
        if batchStep == step { return }
        var rng = SeededGenerator(seed: seed, stream: Int64(step))
        data.sample(fullBatch, into: allReal, rng: &rng)
        rng.fillNormals(allLatents, count: fullBatch * latent)
        batchStep = step
    }
}

/// The workspaces of a minibatch split into parts, one per thread, with an output buffer each,
/// and worker threads that live as long as it does: `run` executes a pass on every part at once
/// (the calling thread takes part 0) and adds the parts' outputs in part order. Semaphores hand
/// the work over and the pass is data (`NetworkGAN.Pass`), so a step allocates nothing
/// (libdispatch's concurrentPerform, or a closure handed to another thread, would).
final class NetworkGANParts: @unchecked Sendable {
    /// What the workers share with the owner (they keep it alive until they have stopped).
    private final class Shared: @unchecked Sendable {
        let workspaces: [NetworkGANWorkspace]
        let outputs: [UnsafeMutablePointer<Double>]
        /// Each part's multiply-adds in the last run (the counter is per thread: they are moved to
        /// the calling thread's, so a step's count is the same whatever the threads).
        let work: UnsafeMutablePointer<Int64>
        let start: [DispatchSemaphore]
        let finished = DispatchSemaphore(value: 0)
        var game: NetworkGAN?
        var pass: NetworkGAN.Pass?
        var stopping = false

        init(workspaces: [NetworkGANWorkspace], dimension n: Int) {
            self.workspaces = workspaces
            outputs = workspaces.map { _ in
                let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
                p.initialize(repeating: 0, count: n)
                return p
            }
            work = UnsafeMutablePointer<Int64>.allocate(capacity: workspaces.count)
            work.initialize(repeating: 0, count: workspaces.count)
            start = workspaces.dropFirst().map { _ in DispatchSemaphore(value: 0) }
        }

        deinit {
            for p in outputs { p.deallocate() }
            work.deallocate()
        }

        func runPart(_ i: Int) {
            let before = gf_multiply_adds()
            game!.execute(pass!, workspaces[i], into: outputs[i])
            let done = gf_multiply_adds() - before
            gf_count_multiply_adds(-done)
            work[i] = Int64(done)
        }
    }

    private let shared: Shared
    private let lock = NSLock()
    var workspaces: [NetworkGANWorkspace] { shared.workspaces }

    init(generator: Network, discriminator: Network, batch: Int, parts k: Int) {
        var made: [NetworkGANWorkspace] = [], offset = 0
        for i in 0..<k {
            let size = batch / k + (i < batch % k ? 1 : 0)
            made.append(NetworkGANWorkspace(generator: generator, discriminator: discriminator, batch: size, fullBatch: batch, offset: offset))
            offset += size
        }
        let shared = Shared(workspaces: made, dimension: generator.parameterCount + discriminator.parameterCount)
        self.shared = shared
        for w in 1..<k {
            let thread = Thread {
                while true {
                    shared.start[w - 1].wait()
                    if shared.stopping { shared.finished.signal(); return }
                    shared.runPart(w)
                    shared.finished.signal()
                }
            }
            thread.name = "gameflow part \(w)"
            thread.start()
        }
    }

    deinit {
        shared.stopping = true
        for s in shared.start { s.signal() }
        for _ in shared.start { shared.finished.wait() }
    }

    func run(_ game: NetworkGAN, _ pass: NetworkGAN.Pass, into out: UnsafeMutablePointer<Double>, range: Range<Int>) {
        lock.lock()
        defer { lock.unlock() }
        shared.game = game
        shared.pass = pass
        for s in shared.start { s.signal() }
        shared.runPart(0)
        for _ in shared.start { shared.finished.wait() }
        shared.game = nil
        shared.pass = nil
        let k = shared.workspaces.count
        var total: Int64 = 0
        for i in 0..<k { total += shared.work[i] }
        gf_count_multiply_adds(total)
        let outputs = shared.outputs
        for j in range {
            var s = outputs[0][j]
            for i in 1..<k { s += outputs[i][j] }
            out[j] = s
        }
    }
}

extension NetworkGAN: UtilityGradients {
    /// G's utility g: (v_G, ∇_D g), ∇_D g = D's weight gradient over the fakes weighted by ψ′
    /// (the adjoints of v's unit-upstream pass, reused); D's utility f − P: (∇_G(f − P), v_D),
    /// ∇_G f = G's backward pass of φ_f′·e₀ and ∇_G P the penalties' (R2, GP). LOLA's shaping
    /// term needs these cross blocks.
    public func utilityGradient(player: Int, at x: [Double], step: Int, into out: inout [Double]) {
        let generatorPlayer = isGenerator(player: player)
        workspace.locked { ws in
            x.withUnsafeBufferPointer { xs in
                out.withUnsafeMutableBufferPointer { os in
                    let p = xs.baseAddress!, o = os.baseAddress!
                    fieldPass(p, step: step, ws, into: o)
                    let dp = p + discriminatorOffset, gp = p + generatorOffset
                    if generatorPlayer {
                        let oD = o + discriminatorOffset
                        oD.update(repeating: 0, count: discriminator.parameterCount)
                        discriminator.rBackward(dp, dOut: ws.unitUpstream, dOutTangent: nil, ws.dFake, gradient: oD, gradientRowScale: ws.psi1,
                                                gradientTangent: nil, inputGradient: nil, inputGradientTangent: nil, deltaIsCurrent: true)
                    } else {
                        let oG = o + generatorOffset, d = dataDimension
                        for r in 0..<ws.batch { for j in 0..<d { ws.rInputGrad[d * r + j] = ws.phiFake1[r] * ws.fakeInputUnit[d * r + j] } }
                        oG.update(repeating: 0, count: generator.parameterCount)
                        generator.vjp(gp, dOut: ws.rInputGrad, ws.g, gradient: oG, inputGradient: nil)
                        ws.backwardIsCurrent = false   // G's adjoints are now f's
                        if penalties.isActive {
                            ws.penFull.update(repeating: 0, count: dimension)
                            _ = penaltyPass(p, step: step, ws, gradD: nil, gradG: ws.penFull + generatorOffset)
                            for i in 0..<generator.parameterCount { oG[i] -= ws.penFull[generatorOffset + i] }
                        }
                    }
                }
            }
        }
    }
}
