/// The modified fields of discretisation drift (Rosca, Wu, Dherin, Barrett, "Discretization
/// Drift in Two-Player Games", ICML 2021): the fields whose exact flows a scheme's iterates follow
/// to second order in h, where they follow the game's own flow to first order only.
///
///     SimGA (simultaneous):  ṽ = v − (h/2)·v′v
///     AltGA (players in turn, player i seeing the new values of players j < i):
///                            ṽᵢ = vᵢ − (h/2)·(v′v)ᵢ + h·Σ_{j<i} v′ᵢⱼ vⱼ
///
/// (two players: ṽ_θ = v_θ − (h/2)·(v′_θθ v_θ − v′_θφ v_φ), the cross term's sign flipped).
/// Derived by matching one step of the scheme with the h² Taylor term of the modified flow.
/// Work per evaluation: one v and one JVP (SimGA), one v and one JVP per player (AltGA).
public struct ModifiedField<G: Game>: FieldModifier {
    /// Whose modified field.
    public enum Kind: String, Sendable {
        /// SimGA's: v − (h/2)·v′v.
        case simga
        /// AltGA's: the cross term of the second player's correction with its sign flipped.
        case altga
    }

    /// The game whose flow is modified.
    /// Its derivatives are the finite-difference defaults (v″ terms are not formed).
    public var hasExactDerivatives: Bool { false }
    public let base: G
    /// The step size the modified field belongs to.
    public let h: Double
    /// SimGA's or AltGA's correction.
    public let kind: Kind

    /// The modified field of `kind` at step size h for `base`.
    public init(_ base: G, h: Double, kind: Kind) {
        self.base = base
        self.h = h
        self.kind = kind
    }

    public var name: String { "\(base.name)-modified-\(kind.rawValue)" }

    public func evaluate(at x: [Double], step: Int, into out: inout [Double]) {
        let n = dimension
        var v = [Double](repeating: 0, count: n), jv = v
        base.evaluate(at: x, step: step, into: &v)
        base.jacobianVectorProduct(at: x, v, step: step, into: &jv)
        for i in 0..<n { out[i] = v[i] - 0.5 * h * jv[i] }
        guard kind == .altga else { return }
        var earlier = [Double](repeating: 0, count: n), cross = earlier
        for (p, block) in players.enumerated() where p > 0 {
            for j in players[p - 1] { earlier[j] = v[j] }       // v restricted to players before p
            base.jacobianVectorProduct(at: x, earlier, step: step, into: &cross)
            for i in block { out[i] += h * cross[i] }
        }
    }
}
