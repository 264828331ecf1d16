import CKernels
import Foundation

/// A diagonal, adaptive preconditioner (RMSProp or Adam) around any scheme, kept apart from the
/// scheme itself.
///
/// One step: the base scheme takes its plain step x̃ = Φ_h(x) on the unmodified field; its
/// update direction d = (x̃ − x)/h (v(x) for SimGA, v − γv′ᵀv for consensus, v(x + hv) for
/// extragradient, …) is rescaled per coordinate and applied instead:
///
///     RMSProp:  s ← ρ·s + (1 − ρ)·d²,            x ← x + h·d/√(s + ε)
///     Adam:     m ← β₁m + (1 − β₁)d, s ← β₂s + (1 − β₂)d²,
///               x ← x + h·m̂/(√ŝ + ε)  (bias-corrected m̂, ŝ)
///
/// This is gradient rescaling in the sense of the supplement's Proposition 13: the fixed points
/// (v = 0) are unchanged, only the metric of the step is. For SimGA and consensus it is exactly the
/// reference code's TF1 `RMSPropOptimizer` (decay 0.9, ε = 1e-10 inside the square root, the
/// accumulator initialised to 1) applied to the ascent direction. For multi-stage schemes the
/// inner stages (extragradient's look-ahead, AltGA's first player) move by the plain h·d;
/// only the net update is rescaled. Work counts are those of the base scheme.
///
/// With per-player time scales (`StepScale`, TTUR) the rescaled update is multiplied by sᵢ on
/// player i's block, x ← x + h·sᵢ·d/√(s + ε): put into the field instead, the scales would
/// cancel in d/√(d²).
public enum Preconditioner: Sendable, Equatable {
    /// decay ρ, ε, initial accumulator.
    case rmsprop(decay: Double, epsilon: Double, initial: Double)
    /// β₁, β₂, ε.
    case adam(beta1: Double, beta2: Double, epsilon: Double)

    /// The reference code's RMSProp: decay 0.9, ε = 1e-10, accumulator initialised to 1.
    public static let referenceRMSProp = Preconditioner.rmsprop(decay: 0.9, epsilon: 1e-10, initial: 1)
    /// Adam's usual constants: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    public static let standardAdam = Preconditioner.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)

    /// "rmsprop" or "adam".
    public var name: String {
        switch self {
        case .rmsprop: return "rmsprop"
        case .adam: return "adam"
        }
    }
}


/// Wraps `base` with a `Preconditioner`; see `Preconditioner`.
public struct Preconditioned<Base: Scheme>: Scheme {
    /// The scheme whose update is rescaled.
    public let base: Base
    /// RMSProp or Adam, with its constants.
    public let method: Preconditioner
    /// Per-player factors on the preconditioned update (nil: all 1).
    public let stepScale: StepScale?

    /// `base` with its update rescaled by `method` (and multiplied by per-player time scales).
    public init(_ base: Base, method: Preconditioner, stepScale: StepScale? = nil) {
        self.base = base
        self.method = method
        self.stepScale = stepScale
    }

