/// Symplectic gradient adjustment: an Euler step on the adjusted field
///
///     w(x) = v(x) − λ·Aᵀv(x),   A = (v′ − v′ᵀ)/2 (the antisymmetric part of v′),
///     x_{k+1} = x_k + h·w(x_k),
///
/// in GameFlow's sign (Balduzzi et al. write ξ + λAᵀξ for the losses' gradient ξ = −v and descend;
/// A's sign flips with ξ's, so the two agree). Aᵀv = (v′ᵀv − v′v)/2: per step 1 evaluation of v,
/// 1 JVP and 1 transpose JVP, all exact from the game. Order 1.
///
/// With `align`, λ's sign is chosen each step by the paper's alignment rule:
/// sign(⟨ξ, ∇H⟩·⟨Aᵀξ, ∇H⟩/n + 1/10)·|λ| with H = ½‖v‖², ∇H = v′ᵀv, ξ = −v (Aᵀξ in the paper's
/// A is our Aᵀv); it costs nothing extra (v′ᵀv is already computed).
///
/// On a bilinear game (v′ = J antisymmetric, so A = J and w = (J + λJ²)x) an eigenvalue iσ of
/// J becomes iσ − λσ², and the step contracts by √((1 − hλσ²)² + h²σ²): consensus's factor with
/// γ = λ. On a potential game (v′ symmetric) A = 0 and SGA is SimGA.
///
/// Reference: Balduzzi et al., "The Mechanics of n-Player Differentiable Games" (ICML 2018),
/// Algorithm 1; Letcher et al., "Differentiable Game Mechanics" (JMLR 2019).
public struct SGA: Scheme {
    /// λ ≥ 0, the weight of the adjustment.
    public let lambda: Double
    /// Whether λ's sign follows the alignment rule.
    public let align: Bool

    /// SGA with weight λ.
    /// - Parameters:
    ///   - lambda: λ ≥ 0, the weight of the adjustment (0 is SimGA).
    ///   - align: choose λ's sign by the alignment rule.
    public init(lambda: Double, align: Bool = false) throws {
        guard lambda.isFinite, lambda >= 0 else {
            throw GameFlowError.invalidInput("--lambda must be a finite number ≥ 0 (got \(lambda))")
        }
        self.lambda = lambda
        self.align = align
    }

    public var name: String { "sga" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    /// `a`: v, `b`: v′ᵀv, `c`: v′v.
    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers,
                              context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.a)
        context.transposeJacobianVectorProduct(x, cache.a, into: &cache.b)
        context.jacobianVectorProduct(x, cache.a, into: &cache.c)
        var l = lambda
        let n = x.count
        if align {
            // ξ = −v, ∇H = v′ᵀv = b, Aᵀv = (b − c)/2.
            var xiH = 0.0, aH = 0.0
            for i in 0..<n {
                xiH -= cache.a[i] * cache.b[i]
                aH += 0.5 * (cache.b[i] - cache.c[i]) * cache.b[i]
            }
            if xiH * aH / Double(n) + 0.1 < 0 { l = -l }
        }
        // x += h·(v − λ(b − c)/2)
        let k = 0.5 * h * l
        x.withUnsafeMutableBufferPointer { xs in
            cache.a.withUnsafeBufferPointer { a in
                cache.b.withUnsafeBufferPointer { b in
                    cache.c.withUnsafeBufferPointer { c in
                        for i in 0..<n { xs[i] += h * a[i] - k * (b[i] - c[i]) }
                    }
                }
            }
        }
        return .success
    }
}
