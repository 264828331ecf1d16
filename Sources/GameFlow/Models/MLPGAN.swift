import Foundation

/// A GAN with MLP generator and discriminator on a 2-D Gaussian mixture, as a `Game`.
///
/// **Players and signs.** The discriminator D (logit output) maximises
/// f = E_data[φ_r(D(x))] + E_z[φ_f(D(G(z)))], the generator maximises g = E_z[ψ(D(G(z)))]:
///
/// | utility | φ_r(t) | φ_f(t) | ψ(t) |
/// |---|---|---|---|
/// | `standard` (saturating, zero-sum) | log σ(t) | log(1 − σ(t)) | −log(1 − σ(t)) |
/// | `nonSaturating` (default; the reference code's) | log σ(t) | log(1 − σ(t)) | log σ(t) |
/// | `wgan` | t | −t | t |
///
/// and v = (∇_θG g, ∇_φD f) — the paper's convention: players maximise, training integrates
/// dx/dt = v(x). **Layout:** by default x = (θ_G, φ_D), generator first (the paper's player 1);
/// `.discriminatorFirst` puts D first (so AltGA updates D first, as the reference code).
///
/// **Data.** The minibatch of step k (real samples, balanced over the modes, and latents
/// z ~ N(0, I)) is a pure function of (seed, k): every stage of an RK4 or extragradient step and
/// every iteration of an implicit solve sees the same batch. Step `evaluationStep` (−1) is a
/// fixed evaluation batch.
///
/// **Derivatives** are exact: v by backpropagation; v′u and v′ᵀu by Pearlmutter's R-operator
/// (forward-over-reverse) through both networks, using v′ᵀu = H_g·(u_G, 0) + H_f·(0, u_D) and
/// v′u = ((H_g u)_G, (H_f u)_D), where H are the full Hessians of the utilities. v′ᵀu runs the
/// two R-operator terms as one merged sweep and reuses the δ's of v at the same point (what
/// consensus needs: v, then v′ᵀv); see `vjpPass`.
///
/// Buffers are preallocated; evaluations of one value are serialised by a lock (one game value
/// may be shared, but use one per thread for parallel speed).
public struct MLPGAN: Game {
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

    /// The generator network: latent → … → 2.
    public let generator: MLP
    /// The discriminator network: 2 → … → 1 (a logit).
    public let discriminator: MLP
    /// Where the real samples come from (a mixture or the user's data).
    public let source: any SampleSource
    /// The target mixture, when the data is one (mode metrics need it).
    public var data: GaussianMixture? { source as? GaussianMixture }
    /// d, the dimension of a sample (the generator's output, the discriminator's input).
    public var dataDimension: Int { source.dimension }
    /// Gradient penalties on the discriminator (R1, R2, WGAN-GP; none by default).
    public var penalties = GradientPenalties()
    /// Real and fake samples per minibatch.
    public let batchSize: Int
    /// The GAN objective.
    public let utility: Utility
    /// The order of the two blocks in x.
    public let layout: Layout
    /// Keys every minibatch together with the step index.
    public let seed: UInt64
    /// The step index of the fixed evaluation batch.
    public static let evaluationStep = -1

    /// Offsets of each network's parameters in x.
    public let generatorOffset: Int
    /// Where D's parameters start in x.
    public let discriminatorOffset: Int
    private let workspace: GANWorkspace

    /// A GAN of two MLPs on `data`.
    /// - Throws: when the networks' widths do not fit (generator output 2, discriminator 2 → 1) or the batch is empty.
    /// - Parameters:
    ///   - generator: latent width → … → 2.
    ///   - discriminator: 2 → … → 1.
    ///   - data: the target mixture.
    ///   - batchSize: samples per minibatch (real and fake alike).
    ///   - utility: the GAN objective.
    ///   - layout: which network's parameters come first in x.
    ///   - seed: keys every minibatch, with the step index.
    public init(generator: MLP, discriminator: MLP, data: some SampleSource, batchSize: Int,
                utility: Utility = .nonSaturating, layout: Layout = .generatorFirst, seed: UInt64) throws {
        let d = data.dimension
        guard generator.outputWidth == d else { throw GameFlowError.invalidInput("generator must output \(d) numbers, the data's dimension (got \(generator.outputWidth))") }
        guard discriminator.inputWidth == d, discriminator.outputWidth == 1 else {
            throw GameFlowError.invalidInput("discriminator must map \(d) numbers to 1 (got \(discriminator.inputWidth) → \(discriminator.outputWidth))")
        }
        guard batchSize >= 1 else { throw GameFlowError.invalidInput("batch size must be at least 1 (got \(batchSize))") }
        self.generator = generator
        self.discriminator = discriminator
        self.source = data
        self.batchSize = batchSize
        self.utility = utility
        self.layout = layout
        self.seed = seed
        switch layout {
        case .generatorFirst: (generatorOffset, discriminatorOffset) = (0, generator.parameterCount)
        case .discriminatorFirst: (generatorOffset, discriminatorOffset) = (discriminator.parameterCount, 0)
        }
        self.workspace = GANWorkspace(generator: generator, discriminator: discriminator, batch: batchSize,
                                      dimension: generator.parameterCount + discriminator.parameterCount, dataDimension: d)
    }

