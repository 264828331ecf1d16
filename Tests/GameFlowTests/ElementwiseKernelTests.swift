import CKernels
import Foundation
import Testing
@testable import GameFlow

/// The AVX-512 element-wise passes (gf_elementwise.c) against the Swift loops they replace
/// (which run on the 4-wide kernel setting): the same numbers, to the bit.
@Suite struct ElementwiseKernelTests {
    /// Values with the select's edge cases: zeros of both signs, NaN, infinities, subnormals.
    static func values(_ n: Int, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        let tiny = Double.leastNormalMagnitude / 4     // subnormal
        let special: [Double] = [0, -0.0, .nan, .infinity, -.infinity, tiny, -tiny]
        return (0..<n).map { k in k < special.count ? special[k] : rng.normal() * 3 }
    }

    static func same<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0 == $1 ? $0.sign == $1.sign : ($0.isNaN && $1.isNaN) }
    }

    @Test("ReLU and leaky ReLU, their tangents, in float and double: the AVX-512 select gives the loop's numbers",
          arguments: [Pointwise.relu, .leakyRelu(slope: 0.2)])
    func selects(activation: Pointwise) throws {
        try #require(kernelWidths.contains(8), "no AVX-512 here: the loop is the only path")
        for n in [1, 15, 16, 37] {
            let x = Self.values(n, seed: UInt64(n)), r = Self.values(n, seed: UInt64(n) + 99).reversed().map { $0 }
            func run<S: NetworkScalar>(_ type: S.Type, width: Int32) -> (y: [S], t: [S]) {
                let xs = x.map { S($0) }, rs = r.map { S($0) }
                var y = [S](repeating: 0, count: n), t = y
                withKernelWidth(width) {
                    xs.withUnsafeBufferPointer { xp in
                        rs.withUnsafeBufferPointer { rp in
                            y.withUnsafeMutableBufferPointer { activation.apply(xp.baseAddress!, $0.baseAddress!, count: n) }
                            t.withUnsafeMutableBufferPointer { activation.tangent(xp.baseAddress!, rp.baseAddress!, $0.baseAddress!, count: n) }
                        }
                    }
                }
                return (y, t)
            }
            let (f4, f8) = (run(Float.self, width: 4), run(Float.self, width: 8))
            #expect(Self.same(f4.y, f8.y) && Self.same(f4.t, f8.t), "float, n = \(n)")
            let (d4, d8) = (run(Double.self, width: 4), run(Double.self, width: 8))
            #expect(Self.same(d4.y, d8.y) && Self.same(d4.t, d8.t), "double, n = \(n)")
            // And the definition: x > 0 ? r : 0 (ReLU) or 0.2·r (leaky); NaN is not > 0.
            #expect(Self.same(d8.t, zip(x, r).map { $0 > 0 ? $1 : (activation == .relu ? 0 : 0.2 * $1) }), "n = \(n)")
        }
    }

    @Test("RMSProp's update in AVX-512 is the Swift loop's to the bit (13 coordinates, a tail; 40 steps)")
    func rmsprop() throws {
        try #require(kernelWidths.contains(8), "no AVX-512 here: the loop is the only path")
        let game = try AffineGame(M: Matrix(rows: 13, columns: 13, storage: Self.values(169, seed: 5).map { $0.isFinite ? $0 : 0.5 }),
                                  b: [Double](repeating: 0.1, count: 13), playerSizes: [6, 7])
        let x0 = (0..<13).map { Double($0) / 7 - 0.9 }
        let scheme = Preconditioned(SimGA(), method: .rmsprop(decay: 0.9, epsilon: 1e-10, initial: 1))
        let loop = try withKernelWidth(4) { try integrate(game, scheme, from: x0, h: 0.01, steps: 40, bound: .infinity) }
        let vector = try withKernelWidth(8) { try integrate(game, scheme, from: x0, h: 0.01, steps: 40, bound: .infinity) }
        #expect(vector.finalState == loop.finalState)
        // The loop is RMSProp itself: one step by hand from x0.
        var v = [Double](repeating: 0, count: 13)
        game.evaluate(at: x0, step: 0, into: &v)
        let byHand = (0..<13).map { i -> Double in
            let d = ((x0[i] + 0.01 * v[i]) - x0[i]) / 0.01
            return x0[i] + 0.01 * d / (0.9 * 1 + (1 - 0.9) * d * d + 1e-10).squareRoot()
        }
        let one = try withKernelWidth(8) { try integrate(game, scheme, from: x0, h: 0.01, steps: 1, bound: .infinity) }
        #expect(one.finalState == byHand)
    }
}
