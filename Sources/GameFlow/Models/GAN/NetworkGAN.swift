import Foundation

/// A GAN as a composition: a generator `Network` (latent → sample), a discriminator `Network`
/// (sample → one logit), a `GANObjective`, gradient penalties on D, a minibatch source and a
/// layout of x — for any architecture the layers express (dense, conv, deconv, …).
///
/// **Players, signs, data and layout** are `MLPGAN`'s: D maximises f − P (P its penalties),
/// G maximises g, v = (∇_θG g, ∇_φD f − ∇_φD P); the minibatch of step k (real samples and
/// latents z ~ N(0, I)) is a pure function of (seed, k), step −1 the evaluation batch. With
/// dense layers this is the same game as `MLPGAN` (tested to round-off).
///
/// **Derivatives** are exact, from the networks' four products: v by backpropagation; v′u =
/// ((H_g u)_G, (H_f u)_D) by one R-operator pass along u; v′ᵀu = H_g·(u_G, 0) + H_f·(0, u_D) by
/// two (H the Hessians of the utilities). The penalties' second derivatives are central
/// differences of their exact gradients (the checked fallback, as in `MLPGAN`).
public struct NetworkGAN: Game {
    public let generator: Network
    public let discriminator: Network
    public let source: any SampleSource
    /// The shape of one sample (channels-first), e.g. [1, 28, 28].
    public let sampleShape: [Int]
    public let batchSize: Int
    public let utility: MLPGAN.Utility
    public let objective: any GANObjective
    public let layout: MLPGAN.Layout
    public let seed: UInt64
    public var penalties = GradientPenalties()
    public let generatorOffset: Int
    public let discriminatorOffset: Int
    /// The step index of the fixed evaluation batch.
    public static let evaluationStep = -1
    private let workspace: NetworkGANWorkspace

    /// A GAN of `architecture`'s networks on `source`, whose samples have `sampleShape`
    /// (default: flat, the source's dimension).
    /// - Throws: when the networks do not fit the samples (naming the layer) or the batch is empty.
    public init(architecture: Architecture, source: any SampleSource, sampleShape: [Int]? = nil, batchSize: Int,
                utility: MLPGAN.Utility = .nonSaturating, layout: MLPGAN.Layout = .generatorFirst, seed: UInt64) throws {
        let shape = sampleShape ?? [source.dimension]
        guard shape.reduce(1, *) == source.dimension else {
            throw GameFlowError.invalidInput("samples of shape \(shape) hold \(shape.reduce(1, *)) numbers, the data's have \(source.dimension)")
        }
        guard batchSize >= 1 else { throw GameFlowError.invalidInput("batch size must be at least 1 (got \(batchSize))") }
        let (g, d) = try architecture.networks(sampleShape: shape)
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

    public var name: String { "network-gan" }
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
    /// Multiply-adds of one forward pass of G and of D over a batch (the bilinear maps').
    public var forwardMultiplyAdds: (generator: Int, discriminator: Int) {
        (generator.multiplyAddsPerSample * batchSize, discriminator.multiplyAddsPerSample * batchSize)
    }

    /// Both networks' initial parameters from `seed` (`Network.initialize`), G then D from one
    /// stream, as `MLPGAN`.
    public func initialState(seed: UInt64) -> [Double] {
        var x = [Double](repeating: 0, count: dimension)
        var rng = SeededGenerator(seed: seed, stream: -2)
        generator.initialize(&x, at: generatorOffset, rng: &rng)
        discriminator.initialize(&x, at: discriminatorOffset, rng: &rng)
        return x
    }

    // MARK: - Game

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        workspace.locked { ws in
            x.withUnsafeBufferPointer { xs in v.withUnsafeMutableBufferPointer { fieldPass(xs.baseAddress!, step: step, ws, into: $0.baseAddress!) } }
        }
    }

    /// One player's block: D's needs no backward pass through G, G's no pass over the real batch
    /// and no weight gradient of D (AltGA's updates). The same values as `evaluate`'s block, bit for bit.
    public func evaluate(at x: [Double], step: Int, player: Int, into v: inout [Double]) {
        precondition(players.indices.contains(player), "NetworkGAN has players 0 and 1 (asked for \(player))")
        let generatorBlock = players[player].lowerBound == generatorOffset
        workspace.locked { ws in
            x.withUnsafeBufferPointer { xs in
                v.withUnsafeMutableBufferPointer {
                    fieldPass(xs.baseAddress!, step: step, ws, into: $0.baseAddress!, discriminatorBlock: !generatorBlock, generatorBlock: generatorBlock)
                }
            }
        }
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        product(x, u, step: step, into: &out) { p, u, step, ws, out in
            jvpPass(p, u, step, ws, into: out)
            if penalties.isActive { penaltyProduct(p, u, step, ws, transpose: false, into: out) }
        }
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        product(x, u, step: step, into: &out) { p, u, step, ws, out in
            vjpPass(p, u, step, ws, into: out)
            if penalties.isActive { penaltyProduct(p, u, step, ws, transpose: true, into: out) }
        }
    }