    /// The paper's setup: hidden layers of `width` ReLU units, latent `latent`, on `data`.
    public static func paperSetup(data: some SampleSource, hidden width: Int = 16, depth: Int = 4, latent: Int = 16,
                                  batchSize: Int = 512, activation: Activation = .relu,
                                  utility: Utility = .nonSaturating, layout: Layout = .generatorFirst,
                                  seed: UInt64) throws -> MLPGAN {
        guard depth >= 1, width >= 1, latent >= 1 else {
            throw GameFlowError.invalidInput("hidden width, depth and latent size must be ≥ 1")
        }
        return try paperSetup(data: data, generatorHidden: [Int](repeating: width, count: depth),
                              discriminatorHidden: [Int](repeating: width, count: depth), latent: latent, batchSize: batchSize,
                              activation: activation, utility: utility, layout: layout, seed: seed)
    }

    /// The paper's networks with their own hidden widths (`generatorHidden`, `discriminatorHidden`,
    /// one width per hidden layer) on `data` of any dimension d: G maps latent → … → d, D d → … → 1.
    public static func paperSetup(data: some SampleSource, generatorHidden: [Int], discriminatorHidden: [Int], latent: Int = 16,
                                  batchSize: Int = 512, activation: Activation = .relu,
                                  utility: Utility = .nonSaturating, layout: Layout = .generatorFirst,
                                  seed: UInt64) throws -> MLPGAN {
        guard latent >= 1, !generatorHidden.isEmpty, !discriminatorHidden.isEmpty,
              (generatorHidden + discriminatorHidden).allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("hidden widths and the latent size must be ≥ 1")
        }
        let d = data.dimension
        return try MLPGAN(generator: MLP(widths: [latent] + generatorHidden + [d], activation: activation),
                          discriminator: MLP(widths: [d] + discriminatorHidden + [1], activation: activation),
                          data: data, batchSize: batchSize, utility: utility, layout: layout, seed: seed)
    }

    public var name: String { "mlp-gan" }
    public var dimension: Int { generator.parameterCount + discriminator.parameterCount }
    public var players: [Range<Int>] {
        let g = generatorOffset..<(generatorOffset + generator.parameterCount)
        let d = discriminatorOffset..<(discriminatorOffset + discriminator.parameterCount)
        return layout == .generatorFirst ? [g, d] : [d, g]
    }
    public var hasExactDerivatives: Bool { true }
    public var discriminatorPlayer: Int? { layout == .generatorFirst ? 1 : 0 }
    /// The generator's input width.
    public var latentDimension: Int { generator.inputWidth }

    /// Xavier-uniform weights and zero biases for both networks, from `seed`.
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
            x.withUnsafeBufferPointer { xs in
                v.withUnsafeMutableBufferPointer { vs in
                    fieldPass(xs.baseAddress!, step: step, ws, into: vs.baseAddress!)
                }
            }
        }
    }

    /// One player's block: D's needs no backward pass through G, and G's no pass over the real
    /// batch and no weight gradient of D. The same values as `evaluate`, bit for bit.
    public func evaluate(at x: [Double], step: Int, player: Int, into v: inout [Double]) {
        precondition(players.indices.contains(player), "MLPGAN has players 0 and 1 (asked for \(player))")
        let generator = players[player].lowerBound == generatorOffset
        workspace.locked { ws in
            x.withUnsafeBufferPointer { xs in
                v.withUnsafeMutableBufferPointer { vs in
                    fieldPass(xs.baseAddress!, step: step, ws, into: vs.baseAddress!,
                              discriminatorBlock: !generator, generatorBlock: generator)
                }
            }
        }
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        product(x, u, step: step, into: &out, jvpPass)
        if penalties.isActive { product(x, u, step: step, into: &out) { p, u, step, ws, out in penaltyProduct(p, u, step, ws, transpose: false, into: out) } }
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        product(x, u, step: step, into: &out, vjpPass)
        if penalties.isActive { product(x, u, step: step, into: &out) { p, u, step, ws, out in penaltyProduct(p, u, step, ws, transpose: true, into: out) } }
    }

    /// Runs a product pass (v′u or v′ᵀu) on the arrays' storage with the workspace locked.
    private func product(_ x: [Double], _ u: [Double], step: Int, into out: inout [Double],
                         _ pass: (UnsafePointer<Double>, UnsafePointer<Double>, Int, GANWorkspace, UnsafeMutablePointer<Double>) -> Void) {
        workspace.locked { ws in
            x.withUnsafeBufferPointer { xs in
                u.withUnsafeBufferPointer { us in
                    out.withUnsafeMutableBufferPointer { os in pass(xs.baseAddress!, us.baseAddress!, step, ws, os.baseAddress!) }
                }
            }
        }
    }

    /// The utilities (f of D, g of G) on the batch of `step`.
    public func utilities(at x: [Double], step: Int) -> (discriminator: Double, generator: Double) {
        workspace.locked { ws in
            x.withUnsafeBufferPointer { xs in
                let p = xs.baseAddress!
                forwardAll(p, step: step, ws)
                let b = ws.batch, nb = Double(b)
                var f = 0.0, g = 0.0
                for r in 0..<b {
                    f += phiRealValue(ws.realLogit[r]) / nb + phiFakeValue(ws.fakeLogit[r]) / nb
                    g += psiValue(ws.fakeLogit[r]) / nb
                }
                if penalties.isActive { f -= penaltyPass(p, step: step, ws, gradD: nil, gradG: nil) }
                return (f, g)
            }
        }
    }

    /// `count` generator samples (count × d) for latents drawn from `sampleSeed`.
    public func samples(at x: [Double], count: Int, sampleSeed: UInt64) -> [Double] {
        let d = dataDimension
        var out = [Double](repeating: 0, count: d * count)
        let ws = MLPWorkspace(generator, capacity: min(count, 4096))
        var rng = SeededGenerator(seed: sampleSeed, stream: -3)
        var z = [Double](repeating: 0, count: min(count, 4096) * latentDimension)
        x.withUnsafeBufferPointer { xs in
            var done = 0
            while done < count {
                let n = min(4096, count - done)
                z.withUnsafeMutableBufferPointer { rng.fillNormals($0.baseAddress!, count: n * latentDimension) }
                let o = z.withUnsafeBufferPointer { generator.forward(xs.baseAddress! + generatorOffset, input: $0.baseAddress!, batch: n, ws) }
                for i in 0..<(d * n) { out[d * done + i] = o[i] }
                done += n
            }
        }
        return out
    }

    // MARK: - Utility derivatives at a logit: value, first and second derivative

    @inline(__always) private static func sigmoid(_ t: Double) -> Double { t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t)) }
    @inline(__always) private static func softplus(_ t: Double) -> Double { t > 0 ? t + log1p(exp(-t)) : log1p(exp(t)) }

    /// φ_r(t) = log σ(t) (WGAN: t).
    func phiRealValue(_ t: Double) -> Double { utility == .wgan ? t : -Self.softplus(-t) }
    /// φ_f(t) = log(1 − σ(t)) (WGAN: −t).
    func phiFakeValue(_ t: Double) -> Double { utility == .wgan ? -t : -Self.softplus(t) }
    /// ψ(t): the generator's utility of a fake logit.
    func psiValue(_ t: Double) -> Double {
        switch utility {
        case .wgan: return t
        case .standard: return Self.softplus(t)
        case .nonSaturating: return -Self.softplus(-t)
        }
    }

    // First and second derivatives (no logarithms: the hot path needs only these).

    /// σ(t) for the slopes below (WGAN: 0, unused). `fieldPass` keeps it per sample for
    /// `vjpPass`, which would otherwise take the same exponentials again.
    @inline(__always) func lossSigma(_ t: Double) -> Double { utility == .wgan ? 0 : Self.sigmoid(t) }

    /// (φ_r′, φ_r″) = (1 − σ, −σ(1 − σ)).
    @inline(__always) func phiReal(_ t: Double) -> (d1: Double, d2: Double) { phiReal(sigma: lossSigma(t)) }

    /// `phiReal` from s = `lossSigma(t)`.
    @inline(__always) func phiReal(sigma s: Double) -> (d1: Double, d2: Double) {
        utility == .wgan ? (1, 0) : (1 - s, -s * (1 - s))
    }

    /// (φ_f′, φ_f″) = (−σ, −σ(1 − σ)).
    @inline(__always) func phiFake(_ t: Double) -> (d1: Double, d2: Double) {
        if utility == .wgan { return (-1, 0) }
        let s = Self.sigmoid(t)
        return (-s, -s * (1 - s))
    }

    /// (φ_f′, ψ′) of a fake logit from s = `lossSigma(t)` (the same values as `phiFake` and `psi`).
    @inline(__always) func fakeSlopes(sigma s: Double) -> (phi: Double, psi: Double) {
        if utility == .wgan { return (-1, 1) }
        return (-s, utility == .standard ? s : 1 - s)
    }

    /// (ψ″, κ) of a fake logit from s = `lossSigma(t)`, where κ = φ_f″/φ_f′ = 1 − σ (WGAN: 0)
    /// is formed without dividing (φ_f′ may underflow to 0).
    @inline(__always) func fakeCurvatures(sigma s: Double) -> (psi: Double, kappa: Double) {
        if utility == .wgan { return (0, 0) }
        return (utility == .standard ? s * (1 - s) : -s * (1 - s), 1 - s)
    }

    /// (ψ′, ψ″).
    @inline(__always) func psi(_ t: Double) -> (d1: Double, d2: Double) {
        switch utility {
        case .wgan: return (1, 0)
        case .standard:
            let s = Self.sigmoid(t)
            return (s, s * (1 - s))
        case .nonSaturating:
            let s = Self.sigmoid(t)
            return (1 - s, -s * (1 - s))
        }
    }

    // MARK: - Passes (workspace locked)

    /// Forward passes: G on the latents, D on the real batch and on the fakes. Skipped when the
    /// workspace already holds them for this (x, step) — consensus evaluates v and then v′ᵀv
    /// at the same point, and backward and tangent passes leave the forward state intact.
    ///
    /// `real: false` (G's block alone) leaves D on the real batch out; the workspace then holds
    /// no complete forward state, and the next pass that needs one recomputes it.
    private func forwardAll(_ p: UnsafePointer<Double>, step: Int, _ ws: GANWorkspace, real: Bool = true) {
        if ws.holdsForward(of: p, count: dimension, step: step) { return }
        ws.prepareBatch(step: step, seed: seed, data: source, latent: latentDimension)
        let b = ws.batch
        let fake = generator.forward(p + generatorOffset, input: ws.latents, batch: b, ws.g)
        ws.fake.update(from: fake, count: dataDimension * b)
        let dp = p + discriminatorOffset
        if real { ws.realLogit.update(from: discriminator.forward(dp, input: ws.real, batch: b, ws.dReal), count: b) }
        ws.fakeLogit.update(from: discriminator.forward(dp, input: ws.fake, batch: b, ws.dFake), count: b)
        if real { ws.rememberForward(of: p, count: dimension, step: step) } else { ws.forgetForward() }
        ws.backwardIsCurrent = false
    }

    /// v by backpropagation. D's output is one logit per sample, so δ in D is linear in that
    /// sample's upstream: one backward pass over the fakes with upstream 1/b (δ = e) serves both
    /// players — f's parameter gradient weights sample r by φ_f′(t_r), and g's gradient enters G
    /// through D's input as ψ′(t_r)·e₀. The δ's stay in the workspaces for `vjpPass`.
    /// With one block only (AltGA), the passes the other block alone needs are skipped.
    private func fieldPass(_ p: UnsafePointer<Double>, step: Int, _ ws: GANWorkspace, into v: UnsafeMutablePointer<Double>,
                           discriminatorBlock: Bool = true, generatorBlock: Bool = true, withPenalties: Bool = true) {
        forwardAll(p, step: step, ws, real: discriminatorBlock)
        let b = ws.batch, inv = 1 / Double(b)
        let dp = p + discriminatorOffset, gp = p + generatorOffset
        let vD = v + discriminatorOffset, vG = v + generatorOffset
        if discriminatorBlock {
            // ∇_D f, real term.
            vD.update(repeating: 0, count: discriminator.parameterCount)
            for r in 0..<b {
                ws.realSigma[r] = lossSigma(ws.realLogit[r])
                ws.realUpstream[r] = phiReal(sigma: ws.realSigma[r]).d1 * inv
            }
            discriminator.backward(dp, dOut: ws.realUpstream, ws.dReal, gradient: vD, inputGradient: nil)
        }
        // ∇_D f, fake term, and e₀ = ∂(logit)/∂(input)/b on the fakes.
        for r in 0..<b {
            ws.fakeSigma[r] = lossSigma(ws.fakeLogit[r])
            let slopes = fakeSlopes(sigma: ws.fakeSigma[r])
            ws.phiFake1[r] = slopes.phi
            ws.psi1[r] = slopes.psi
        }
        discriminator.backward(dp, dOut: ws.unitUpstream, ws.dFake, gradient: discriminatorBlock ? vD : nil,
                               gradientRowScale: ws.phiFake1, inputGradient: generatorBlock ? ws.fakeInputUnit : nil)
        if generatorBlock {
            // ∇_G g: ψ′·e₀ back through G.
            vG.update(repeating: 0, count: generator.parameterCount)
            let d = dataDimension
            for r in 0..<b {
                for j in 0..<d { ws.dFakeInput[d * r + j] = ws.psi1[r] * ws.fakeInputUnit[d * r + j] }
            }
            generator.backward(gp, dOut: ws.dFakeInput, ws.g, gradient: vG, inputGradient: nil)
        }
        if discriminatorBlock && withPenalties && penalties.isActive {
            // D maximises f − P: v_D −= ∇_D P (its own workspace: the δ's above stay current).
            ws.penaltyGradient.update(repeating: 0, count: discriminator.parameterCount)
            _ = penaltyPass(p, step: step, ws, gradD: ws.penaltyGradient, gradG: nil)
            for i in 0..<discriminator.parameterCount { vD[i] -= ws.penaltyGradient[i] }
        }
        // vjpPass reuses these δ's only when every network's are current.
        ws.backwardIsCurrent = discriminatorBlock && generatorBlock
    }

    /// Tangent passes along w = (w_G, w_D) (either may be nil = 0) after `forwardAll`. Every
    /// network's tangent state is (re)written, so no stale tangent survives from an earlier pass.
    private func tangentAll(_ p: UnsafePointer<Double>, wG: UnsafePointer<Double>?, wD: UnsafePointer<Double>?, _ ws: GANWorkspace) {
        let b = ws.batch
        let dp = p + discriminatorOffset
        ws.rFake.update(from: generator.tangentForward(p + generatorOffset, direction: wG, inputDirection: nil, ws.g), count: dataDimension * b)
        ws.rRealLogit.update(from: discriminator.tangentForward(dp, direction: wD, inputDirection: nil, ws.dReal), count: b)
        ws.rFakeLogit.update(from: discriminator.tangentForward(dp, direction: wD, inputDirection: wG != nil ? ws.rFake : nil,
                                                                ws.dFake), count: b)
    }

    /// Accumulates R{∇f} (blocks selected by the out pointers) after `tangentAll`.
    private func hvpF(_ p: UnsafePointer<Double>, wG: UnsafePointer<Double>?, wD: UnsafePointer<Double>?, _ ws: GANWorkspace,
                      outG: UnsafeMutablePointer<Double>?, outD: UnsafeMutablePointer<Double>?) {
        let b = ws.batch, inv = 1 / Double(b), dp = p + discriminatorOffset
        for r in 0..<b {
            let t = phiReal(ws.realLogit[r])
            ws.upstream[r] = t.d1 * inv
            ws.rUpstream[r] = t.d2 * ws.rRealLogit[r] * inv
        }
        if let outD {
            discriminator.backward(dp, dOut: ws.upstream, ws.dReal, gradient: nil, inputGradient: nil,
                                   dOutTangent: ws.rUpstream, direction: wD, gradientTangent: outD)
        }
        for r in 0..<b {
            let t = phiFake(ws.fakeLogit[r])
            ws.upstream[r] = t.d1 * inv
            ws.rUpstream[r] = t.d2 * ws.rFakeLogit[r] * inv
        }
        tangentBackwardThroughFakes(p, wG: wG, wD: wD, ws, outG: outG, outD: outD)
    }

    /// Accumulates R{∇g} (blocks selected by the out pointers) after `tangentAll`.
    private func hvpG(_ p: UnsafePointer<Double>, wG: UnsafePointer<Double>?, wD: UnsafePointer<Double>?, _ ws: GANWorkspace,
                      outG: UnsafeMutablePointer<Double>?, outD: UnsafeMutablePointer<Double>?) {
        let b = ws.batch, inv = 1 / Double(b)
        for r in 0..<b {
            let t = psi(ws.fakeLogit[r])
            ws.upstream[r] = t.d1 * inv
            ws.rUpstream[r] = t.d2 * ws.rFakeLogit[r] * inv
        }
        tangentBackwardThroughFakes(p, wG: wG, wD: wD, ws, outG: outG, outD: outD)
    }

    /// With ws.upstream / ws.rUpstream set for the fake logits: R-backward through D on the fakes
    /// (R{∇_D} into outD), then, if outG is given, through G (R{∇_G} into outG).
    private func tangentBackwardThroughFakes(_ p: UnsafePointer<Double>, wG: UnsafePointer<Double>?, wD: UnsafePointer<Double>?,
                                             _ ws: GANWorkspace, outG: UnsafeMutablePointer<Double>?, outD: UnsafeMutablePointer<Double>?) {
        discriminator.backward(p + discriminatorOffset, dOut: ws.upstream, ws.dFake, gradient: nil,
                               inputGradient: outG == nil ? nil : ws.dFakeInput,
                               dOutTangent: ws.rUpstream, direction: wD, gradientTangent: outD,
                               inputGradientTangent: outG == nil ? nil : ws.rDFakeInput)
        if let outG {
            generator.backward(p + generatorOffset, dOut: ws.dFakeInput, ws.g, gradient: nil, inputGradient: nil,
                               dOutTangent: ws.rDFakeInput, direction: wG, gradientTangent: outG)
        }
    }

    /// v′u = ((H_g u)_G, (H_f u)_D).
    private func jvpPass(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: GANWorkspace,
                         into out: UnsafeMutablePointer<Double>) {
        forwardAll(p, step: step, ws)
        ws.backwardIsCurrent = false   // the passes below overwrite the δ's of fieldPass
        out.update(repeating: 0, count: dimension)
        let uG = u + generatorOffset, uD = u + discriminatorOffset
        tangentAll(p, wG: uG, wD: uD, ws)
        hvpF(p, wG: uG, wD: uD, ws, outG: nil, outD: out + discriminatorOffset)
        hvpG(p, wG: uG, wD: uD, ws, outG: out + generatorOffset, outD: nil)
    }

    /// v′ᵀu = H_g·(u_G, 0) + H_f·(0, u_D) in one forward-over-reverse sweep.
    ///
    /// Both terms are R-operator passes; they differ only in the direction and, on the fakes, in
    /// the loss of the logit (ψ for g, φ_f for f). Tangents are linear in the direction and a
    /// batch's samples are independent, so the two passes merge into one with the per-sample
    /// direction (ψ′_r·Ġ_r into D's input, φ′_r·u_D on D's parameters), the primal δ = e of the
    /// unit upstream (kept from `fieldPass`), and R{δ_L} = (ψ″ṡᴬ + φ_f″ṡᴮ)/b, where
    /// ṡᴬ = b·e₀·Ġ is the logit's tangent along u_G and φ_f″ṡᴮ = κ(ṡ − ψ′ṡᴬ) with
    /// κ = φ_f″/φ_f′ and ṡ the merged pass's logit tangent.
    private func vjpPass(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: GANWorkspace,
                         into out: UnsafeMutablePointer<Double>) {
        forwardAll(p, step: step, ws)
        if !ws.backwardIsCurrent { fieldPass(p, step: step, ws, into: ws.fieldScratch, withPenalties: false) }
        out.update(repeating: 0, count: dimension)
        let b = ws.batch, nb = Double(b), inv = 1 / nb
        let uG = u + generatorOffset, uD = u + discriminatorOffset
        let oG = out + generatorOffset, oD = out + discriminatorOffset
        let gp = p + generatorOffset, dp = p + discriminatorOffset
        // Tangents: G along u_G; D on real data along u_D; D on the fakes along the merged direction.
        let gDot = generator.tangentForward(gp, direction: uG, inputDirection: nil, ws.g)
        let d = dataDimension
        for r in 0..<b {
            var s = 0.0
            for j in 0..<d {
                let g = gDot[d * r + j]
                s += ws.fakeInputUnit[d * r + j] * g
                ws.rFake[d * r + j] = ws.psi1[r] * g
            }
            ws.sA[r] = nb * s
        }
        let sReal = discriminator.tangentForward(dp, direction: uD, inputDirection: nil, ws.dReal)
        let sFake = discriminator.tangentForward(dp, direction: uD, inputDirection: ws.rFake, directionRowScale: ws.phiFake1,
                                                 ws.dFake)
        // D on real data: H_f(0, u_D), D block.
        for r in 0..<b { ws.rUpstream[r] = phiReal(sigma: ws.realSigma[r]).d2 * sReal[r] * inv }
        discriminator.backward(dp, dOut: ws.realUpstream, ws.dReal, gradient: nil, inputGradient: nil,
                               dOutTangent: ws.rUpstream, direction: uD, gradientTangent: oD, deltaIsCurrent: true)
        // D on the fakes, then G: both terms, both blocks.
        for r in 0..<b {
            let c = fakeCurvatures(sigma: ws.fakeSigma[r]), sA = ws.sA[r]
            ws.rUpstream[r] = (c.psi * sA + c.kappa * (sFake[r] - ws.psi1[r] * sA)) * inv
        }
        discriminator.backward(dp, dOut: ws.unitUpstream, ws.dFake, gradient: nil, inputGradient: nil,
                               dOutTangent: ws.rUpstream, direction: uD, directionRowScale: ws.phiFake1,
                               gradientTangent: oD, inputGradientTangent: ws.rDFakeInput, deltaIsCurrent: true)
        generator.backward(gp, dOut: ws.dFakeInput, ws.g, gradient: nil, inputGradient: nil,
                           dOutTangent: ws.rDFakeInput, direction: uG, gradientTangent: oG, deltaIsCurrent: true)
    }
}

