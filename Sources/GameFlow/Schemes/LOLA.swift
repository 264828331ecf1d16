/// A game that gives each player's utility gradient with respect to *every* player's
/// parameters (∇u_i, all n components), which LOLA's shaping term needs (v holds only each
/// player's own block, ∇_i u_i).
public protocol UtilityGradients: Game {
    /// ∇u_player(x) into `g` (length n).
    func utilityGradient(player: Int, at x: [Double], step: Int, into g: inout [Double])
}

/// LOLA (learning with opponent-learning awareness), `LookAheadGradient(alpha:shaping: .lola)`, in
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
///
/// SOS (stable opponent shaping, `LookAheadGradient(alpha:shaping: .sos(a:b:))`) scales the shaping
/// term by a p ∈ [0, 1] chosen each step from quantities of that step alone (so it fits the scheme
/// protocol: nothing is carried between steps):
///
///     w = v + α·J_off·v (LA),  S = diag(J_offᵀ·∇u),  x_{k+1} = x_k + h·(w + p·α·S),
///     p = min(p₁, p₂),  p₁ = 1 if α⟨S, w⟩ ≥ 0 else min(1, −a‖w‖²/(α⟨S, w⟩)),
///     p₂ = ‖v‖² if ‖v‖ < b else 1,
///
/// with a, b ∈ (0, 1) (`--sos-a`, `--sos-b`; the reference code's 0.5 and 0.1 by default). p₁
/// keeps the step within 90° of LA's (⟨w + pαS, w⟩ ≥ (1 − a)‖w‖²), p₂ sends p to 0 at fixed points,
/// which SOS therefore keeps (LOLA moves away from them by h·α·S). Same work per step as LOLA.
/// On a zero-sum bilinear game ⟨S, w⟩ = α‖J·v‖² ≥ 0, so p = p₂: SOS is LOLA away from the
/// equilibrium and tends to LA near it.
///
/// Reference: Foerster et al., "Learning with Opponent-Learning Awareness" (AAMAS 2018);
/// Letcher, Foerster, Balduzzi, Rocktäschel, Whiteson, "Stable Opponent Shaping in
/// Differentiable Games" (ICLR 2019), §3 and Algorithm 1.
public enum LOLA {
    /// LOLA with look-ahead α: `LookAheadGradient` with the shaping term.
    public static func scheme(alpha: Double) throws -> LookAheadGradient { try LookAheadGradient(alpha: alpha, shaping: .lola) }

    /// SOS's thresholds in the authors' reference code: a = 0.5, b = 0.1.
    public static let referenceSOS = (a: 0.5, b: 0.1)

    /// SOS with look-ahead α and thresholds a, b ∈ (0, 1) (default `referenceSOS`).
    public static func sos(alpha: Double, a: Double = referenceSOS.a, b: Double = referenceSOS.b) throws -> LookAheadGradient {
        try LookAheadGradient(alpha: alpha, shaping: .sos(a: a, b: b))
    }
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
