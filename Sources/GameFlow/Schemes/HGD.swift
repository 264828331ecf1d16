/// Hamiltonian gradient descent: gradient descent on the Hamiltonian H = ½‖v‖²,
///
///     x_{k+1} = x_k − h·v′(x_k)ᵀv(x_k)   (∇H = v′ᵀv),
///
/// which moves towards every stationary point of the game's field (stable or not, and towards
/// critical points of H that are not equilibria: where v′ᵀv = 0 with v ≠ 0). Its update is
/// consensus's correction alone (consensus is SimGA plus γ times this). Order 1 as a
/// discretisation of the gradient flow dx/dt = −∇H, not of dx/dt = v. Work per step: one
/// evaluation of v and one transpose JVP, both exact from the game.
///
/// On a bilinear game f = φᵀAθ (v′ = J antisymmetric, JᵀJ = diag(AAᵀ, AᵀA)) each singular value
/// σ of A gives the factor 1 − hσ² on its two directions: |1 − hσ²| per step, convergent for
/// 0 < h < 2/σ²_max. Its step map I − hv′ᵀv is not a function of v′'s eigenvalues, so it has no
/// stability function (stability scans use its step matrix).
///
/// Reference: Balduzzi et al., "The Mechanics of n-Player Differentiable Games" (ICML 2018);
/// Abernethy, Lai, Wibisono, "Last-iterate convergence rates for min-max optimization" (ALT 2021).
public struct HGD: Scheme {
    public init() {}

    public var name: String { "hgd" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    /// `a`: v, `b`: v′ᵀv.
    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers, context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.a)
        context.transposeJacobianVectorProduct(x, cache.a, into: &cache.b)
        let n = x.count
        x.withUnsafeMutableBufferPointer { xs in
            cache.b.withUnsafeBufferPointer { b in for i in 0..<n { xs[i] -= h * b[i] } }
        }
        return .success
    }
}