/// The buffers of one `MLPGAN`: network workspaces, the current batch and per-sample vectors.
final class GANWorkspace: @unchecked Sendable {
    let g: MLPWorkspace, dReal: MLPWorkspace, dFake: MLPWorkspace
    let batch: Int
    let real: UnsafeMutablePointer<Double>, latents: UnsafeMutablePointer<Double>, fake: UnsafeMutablePointer<Double>
    let rFake: UnsafeMutablePointer<Double>, dFakeInput: UnsafeMutablePointer<Double>, rDFakeInput: UnsafeMutablePointer<Double>
    let realLogit: UnsafeMutablePointer<Double>, fakeLogit: UnsafeMutablePointer<Double>
    let rRealLogit: UnsafeMutablePointer<Double>, rFakeLogit: UnsafeMutablePointer<Double>
    let upstream: UnsafeMutablePointer<Double>, rUpstream: UnsafeMutablePointer<Double>
    /// φ_r′/b on the real batch; 1/b; φ_f′ and ψ′ per fake; e₀ = ∂logit/∂input/b (2 per fake);
    /// ṡᴬ per fake; σ of each real and fake logit (`lossSigma`); a v-sized buffer for `vjpPass`
    /// when the backward state is stale.
    let realUpstream: UnsafeMutablePointer<Double>, unitUpstream: UnsafeMutablePointer<Double>
    let realSigma: UnsafeMutablePointer<Double>, fakeSigma: UnsafeMutablePointer<Double>
    let phiFake1: UnsafeMutablePointer<Double>, psi1: UnsafeMutablePointer<Double>
    let fakeInputUnit: UnsafeMutablePointer<Double>, sA: UnsafeMutablePointer<Double>
    let fieldScratch: UnsafeMutablePointer<Double>
    /// Gradient penalties: D's own workspace, the penalised points, ∇ₓD, the input direction,
    /// ∇²ₓD·w, ones, zeros, the interpolation weights, ∇_D P, two full gradients and a perturbed state.
    let pen: MLPWorkspace
    let penX: UnsafeMutablePointer<Double>, penG: UnsafeMutablePointer<Double>, penW: UnsafeMutablePointer<Double>
    let penH: UnsafeMutablePointer<Double>, penOnes: UnsafeMutablePointer<Double>, penZeros: UnsafeMutablePointer<Double>
    let penEps: UnsafeMutablePointer<Double>, penaltyGradient: UnsafeMutablePointer<Double>
    let penFull: UnsafeMutablePointer<Double>, penFull2: UnsafeMutablePointer<Double>, penState: UnsafeMutablePointer<Double>
    /// The δ's of `fieldPass` at the current forward state are still in the workspaces.
    var backwardIsCurrent = false
    private var batchStep: Int?
    private var forwardStep: Int?
    private var forwardX: [Double] = []

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
    private let lock = NSLock()
    private var owned: [UnsafeMutablePointer<Double>] = []