    public var name: String { "\(base.name)+\(method.name)" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { base.evaluationsPerStep }

    /// The base scheme's cache, the step's start and the optimizer's moments.
    public struct Cache {
        var base: Base.Cache
        var start: [Double]
        var first: [Double]    // Adam's m
        var second: [Double]   // RMSProp's / Adam's s
        let scale: [Double]    // the step scale per coordinate (1 without one)
        var steps = 0
        /// Every factor is 1 (no time scales): RMSProp's loop reads no factors.
        let scaleIsUnit: Bool
        /// m and s before the current trial step (error control only; made at its first trial).
        var savedFirst: [Double] = []
        var savedSecond: [Double] = []
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        let n = game.dimension
        let initial: Double
        if case .rmsprop(_, _, let i) = method { initial = i } else { initial = 0 }
        let scale = try stepScale?.perCoordinate(game.players) ?? [Double](repeating: 1, count: n)
        return Cache(base: try base.makeCache(for: game), start: [Double](repeating: 0, count: n),
                     first: [Double](repeating: 0, count: n), second: [Double](repeating: initial, count: n), scale: scale,
                     scaleIsUnit: scale.allSatisfy { $0 == 1 })
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache,
                              context: inout StepContext<G>) -> StepResult {
        copyValues(x, into: &cache.start)
        let r = base.step(&x, h: h, cache: &cache.base, context: &context)
        guard r == .success else { return r }
        rescale(&x, h: h, cache: &cache)
        return .success
    }

    public func errorOrder(_ cache: Cache) -> Int? { base.errorOrder(cache.base) }

    /// The base's trial step, rescaled; its error estimate e becomes the first-order error of the
    /// rescaled update, e·sᵢ/√(s + ε) (RMSProp) or e·sᵢ(1 − β₁)/c₁/(√ŝ + ε) (Adam), the
    /// moments taken as fixed. The moments before the trial are kept for `rejectTrial`.
    public func trialStep<G: Game>(_ x: inout [Double], h: Double, error: inout [Double], retry: Bool,
                                   cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        saveValues(cache.first, into: &cache.savedFirst)
        saveValues(cache.second, into: &cache.savedSecond)
        copyValues(x, into: &cache.start)
        let r = base.trialStep(&x, h: h, error: &error, retry: retry, cache: &cache.base, context: &context)
        guard r == .success else { return r }
        rescale(&x, h: h, cache: &cache)
        switch method {
        case let .rmsprop(_, eps, _):
            for i in 0..<x.count { error[i] *= cache.scale[i] / (cache.second[i] + eps).squareRoot() }
        case let .adam(b1, b2, eps):
            let c1 = 1 - pow(b1, Double(cache.steps)), c2 = 1 - pow(b2, Double(cache.steps))
            for i in 0..<x.count { error[i] *= cache.scale[i] * (1 - b1) / c1 / ((cache.second[i] / c2).squareRoot() + eps) }
        }
        return .success
    }

    /// Puts the moments (and the step count) back as they were before the rejected trial.
    public func rejectTrial(_ cache: inout Cache) {
        copyValues(cache.savedFirst, into: &cache.first)
        copyValues(cache.savedSecond, into: &cache.second)
        cache.steps -= 1
        base.rejectTrial(&cache.base)
    }

    /// x ← start + h·(rescaled d), d = (x − start)/h, updating the moments.
    private func rescale(_ x: inout [Double], h: Double, cache: inout Cache) {
        cache.steps += 1
        let inv = 1 / h
        let n = x.count, method = method, steps = cache.steps, scaleValues = cache.scale, unit = cache.scaleIsUnit
        // On raw pointers: no bounds, uniqueness or exclusivity checks in the loops, so they
        // vectorise (with array subscripts, Adam's loop was 7 % of a SimGA step on the GAN).
        x.withUnsafeMutableBufferPointer { xb in
            cache.start.withUnsafeBufferPointer { sb in
                cache.first.withUnsafeMutableBufferPointer { fb in
                    cache.second.withUnsafeMutableBufferPointer { vb in
                      scaleValues.withUnsafeBufferPointer { cb in
                        let x = xb.baseAddress!, start = sb.baseAddress!, first = fb.baseAddress!, second = vb.baseAddress!
                        let scale = cb.baseAddress!
                        switch method {
                        case let .rmsprop(decay, eps, _) where unit:
                            // No time scales: the same update without the factors (× 1 is exact),
                            // in AVX-512 where it runs (gf_rmsprop_d: the same bits).
                            if gf_rmsprop_d(n, x, start, second, inv, h, decay, eps) != 0 { break }
                            for i in 0..<n {
                                let d = (x[i] - start[i]) * inv
                                let s = decay * second[i] + (1 - decay) * d * d
                                second[i] = s
                                x[i] = start[i] + h * d / (s + eps).squareRoot()
                            }
                        case let .rmsprop(decay, eps, _):
                            for i in 0..<n {
                                let d = (x[i] - start[i]) * inv
                                let s = decay * second[i] + (1 - decay) * d * d
                                second[i] = s
                                x[i] = start[i] + h * scale[i] * d / (s + eps).squareRoot()
                            }
                        case let .adam(b1, b2, eps):
                            let c1 = 1 - pow(b1, Double(steps)), c2 = 1 - pow(b2, Double(steps))
                            for i in 0..<n {
                                let d = (x[i] - start[i]) * inv
                                let m = b1 * first[i] + (1 - b1) * d
                                let s = b2 * second[i] + (1 - b2) * d * d
                                first[i] = m
                                second[i] = s
                                x[i] = start[i] + h * scale[i] * (m / c1) / ((s / c2).squareRoot() + eps)
                            }
                        }
                      }
                    }
                }
            }
        }
    }

    /// [steps taken, m…, s…, then the base scheme's].
    public func carried(_ cache: Cache) -> [Double] {
        [Double(cache.steps)] + cache.first + cache.second + base.carried(cache.base)
    }

    public func restoreCarried(_ values: [Double], into cache: inout Cache) throws {
        let n = cache.start.count
        guard values.count >= 1 + 2 * n, let steps = Int(exactly: values[0]), steps >= 0 else {
            throw GameFlowError.invalidInput("\(name) carries at least \(1 + 2 * n) numbers between steps here (a step count first); "
                                             + "the checkpoint has \(values.count)")
        }
        try base.restoreCarried(Array(values[(1 + 2 * n)...]), into: &cache.base)
        cache.steps = steps
        for i in 0..<n {
            cache.first[i] = values[1 + i]
            cache.second[i] = values[1 + n + i]
        }
    }
}

/// `Preconditioned(scheme, method:)` for a scheme chosen at run time.
public func preconditioned<S: Scheme>(_ scheme: S, _ method: Preconditioner, stepScale: StepScale? = nil) throws -> any Scheme {
    Preconditioned(scheme, method: method, stepScale: stepScale)
}
