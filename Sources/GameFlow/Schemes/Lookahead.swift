/// Lookahead around any scheme (with its optimizer): k "fast" steps of the base scheme, then the
/// slow weights move a fraction α of the way and the fast ones restart there,
///
///     every k steps:  slow ← slow + α·(fast − slow),   fast ← slow,
///
/// the base scheme's own state (RMSProp's accumulator, momentum, …) kept across the
/// synchronisation, as the reference implementation does. The slow weights start at the first
/// step's x. Per step: the base scheme's work; the state carries the slow weights and the
/// position in the cycle, so a resumed run continues bit for bit.
///
/// On a linear game with base step map Φ one cycle maps slow ↦ ((1 − α)I + αΦᵏ)·slow: around
/// SimGA on f = σφθ (Φ's eigenvalues 1 ± ihσ) the factor per cycle is |1 − α + α(1 + ihσ)ᵏ|,
/// which is below 1 for suitable (k, α) where SimGA itself diverges.
///
/// Reference: Zhang, Lucas, Hinton, Ba, "Lookahead Optimizer: k steps forward, 1 step back"
/// (NeurIPS 2019); Chavdarova, Pagliardini, Stich, Fleuret, Jaggi, "Taming GANs with
/// Lookahead-Minmax" (ICLR 2021).
public struct Lookahead<Base: Scheme>: Scheme {
    public let base: Base
    /// Fast steps per cycle (k ≥ 1).
    public let k: Int
    /// The slow weights' step α ∈ (0, 1].
    public let alpha: Double

    /// Lookahead around `base`.
    /// - Parameters:
    ///   - base: the fast scheme (with its optimizer).
    ///   - k: fast steps per cycle, ≥ 1.
    ///   - alpha: the slow step, in (0, 1].
    /// - Throws: for k < 1 or α outside (0, 1]. (It has no error estimate: its steps are fixed.)
    public init(_ base: Base, k: Int, alpha: Double) throws {
        guard k >= 1 else { throw GameFlowError.invalidInput("--lookahead: k must be ≥ 1 (got \(k))") }
        guard alpha.isFinite, alpha > 0, alpha <= 1 else { throw GameFlowError.invalidInput("--lookahead: α must be in (0, 1] (got \(alpha))") }
        self.base = base
        self.k = k
        self.alpha = alpha
    }

    public var name: String { "\(base.name)+lookahead" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { base.evaluationsPerStep }

    /// The base scheme's cache, the slow weights and the position in the cycle.
    public struct Cache {
        var base: Base.Cache
        var slow: [Double]
        /// Fast steps taken since the last synchronisation (−1 before the first step).
        var position = -1
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        Cache(base: try base.makeCache(for: game), slow: [Double](repeating: 0, count: game.dimension))
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        if cache.position < 0 {
            copyValues(x, into: &cache.slow)
            cache.position = 0
        }
        let r = base.step(&x, h: h, cache: &cache.base, context: &context)
        guard r == .success else { return r }
        cache.position += 1
        if cache.position == k {
            for i in 0..<x.count {
                let s = cache.slow[i] + alpha * (x[i] - cache.slow[i])
                cache.slow[i] = s
                x[i] = s
            }
            cache.position = 0
        }
        return .success
    }

    /// [position in the cycle (−1 before the first step), slow weights…, then the base scheme's].
    public func carried(_ cache: Cache) -> [Double] {
        [Double(cache.position)] + cache.slow + base.carried(cache.base)
    }

    public func restoreCarried(_ values: [Double], into cache: inout Cache) throws {
        let n = cache.slow.count
        guard values.count >= 1 + n, let p = Int(exactly: values[0]), p >= -1, p < k else {
            throw GameFlowError.invalidInput("\(name) carries its position in the cycle (−1…\(k - 1)) and \(n) slow weights; the checkpoint's do not fit")
        }
        try base.restoreCarried(Array(values[(1 + n)...]), into: &cache.base)
        cache.position = p
        for i in 0..<n { cache.slow[i] = values[1 + i] }
    }

    /// Lookahead's step map depends on the position in its cycle: one step is not a fixed linear
    /// map of x alone, so stability is analysed per cycle (k steps), not here.
    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        throw GameFlowError.invalidInput("\(name): no one-step map (the slow weights move every \(k) steps); analyse the base scheme")
    }
}

/// A lookahead setting (`--lookahead k,α`).
public struct LookaheadConfiguration: Codable, Sendable, Equatable {
    /// Fast steps per cycle.
    public var k: Int
    /// The slow step.
    public var alpha: Double

    /// k fast steps per cycle, slow step α.
    public init(k: Int, alpha: Double) {
        self.k = k
        self.alpha = alpha
    }

    /// "k,α" (e.g. "5,0.5").
    public static func parse(_ text: String) throws -> LookaheadConfiguration {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let k = Int(parts[0]), let a = Double(parts[1]) else {
            throw GameFlowError.invalidInput("--lookahead takes k,α: a whole number of fast steps and the slow step (e.g. 5,0.5; got '\(text)')")
        }
        return LookaheadConfiguration(k: k, alpha: a)
    }

    /// `scheme` inside lookahead.
    public func wrap(_ scheme: any Scheme) throws -> any Scheme {
        func open<S: Scheme>(_ s: S) throws -> any Scheme { try Lookahead(s, k: k, alpha: alpha) }
        return try open(scheme)
    }
}
