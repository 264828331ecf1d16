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

    /// The largest h such that the steps in (0, h) are stable, found by scanning up from a tiny
    /// h by doubling until the radius reaches 1 and then bisecting to `relativeTolerance`.
    /// (The first stability interval: a region that is left and re-entered is not followed.)
    /// Uses max |R(hλ)| when the scheme has a stability function (cheap: one eigen-decomposition),
    /// the spectral radius of the step map otherwise (`useStabilityFunction: false` forces that).
    public static func largestStableStep<S: Scheme>(
        _ scheme: S, jacobian: Matrix, players: [Range<Int>],
        hMax: Double = 1e6, relativeTolerance: Double = 1e-12, useStabilityFunction: Bool = true,
        spectrum known: Spectrum? = nil
    ) throws -> StableStepBound {
        let spectrum = try known ?? Spectrum(matrix: jacobian)
        let scale = max(spectrum.spectralRadius, 1e-300)
        let hasR = useStabilityFunction && scheme.stabilityFunction(Complex(0)) != nil
        func radius(_ h: Double) throws -> Double {
            if hasR { return spectrum.maxAmplification(scheme, h: h)! }
            return try stepRadius(scheme, jacobian: jacobian, players: players, h: h)
        }
        // Scan up by doubling. At tiny h the radius is 1 to round-off (|ρ − 1| ≤ 1e-13 decides
        // nothing), so the scan goes on until the radius is decisively below 1 (stable) or
        // above it (unstable); margins below 1e-13 in ρ are not resolved.
        let margin = 1e-13
        var h = 1e-8 / scale
        var foundStable = false
        while true {
            let r = try radius(h)
            if r > 1 + margin || (foundStable && !(r < 1)) { break }
            if r < 1 - margin { foundStable = true }
            h *= 2
            if h > hMax { return foundStable ? .unbounded : .none }
        }
        guard foundStable else { return .none }
        var lo = h / 2, hi = h
        while hi - lo > relativeTolerance * hi {
            let mid = (lo + hi) / 2
            if try radius(mid) < 1 { lo = mid } else { hi = mid }
        }
        return .upTo(lo)
    }
}
