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
    /// (φ_r′, φ_r″) without the value (the hot path needs no logarithm).
    func realDerivatives(_ t: Double) -> (d1: Double, d2: Double)
    /// φ_f′, φ_f″, ψ′, ψ″ and κ = φ_f″/φ_f′ at a fake's logit.
    func fakeDerivatives(_ t: Double) -> FakeLogitDerivatives
}

/// The derivatives of a fake logit's two losses: φ_f (D's) and ψ (G's), and κ = φ_f″/φ_f′
/// (formed without dividing where φ_f′ may underflow; the merged v′ᵀu pass needs it).
public struct FakeLogitDerivatives: Sendable {
    public var phi1: Double, phi2: Double, psi1: Double, psi2: Double, kappa: Double
}

extension GANObjective {
    public func realDerivatives(_ t: Double) -> (d1: Double, d2: Double) {
        let r = real(t)
        return (r.d1, r.d2)
    }

    public func fakeDerivatives(_ t: Double) -> FakeLogitDerivatives {
        let f = fake(t), g = generator(t)
        return FakeLogitDerivatives(phi1: f.d1, phi2: f.d2, psi1: g.d1, psi2: g.d2, kappa: f.d1 == 0 ? 0 : f.d2 / f.d1)
    }
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
    public func realDerivatives(_ t: Double) -> (d1: Double, d2: Double) {
        let s = Pointwise.logistic(t)
        return (1 - s, -s * (1 - s))
    }
    public func fakeDerivatives(_ t: Double) -> FakeLogitDerivatives {
        let s = Pointwise.logistic(t)
        return FakeLogitDerivatives(phi1: -s, phi2: -s * (1 - s), psi1: s, psi2: s * (1 - s), kappa: 1 - s)
    }
}

/// The non-saturating GAN: G maximises E log σ(t(G(z))).
public struct NonSaturatingObjective: GANObjective {
    public init() {}
    public func real(_ t: Double) -> (value: Double, d1: Double, d2: Double) { logSigmoid(t) }
    public func fake(_ t: Double) -> (value: Double, d1: Double, d2: Double) { logOneMinusSigmoid(t) }
    public func generator(_ t: Double) -> (value: Double, d1: Double, d2: Double) { logSigmoid(t) }
    public func realDerivatives(_ t: Double) -> (d1: Double, d2: Double) {
        let s = Pointwise.logistic(t)
        return (1 - s, -s * (1 - s))
    }
    public func fakeDerivatives(_ t: Double) -> FakeLogitDerivatives {
        let s = Pointwise.logistic(t)
        return FakeLogitDerivatives(phi1: -s, phi2: -s * (1 - s), psi1: 1 - s, psi2: -s * (1 - s), kappa: 1 - s)
    }
}

/// The Wasserstein objective on the raw logit: f = E t(x) − E t(G(z)), g = −f.
public struct WassersteinObjective: GANObjective {
    public init() {}
    public func real(_ t: Double) -> (value: Double, d1: Double, d2: Double) { (t, 1, 0) }
    public func fake(_ t: Double) -> (value: Double, d1: Double, d2: Double) { (-t, -1, 0) }
    public func generator(_ t: Double) -> (value: Double, d1: Double, d2: Double) { (t, 1, 0) }
    public func realDerivatives(_ t: Double) -> (d1: Double, d2: Double) { (1, 0) }
    public func fakeDerivatives(_ t: Double) -> FakeLogitDerivatives { FakeLogitDerivatives(phi1: -1, phi2: 0, psi1: 1, psi2: 0, kappa: 0) }
}

extension NetworkGAN.Utility {
    /// The objective this utility names.
    public var objective: any GANObjective {
        switch self {
        case .standard: return StandardObjective()
        case .nonSaturating: return NonSaturatingObjective()
        case .wgan: return WassersteinObjective()
        }
    }
}
