import Numerics

/// Optimistic gradient ascent (extrapolation from the past), a linear two-step method with
/// past weight b (`--past-weight`, default 1):
///
///     x_{k+1} = x_k + (1 + b)·h·v(x_k) − b·h·v(x_{k−1}),
///
/// i.e. Zhang and Yu's (α, β) = ((1 + b)h, bh); v(x_{−1}) := v(x₀), so the first step is an Euler
/// step. Order 1; 1 evaluation of v per step (the previous one is kept in the cache). On a
/// bilinear game it converges at the rate of the spectral radius of its two-step companion
/// matrix [[I + αJ, −βJ], [I, 0]] (J = v′). For a singular value σ of the bilinear coupling the
/// characteristic polynomial is λ² − (1 + iασ)λ + iβσ, and the Schur–Cohn test gives the region
///
///     0 < βσ < 1  and  β < α < β·(3 − β²σ²)/(1 + β²σ²),
///
/// for b = 1: hσ < 1/√3 (derived in `OptimisticTests`; Zhang and Yu, ICLR 2020, §3, state the
/// region in the same parameters).
///
/// References: Daskalakis et al., "Training GANs with Optimism" (ICLR 2018); Gidel et al.,
/// "A Variational Inequality Perspective on Generative Adversarial Networks" (ICLR 2019);
/// Zhang and Yu, "Convergence of Gradient Methods on Bilinear Zero-Sum Games" (ICLR 2020).
public struct Optimistic: Scheme {
    /// b: the weight of the past field.
    public let pastWeight: Double

    /// Optimistic with past weight b.
    /// - Throws: unless b is finite and ≥ 0 (b = 0 is explicit Euler).
    public init(pastWeight: Double = 1) throws {
        guard pastWeight.isFinite, pastWeight >= 0 else {
            throw GameFlowError.invalidInput("--past-weight must be a finite number ≥ 0 (got \(pastWeight))")
        }
        self.pastWeight = pastWeight
    }

    /// Optimistic with b = 1: x + 2h·v_k − h·v_{k−1}.
    public init() { pastWeight = 1 }

    public var name: String { "optimistic" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// The two-step map on (x_k − x̄, x_{k−1} − x̄): the companion matrix [[I + (1 + b)hJ, −bhJ], [I, 0]]
    /// (2n × 2n), whose spectral radius decides local convergence.
    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        let n = jacobian.rows
        var c = Matrix(zeros: 2 * n, 2 * n)
        for i in 0..<n {
            for j in 0..<n {
                c[i, j] = (1 + pastWeight) * h * jacobian[i, j] + (i == j ? 1 : 0)
                c[i, n + j] = -pastWeight * h * jacobian[i, j]
            }
            c[n + i, i] = 1
        }
        return c
    }

    /// `a`: v(x_k); `b`: v(x_{k−1}); `hasPrevious` flags the first step.
    public struct Cache {
        var buffers: Buffers
        var hasPrevious = false
    }

    public func makeCache<G: Game>(for game: G) -> Cache { Cache(buffers: Buffers(dimension: game.dimension)) }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache,
                              context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.buffers.a)
        if cache.hasPrevious {
            axpbypz((1 + pastWeight) * h, cache.buffers.a, -pastWeight * h, cache.buffers.b, &x)
        } else {
            axpy(h, cache.buffers.a, &x)
            cache.hasPrevious = true
        }
        swap(&cache.buffers.a, &cache.buffers.b)
        return .success
    }

    /// [1, v(x_k)…] after a step, [0, 0…] before the first.
    public func carried(_ cache: Cache) -> [Double] { [cache.hasPrevious ? 1 : 0] + cache.buffers.b }

    public func restoreCarried(_ values: [Double], into cache: inout Cache) throws {
        try expectCarried(values, count: 1 + cache.buffers.b.count)
        cache.hasPrevious = values[0] != 0
        for i in cache.buffers.b.indices { cache.buffers.b[i] = values[1 + i] }
    }
}