    private func product(_ x: [Double], _ u: [Double], step: Int, into out: inout [Double],
                         _ pass: (UnsafePointer<Double>, UnsafePointer<Double>, Int, NetworkGANWorkspace, UnsafeMutablePointer<Double>) -> Void) {
        workspace.locked { ws in
            x.withUnsafeBufferPointer { xs in
                u.withUnsafeBufferPointer { us in
                    out.withUnsafeMutableBufferPointer { os in pass(xs.baseAddress!, us.baseAddress!, step, ws, os.baseAddress!) }
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

    /// G on the latents, D on the real batch (unless `real` is false: G's block alone) and on the fakes.
    private func forwardAll(_ p: UnsafePointer<Double>, step: Int, _ ws: NetworkGANWorkspace, real: Bool = true) {
        ws.prepareBatch(step: step, seed: seed, data: source, latent: latentDimension)
        let b = ws.batch, dp = p + discriminatorOffset
        ws.fake.update(from: generator.forward(p + generatorOffset, input: ws.latents, batch: b, ws.g), count: dataDimension * b)
        if real { ws.realLogit.update(from: discriminator.forward(dp, input: ws.real, batch: b, ws.dReal), count: b) }
        ws.fakeLogit.update(from: discriminator.forward(dp, input: ws.fake, batch: b, ws.dFake), count: b)
    }

    /// Upstreams of D's logits: `real` φ_r′/b (and R{·} = φ_r″ṡ/b from `tangent`), and the
    /// same for the fakes with φ_f (`fake`) or ψ (`generator`).
    private enum Loss { case real, fake, generator }

    private func upstream(_ loss: Loss, _ ws: NetworkGANWorkspace, tangent: UnsafePointer<Double>?) {
        let b = ws.batch, inv = 1 / Double(b)
        for r in 0..<b {
            let t: (value: Double, d1: Double, d2: Double)
            switch loss {
            case .real: t = objective.real(ws.realLogit[r])
            case .fake: t = objective.fake(ws.fakeLogit[r])
            case .generator: t = objective.generator(ws.fakeLogit[r])
            }
            ws.upstream[r] = t.d1 * inv
            if let s = tangent { ws.rUpstream[r] = t.d2 * s[r] * inv }
        }
    }

    private func fieldPass(_ p: UnsafePointer<Double>, step: Int, _ ws: NetworkGANWorkspace, into v: UnsafeMutablePointer<Double>,
                           discriminatorBlock: Bool = true, generatorBlock: Bool = true) {
        forwardAll(p, step: step, ws, real: discriminatorBlock)
        let dp = p + discriminatorOffset, gp = p + generatorOffset
        let vD = v + discriminatorOffset, vG = v + generatorOffset
        if discriminatorBlock {
            vD.update(repeating: 0, count: discriminator.parameterCount)
            upstream(.real, ws, tangent: nil)
            discriminator.vjp(dp, dOut: ws.upstream, ws.dReal, gradient: vD, inputGradient: nil)
            upstream(.fake, ws, tangent: nil)
            discriminator.vjp(dp, dOut: ws.upstream, ws.dFake, gradient: vD, inputGradient: nil)
        }
        if generatorBlock {
            vG.update(repeating: 0, count: generator.parameterCount)
            upstream(.generator, ws, tangent: nil)
            discriminator.vjp(dp, dOut: ws.upstream, ws.dFake, gradient: nil, inputGradient: ws.inputGrad)
            generator.vjp(gp, dOut: ws.inputGrad, ws.g, gradient: vG, inputGradient: nil)
        }
        if discriminatorBlock && penalties.isActive {
            ws.penaltyGradient.update(repeating: 0, count: discriminator.parameterCount)
            _ = penaltyPass(p, step: step, ws, gradD: ws.penaltyGradient, gradG: nil)
            for i in 0..<discriminator.parameterCount { vD[i] -= ws.penaltyGradient[i] }
        }
    }

    /// v′u = ((H_g u)_G, (H_f u)_D): tangents of every network along u, then R-backward passes.
    private func jvpPass(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: NetworkGANWorkspace,
                         into out: UnsafeMutablePointer<Double>) {
        forwardAll(p, step: step, ws)
        out.update(repeating: 0, count: dimension)
        let gp = p + generatorOffset, dp = p + discriminatorOffset
        let uG = u + generatorOffset, uD = u + discriminatorOffset
        let d = dataDimension, b = ws.batch
        ws.fakeTangent.update(from: generator.jvp(gp, direction: uG, inputDirection: nil, ws.g), count: d * b)
        ws.rRealLogit.update(from: discriminator.jvp(dp, direction: uD, inputDirection: nil, ws.dReal), count: b)
        ws.rFakeLogit.update(from: discriminator.jvp(dp, direction: uD, inputDirection: ws.fakeTangent, ws.dFake), count: b)
        upstream(.real, ws, tangent: ws.rRealLogit)
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: uD, ws.dReal, gradient: nil,
                                gradientTangent: out + discriminatorOffset, inputGradient: nil, inputGradientTangent: nil)
        upstream(.fake, ws, tangent: ws.rFakeLogit)
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: uD, ws.dFake, gradient: nil,
                                gradientTangent: out + discriminatorOffset, inputGradient: nil, inputGradientTangent: nil)
        upstream(.generator, ws, tangent: ws.rFakeLogit)
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: uD, ws.dFake, gradient: nil,
                                gradientTangent: nil, inputGradient: ws.inputGrad, inputGradientTangent: ws.rInputGrad)
        generator.rBackward(gp, dOut: ws.inputGrad, dOutTangent: ws.rInputGrad, direction: uG, ws.g, gradient: nil,
                            gradientTangent: out + generatorOffset, inputGradient: nil, inputGradientTangent: nil)
    }

    /// v′ᵀu = H_g·(u_G, 0) + H_f·(0, u_D).
    private func vjpPass(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: NetworkGANWorkspace,
                         into out: UnsafeMutablePointer<Double>) {
        forwardAll(p, step: step, ws)
        out.update(repeating: 0, count: dimension)
        let gp = p + generatorOffset, dp = p + discriminatorOffset
        let uG = u + generatorOffset, uD = u + discriminatorOffset
        let oG = out + generatorOffset, oD = out + discriminatorOffset
        let d = dataDimension, b = ws.batch
        // H_g·(u_G, 0): G moves along u_G, D's parameters stay.
        ws.fakeTangent.update(from: generator.jvp(gp, direction: uG, inputDirection: nil, ws.g), count: d * b)
        ws.rFakeLogit.update(from: discriminator.jvp(dp, direction: nil, inputDirection: ws.fakeTangent, ws.dFake), count: b)
        upstream(.generator, ws, tangent: ws.rFakeLogit)
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: nil, ws.dFake, gradient: nil,
                                gradientTangent: oD, inputGradient: ws.inputGrad, inputGradientTangent: ws.rInputGrad)
        generator.rBackward(gp, dOut: ws.inputGrad, dOutTangent: ws.rInputGrad, direction: uG, ws.g, gradient: nil,
                            gradientTangent: oG, inputGradient: nil, inputGradientTangent: nil)
        // H_f·(0, u_D): D moves along u_D, G stays.
        generator.jvp(gp, direction: nil, inputDirection: nil, ws.g)
        ws.rRealLogit.update(from: discriminator.jvp(dp, direction: uD, inputDirection: nil, ws.dReal), count: b)
        upstream(.real, ws, tangent: ws.rRealLogit)
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: uD, ws.dReal, gradient: nil,
                                gradientTangent: oD, inputGradient: nil, inputGradientTangent: nil)
        ws.rFakeLogit.update(from: discriminator.jvp(dp, direction: uD, inputDirection: nil, ws.dFake), count: b)
        upstream(.fake, ws, tangent: ws.rFakeLogit)
        discriminator.rBackward(dp, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: uD, ws.dFake, gradient: nil,
                                gradientTangent: oD, inputGradient: ws.inputGrad, inputGradientTangent: ws.rInputGrad)
        generator.rBackward(gp, dOut: ws.inputGrad, dOutTangent: ws.rInputGrad, direction: nil, ws.g, gradient: nil,
                            gradientTangent: oG, inputGradient: nil, inputGradientTangent: nil)
    }

    // MARK: - Penalties (GradientPenalties' definitions)

    /// P at `p` on the batch of `step`; with `gradD`, ∇_D P is added there; with `gradG`, ∇_G P.
    private func penaltyPass(_ p: UnsafePointer<Double>, step: Int, _ ws: NetworkGANWorkspace,
                             gradD: UnsafeMutablePointer<Double>?, gradG: UnsafeMutablePointer<Double>?) -> Double {
        forwardAll(p, step: step, ws)
        let b = ws.batch, d = dataDimension, dp = p + discriminatorOffset
        var total = 0.0
        for (kind, weight) in penalties.terms {
            GradientPenalties.points(kind, real: ws.real, fake: ws.fake, batch: b, dimension: d, seed: seed, step: step, eps: ws.penEps, into: ws.penX)
            discriminator.forward(dp, input: ws.penX, batch: b, ws.pen)
            discriminator.vjp(dp, dOut: ws.penOnes, ws.pen, gradient: nil, inputGradient: ws.penG)
            total += GradientPenalties.value(kind, weight: weight, gradients: ws.penG, batch: b, dimension: d, direction: ws.penW)
            guard gradD != nil || gradG != nil else { continue }
            // ∇_D⟨∇ₓt, w⟩ with w fixed, and ∇²ₓt·w: the R-backward along the input direction w.
            discriminator.jvp(dp, direction: nil, inputDirection: ws.penW, ws.pen)
            let throughG = gradG != nil && kind != .r1
            discriminator.rBackward(dp, dOut: ws.penOnes, dOutTangent: ws.penZeros, direction: nil, ws.pen, gradient: nil,
                                    gradientTangent: gradD ?? ws.penaltyGradient, inputGradient: nil, inputGradientTangent: throughG ? ws.penH : nil)
            if throughG, let gG = gradG {
                if kind == .gp { for r in 0..<b { for j in 0..<d { ws.penH[d * r + j] *= 1 - ws.penEps[r] } } }
                generator.vjp(p + generatorOffset, dOut: ws.penH, ws.g, gradient: gG, inputGradient: nil)
            }
        }
        return total
    }

    private func penaltyGradientFull(_ x: UnsafePointer<Double>, step: Int, _ ws: NetworkGANWorkspace, into out: UnsafeMutablePointer<Double>) {
        out.update(repeating: 0, count: dimension)
        _ = penaltyPass(x, step: step, ws, gradD: out + discriminatorOffset, gradG: out + generatorOffset)
    }

    /// Adds the penalty's part of v′u (−P_D·H·u) or v′ᵀu (−H·P_D·u), H the Hessian of P, by
    /// central differences of the exact ∇P (step √ε-scaled as in `MLPGAN`).
    private func penaltyProduct(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: NetworkGANWorkspace,
                                transpose: Bool, into out: UnsafeMutablePointer<Double>) {
        GradientPenalties.hessianProduct(dimension: dimension, discriminator: discriminatorOffset..<(discriminatorOffset + discriminator.parameterCount),
                                         at: p, along: u, transpose: transpose, state: ws.penState, plus: ws.penFull, minus: ws.penFull2, into: out) {
            penaltyGradientFull($0, step: step, ws, into: $1)
        }
    }
}

