import Foundation

/// Where a GAN's real samples come from: a built-in mixture (`GaussianMixture`, d = 2) or the
/// user's points (`Dataset`, any d ≥ 1). A batch is a pure function of the generator's state.
public protocol SampleSource: Sendable {
    /// A short name for reports.
    var name: String { get }
    /// d, the dimension of a sample.
    var dimension: Int { get }
    /// `count` samples into `out` (count × d, row-major).
    func sample(_ count: Int, into out: UnsafeMutablePointer<Double>, rng: inout SeededGenerator)
}

extension GaussianMixture: SampleSource {
    public var dimension: Int { 2 }
}

/// The user's data: n points of dimension d, read from a CSV file (one point per row, numbers
/// separated by commas, an optional header line of names). A batch draws rows uniformly with
/// replacement.
public struct Dataset: SampleSource {
    public let name: String
    public let dimension: Int
    /// The points, n × d, row-major.
    public let points: [Double]
    /// n.
    public var count: Int { points.count / dimension }

    /// The points of a d-dimensional data set (n × d values, row-major).
    /// - Throws: when there are no points or a value is not finite.
    public init(name: String, dimension: Int, points: [Double]) throws {
        guard dimension >= 1, !points.isEmpty, points.count % dimension == 0 else {
            throw GameFlowError.invalidInput("data set '\(name)': no points")
        }
        guard points.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("data set '\(name)': a value is not finite") }
        self.name = name
        self.dimension = dimension
        self.points = points
    }

    /// Reads a CSV file: every row one point with the same number of values; a first row that
    /// is not all numbers is a header.
    /// - Throws: one error naming the file, the line and the problem (ragged rows, non-numbers,
    ///   non-finite values, an empty file).
    public static func load(path: String) throws -> Dataset {
        let data = try readInput(path, what: "data file", limit: 1 << 30)
        guard let text = String(data: data, encoding: .utf8) else { throw GameFlowError.invalidInput("data file '\(path)' is not UTF-8 text") }
        var values: [Double] = []
        var d: Int?
        // "\r\n" is one Character in Swift: split on it too (Windows files), and on a lone "\r".
        for (k, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.map { Double($0) }
            if numbers.contains(where: { $0 == nil }) {
                if d == nil && values.isEmpty && k == 0 { continue }   // a header
                let bad = fields[numbers.firstIndex { $0 == nil }!]
                throw GameFlowError.invalidInput("data file '\(path)', line \(k + 1): '\(bad)' is not a number")
            }
            let row = numbers.map { $0! }
            if let i = row.firstIndex(where: { !$0.isFinite }) {
                throw GameFlowError.invalidInput("data file '\(path)', line \(k + 1): value \(i + 1) is not finite")
            }
            if let d, row.count != d {
                throw GameFlowError.invalidInput("data file '\(path)', line \(k + 1): \(row.count) values, the rows above have \(d)")
            }
            d = row.count
            values += row
        }
        guard let dim = d, !values.isEmpty else { throw GameFlowError.invalidInput("data file '\(path)' has no data rows") }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return try Dataset(name: base, dimension: dim, points: values)
    }

    public func sample(_ count: Int, into out: UnsafeMutablePointer<Double>, rng: inout SeededGenerator) {
        let n = UInt64(self.count)
        points.withUnsafeBufferPointer { p in
            for r in 0..<count {
                let row = Int(rng.next() % n)
                for j in 0..<dimension { out[r * dimension + j] = p[row * dimension + j] }
            }
        }
    }
}

/// The energy distance between two samples in ℝᵈ (Székely and Rizzo):
///
///     D² = 2·E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖,
///
/// estimated with U-statistics (pairs i ≠ j within a sample) on the first `limit` points of each
/// (default 1,000; O(limit²·d) work). D² ≥ 0 in expectation and 0 iff the distributions are
/// equal; it needs no modes, so it serves any data.
public func energyDistance(_ a: [Double], _ b: [Double], dimension d: Int, limit: Int = 1000) -> Double {
    let na = min(a.count / d, limit), nb = min(b.count / d, limit)
    guard na >= 2, nb >= 2 else { return .nan }
    func dist(_ x: UnsafeBufferPointer<Double>, _ i: Int, _ y: UnsafeBufferPointer<Double>, _ j: Int) -> Double {
        var s = 0.0
        for k in 0..<d { let t = x[i * d + k] - y[j * d + k]; s += t * t }
        return s.squareRoot()
    }
    return a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            var xy = 0.0, xx = 0.0, yy = 0.0
            for i in 0..<na { for j in 0..<nb { xy += dist(x, i, y, j) } }
            for i in 0..<na { for j in (i + 1)..<na { xx += dist(x, i, x, j) } }
            for i in 0..<nb { for j in (i + 1)..<nb { yy += dist(y, i, y, j) } }
            return 2 * xy / Double(na * nb) - 2 * xx / Double(na * (na - 1)) - 2 * yy / Double(nb * (nb - 1))
        }
    }
}

extension SampleSource where Self == GaussianMixture {
    /// The paper's ring of 8 Gaussians (`GaussianMixture.ring8`), as a data source.
    public static var ring8: GaussianMixture { GaussianMixture.ring8 }
    /// The 5 × 5 grid (`GaussianMixture.grid25`).
    public static var grid25: GaussianMixture { GaussianMixture.grid25 }
    /// The 4 × 4 grid (`GaussianMixture.grid16`).
    public static var grid16: GaussianMixture { GaussianMixture.grid16 }
}