    init(generator: MLP, discriminator: MLP, batch: Int, dimension: Int, dataDimension d: Int) {
        self.batch = batch
        g = MLPWorkspace(generator, capacity: batch)
        dReal = MLPWorkspace(discriminator, capacity: batch)
        dFake = MLPWorkspace(discriminator, capacity: batch)
        var owned: [UnsafeMutablePointer<Double>] = []
        func make(_ n: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            owned.append(p)
            return p
        }
        real = make(d * batch); latents = make(generator.inputWidth * batch); fake = make(d * batch)
        rFake = make(d * batch); dFakeInput = make(d * batch); rDFakeInput = make(d * batch)
        realLogit = make(batch); fakeLogit = make(batch); rRealLogit = make(batch); rFakeLogit = make(batch)
        upstream = make(batch); rUpstream = make(batch)
        realUpstream = make(batch); unitUpstream = make(batch); phiFake1 = make(batch); psi1 = make(batch)
        fakeInputUnit = make(d * batch); sA = make(batch); realSigma = make(batch); fakeSigma = make(batch)
        fieldScratch = make(dimension)
        pen = MLPWorkspace(discriminator, capacity: batch)
        penX = make(d * batch); penG = make(d * batch); penW = make(d * batch); penH = make(d * batch)
        penOnes = make(batch); penZeros = make(batch); penEps = make(batch)
        penaltyGradient = make(discriminator.parameterCount)
        penFull = make(dimension); penFull2 = make(dimension); penState = make(dimension)
        penOnes.update(repeating: 1, count: batch)
        unitUpstream.update(repeating: 1 / Double(batch), count: batch)
        self.owned = owned
    }

