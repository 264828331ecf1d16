/// The Nagarajan–Kolter gradient penalty: every player other than the discriminator D (the
/// generator, in a GAN) maximises its utility minus η times the squared norm of the
/// discriminator's gradient, g − η‖∇_D f‖² = g − η‖v_D‖², so the field becomes
///
///     ṽ(x) = v(x) − 2η·P_G·v′(x)ᵀ·P_D·v(x),
///
/// P_D and P_G the projections on D's block and on the other blocks (D is
/// `Game.discriminatorPlayer`: ψ for the Dirac-GAN, by `--layout` for the MLP GAN, player 0, the
/// first block, for two-player analytic and file games). The zeros of v are zeros of ṽ; at
/// an equilibrium ṽ′ = v′ − 2η·P_G·v′ᵀP_D·v′, which damps the rotation: on f = φᵀAθ (D = φ)
/// ṽ′ = [[0, A], [−Aᵀ, −2ηAᵀA]], with eigenvalues −ησ² ± √(η²σ⁴ − σ²) per singular value σ.
///
/// Work: ṽ costs 1 v and 1 transpose JVP; ṽ′u costs 1 JVP and 1 transpose JVP plus the
/// second-order term −2η·P_G·(∂_u v′)ᵀP_D·v, taken as a central difference of two exact transpose
/// JVPs (and 1 v). That term is exactly 0 on games with linear fields (bilinear, affine) and at
/// equilibria (v = 0), where the analysis looks; elsewhere it is the checked finite-difference
/// fallback (`NKPenaltyTests`). ṽ′ᵀu likewise: 2 JVP/transpose-JVP pairs, 1 v and 2 transpose
/// JVPs; the dense Jacobian is n products ṽ′eⱼ.
///
/// Reference: Nagarajan and Kolter, "Gradient descent GAN optimization is locally stable"
/// (NeurIPS 2017), eq. (6).
public struct NKPenalizedGame<Base: Game>: FieldModifier {
    /// The unpenalised game.
    public let base: Base
    /// η ≥ 0, the weight of the penalty.
    public let eta: Double
    /// The discriminator's block.
    public let discriminator: Range<Int>
    private let scratch = Scratch()

    /// The penalised game.
    /// - Throws: unless η is finite and ≥ 0 and the game names a discriminator.
    public init(_ base: Base, eta: Double) throws {
        guard eta.isFinite, eta >= 0 else {
            throw GameFlowError.invalidInput("--nk-penalty must be a finite number ≥ 0 (got \(eta))")
        }
        guard let d = base.discriminatorPlayer, base.players.indices.contains(d) else {
            throw GameFlowError.invalidInput("--nk-penalty needs a game with a discriminator (a two-player game)")
        }
        self.base = base
        self.eta = eta
        self.discriminator = base.players[d]
    }


    /// v − 2η·P_G·v′ᵀ·P_D·w into `v`, given w (D's block is read only).
    private func subtractPenalty(at x: [Double], _ w: [Double], step: Int, into v: inout [Double]) {
        var pd = scratch.take(dimension), r = scratch.take(dimension)
        for i in 0..<dimension { pd[i] = discriminator.contains(i) ? w[i] : 0 }
        base.transposeJacobianVectorProduct(at: x, pd, step: step, into: &r)
        for i in 0..<dimension where !discriminator.contains(i) { v[i] -= 2 * eta * r[i] }
        scratch.give(&pd)
        scratch.give(&r)
    }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        base.evaluate(at: x, step: step, into: &v)
        guard eta != 0 else { return }
        var w = scratch.take(dimension)
        copyValues(v, into: &w)
        subtractPenalty(at: x, w, step: step, into: &v)
        scratch.give(&w)
    }

    /// (∂_z v′)ᵀ·P_D·v(x) as a central difference of exact transpose JVPs along z, times −2η,
    /// added to `out` on the blocks in `rows` (the second-order term of ṽ′ and of ṽ′ᵀ).
    private func addSecondOrder(at x: [Double], along z: [Double], step: Int, rows: (Int) -> Bool, into out: inout [Double]) {
        var v = scratch.take(dimension), pd = scratch.take(dimension), xp = scratch.take(dimension)
        var rp = scratch.take(dimension), rm = scratch.take(dimension)
        base.evaluate(at: x, step: step, into: &v)
        var any = false
        for i in 0..<dimension { pd[i] = discriminator.contains(i) ? v[i] : 0; any = any || pd[i] != 0 }
        let zNorm = maxAbs(z)
        if any && zNorm > 0 {
            let eps = 6.0554544523933395e-06 * max(1, maxAbs(x)) / zNorm
            linearSum(x, eps, z, into: &xp)
            base.transposeJacobianVectorProduct(at: xp, pd, step: step, into: &rp)
            linearSum(x, -eps, z, into: &xp)
            base.transposeJacobianVectorProduct(at: xp, pd, step: step, into: &rm)
            for i in 0..<dimension where rows(i) { out[i] -= 2 * eta * (rp[i] - rm[i]) / (2 * eps) }
        }
        scratch.give(&v); scratch.give(&pd); scratch.give(&xp); scratch.give(&rp); scratch.give(&rm)
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        base.jacobianVectorProduct(at: x, u, step: step, into: &out)
        guard eta != 0 else { return }
        // −2η·P_G·v′ᵀ·P_D·(v′u), then the second-order term along u.
        var t = scratch.take(dimension)
        copyValues(out, into: &t)
        subtractPenalty(at: x, t, step: step, into: &out)
        scratch.give(&t)
        let d = discriminator
        addSecondOrder(at: x, along: u, step: step, rows: { !d.contains($0) }, into: &out)
    }

    /// ṽ′ᵀu = v′ᵀu − 2η·v′ᵀP_D·v′·(P_G u) − 2η·(∂_{P_G u} v′)ᵀP_D·v.
    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        base.transposeJacobianVectorProduct(at: x, u, step: step, into: &out)
        guard eta != 0 else { return }
        var pg = scratch.take(dimension), t = scratch.take(dimension), r = scratch.take(dimension)
        for i in 0..<dimension { pg[i] = discriminator.contains(i) ? 0 : u[i] }
        base.jacobianVectorProduct(at: x, pg, step: step, into: &t)
        for i in 0..<dimension where !discriminator.contains(i) { t[i] = 0 }
        base.transposeJacobianVectorProduct(at: x, t, step: step, into: &r)
        for i in 0..<dimension { out[i] -= 2 * eta * r[i] }
        addSecondOrder(at: x, along: pg, step: step, rows: { _ in true }, into: &out)
        scratch.give(&pg); scratch.give(&t); scratch.give(&r)
    }
}

extension Game {
    /// This game with the Nagarajan–Kolter penalty of weight η (itself when η is nil or 0).
    public func nkPenalized(_ eta: Double?) throws -> any Game {
        guard let e = eta else { return self }
        let g = try NKPenalizedGame(self, eta: e)
        return e == 0 ? self : g
    }
}
