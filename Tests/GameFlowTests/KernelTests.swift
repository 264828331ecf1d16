import CKernels
import Foundation
import Testing
@testable import GameFlow

/// The fused dense kernels against plain triple loops, on shapes that exercise every path:
/// partial vectors (widths not multiples of 4), several 16-column blocks, odd row counts, the
/// transposed orientation of gf_dense_tn, and every epilogue × activation — for each build of the
/// kernels this CPU runs (4-wide; 8-wide with AVX-512, whose partial vectors the widths 12, 20
/// and 24 exercise).
@Suite struct KernelTests {
    static let shapes: [(m: Int, k: Int, n: Int)] = [(1, 1, 1), (7, 3, 5), (8, 16, 16), (5, 2, 16), (9, 16, 1),
                                                     (6, 16, 2), (3, 21, 37), (4, 8, 3), (13, 11, 1), (9, 10, 2),
                                                     (9, 12, 12), (10, 20, 24), (11, 13, 20),
                                                     (31, 16, 16), (19, 7, 16)]   // 14-row blocks, 4-row and 1-row tails
    static let slope = 0.2

    static func random(_ count: Int, _ rng: inout SeededGenerator) -> [Double] { (0..<count).map { _ in rng.normal() } }

    static func act(_ a: Int32, _ v: Double) -> Double {
        switch a {
        case Int32(GF_RELU): return v > 0 ? v : 0
        case Int32(GF_LEAKY): return v > 0 ? v : slope * v
        case Int32(GF_TANH): return tanh(v)
        default: return v
        }
    }

    static func dmul(_ a: Int32, _ m: Double, _ v: Double) -> Double {
        switch a {
        case Int32(GF_RELU): return m > 0 ? v : 0
        case Int32(GF_LEAKY): return m > 0 ? v : slope * v
        case Int32(GF_TANH): return (1 - m * m) * v
        default: return v
        }
    }

    static let epilogues = [GF_EPI_NONE, GF_EPI_ACTIVATE, GF_EPI_DERIV, GF_EPI_MASKED].map { Int32($0) }
    static let activations = [GF_RELU, GF_LEAKY, GF_TANH, GF_LINEAR].map { Int32($0) }

    /// Applies the epilogue to the plain product, as the header documents it.
    static func expected(_ v: [Double], epi: Int32, act a: Int32, mask: [Double]) -> (out: [Double], out2: [Double]?) {
        switch epi {
        case Int32(GF_EPI_ACTIVATE): return (v.map { act(a, $0) }, nil)
        case Int32(GF_EPI_DERIV): return (v, zip(mask, v).map { dmul(a, $0, $1) })
        case Int32(GF_EPI_MASKED): return (zip(mask, v).map { dmul(a, $0, $1) }, nil)
        default: return (v, nil)
        }
    }

    static func close(_ a: [Double], _ b: [Double]) -> Bool {
        zip(a, b).allSatisfy { abs($0 - $1) <= 1e-13 * max(1, abs($1)) }
    }

    /// X·Wᵀ (W is n × k) or, not transposed, X·W (W read as k × n), by plain loops.
    static func product(_ x: [Double], _ w: [Double], m: Int, k: Int, n: Int, transposed: Bool) -> [Double] {
        var p = [Double](repeating: 0, count: m * n)
        for r in 0..<m { for c in 0..<n { for j in 0..<k {
            p[r * n + c] += x[r * k + j] * (transposed ? w[c * k + j] : w[j * n + c])
        } } }
        return p
    }