/// The buffers of one `NetworkGAN`.
final class NetworkGANWorkspace: @unchecked Sendable {
    let g: NetworkWorkspace, dReal: NetworkWorkspace, dFake: NetworkWorkspace, pen: NetworkWorkspace
    let batch: Int
    let real, latents, fake, fakeTangent, inputGrad, rInputGrad: UnsafeMutablePointer<Double>
    let realLogit, fakeLogit, rRealLogit, rFakeLogit, upstream, rUpstream: UnsafeMutablePointer<Double>
    let penX, penG, penW, penH, penOnes, penZeros, penEps, penaltyGradient, penFull, penFull2, penState: UnsafeMutablePointer<Double>
    private var batchStep: Int?
    private let lock = NSLock()
    private var owned: [UnsafeMutablePointer<Double>] = []

    init(generator: Network, discriminator: Network, batch: Int) {
        self.batch = batch
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
        real = make(d * batch); latents = make(generator.inputCount * batch); fake = make(d * batch)
        fakeTangent = make(d * batch); inputGrad = make(d * batch); rInputGrad = make(d * batch)
        realLogit = make(batch); fakeLogit = make(batch); rRealLogit = make(batch); rFakeLogit = make(batch)
        upstream = make(batch); rUpstream = make(batch)
        penX = make(d * batch); penG = make(d * batch); penW = make(d * batch); penH = make(d * batch)
        penOnes = make(batch); penZeros = make(batch); penEps = make(batch)
        penaltyGradient = make(discriminator.parameterCount)
        penFull = make(n); penFull2 = make(n); penState = make(n)
        penOnes.update(repeating: 1, count: batch)
        self.owned = owned
    }

    deinit { for p in owned { p.deallocate() } }

    func locked<T>(_ body: (NetworkGANWorkspace) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }

    /// Draws the batch of `step` (as `MLPGAN`: the real samples, then the latents, from one stream).
    func prepareBatch(step: Int, seed: UInt64, data: any SampleSource, latent: Int) {
        if batchStep == step { return }
        var rng = SeededGenerator(seed: seed, stream: Int64(step))
        data.sample(batch, into: real, rng: &rng)
        rng.fillNormals(latents, count: batch * latent)
        batchStep = step
    }
}
