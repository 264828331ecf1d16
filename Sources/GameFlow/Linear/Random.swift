import Foundation

/// A small, fast, seedable generator (SplitMix64 seeding xoshiro256**), so that every random
/// game and start is a pure function of its seed on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

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
        // The state lives in four locals for the loop, so that it stays in registers: as a stored
        // property (behind closures, next to stores through `out`, or passed inout to the
        // out-of-line slow path) it was loaded and stored per draw. Only the rare slow path
        // (about 2 % of draws) moves it into a generator and back: the same draws, in order.
        var (s0, s1, s2, s3) = s
        let xs = Ziggurat.shared.x, rs = Ziggurat.shared.ratio
        for k in 0..<count {
            while true {
                let bits = Self.advance(&s0, &s1, &s2, &s3)
                let i = Int(bits & 127)
                let u = 2 * (Double(bits >> 11) * 0x1p-53) - 1
                if abs(u) < rs[i] { out[k] = u * xs[i]; break }
                var slow = SeededGenerator(state: (s0, s1, s2, s3))
                let v = slow.slowNormal(u: u, layer: i, xs)
                (s0, s1, s2, s3) = slow.s
                if let v { out[k] = v; break }
            }
        }
        s = (s0, s1, s2, s3)
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
