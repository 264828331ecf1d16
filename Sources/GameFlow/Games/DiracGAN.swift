import Foundation

/// The Dirac-GAN of Mescheder, Geiger, Nowozin, "Which Training Methods for GANs do actually
/// Converge?" (ICML 2018): data is a point mass at 0, the generator a point mass at θ, the
/// discriminator linear, D_ψ(x) = ψ·x. With the standard GAN utility
/// L(θ, ψ) = f(ψθ) + f(0), f(t) = −log(1 + e^{−t}), the discriminator maximises
/// L − (γ/2)ψ² (R1 penalty γ ≥ 0; here R1 = R2) and the generator maximises −L. So, with
/// x = (θ, ψ) — generator first —
///
///     v(θ, ψ) = (−f′(ψθ)·ψ,  f′(ψθ)·θ − γψ),   f′(t) = 1/(1 + e^{t}).
///
/// The equilibrium is (0, 0), where v′ = [[0, −½], [½, −γ]]: eigenvalues ±i/2 without penalty
/// (the exact flow conserves θ² + ψ²), and a double eigenvalue −½ at the critical γ = 1.
public struct DiracGAN: Game {
    /// The R1 penalty weight γ ≥ 0.
    public let r1: Double

    /// The Dirac-GAN with R1 weight γ.
    /// - Throws: unless γ is finite and ≥ 0.
    public init(r1: Double = 0) throws {
        guard r1.isFinite, r1 >= 0 else { throw GameFlowError.invalidInput("Dirac-GAN: R1 weight must be a finite number ≥ 0 (got \(r1))") }
        self.r1 = r1
    }

    public var name: String { "dirac" }
    public var dimension: Int { 2 }
    public var players: [Range<Int>] { [0..<1, 1..<2] }
    public var equilibrium: [Double]? { [0, 0] }
    public var hasExactDerivatives: Bool { true }
    /// ψ, the second block (x = (θ, ψ)).
    public var discriminatorPlayer: Int? { 1 }

    /// f′(t) = σ(−t), computed without overflow.
    @inlinable static func fPrime(_ t: Double) -> Double {
        t >= 0 ? exp(-t) / (1 + exp(-t)) : 1 / (1 + exp(t))
    }

    /// f″(t) = −σ(t)·σ(−t).
    @inlinable static func fSecond(_ t: Double) -> Double {
        let a = fPrime(t)
        return -a * (1 - a)
    }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        let theta = x[0], psi = x[1]
        let a = Self.fPrime(theta * psi)
        v[0] = -a * psi
        v[1] = a * theta - r1 * psi
    }

    /// Writes the 2×2 Jacobian entries (row-major) at x.
    private func entries(_ x: [Double]) -> (Double, Double, Double, Double) {
        let theta = x[0], psi = x[1], s = theta * psi
        let a = Self.fPrime(s), c = Self.fSecond(s)
        return (-c * psi * psi, -a - c * s, a + c * s, c * theta * theta - r1)
    }

    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        let (j00, j01, j10, j11) = entries(x)
        out[0] = j00; out[1] = j01; out[2] = j10; out[3] = j11
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        let (j00, j01, j10, j11) = entries(x)
        out[0] = j00 * u[0] + j01 * u[1]
        out[1] = j10 * u[0] + j11 * u[1]
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        let (j00, j01, j10, j11) = entries(x)
        out[0] = j00 * u[0] + j10 * u[1]
        out[1] = j01 * u[0] + j11 * u[1]
    }
}

extension DiracGAN: UtilityGradients {
    /// G's utility −f(θψ) and D's f(θψ) − (γ/2)ψ² (R1 at the data point 0), f′(t) = σ(−t).
    public func utilityGradient(player: Int, at x: [Double], step: Int, into g: inout [Double]) {
        let theta = x[0], psi = x[1], a = Self.fPrime(theta * psi)
        if player == 0 {
            g[0] = -a * psi; g[1] = -a * theta
        } else {
            g[0] = a * psi; g[1] = a * theta - r1 * psi
        }
    }
}
