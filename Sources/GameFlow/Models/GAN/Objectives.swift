import Foundation

/// A GAN objective as three functions of D's logit t, each with its first and second
/// derivative: D maximises f = E_data φ_r(t(x)) + E_z φ_f(t(G(z))), G maximises g = E_z ψ(t(G(z))).
///
/// | objective | φ_r(t) | φ_f(t) | ψ(t) |
/// |---|---|---|---|
/// | `StandardObjective` (saturating, zero-sum) | log σ(t) | log(1 − σ(t)) | −log(1 − σ(t)) |
/// | `NonSaturatingObjective` (the reference code's) | log σ(t) | log(1 − σ(t)) | log σ(t) |
/// | `WassersteinObjective` | t | −t | t |
public protocol GANObjective: Sendable {
    /// φ_r and its derivatives at a real sample's logit.
    func real(_ t: Double) -> (value: Double, d1: Double, d2: Double)
    /// φ_f and its derivatives at a fake's logit.
    func fake(_ t: Double) -> (value: Double, d1: Double, d2: Double)
    /// ψ and its derivatives at a fake's logit.
    func generator(_ t: Double) -> (value: Double, d1: Double, d2: Double)
}

/// log σ(t) = −softplus(−t), with σ′ and σ″ from σ (no cancellation at large |t|).
@inline(__always) private func logSigmoid(_ t: Double) -> (value: Double, d1: Double, d2: Double) {
    let s = Pointwise.logistic(t)
    return (-(t < 0 ? -t + log1p(exp(t)) : log1p(exp(-t))), 1 - s, -s * (1 - s))
}

/// log(1 − σ(t)) = −softplus(t).
@inline(__always) private func logOneMinusSigmoid(_ t: Double) -> (value: Double, d1: Double, d2: Double) {
    let s = Pointwise.logistic(t)
    return (-(t > 0 ? t + log1p(exp(-t)) : log1p(exp(t))), -s, -s * (1 - s))
}

/// The minimax GAN: g = −f.
public struct StandardObjective: GANObjective {
    public init() {}
    public func real(_ t: Double) -> (value: Double, d1: Double, d2: Double) { logSigmoid(t) }
    public func fake(_ t: Double) -> (value: Double, d1: Double, d2: Double) { logOneMinusSigmoid(t) }
    public func generator(_ t: Double) -> (value: Double, d1: Double, d2: Double) {
        let f = logOneMinusSigmoid(t)
        return (-f.value, -f.d1, -f.d2)
    }
}

/// The non-saturating GAN: G maximises E log σ(t(G(z))).
public struct NonSaturatingObjective: GANObjective {
    public init() {}
    public func real(_ t: Double) -> (value: Double, d1: Double, d2: Double) { logSigmoid(t) }
    public func fake(_ t: Double) -> (value: Double, d1: Double, d2: Double) { logOneMinusSigmoid(t) }
    public func generator(_ t: Double) -> (value: Double, d1: Double, d2: Double) { logSigmoid(t) }
}

/// The Wasserstein objective on the raw logit: f = E t(x) − E t(G(z)), g = −f.
public struct WassersteinObjective: GANObjective {
    public init() {}
    public func real(_ t: Double) -> (value: Double, d1: Double, d2: Double) { (t, 1, 0) }
    public func fake(_ t: Double) -> (value: Double, d1: Double, d2: Double) { (-t, -1, 0) }
    public func generator(_ t: Double) -> (value: Double, d1: Double, d2: Double) { (t, 1, 0) }
}

extension MLPGAN.Utility {
    /// The objective this utility names.
    public var objective: any GANObjective {
        switch self {
        case .standard: return StandardObjective()
        case .nonSaturating: return NonSaturatingObjective()
        case .wgan: return WassersteinObjective()
        }
    }
}