    deinit { for p in owned { p.deallocate() } }

    func locked<T>(_ body: (GANWorkspace) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }

    /// Draws the batch of `step` unless it is already the current one.
    func prepareBatch(step: Int, seed: UInt64, data: any SampleSource, latent: Int) {
        if batchStep == step { return }
        var rng = SeededGenerator(seed: seed, stream: Int64(step))
        data.sample(batch, into: real, rng: &rng)
        rng.fillNormals(latents, count: batch * latent)
        batchStep = step
    }
}

/// Gradient penalties on the discriminator D (its logit t(x)), which it pays in its utility
/// (f − P); the generator's utility is unchanged:
///
///     R1:  (γ/2)·E_real ‖∇ₓt(x)‖²              (Mescheder, Geiger, Nowozin 2018)
///     R2:  (γ/2)·E_fake ‖∇ₓt(G(z))‖²
///     GP:  λ·E ‖∇ₓt(x̂)‖ − 1)²,  x̂ = εx + (1 − ε)G(z), ε ~ U(0, 1) per sample (Gulrajani et al. 2017)
///
/// over the step's batch. ∇_D P is exact: for each sample the input gradient gᵣ = ∇ₓt (one
/// backward pass), then ∇_D⟨∇ₓt, wᵣ⟩ with wᵣ = cᵣ·gᵣ held fixed (a tangent pass along the
/// input direction w and its R-backward: double backprop), cᵣ = γ/B (R1, R2) or
/// 2λ(‖gᵣ‖ − 1)/(‖gᵣ‖B) (GP). The same passes give ∇²ₓt·w, and through G ∇_G P (R2, GP).
/// v′u and v′ᵀu add the penalty's second derivatives as central differences of these exact
/// gradients (−P_D·H·u and −H·P_D·u, H the Hessian of P): the checked fallback.
public struct GradientPenalties: Sendable, Equatable {
    /// R1's γ (0: off).
    public var r1: Double
    /// R2's γ (0: off).
    public var r2: Double
    /// WGAN-GP's λ (0: off).
    public var gp: Double

