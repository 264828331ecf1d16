import Numerics

/// Optimistic gradient ascent (extrapolation from the past), a linear two-step method:
///
///     x_{k+1} = x_k + 2h·v(x_k) − h·v(x_{k−1}),
///
/// with v(x_{−1}) := v(x₀), so the first step is an Euler step. Order 1; 1 evaluation of v per
/// step (the previous one is kept in the cache). On a bilinear game it converges for small
/// enough hσ, at the rate of the spectral radius of its two-step companion matrix
/// [[1 + 2hJ, −hJ], [I, 0]] (J = v′).
///
/// References: Daskalakis et al., "Training GANs with Optimism" (ICLR 2018); Gidel et al.,
/// "A Variational Inequality Perspective on Generative Adversarial Networks" (ICLR 2019).
public struct Optimistic: Scheme {
    public init() {}
    public var name: String { "optimistic" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// The two-step map on (x_k − x̄, x_{k−1} − x̄): the companion matrix [[I + 2hJ, −hJ], [I, 0]]
    /// (2n × 2n), whose spectral radius decides local convergence.
    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        let n = jacobian.rows
        var c = Matrix(zeros: 2 * n, 2 * n)
        for i in 0..<n {
            for j in 0..<n {
                c[i, j] = 2 * h * jacobian[i, j] + (i == j ? 1 : 0)
                c[i, n + j] = -h * jacobian[i, j]
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
            axpbypz(2 * h, cache.buffers.a, -h, cache.buffers.b, &x)
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
