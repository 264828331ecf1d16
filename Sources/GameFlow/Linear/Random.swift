import Foundation

/// A small, fast, seedable generator (SplitMix64 seeding xoshiro256**), so that every random
/// game and start is a pure function of its seed on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// The generator of stream 0 for `seed` (the same seed gives the same numbers on every machine).
    public init(seed: UInt64) {
        var z = seed
        func splitmix(_ z: inout UInt64) -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var r = z
            r = (r ^ (r >> 30)) &* 0xBF58_476D_1CE4_E5B9
            r = (r ^ (r >> 27)) &* 0x94D0_49BB_1331_11EB
            return r ^ (r >> 31)
        }
        s = (splitmix(&z), splitmix(&z), splitmix(&z), splitmix(&z))
    }

    private init(state: (UInt64, UInt64, UInt64, UInt64)) { s = state }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        var (s0, s1, s2, s3) = s
        let result = Self.advance(&s0, &s1, &s2, &s3)
        s = (s0, s1, s2, s3)
        return result
    }

    /// One xoshiro256** step on the four state words: the output, and the state moved on.
    @inline(__always)
    private static func advance(_ s0: inout UInt64, _ s1: inout UInt64, _ s2: inout UInt64, _ s3: inout UInt64) -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in (0, 1).
    public mutating func uniform() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = uniform(), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Fills `count` standard normals (Marsaglia–Tsang ziggurat, 128 layers: about 98 % of draws
    /// cost one random word and a multiply; the rest use the exact wedge and tail tests).
    public mutating func fillNormals(_ out: UnsafeMutablePointer<Double>, count: Int) {
        let xs = Ziggurat.shared.x, rs = Ziggurat.shared.ratio
        var k = 0
        while true {
            let run = Self.rectangleDraws(state: s, out, from: k, count: count, xs, rs)
            s = run.state
            k = run.next
            if k == count { return }
            // Draw k fell outside its layer's rectangle (about 2 % of draws).
            if let v = slowNormal(u: run.u, layer: run.layer, xs) { out[k] = v; k += 1 }
        }
    }

    /// The ziggurat's fast path from index `k` on: draws until `count` or the first draw outside
    /// its layer's rectangle, whose (u, layer) it returns with the index it was for. Apart from
    /// `self`, with the state in four locals and no call in the loop: in `fillNormals` itself the
    /// compiler stored the state back every draw and reloaded the pointers from the stack.
    @inline(never)
    private static func rectangleDraws(state: (UInt64, UInt64, UInt64, UInt64), _ out: UnsafeMutablePointer<Double>,
                                       from k: Int, count: Int, _ xs: UnsafePointer<Double>, _ rs: UnsafePointer<Double>)
        -> (state: (UInt64, UInt64, UInt64, UInt64), next: Int, u: Double, layer: Int) {
        var (s0, s1, s2, s3) = state
        var k = k
        while k < count {
            let bits = advance(&s0, &s1, &s2, &s3)
            let i = Int(bits & 127)
            let u = 2 * (Double(bits >> 11) * 0x1p-53) - 1
            guard abs(u) < rs[i] else { return ((s0, s1, s2, s3), k, u, i) }
            out[k] = u * xs[i]
            k += 1
        }
        return ((s0, s1, s2, s3), k, 0, 0)
    }

    /// The rare ziggurat cases: the tail beyond R (layer 0) and the wedge test (nil = reject).
    @inline(never)
    private mutating func slowNormal(u: Double, layer i: Int, _ xs: UnsafePointer<Double>) -> Double? {
        if i == 0 {
            var t: Double, y: Double
            repeat {
                t = log(uniform()) / Ziggurat.r
                y = log(uniform())
            } while -2 * y < t * t
            return u < 0 ? t - Ziggurat.r : Ziggurat.r - t
        }
        let v = u * xs[i]
        let f0 = exp(-0.5 * (xs[i] * xs[i] - v * v)), f1 = exp(-0.5 * (xs[i + 1] * xs[i + 1] - v * v))
        return f1 + uniform() * (f0 - f1) < 1 ? v : nil
    }

    /// A generator for the stream keyed by (seed, index): every key gets its own independent-looking
    /// stream, so data for step k is a pure function of (seed, k).
    public init(seed: UInt64, stream: Int64) {
        self.init(seed: seed ^ (UInt64(bitPattern: stream) &* 0x9E37_79B9_7F4A_7C15 &+ 0xD1B5_4A32_D192_ED03))
    }
}


/// Tables of the 128-layer ziggurat for the standard normal (Marsaglia & Tsang 2000, in
/// Doornik's ZIGNOR form): layer edges x[i] and ratios x[i+1]/x[i]. Computed once and never
/// freed (immutable after initialisation, hence shareable).
final class Ziggurat: @unchecked Sendable {
    static let r = 3.442619855899
    static let area = 9.91256303526217e-3
    let x: UnsafePointer<Double>
    let ratio: UnsafePointer<Double>

    static let shared = Ziggurat()

    private init() {
        let x = UnsafeMutablePointer<Double>.allocate(capacity: 129)
        let ratio = UnsafeMutablePointer<Double>.allocate(capacity: 128)
        var f = exp(-0.5 * Ziggurat.r * Ziggurat.r)
        x[0] = Ziggurat.area / f
        x[1] = Ziggurat.r
        x[128] = 0
        for i in 2..<128 {
            x[i] = (-2 * log(Ziggurat.area / x[i - 1] + f)).squareRoot()
            f = exp(-0.5 * x[i] * x[i])
        }
        for i in 0..<128 { ratio[i] = x[i + 1] / x[i] }
        self.x = UnsafePointer(x)
        self.ratio = UnsafePointer(ratio)
    }
}
