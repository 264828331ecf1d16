import Foundation
import Numerics

/// How far the step size of a scheme can go at an equilibrium.
public enum StableStepBound: Sendable, Equatable, CustomStringConvertible {
    /// No h > 0 gives a step map with spectral radius < 1.
    case none
    /// Stable for 0 < h < this (the end of the first stability interval).
    case upTo(Double)
    /// Stable for every h tried up to the search limit (e.g. implicit Euler with all Re λ < 0).
    case unbounded

    /// The bound h of `.upTo(h)` (nil for the others).
    public var value: Double? { if case .upTo(let h) = self { return h } else { return nil } }

    public var description: String {
        switch self {
        case .none: return "none"
        case .upTo(let h): return "\(h)"
        case .unbounded: return "unbounded"
        }
    }
}

/// Local stability of a scheme at an equilibrium x̄ with Jacobian J = v′(x̄).
public enum Stability {
    /// The spectral radius of the scheme's one-step map at x̄ (< 1 ⇔ local convergence).
    public static func stepRadius<S: Scheme>(_ scheme: S, jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Double {
        try Spectrum(matrix: scheme.linearizedStepMatrix(jacobian: jacobian, players: players, h: h)).spectralRadius
    }

    /// The largest h such that the steps in (0, h) are stable: the first interval of
    /// `stableSteps` when it starts at 0, `.unbounded` when it reaches `hMax`, `.none` when the
    /// stable set does not start at 0 (it may still hold larger steps: see `stableSteps`).
    public static func largestStableStep<S: Scheme>(
        _ scheme: S, jacobian: Matrix, players: [Range<Int>],
        hMax: Double = 1e6, relativeTolerance: Double = 1e-12, useStabilityFunction: Bool = true,
        spectrum known: Spectrum? = nil
    ) throws -> StableStepBound {
        try stableSteps(scheme, jacobian: jacobian, players: players, hMax: hMax, relativeTolerance: relativeTolerance,
                        useStabilityFunction: useStabilityFunction, spectrum: known).maxStableStep
    }

    /// Every h in (0, hMax] classified by the amplification r(h) of the scheme's linearisation at
    /// x̄: max |R(hλ)| over the eigenvalues λ of J (schemes with a stability function R), else the
    /// spectral radius of the step map. Stable where r < 1 − 1e-13, neutral where |r − 1| ≤ 1e-13
    /// (implicit midpoint and trapezoidal on a rotation, |R(iy)| = 1; AltGA on a bilinear game
    /// below its bound), unstable above.
    ///
    /// Zero eigenvalues of J (|λ| ≤ 1e-12·max|λ|: the tangent of an equilibrium set, as in a 3×2
    /// bilinear game) have R(0) = 1 for every consistent scheme and are neither: they are counted
    /// in `StableSet.zeroEigenvalues` and the classification is of the others (for a step-map scan,
    /// the map's eigenvalues closest to 1, one per zero eigenvalue, are set aside). With only zero
    /// eigenvalues every h is neutral.
    ///
    /// The scan is on a geometric grid from 1e-8/max|λ| to `hMax` (8 points per doubling with R,
    /// 1 on the step map, whose every point is an eigen-decomposition), and each change of class
    /// is bisected to `relativeTolerance`: a stable window narrower than the grid's spacing can be
    /// missed. Below the grid's first point the first class found is taken to extend to 0, and a
    /// neutral start that ends below hρ = 0.1 (r within 1e-13 of 1 only because h is small) is
    /// taken as the class that follows it. An interval reaching `hMax` is
    /// reported without an upper end (∞).
    public static func stableSteps<S: Scheme>(
        _ scheme: S, jacobian: Matrix, players: [Range<Int>],
        hMax: Double = 1e6, relativeTolerance: Double = 1e-12, useStabilityFunction: Bool = true,
        spectrum known: Spectrum? = nil
    ) throws -> StableSet {
        let spectrum = try known ?? Spectrum(matrix: jacobian)
        let rho = spectrum.spectralRadius
        let zeroCut = 1e-12 * rho
        let nonzero = spectrum.eigenvalues.filter { $0.length > zeroCut }
        let zeros = spectrum.eigenvalues.count - nonzero.count
        guard rho > 0, !nonzero.isEmpty else {
            return StableSet(stable: [], neutral: [StepInterval(lower: 0, upper: nil)], zeroEigenvalues: zeros)
        }
        let reduced = Spectrum(eigenvalues: nonzero)
        let hasR = useStabilityFunction && scheme.stabilityFunction(Complex(0)) != nil
        func amplification(_ h: Double) throws -> Double {
            if hasR { return reduced.maxAmplification(scheme, h: h)! }
            let map = try Spectrum(matrix: scheme.linearizedStepMatrix(jacobian: jacobian, players: players, h: h))
            guard zeros > 0 else { return map.spectralRadius }
            // Set aside the `zeros` eigenvalues of the map closest to 1.
            let byDistance = map.eigenvalues.sorted { ($0 - Complex(1)).length < ($1 - Complex(1)).length }
            return byDistance.dropFirst(zeros).map(\.length).max() ?? 0
        }
        let margin = 1e-13
        func classify(_ h: Double) throws -> StepClass {
            let r = try amplification(h)
            if r < 1 - margin { return .stable }
            if r <= 1 + margin { return .neutral }
            return .unstable
        }
        // The grid and the segments of equal class along it.
        let ratio = pow(2.0, hasR ? 0.125 : 1)
        var h = 1e-8 / rho
        var segments: [(cls: StepClass, lower: Double)] = [(try classify(h), 0)]
        var previous = h
        while previous < hMax {
            h = min(previous * ratio, hMax)
            let cls = try classify(h)
            var lo = previous
            while cls != segments.last!.cls {
                // Bisect for the first change of class after lo; a third class found on the way
                // starts its own segment and the search goes on from there.
                let current = segments.last!.cls
                var a = lo, b = h, bClass = cls
                while b - a > relativeTolerance * b {
                    let mid = (a + b) / 2
                    let c = try classify(mid)
                    if c == current { a = mid } else { b = mid; bClass = c }
                }
                segments.append((bClass, b))
                lo = b
                if bClass == cls { break }
            }
            previous = h
        }
        // A leading neutral segment that ends below hρ = 0.1 belongs to what follows: there
        // r − 1 is a power of hλ below the margin (|R(iy)|² = 1 + y⁴/4 for Heun, 1 − y⁶/72 + …
        // for RK4 on the imaginary axis: 1e-13 at y ≈ 8e-4 and 0.014); a neutral interval of a
        // scheme's own (AltGA on a bilinear game, up to hρ = 2) reaches hρ of order 1.
        if segments.count > 1, segments[0].cls == .neutral, segments[1].lower < 0.1 / rho {
            segments.removeFirst()
            segments[0].lower = 0
        }
        // Neutral slivers at a boundary (r crossing 1 within the margin) are boundaries.
        var merged: [(cls: StepClass, lower: Double, upper: Double?)] = []
        for (i, seg) in segments.enumerated() {
            let upper = i + 1 < segments.count ? segments[i + 1].lower : nil
            if seg.cls == .neutral, let u = upper, i > 0, u - seg.lower <= 1e-9 * u { continue }
            if let last = merged.last, last.cls == seg.cls {
                merged[merged.count - 1].upper = upper
            } else {
                if !merged.isEmpty { merged[merged.count - 1].upper = seg.lower }
                merged.append((seg.cls, seg.lower, upper))
            }
        }
        func intervals(_ c: StepClass) -> [StepInterval] {
            merged.filter { $0.cls == c }.map { StepInterval(lower: $0.lower, upper: $0.upper) }
        }
        return StableSet(stable: intervals(.stable), neutral: intervals(.neutral), zeroEigenvalues: zeros)
    }
}

private enum StepClass { case stable, neutral, unstable }

/// An interval of step sizes (lower, upper); `upper` nil for ∞.
public struct StepInterval: Sendable, Equatable, CustomStringConvertible {
    /// The lower end (0 for an interval from 0).
    public var lower: Double
    /// The upper end; nil for ∞ (the scan's limit reached).
    public var upper: Double?

