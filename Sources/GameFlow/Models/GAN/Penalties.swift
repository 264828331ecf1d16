import Foundation

/// The parts of `GradientPenalties` every GAN computes the same way, whatever its networks.
extension GradientPenalties {
    /// Which samples a penalty is taken at.
    enum Kind { case r1, r2, gp }

    /// The active penalties in the order they are summed: R1, R2, GP.
    var terms: [(kind: Kind, weight: Double)] {
        [(Kind.r1, r1), (.r2, r2), (.gp, gp)].filter { $0.1 > 0 }
    }

    /// The points a penalty is taken at (b × d into `x`): the real samples (R1), the fakes (R2), or
    /// the interpolates x̂ = εx + (1 − ε)G(z) with ε ~ U(0, 1) per sample drawn from (seed, step)
    /// into `eps` (GP).
    static func points(_ kind: Kind, real: UnsafePointer<Double>, fake: UnsafePointer<Double>, batch b: Int, dimension d: Int,
                       seed: UInt64, step: Int, eps: UnsafeMutablePointer<Double>, into x: UnsafeMutablePointer<Double>) {
        switch kind {
        case .r1: x.update(from: real, count: d * b)
        case .r2: x.update(from: fake, count: d * b)
        case .gp:
            var rng = SeededGenerator(seed: seed, stream: Int64(-1_000_000) - Int64(step))
            for r in 0..<b {
                let e = rng.uniform()
                eps[r] = e
                for j in 0..<d { x[d * r + j] = e * real[d * r + j] + (1 - e) * fake[d * r + j] }
            }
        }
    }

    /// Given each sample's input gradient gᵣ = ∇ₓt (b × d in `g`): the penalty's value and, in
    /// `w`, wᵣ = cᵣ·gᵣ with cᵣ = γ/b (R1, R2) or 2λ(‖gᵣ‖ − 1)/(‖gᵣ‖b) (GP), the direction whose
    /// double backprop ∇_D⟨∇ₓt, w⟩ is ∇_D P.
    static func value(_ kind: Kind, weight: Double, gradients g: UnsafePointer<Double>, batch b: Int, dimension d: Int,
                      direction w: UnsafeMutablePointer<Double>) -> Double {
        let nb = Double(b)
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
    /// √ε-scaled to x and u; `state`, `plus` and `minus` are n-number buffers.
    static func hessianProduct(dimension n: Int, discriminator dBlock: Range<Int>, at p: UnsafePointer<Double>, along u: UnsafePointer<Double>,
                               transpose: Bool, state: UnsafeMutablePointer<Double>, plus: UnsafeMutablePointer<Double>,
                               minus: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>,
                               gradient: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) {
        var uMax = 0.0, xMax = 0.0
        for i in 0..<n where !transpose || dBlock.contains(i) { uMax = max(uMax, abs(u[i])) }
        for i in 0..<n { xMax = max(xMax, abs(p[i])) }
        guard uMax > 0 else { return }
        let eps = 6.0554544523933395e-06 * max(1, xMax) / uMax
        func direction(_ i: Int) -> Double { transpose && !dBlock.contains(i) ? 0 : u[i] }
        for i in 0..<n { state[i] = p[i] + eps * direction(i) }
        gradient(state, plus)
        for i in 0..<n { state[i] = p[i] - eps * direction(i) }
        gradient(state, minus)
        for i in 0..<n where transpose || dBlock.contains(i) { out[i] -= (plus[i] - minus[i]) / (2 * eps) }
    }
}
