/// A game that gives each player's utility gradient with respect to *every* player's
/// parameters (∇u_i, all n components), which LOLA's shaping term needs (v holds only each
/// player's own block, ∇_i u_i).
public protocol UtilityGradients: Game {
    /// ∇u_player(x) into `g` (length n).
    func utilityGradient(player: Int, at x: [Double], step: Int, into g: inout [Double])
}

/// LOLA (learning with opponent-learning awareness), `LookAheadGradient(alpha:shaping: true)`, in
/// Letcher et al.'s form: LA plus the shaping term, each player differentiating through the others' look-ahead step,
///
///     w_i = v_i + α·Σ_{j≠i} [ ∂_j v_i·v_j + (∂_i v_j)ᵀ·∇_j u_i ],   x_{k+1} = x_k + h·w(x_k),
///
/// i.e. w = v + α·J_off·v + α·diag(J_offᵀ·∇u) in GameFlow's sign (their ξ − αH_oξ −
/// α·diag(H_oᵀ∇L) with ξ = −v, H_o = −J_off, L = −u). Needs `UtilityGradients` (bilinear games, the
/// Dirac-GAN, `NetworkGAN` and formula games with utilities have them). Work per step: one evaluation of v, and per player
/// one JVP, one utility gradient (counted as an evaluation of v) and one transpose JVP. Order 1.
///
/// On a two-player zero-sum bilinear game (∇_j u_i = −v_j for j ≠ i, J antisymmetric) the
/// shaping term equals the look-ahead term: LOLA is consensus with γ = 2α (LA is γ = α).
/// SOS (stable opponent shaping) interpolates between the two with a per-step p chosen from
/// ‖J_off·v‖ and ‖diag(J_offᵀ∇u)‖; that fits this protocol too and is not implemented yet.
///
/// Reference: Foerster et al., "Learning with Opponent-Learning Awareness" (AAMAS 2018);
/// Letcher, Foerster, Balduzzi, Rocktäschel, Whiteson, "Stable Opponent Shaping in
/// Differentiable Games" (ICLR 2019), §3.
public enum LOLA {
    /// LOLA with look-ahead α: `LookAheadGradient` with the shaping term.
    public static func scheme(alpha: Double) throws -> LookAheadGradient { try LookAheadGradient(alpha: alpha, shaping: true) }
}

extension BilinearGame: UtilityGradients {
    /// ∇f = (Aθ, Aᵀφ) = (v_φ, −v_θ) for φ's utility f, and −∇f for θ's (g = −f).
    public func utilityGradient(player: Int, at x: [Double], step: Int, into g: inout [Double]) {
        evaluate(at: x, step: step, into: &g)
        let sign = player == 0 ? 1.0 : -1.0
        for i in 0..<A.rows { g[i] *= sign }
        for i in A.rows..<dimension { g[i] *= -sign }
    }
}
