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
    for v in x { scale = max(scale, abs(v)) }
    guard scale > 0, scale.isFinite else { return scale }
    var s = 0.0
    for v in x { let t = v / scale; s += t * t }
    return scale * s.squareRoot()
}

/// ‖x − y‖₂.
@inlinable
public func distance(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "distance: length mismatch")
    var s = 0.0
    for i in 0..<x.count { let d = x[i] - y[i]; s += d * d }
    return s.squareRoot()
}

/// max |xᵢ|; NaN if any entry is NaN. Eight lanes side by side, NaNs noted apart from the
/// maxima: one `max` after another is a chain of dependent instructions, and the integrator
/// takes this of the state every step (2,003 entries for the paper's GAN).
@inlinable
public func maxAbs(_ x: [Double]) -> Double {
    x.withUnsafeBufferPointer { p in
        let n = p.count
        var m = SIMD8<Double>(repeating: 0)
        var nan = SIMDMask<SIMD8<Int64>>(repeating: false)
        var i = 0
        if let base = p.baseAddress {
            while i + 8 <= n {
                let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Double>.self)
                nan .|= v .!= v
                m = pointwiseMax(m, pointwiseMax(v, -v))   // |v|
                i += 8
            }
        }
        var r = m.max()
        if any(nan) { return .nan }
        while i < n {
            let v = p[i]
            if v.isNaN { return .nan }
            r = max(r, abs(v))
            i += 1
        }
        return r
    }
}
