/// A stochastic game whose field on a step's minibatch is the mean of per-example fields,
/// v(x) = (1/B)·Σᵢ vᵢ(x), each a pure function of (x, step, i): what consensus needs to debias
/// its estimate of L = ½‖v‖² (`ConsensusDebias`).
public protocol PerExampleGame: Game {
    /// B, the examples per minibatch.
    var batchSize: Int { get }
    /// vᵢ(x) for example i of the batch of `step`.
    func evaluate(at x: [Double], step: Int, example i: Int, into v: inout [Double])
    /// vᵢ′(x)ᵀ·u for example i of the batch of `step`.
    func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, example i: Int, into out: inout [Double])
}

/// How consensus estimates L = ½‖v‖² from a minibatch (Lemma 15 of the supplement): the naive
/// ½‖v̄‖² overestimates it by tr Var[v₁]/(2B).
public enum ConsensusDebias: String, Sendable, CaseIterable {
    /// ½‖v̄‖²: biased by tr Var[v₁]/(2B); its gradient v̄′ᵀv̄ costs one v and one v′ᵀu.
    case none
    /// ½‖v̄‖² − S/(2B − 2), S = (1/B)·Σ‖vᵢ − v̄‖² (the supplement's, after Huszár): unbiased; its
    /// gradient (B/(B − 1))·v̄′ᵀv̄ − (1/(B(B − 1)))·Σᵢ vᵢ′ᵀvᵢ needs the B per-example fields and
    /// their transpose products (the work of about one v and two v′ᵀu on the batch).
    case variance
    /// ½⟨v_A, v_B⟩ over the two halves of the batch: unbiased (the halves are independent); its
    /// gradient ½(v_A′ᵀv_B + v_B′ᵀv_A) costs one v and one v′ᵀu on the batch, split in halves.
    case split
}

/// The three estimates of L = ½‖v‖² from the per-example fields `fields` (B rows of length n).
public func consensusEstimates(_ fields: [[Double]]) -> (naive: Double, variance: Double, split: Double) {
    let b = fields.count, n = fields.first?.count ?? 0
    precondition(b >= 2, "debiasing needs at least 2 examples")
    var mean = [Double](repeating: 0, count: n), a = mean, c = mean
    let half = b / 2
    for (i, f) in fields.enumerated() {
        for j in 0..<n {
            mean[j] += f[j] / Double(b)
            if i < half { a[j] += f[j] / Double(half) } else if i < 2 * half { c[j] += f[j] / Double(half) }
        }
    }
    let naive = 0.5 * dot(mean, mean)
    var s = 0.0
    for f in fields { for j in 0..<n { let d = f[j] - mean[j]; s += d * d } }
    s /= Double(b)
    return (naive, naive - s / Double(2 * b - 2), 0.5 * dot(a, c))
}

/// Work arrays of `debiasedConsensusGradient`, made once per run (B per-example fields and
/// three vectors of length n).
public struct DebiasBuffers {
    var fields: [[Double]]
    var t: [Double], va: [Double], vb: [Double]

    public init(batchSize b: Int, dimension n: Int) {
        fields = [[Double]](repeating: [Double](repeating: 0, count: n), count: b)
        t = [Double](repeating: 0, count: n)
        va = t
        vb = t
    }
}

