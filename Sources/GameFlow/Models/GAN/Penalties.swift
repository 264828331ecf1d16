import Foundation

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


/// The parts of `GradientPenalties` every GAN computes the same way, whatever its networks.
extension GradientPenalties {
    /// Which samples a penalty is taken at.
    /// In the order penalties are summed: R1, R2, GP (`Kind(rawValue: 0..<3)`, so a step can walk
    /// them without making an array).
    enum Kind: Int { case r1, r2, gp }

    /// The weight of one penalty (0: inactive).
    func weight(_ kind: Kind) -> Double {
        switch kind {
        case .r1: return r1
        case .r2: return r2
        case .gp: return gp
        }
    }

    /// The points a penalty is taken at (b × d into `x`): the real samples (R1), the fakes (R2), or
    /// the interpolates x̂ = εx + (1 − ε)G(z) with ε ~ U(0, 1) per sample drawn from (seed, step)
    /// into `eps` (GP); `first`: these are samples first..<first + b of the minibatch (a part of
    /// it), whose ε are the stream's draws from `first` on.
    static func points(_ kind: Kind, real: UnsafePointer<Double>, fake: UnsafePointer<Double>, batch b: Int, first: Int = 0, dimension d: Int,
                       seed: UInt64, step: Int, eps: UnsafeMutablePointer<Double>, into x: UnsafeMutablePointer<Double>) {
        switch kind {
        case .r1: x.update(from: real, count: d * b)
        case .r2: x.update(from: fake, count: d * b)
        case .gp:
            var rng = SeededGenerator(seed: seed, stream: Int64(-1_000_000) - Int64(step))
            for _ in 0..<first { _ = rng.uniform() }
            for r in 0..<b {
                let e = rng.uniform()
                eps[r] = e
                for j in 0..<d { x[d * r + j] = e * real[d * r + j] + (1 - e) * fake[d * r + j] }
            }
        }
    }

    /// Given each sample's input gradient gᵣ = ∇ₓt (b × d in `g`): the penalty's value and, in
    /// `w`, wᵣ = cᵣ·gᵣ with cᵣ = γ/B (R1, R2) or 2λ(‖gᵣ‖ − 1)/(‖gᵣ‖B) (GP), the direction whose
    /// double backprop ∇_D⟨∇ₓt, w⟩ is ∇_D P; B = `of` (default b), the minibatch these b
    /// samples are part of (its mean is taken).
    static func value(_ kind: Kind, weight: Double, gradients g: UnsafePointer<Double>, batch b: Int, of full: Int? = nil, dimension d: Int,
                      direction w: UnsafeMutablePointer<Double>) -> Double {
        let nb = Double(full ?? b)
        var total = 0.0
        for r in 0..<b {
            var sq = 0.0
            for j in 0..<d { sq += g[d * r + j] * g[d * r + j] }
            let norm = sq.squareRoot()
            let c: Double
            if kind == .gp {
                total += weight * (norm - 1) * (norm - 1) / nb
                c = norm > 0 ? 2 * weight * (norm - 1) / (norm * nb) : 0
            } else {
                total += 0.5 * weight * sq / nb
                c = weight / nb
            }
            for j in 0..<d { w[d * r + j] = c * g[d * r + j] }
        }
        return total
    }

    /// Adds the penalty's part of v′u (−P_D·H·u) or of v′ᵀu (−H·P_D·u) to `out`, H the Hessian of
    /// P, by central differences of the exact ∇P (`gradient(x, into:)`, both blocks), the step
    /// ε^⅓ (ε = `roundOff`, the networks' unit round-off) scaled to x and u; `state`, `plus` and
    /// `minus` are n-number buffers.
    static func hessianProduct(dimension n: Int, roundOff: Double, discriminator dBlock: Range<Int>, at p: UnsafePointer<Double>, along u: UnsafePointer<Double>,
                               transpose: Bool, state: UnsafeMutablePointer<Double>, plus: UnsafeMutablePointer<Double>,
                               minus: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>,
                               gradient: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) {
        var uMax = 0.0, xMax = 0.0
        for i in 0..<n where !transpose || dBlock.contains(i) { uMax = max(uMax, abs(u[i])) }
        for i in 0..<n { xMax = max(xMax, abs(p[i])) }
        guard uMax > 0 else { return }
        let eps = cbrt(roundOff) * max(1, xMax) / uMax
        func direction(_ i: Int) -> Double { transpose && !dBlock.contains(i) ? 0 : u[i] }
        for i in 0..<n { state[i] = p[i] + eps * direction(i) }
        gradient(state, plus)
        for i in 0..<n { state[i] = p[i] - eps * direction(i) }
        gradient(state, minus)
        for i in 0..<n where transpose || dBlock.contains(i) { out[i] -= (plus[i] - minus[i]) / (2 * eps) }
    }
}