    /// The penalties with these weights (0: off).
    /// - Throws: unless every weight is finite and ≥ 0.
    public init(r1: Double = 0, r2: Double = 0, gp: Double = 0) throws {
        for (name, w) in [("--r1", r1), ("--r2", r2), ("--gp", gp)] where !(w.isFinite && w >= 0) {
            throw GameFlowError.invalidInput("\(name) must be a finite number ≥ 0 (got \(w))")
        }
        (self.r1, self.r2, self.gp) = (r1, r2, gp)
    }

    /// No penalty.
    public init() { (r1, r2, gp) = (0, 0, 0) }

    /// Whether any weight is > 0.
    public var isActive: Bool { r1 > 0 || r2 > 0 || gp > 0 }
}

extension MLPGAN {
    /// P at the state `p` on the batch of `step`; with `gradD`, ∇_D P is added there; with
    /// `gradG`, ∇_G P too (R2 and GP; R1 does not depend on G).
    fileprivate func penaltyPass(_ p: UnsafePointer<Double>, step: Int, _ ws: GANWorkspace,
                                 gradD: UnsafeMutablePointer<Double>?, gradG: UnsafeMutablePointer<Double>?) -> Double {
        forwardAll(p, step: step, ws)
        let b = ws.batch, d = dataDimension
        let dp = p + discriminatorOffset
        var total = 0.0
        var usedGenerator = false
        for (kind, weight) in penalties.terms {
            GradientPenalties.points(kind, real: ws.real, fake: ws.fake, batch: b, dimension: d, seed: seed, step: step, eps: ws.penEps, into: ws.penX)
            discriminator.forward(dp, input: ws.penX, batch: b, ws.pen)
            discriminator.backward(dp, dOut: ws.penOnes, ws.pen, gradient: nil, inputGradient: ws.penG)
            total += GradientPenalties.value(kind, weight: weight, gradients: ws.penG, batch: b, dimension: d, direction: ws.penW)
            guard gradD != nil || gradG != nil else { continue }
            discriminator.tangentForward(dp, direction: nil, inputDirection: ws.penW, ws.pen)
            let throughG = gradG != nil && kind != .r1
            discriminator.backward(dp, dOut: ws.penOnes, ws.pen, gradient: nil, inputGradient: nil, dOutTangent: ws.penZeros,
                                   gradientTangent: gradD ?? ws.penaltyGradient, inputGradientTangent: throughG ? ws.penH : nil)
            if throughG, let gG = gradG {
                // ∂P/∂x̂ᵣ = ∇²ₓt·wᵣ; x̂ᵣ moves with G(zᵣ) by 1 (R2) or 1 − εᵣ (GP).
                if kind == .gp { for r in 0..<b { for j in 0..<d { ws.penH[d * r + j] *= 1 - ws.penEps[r] } } }
                generator.backward(p + generatorOffset, dOut: ws.penH, ws.g, gradient: gG, inputGradient: nil)
                usedGenerator = true
            }
        }
        if usedGenerator { ws.backwardIsCurrent = false }
        return total
    }

    /// The full ∇P (both blocks, zero elsewhere) at `x` into `out`.
    fileprivate func penaltyGradientFull(_ x: UnsafePointer<Double>, step: Int, _ ws: GANWorkspace, into out: UnsafeMutablePointer<Double>) {
        out.update(repeating: 0, count: dimension)
        _ = penaltyPass(x, step: step, ws, gradD: out + discriminatorOffset, gradG: out + generatorOffset)
    }

    /// Adds the penalty's part of v′u (−P_D·H·u) or of v′ᵀu (−H·P_D·u) to `out`, H the Hessian of
    /// P, by central differences of the exact ∇P.
    fileprivate func penaltyProduct(_ p: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ step: Int, _ ws: GANWorkspace,
                                    transpose: Bool, into out: UnsafeMutablePointer<Double>) {
        GradientPenalties.hessianProduct(dimension: dimension, discriminator: discriminatorOffset..<(discriminatorOffset + discriminator.parameterCount),
                                         at: p, along: u, transpose: transpose, state: ws.penState, plus: ws.penFull, minus: ws.penFull2, into: out) {
            penaltyGradientFull($0, step: step, ws, into: $1)
        }
    }
}
