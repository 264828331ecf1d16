import Foundation

/// A 2-D mixture of equally weighted isotropic Gaussians: the data sets of the GAN
/// mode-coverage experiments.
public struct GaussianMixture: Sendable, Equatable {
    /// The name ("ring8", "grid25", "grid16").
    public let name: String
    /// Mode centres.
    public let means: [(Double, Double)]
    /// Standard deviation of every component.
    public let sigma: Double

    /// Same name, σ and means.
    public static func == (a: GaussianMixture, b: GaussianMixture) -> Bool {
        a.name == b.name && a.sigma == b.sigma && a.means.count == b.means.count
            && zip(a.means, b.means).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// A mixture of equal-weight isotropic Gaussians.
    public init(name: String, means: [(Double, Double)], sigma: Double) {
        self.name = name
        self.means = means
        self.sigma = sigma
    }

    /// 8 modes evenly on the unit circle, σ = 0.01 ("The Numerics of GANs", §5).
    public static let ring8 = GaussianMixture(
        name: "ring8",
        means: (0..<8).map { (k: Int) -> (Double, Double) in
            let a: Double = 2 * Double.pi * Double(k) / 8
            return (cos(a), sin(a))
        }, sigma: 0.01)

    /// 25 modes on the 5×5 grid {−4, −2, 0, 2, 4}², σ = 0.05 (VEEGAN / PacGAN's grid).
    public static let grid25 = GaussianMixture(
        name: "grid25",
        means: gridMeans(side: 5, spacing: 2), sigma: 0.05)

    /// 16 modes on the 4×4 grid {−1.5, −0.5, 0.5, 1.5}², σ = 0.02 (the ODE-GAN colab).
    public static let grid16 = GaussianMixture(
        name: "grid16",
        means: gridMeans(side: 4, spacing: 1), sigma: 0.02)

    /// side × side means centred on the origin with the given spacing.
    static func gridMeans(side: Int, spacing: Double) -> [(Double, Double)] {
        let offset: Double = spacing * Double(side - 1) / 2
        var means: [(Double, Double)] = []
        for i in 0..<side {
            for j in 0..<side {
                let x: Double = spacing * Double(i) - offset
                let y: Double = spacing * Double(j) - offset
                means.append((x, y))
            }
        }
        return means
    }

    /// A built-in mixture by name.
    /// - Throws: for an unknown name (the error lists the known ones).
    public static func named(_ s: String) throws -> GaussianMixture {
        switch s {
        case "ring8": return .ring8
        case "grid25": return .grid25
        case "grid16": return .grid16
        default: throw GameFlowError.invalidInput("unknown data set '\(s)' (expected ring8, grid25 or grid16)")
        }
    }

    /// `count` samples into `out` (count × 2, row-major). Row r comes from mode r mod K (balanced
    /// batches, as the reference code), plus N(0, σ²) noise.
    public func sample(_ count: Int, into out: UnsafeMutablePointer<Double>, rng: inout SeededGenerator) {
        rng.fillNormals(out, count: 2 * count)
        for r in 0..<count {
            let m = means[r % means.count]
            out[2 * r] = m.0 + sigma * out[2 * r]
            out[2 * r + 1] = m.1 + sigma * out[2 * r + 1]
        }
    }

    /// Index of the nearest mode and the distance to it.
    @inlinable
    public func nearestMode(_ x: Double, _ y: Double) -> (Int, Double) {
        var best = 0, bestD = Double.infinity
        for (k, m) in means.enumerated() {
            let dx = x - m.0, dy = y - m.1, d = dx * dx + dy * dy
            if d < bestD { bestD = d; best = k }
        }
        return (best, bestD.squareRoot())
    }
}


/// Mode-coverage metrics of generated samples against a mixture (VEEGAN/PacGAN conventions).
public struct ModeCoverage: Sendable {
    /// Modes holding at least 1 % of all samples within 3σ (nearest-mode assignment).
    public let modesCaptured: Int
    /// Fraction of samples within 3σ of their nearest mode.
    public let highQualityFraction: Double
    /// KL(histogram of nearest modes ‖ uniform over the modes), in nats (0 = perfectly balanced).
    public let klModes: Double
    /// Samples per mode within 3σ.
    public let countsWithin: [Int]

    /// Counts the samples near each mode.
    /// - Parameters:
    ///   - samples: n × 2, row-major.
    ///   - mixture: the target whose modes are counted.
    public init(samples: [Double], mixture: GaussianMixture) {
        let n = samples.count / 2, k = mixture.means.count
        var within = [Int](repeating: 0, count: k), nearest = [Int](repeating: 0, count: k)
        var hq = 0
        for r in 0..<n {
            let (m, d) = mixture.nearestMode(samples[2 * r], samples[2 * r + 1])
            guard d.isFinite else { continue }
            nearest[m] += 1
            if d <= 3 * mixture.sigma { within[m] += 1; hq += 1 }
        }
        countsWithin = within
        modesCaptured = within.filter { Double($0) >= 0.01 * Double(n) }.count
        highQualityFraction = n > 0 ? Double(hq) / Double(n) : 0
        let total = Double(nearest.reduce(0, +))
        var kl = 0.0
        if total > 0 {
            for c in nearest where c > 0 {
                let p = Double(c) / total
                kl += p * log(p * Double(k))
            }
        } else {
            kl = .infinity
        }
        klModes = kl
    }
}