    /// An interval from its ends.
    public init(lower: Double, upper: Double?) {
        self.lower = lower
        self.upper = upper
    }

    /// "0 < h < 2", "h > 1", "1 < h < 3", "every h".
    public var description: String {
        let lo = String(format: "%.6g", lower)
        switch (lower == 0, upper) {
        case (true, nil): return "every h"
        case (true, let u?): return "h < " + String(format: "%.6g", u)
        case (false, nil): return "h > " + lo
        case (false, let u?): return lo + " < h < " + String(format: "%.6g", u)
        }
    }
}

/// The step sizes at which a scheme's linearisation is stable (spectral radius < 1) and neutral
/// (= 1), as unions of intervals; see `Stability.stableSteps`.
public struct StableSet: Sendable, Equatable, CustomStringConvertible {
    /// Where r(h) < 1, in increasing order.
    public var stable: [StepInterval]
    /// Where r(h) = 1 (to 1e-13).
    public var neutral: [StepInterval]
    /// Zero eigenvalues of J set aside (see `Stability.stableSteps`).
    public var zeroEigenvalues: Int

    /// A set from its parts.
    public init(stable: [StepInterval], neutral: [StepInterval], zeroEigenvalues: Int) {
        self.stable = stable
        self.neutral = neutral
        self.zeroEigenvalues = zeroEigenvalues
    }

    /// The first stable interval when it starts at 0: `.upTo` its end, `.unbounded`; else `.none`.
    public var maxStableStep: StableStepBound {
        guard let first = stable.first, first.lower == 0 else { return .none }
        return first.upper.map { .upTo($0) } ?? .unbounded
    }

    /// "stable for h < 2; neutral for h > 2", "none (unstable for every h)".
    public var description: String {
        var parts: [String] = []
        if !stable.isEmpty { parts.append("stable for " + stable.map(\.description).joined(separator: " and ")) }
        if !neutral.isEmpty { parts.append("neutral (radius 1) for " + neutral.map(\.description).joined(separator: " and ")) }
        return parts.isEmpty ? "none (unstable for every h)" : parts.joined(separator: "; ")
    }

    /// [[lower, upper|null], …] for JSON.
    public static func json(_ intervals: [StepInterval]) -> JSON {
        .array(intervals.map { .array([.number($0.lower), $0.upper.map { .number($0) } ?? .null]) })
    }
}