    /// Runs `kernel(epilogue, activation, &out, &out2)` for every epilogue × activation, with out
    /// starting as `initial`, and expects the epilogue of `v` (the product before it).
    static func expectEveryEpilogue(of v: [Double], mask: [Double], initial: [Double], _ label: String,
                                    _ kernel: (Int32, Int32, inout [Double], inout [Double]) -> Void) {
        for epi in epilogues {
            for a in activations {
                var out = initial, out2 = [Double](repeating: .nan, count: v.count)
                kernel(epi, a, &out, &out2)
                let e = expected(v, epi: epi, act: a, mask: mask)
                #expect(close(out, e.out), "\(label) epi=\(epi) act=\(a)")
                if let e2 = e.out2 { #expect(close(out2, e2), "out2 \(label) epi=\(epi) act=\(a)") }
            }
        }
    }

    @Test("out = [out +] [bias +] X·Wᵀ and X·W with every epilogue and activation match plain loops", arguments: kernelWidths)
    func rowsTimesMatrix(width: Int32) {
        withKernelWidth(width) {
            var rng = SeededGenerator(seed: 3)
            for (m, k, n) in Self.shapes {
                let x = Self.random(m * k, &rng), w = Self.random(n * k, &rng), bias = Self.random(n, &rng)
                // Masks with both signs and |a| < 1 (tanh reads 1 − a²).
                let mask = Self.random(m * n, &rng).map { 0.9 * tanh($0) }, prior = Self.random(m * n, &rng)
                var scratch = [Double](repeating: .nan, count: gf_scratch_count(k, n))
                for transposed in [true, false] {
                    let plain = Self.product(x, w, m: m, k: k, n: n, transposed: transposed)
                    let scales = Self.random(m, &rng)
                    for accumulate in [false, true] {
                        for scaled in [false, true] {
                            for withBias in transposed ? [false, true] : [false] {
                                // out = [out +] s ⊙ ([bias +] X·B)
                                var v = plain
                                for i in 0..<(m * n) {
                                    if withBias { v[i] += bias[i % n] }
                                    if scaled { v[i] *= scales[i / n] }
                                    if accumulate { v[i] += prior[i] }
                                }
                                let label = "m=\(m) k=\(k) n=\(n) T=\(transposed) acc=\(accumulate) s=\(scaled) b=\(withBias)"
                                Self.expectEveryEpilogue(of: v, mask: mask, initial: prior, label) { epi, a, out, out2 in
                                    if transposed {
                                        gf_dense_nt(m, k, n, x, w, withBias ? bias : nil, scaled ? scales : nil, accumulate ? 1 : 0,
                                                    &out, epi, a, Self.slope, mask, &out2, &scratch)
                                    } else {
                                        gf_dense_nn(m, k, n, x, w, scaled ? scales : nil, accumulate ? 1 : 0, &out, epi, a, Self.slope,
                                                    mask, &out2, &scratch)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("Pairs: out = epilogue(s ⊙ ([bias +] X·B) + X2·B2) matches plain loops (every epilogue, activation, dot path)", arguments: kernelWidths)
    func pairs(width: Int32) {
        withKernelWidth(width) {
            var rng = SeededGenerator(seed: 5)
            for (m, k, n) in Self.shapes + [(5, 2, 2), (7, 9, 2)] {
                for k2 in [k, k + 3] {
                    let x = Self.random(m * k, &rng), w = Self.random(n * k, &rng), bias = Self.random(n, &rng)
                    let x2 = Self.random(m * k2, &rng), w2 = Self.random(n * k2, &rng), scales = Self.random(m, &rng)
                    let mask = Self.random(m * n, &rng).map { 0.9 * tanh($0) }
                    var scratch = [Double](repeating: .nan, count: gf_scratch_count(max(k, k2), n))
                    for transposed in [true, false] {
                        let first = Self.product(x, w, m: m, k: k, n: n, transposed: transposed)
                        let second = Self.product(x2, w2, m: m, k: k2, n: n, transposed: transposed)
                        for scaled in [false, true] {
                            for withBias in transposed ? [false, true] : [false] {
                                // out = epilogue(s ⊙ ([bias +] X·B) + X2·B2)
                                let v = (0..<(m * n)).map { i in
                                    (scaled ? scales[i / n] : 1) * (first[i] + (withBias ? bias[i % n] : 0)) + second[i]
                                }
                                let label = "m=\(m) k=\(k) k2=\(k2) n=\(n) T=\(transposed) s=\(scaled) b=\(withBias)"
                                Self.expectEveryEpilogue(of: v, mask: mask, initial: [Double](repeating: .nan, count: m * n), label) {
                                    epi, a, out, out2 in
                                    if transposed {
                                        gf_dense_nt_pair(m, k, n, x, w, withBias ? bias : nil, scaled ? scales : nil, k2, x2, w2, &out,
                                                         epi, a, Self.slope, mask, &out2, &scratch)
                                    } else {
                                        gf_dense_nn_pair(m, k, n, x, w, scaled ? scales : nil, k2, x2, w2, &out, epi, a, Self.slope,
                                                         mask, &out2, &scratch)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("G += c·Σ s_r D_rᵀA_r and gb += c·Σ s_r D_r match plain loops in both orientations", arguments: kernelWidths)
    func transposedProducts(width: Int32) {
        withKernelWidth(width) {
            var rng = SeededGenerator(seed: 4)
            for (m, k, n) in Self.shapes + [(11, 3, 8), (2, 1, 4)] {
                let d = Self.random(m * n, &rng), a = Self.random(m * k, &rng), scales = Self.random(m, &rng)
                let g0 = Self.random(n * k, &rng), b0 = Self.random(n, &rng)
                for scaled in [false, true] {
                    var g = g0, gb = b0, scratch = [Double](repeating: .nan, count: gf_scratch_count(k, n))
                    gf_dense_tn(m, n, k, d, a, scaled ? scales : nil, 0.5, &g, &gb, &scratch)
                    var eg = g0, eb = b0
                    for i in 0..<n {
                        for r in 0..<m {
                            let s = scaled ? scales[r] : 1
                            for j in 0..<k { eg[i * k + j] += 0.5 * s * d[r * n + i] * a[r * k + j] }
                            eb[i] += 0.5 * s * d[r * n + i]
                        }
                    }
                    #expect(Self.close(g, eg), "m=\(m) k=\(k) n=\(n) scaled=\(scaled)")
                    #expect(Self.close(gb, eb), "bias m=\(m) k=\(k) n=\(n) scaled=\(scaled)")
                    var g2 = g0
                    gf_dense_tn(m, n, k, d, a, scaled ? scales : nil, 0.5, &g2, nil, &scratch)
                    #expect(Self.close(g2, eg))
                }
            }
        }
    }

    /// Every kernel, option and epilogue on `shapes` plus the paper's 512 × 16 · 16 × 16, one output
    /// array per call (inputs from a fixed seed, so two calls see the same data), by the build for
    /// S (double: gf_dense_nt, …; float: gf_dense_nt_f, …; inputs rounded to S, outputs in double).
    static func everyKernelOutput<S: NetworkScalar>(_: S.Type = Double.self) -> [[Double]] {
        var rng = SeededGenerator(seed: 8)
        var outputs: [[Double]] = []
        func r(_ count: Int) -> [S] { random(count, &rng).map { S($0) } }
        func wide(_ v: [S]) -> [Double] { v.map { Double($0) } }
        for (m, k, n) in shapes + [(512, 16, 16), (37, 16, 16)] {
            let k2 = k + 3
            let x = r(m * k), w = r(n * k), bias = r(n), scales = r(m)
            let x2 = r(m * k2), w2 = r(n * k2), prior = r(m * n)
            let mask = random(m * n, &rng).map { S(0.9 * tanh($0)) }, d = r(m * n)
            var scratch = [S](repeating: .nan, count: gf_scratch_count(k2, n))
            for epi in epilogues {
                for a in activations {
                    for scaled in [false, true] {
                        let s = scaled ? scales : nil
                        var out = prior, out2 = prior
                        Kernels.nt(m, k, n, x, w, bias, s, 1, &out, epi, a, slope, mask, &out2, &scratch)
                        Kernels.nn(m, k, n, x, w, s, 1, &out, epi, a, slope, mask, &out2, &scratch)
                        outputs += [wide(out), wide(out2)]
                        Kernels.ntPair(m, k, n, x, w, bias, s, k2, x2, w2, &out, epi, a, slope, mask, &out2, &scratch)
                        outputs += [wide(out), wide(out2)]
                        Kernels.nnPair(m, k, n, x, w, s, k2, x2, w2, &out, epi, a, slope, mask, &out2, &scratch)
                        outputs += [wide(out), wide(out2)]
                    }
                }
            }
            for scaled in [false, true] {
                var g = r(n * k), gb = r(n)
                Kernels.tn(m, n, k, d, x, scaled ? scales : nil, 0.5, &g, &gb, &scratch)
                outputs += [wide(g), wide(gb)]
            }
        }
        return outputs
    }

    @Test("The AVX-512 and AVX2 builds give bit-identical results for every kernel, option and shape, in double and in float",
          .enabled(if: kernelWidths.contains(8), "this CPU has no AVX-512"))
    func buildsAreBitIdentical() {
        for float in [false, true] {
            let four = withKernelWidth(4) { float ? Self.everyKernelOutput(Float.self) : Self.everyKernelOutput() }
            let eight = withKernelWidth(8) { float ? Self.everyKernelOutput(Float.self) : Self.everyKernelOutput() }
            #expect(four.count == eight.count)
            var differing = 0
            for (a, b) in zip(four, eight) where a.map(\.bitPattern) != b.map(\.bitPattern) { differing += 1 }
            #expect(differing == 0, "float \(float): \(differing) of \(four.count) outputs differ between the 256- and 512-bit builds")
        }
    }

    @Test("The float build equals the double build (itself checked against loops) to float's precision, every kernel, option and shape",
          arguments: kernelWidths)
    func floatBuildAgreesWithDouble(width: Int32) {
        let single = withKernelWidth(width) { Self.everyKernelOutput(Float.self) }, double = withKernelWidth(width) { Self.everyKernelOutput() }
        #expect(single.count == double.count)
        var worst = 0.0
        for (a, b) in zip(single, double) { worst = max(worst, maxRelativeDifference(a, b)) }
        // Inputs rounded to float (2⁻²⁴ relative) and sums of up to 40 products in float.
        #expect(worst < 2e-5 && worst > 1e-10, "worst \(worst)")
    }

    @Test("The multiply-add counter adds M·K·N per product and both products of a pair, on every path")
    func multiplyAddCounter() {
        var rng = SeededGenerator(seed: 6)
        for (m, k, n) in [(9, 16, 16), (7, 9, 2), (5, 3, 1), (6, 2, 12)] {   // rows, dots, thin and narrow-input paths
            let k2 = k + 1
            let x = Self.random(m * max(k, k2), &rng), w = Self.random(n * max(k, k2), &rng)
            let d = Self.random(m * n, &rng)
            var out = [Double](repeating: 0, count: m * n), g = [Double](repeating: 0, count: n * k)
            var scratch = [Double](repeating: 0, count: gf_scratch_count(k2, n))
            let linear = Int32(GF_LINEAR), none = Int32(GF_EPI_NONE)
            func counted(_ body: () -> Void) -> Int64 {
                let before = gf_multiply_adds()
                body()
                return Int64(gf_multiply_adds() - before)
            }
            let single = Int64(m * k * n), pair = Int64(m * (k + k2) * n), label = "m=\(m) k=\(k) n=\(n)"
            #expect(counted { gf_dense_nt(m, k, n, x, w, nil, nil, 0, &out, none, linear, 0, nil, nil, &scratch) } == single, "\(label)")
            #expect(counted { gf_dense_nn(m, k, n, x, w, nil, 0, &out, none, linear, 0, nil, nil, &scratch) } == single, "\(label)")
            #expect(counted { gf_dense_tn(m, n, k, d, x, nil, 1, &g, nil, &scratch) } == single, "\(label)")
            #expect(counted { gf_dense_nt_pair(m, k, n, x, w, nil, nil, k2, x, w, &out, none, linear, 0, nil, nil, &scratch) } == pair,
                    "\(label)")
            #expect(counted { gf_dense_nn_pair(m, k, n, x, w, nil, k2, x, w, &out, none, linear, 0, nil, nil, &scratch) } == pair,
                    "\(label)")
        }
    }
}
