import Numerics

/// Iterate averaging around any scheme: the iterates are the base scheme's, unchanged, and the
/// cache keeps their average, reported beside the last iterate (`Solution.average`,
/// summary.json's `average`; the minimax literature evaluates averages):
///
///     uniform:  x̄_k = (1/k)·Σ_{i=1..k} x_i              (x̄_k = x̄_{k−1} + (x_k − x̄_{k−1})/k)
///     ema:β     x̄_k = β·x̄_{k−1} + (1 − β)·x_k,  x̄_0 = x_0
///
/// On a linear game with step map R the uniform average is x̄_k = (1/k)(I − R)⁻¹(R − R^{k+1})x₀
/// (when 1 is not an eigenvalue of R): a bounded orbit (AltGA's ellipse on a bilinear game)
/// averages to the equilibrium at rate O(1/k). Per step: the base scheme's work and n additions;
/// checkpoints carry the average and the count, so a resumed run's average is bit for bit.
///
/// Reference: Polyak & Juditsky, "Acceleration of stochastic approximation by averaging" (1992);
/// Yazıcı et al., "The unusual effectiveness of averaging in GAN training" (ICLR 2019).
public struct Averaged<Base: Scheme>: Scheme {
    /// How the iterates are averaged.
    public enum Kind: Sendable, Equatable {
        /// The uniform average of x_1 … x_k.
        case uniform
        /// The exponential moving average with weight β ∈ [0, 1) on the past.
        case ema(Double)
    }

    public let base: Base
    public let kind: Kind

    /// `base`'s iterates, averaged.
    /// - Throws: for an EMA weight outside [0, 1).
    public init(_ base: Base, kind: Kind) throws {
        if case .ema(let b) = kind, !(b >= 0 && b < 1) {
            throw GameFlowError.invalidInput("--average ema:β needs β in [0, 1) (got \(b))")
        }
        self.base = base
        self.kind = kind
    }

    public var name: String { base.name }
    public var order: Int { base.order }
    public var evaluationsPerStep: Int { base.evaluationsPerStep }

    public struct Cache {
        var base: Base.Cache
        var average: [Double]
        /// Iterates averaged so far (0: none; the EMA starts from x₀).
        var count = 0
        /// The average before the current trial step (error control only; made at its first trial).
        var saved: [Double] = []
        var savedCount = 0
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        Cache(base: try base.makeCache(for: game), average: [Double](repeating: 0, count: game.dimension))
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        if cache.count == 0, case .ema = kind { copyValues(x, into: &cache.average) }
        let r = base.step(&x, h: h, cache: &cache.base, context: &context)
        guard r == .success else { return r }
        include(x, cache: &cache)
        return .success
    }

    public func errorOrder(_ cache: Cache) -> Int? { base.errorOrder(cache.base) }

    /// The base's trial step (its error estimate unchanged: averaging does not move x), then
    /// the average; the average before the trial is kept for `rejectTrial`.
    public func trialStep<G: Game>(_ x: inout [Double], h: Double, error: inout [Double], retry: Bool,
                                   cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        saveValues(cache.average, into: &cache.saved)
        cache.savedCount = cache.count
        if cache.count == 0, case .ema = kind { copyValues(x, into: &cache.average) }
        let r = base.trialStep(&x, h: h, error: &error, retry: retry, cache: &cache.base, context: &context)
        guard r == .success else { return r }
        include(x, cache: &cache)
        return .success
    }

    public func rejectTrial(_ cache: inout Cache) {
        copyValues(cache.saved, into: &cache.average)
        cache.count = cache.savedCount
        base.rejectTrial(&cache.base)
    }

    /// Adds the new iterate to the average.
    private func include(_ x: [Double], cache: inout Cache) {
        cache.count += 1
        switch kind {
        case .uniform:
            let w = 1 / Double(cache.count)
            for i in 0..<x.count { cache.average[i] += w * (x[i] - cache.average[i]) }
        case .ema(let b):
            for i in 0..<x.count { cache.average[i] = b * cache.average[i] + (1 - b) * x[i] }
        }
    }

    /// The average so far (nil before the first step).
    public func average(_ cache: Cache) -> [Double]? { cache.count > 0 ? cache.average : nil }

    /// [count, average…, then the base scheme's].
    public func carried(_ cache: Cache) -> [Double] { [Double(cache.count)] + cache.average + base.carried(cache.base) }

    public func restoreCarried(_ values: [Double], into cache: inout Cache) throws {
        let n = cache.average.count
        guard values.count >= 1 + n, let k = Int(exactly: values[0]), k >= 0 else {
            throw GameFlowError.invalidInput("\(name) with averaging carries the count and \(n) averaged numbers; the checkpoint's do not fit")
        }
        try base.restoreCarried(Array(values[(1 + n)...]), into: &cache.base)
        cache.count = k
        for i in 0..<n { cache.average[i] = values[1 + i] }
    }

    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? { base.stabilityFunction(z) }
    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        try base.linearizedStepMatrix(jacobian: jacobian, players: players, h: h)
    }
}

/// A scheme that keeps an average of its iterates (`Averaged`).
protocol IterateAveraging: Scheme {
    func average(_ cache: Cache) -> [Double]?
}

extension Averaged: IterateAveraging {}

/// An averaging setting (`--average uniform|ema:β`).
public struct AveragingConfiguration: Codable, Sendable, Equatable {
    /// nil: uniform; otherwise the EMA's β.
    public var emaWeight: Double?

    /// Uniform (nil) or EMA with weight β.
    public init(emaWeight: Double?) { self.emaWeight = emaWeight }

    /// "uniform" or "ema:β".
    public static func parse(_ text: String) throws -> AveragingConfiguration {
        if text == "uniform" { return AveragingConfiguration(emaWeight: nil) }
        if text.hasPrefix("ema:"), let b = Double(text.dropFirst(4)) { return AveragingConfiguration(emaWeight: b) }
        throw GameFlowError.invalidInput("--average takes uniform or ema:β (e.g. ema:0.999; got '\(text)')")
    }

    private enum Keys: String, CodingKey { case kind, beta }

    /// {"kind": "uniform"} or {"kind": "ema", "beta": β}.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "uniform": emaWeight = nil
        case "ema": emaWeight = try c.decode(Double.self, forKey: .beta)
        case let other: throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown averaging '\(other)' (expected uniform or ema)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(emaWeight == nil ? "uniform" : "ema", forKey: .kind)
        try c.encodeIfPresent(emaWeight, forKey: .beta)
    }

    /// `scheme` with its iterates averaged.
    public func wrap(_ scheme: any Scheme) throws -> any Scheme {
        func open<S: Scheme>(_ s: S) throws -> any Scheme { try Averaged(s, kind: emaWeight.map { .ema($0) } ?? .uniform) }
        return try open(scheme)
    }
}
