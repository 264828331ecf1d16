// Small dense-vector kernels used on the hot path. They work in place on contiguous
// `[Double]` storage and never allocate.

/// y ← y + a·x.
@inlinable
public func axpy(_ a: Double, _ x: [Double], _ y: inout [Double]) {
    precondition(x.count == y.count, "axpy: length mismatch")
    x.withUnsafeBufferPointer { xs in
        y.withUnsafeMutableBufferPointer { ys in
            for i in 0..<ys.count { ys[i] += a * xs[i] }
        }
    }
}

/// y ← x + a·z.
@inlinable
public func linearSum(_ x: [Double], _ a: Double, _ z: [Double], into y: inout [Double]) {
    precondition(x.count == y.count && z.count == y.count, "linearSum: length mismatch")
    x.withUnsafeBufferPointer { xs in
        z.withUnsafeBufferPointer { zs in
            y.withUnsafeMutableBufferPointer { ys in
                for i in 0..<ys.count { ys[i] = xs[i] + a * zs[i] }
            }
        }
    }
}

/// y ← y + a·x + b·z.
@inlinable
public func axpbypz(_ a: Double, _ x: [Double], _ b: Double, _ z: [Double], _ y: inout [Double]) {
    precondition(x.count == y.count && z.count == y.count, "axpbypz: length mismatch")
    x.withUnsafeBufferPointer { xs in
        z.withUnsafeBufferPointer { zs in
            y.withUnsafeMutableBufferPointer { ys in
                for i in 0..<ys.count { ys[i] += a * xs[i] + b * zs[i] }
            }
        }
    }
}

/// Copies `source` into `destination` (same length), without reallocating.
@inlinable
public func copyValues(_ source: [Double], into destination: inout [Double]) {
    precondition(source.count == destination.count, "copyValues: length mismatch")
    source.withUnsafeBufferPointer { s in
        destination.withUnsafeMutableBufferPointer { d in
            d.baseAddress!.update(from: s.baseAddress!, count: s.count)
        }
    }
}

/// Keeps a copy of `source` in `destination`: in place once their lengths agree (the first call
/// allocates). The save before a trial step that `rejectTrial` puts back with `copyValues`.
@inlinable
public func saveValues(_ source: [Double], into destination: inout [Double]) {
    if destination.count != source.count { destination = source } else if !source.isEmpty { copyValues(source, into: &destination) }
}

/// ⟨x, y⟩.
@inlinable
public func dot(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "dot: length mismatch")
    var s = 0.0
    x.withUnsafeBufferPointer { xs in
        y.withUnsafeBufferPointer { ys in
            for i in 0..<xs.count { s += xs[i] * ys[i] }
        }
    }
    return s
}

/// Euclidean norm ‖x‖₂ (scaled, so it neither overflows nor underflows early).
@inlinable
public func norm2(_ x: [Double]) -> Double {
    var scale = 0.0
    for v in x {
        // NaN compares false with everything: without this test `max` skipped it, and a NaN
        // field had norm 0 (a run "converged" on it).
        if v.isNaN { return .nan }
        scale = max(scale, abs(v))
    }
    guard scale > 0, scale.isFinite else { return scale }
    var s = 0.0
    for v in x { let t = v / scale; s += t * t }
    return scale * s.squareRoot()
}

/// ‖x − y‖₂ (NaN when either has a NaN).
@inlinable
public func distance(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "distance: length mismatch")
    var s = 0.0
    for i in 0..<x.count { let d = x[i] - y[i]; s += d * d }
    return s.squareRoot()
}

/// max |xᵢ|; NaN if any entry is NaN. Four running maxima side by side, NaNs noted apart from
/// them: one `max` after another is a chain of dependent instructions, and the integrator takes
/// this of the state every step (2,003 entries for the paper's GAN). Plain scalar lanes: with
/// `SIMD8` and `pointwiseMax` the compiler called an out-of-line function per eight entries.
@inlinable
public func maxAbs(_ x: [Double]) -> Double {
    x.withUnsafeBufferPointer { p in
        let n = p.count
        var m0 = 0.0, m1 = 0.0, m2 = 0.0, m3 = 0.0
        var nan = false
        var i = 0
        if let b = p.baseAddress {
            while i + 4 <= n {
                let a0 = abs(b[i]), a1 = abs(b[i + 1]), a2 = abs(b[i + 2]), a3 = abs(b[i + 3])
                // a > m is false for NaN: the maxima skip NaNs, and `nan` records them.
                m0 = a0 > m0 ? a0 : m0
                m1 = a1 > m1 ? a1 : m1
                m2 = a2 > m2 ? a2 : m2
                m3 = a3 > m3 ? a3 : m3
                nan = nan || (a0.isNaN || a1.isNaN) || (a2.isNaN || a3.isNaN)
                i += 4
            }
            while i < n {
                let a = abs(b[i])
                m0 = a > m0 ? a : m0
                nan = nan || a.isNaN
                i += 1
            }
        }
        return nan ? .nan : max(max(m0, m1), max(m2, m3))
    }
}