/// The gradient of a debiased L estimate, ∇L̂, on the batch of `step` (with v̄ into `mean`).
func debiasedConsensusGradient(_ game: any PerExampleGame, at x: [Double], step: Int, debias: ConsensusDebias,
                               buffers w: inout DebiasBuffers, mean: inout [Double], into out: inout [Double]) {
    let n = x.count, b = game.batchSize
    for i in 0..<b { game.evaluate(at: x, step: step, example: i, into: &w.fields[i]) }
    for j in 0..<n { mean[j] = 0; out[j] = 0 }
    for f in w.fields { for j in 0..<n { mean[j] += f[j] / Double(b) } }
    switch debias {
    case .none:
        for i in (0..<b).reversed() {
            game.transposeJacobianVectorProduct(at: x, mean, step: step, example: i, into: &w.t)
            for j in 0..<n { out[j] += w.t[j] / Double(b) }
        }
    case .variance:
        let bb = Double(b)
        for i in (0..<b).reversed() {
            game.transposeJacobianVectorProduct(at: x, mean, step: step, example: i, into: &w.t)
            for j in 0..<n { out[j] += bb / (bb - 1) * w.t[j] / bb }
            game.transposeJacobianVectorProduct(at: x, w.fields[i], step: step, example: i, into: &w.t)
            for j in 0..<n { out[j] -= w.t[j] / (bb * (bb - 1)) }
        }
    case .split:
        let half = b / 2
        for j in 0..<n { w.va[j] = 0; w.vb[j] = 0 }
        for i in 0..<half { for j in 0..<n { w.va[j] += w.fields[i][j] / Double(half) } }
        for i in half..<(2 * half) { for j in 0..<n { w.vb[j] += w.fields[i][j] / Double(half) } }
        for i in (0..<(2 * half)).reversed() {
            // ½(v_A′ᵀv_B + v_B′ᵀv_A): example i belongs to A or B. Last example first: a game
            // that caches its latest pass (the MLP GAN) reuses the one `evaluate` left.
            game.transposeJacobianVectorProduct(at: x, i < half ? w.vb : w.va, step: step, example: i, into: &w.t)
            for j in 0..<n { out[j] += 0.5 * w.t[j] / Double(half) }
        }
    }
}

/// A linear game with per-example noise, for the debiasing theory: vᵢ(x) = M·x + b + ξᵢ with
/// ξᵢ ~ N(0, σ²I) independent, a pure function of (seed, step, i); vᵢ′ = M. So L = ½‖Mx + b‖²
/// and tr Var[v₁] = nσ².
public struct NoisyLinearGame: PerExampleGame {
    /// The noiseless field v = M·x + b.
    public let base: AffineGame
    /// σ, the per-example noise level.
    public let noise: Double
    public let batchSize: Int
    /// Keys the noise with (step, example).
    public let seed: UInt64

    /// The noisy game around v = M·x + b with B = `batchSize` examples per batch.
    public init(M: Matrix, b: [Double], playerSizes: [Int], noise: Double, batchSize: Int, seed: UInt64) throws {
        guard noise.isFinite, noise >= 0 else { throw GameFlowError.invalidInput("noise must be a finite number ≥ 0 (got \(noise))") }
        guard batchSize >= 2 else { throw GameFlowError.invalidInput("the batch needs at least 2 examples (got \(batchSize))") }
        self.base = try AffineGame(M: M, b: b, playerSizes: playerSizes)
        self.noise = noise
        self.batchSize = batchSize
        self.seed = seed
    }

    public var name: String { "noisy-linear" }
    public var dimension: Int { base.dimension }
    public var players: [Range<Int>] { base.players }
    public var equilibrium: [Double]? { base.equilibrium }
    public var hasExactDerivatives: Bool { true }

    public func evaluate(at x: [Double], step: Int, example i: Int, into v: inout [Double]) {
        base.evaluate(at: x, step: step, into: &v)
        var rng = SeededGenerator(seed: seed &+ UInt64(truncatingIfNeeded: i) &* 0x9E37_79B9_7F4A_7C15, stream: Int64(step))
        for j in 0..<dimension { v[j] += noise * rng.normal() }
    }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        var f = [Double](repeating: 0, count: dimension)
        for j in 0..<dimension { v[j] = 0 }
        for i in 0..<batchSize {
            evaluate(at: x, step: step, example: i, into: &f)
            for j in 0..<dimension { v[j] += f[j] / Double(batchSize) }
        }
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, example i: Int, into out: inout [Double]) {
        base.transposeJacobianVectorProduct(at: x, u, step: step, into: &out)
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        base.jacobianVectorProduct(at: x, u, step: step, into: &out)
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        base.transposeJacobianVectorProduct(at: x, u, step: step, into: &out)
    }

    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) { base.jacobian(at: x, step: step, into: &out) }
}
