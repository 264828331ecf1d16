import Testing
@testable import GameFlow

/// im2col and its adjoint against the element-wise definition, over strides, paddings and kernels
/// that put whole rows and columns in the padding (and kernels wider than the unpadded input),
/// in double and float, on the loops (4-wide kernels chosen) and on the AVX-512 permutes where
/// the CPU has them (`gf_im2col_f`/`_d`): the same numbers, and col2im's additions in the same
/// order, so the same bits.
@Suite struct Im2colTests {
    static let geometries: [(c: Int, h: Int, w: Int, k: Int, s: Int, p: Int)] = [
        (1, 28, 28, 4, 2, 1), (32, 14, 14, 4, 2, 1), (3, 7, 5, 3, 1, 1), (2, 6, 9, 4, 3, 2), (1, 4, 4, 5, 1, 2), (2, 5, 3, 2, 2, 0),
        (1, 3, 8, 3, 2, 3), (2, 12, 11, 3, 1, 2),
    ]

    /// (columns, x + col2im(C) from a random start) for one geometry, in S, on the build chosen.
    static func run<S: NetworkScalar>(_ index: Int, _: S.Type) throws -> (g: ConvGeometry, x: [S], cols: [S], C: [S], start: [S], back: [S], ld: Int) {
        let t = geometries[index]
        let g = try ConvGeometry(inChannels: t.c, height: t.h, width: t.w, outChannels: 1, kernel: t.k, stride: t.s, padding: t.p)
        var rng = SeededGenerator(seed: UInt64(index))
        let x = (0..<g.inputCount).map { _ in S(rng.normal()) }
        let rows = g.inChannels * g.kernel * g.kernel, ld = g.outputPositions + 3   // a wider row stride, as in a chunk
        var cols = [S](repeating: .nan, count: rows * ld)
        x.withUnsafeBufferPointer { xs in cols.withUnsafeMutableBufferPointer { g.im2col(xs.baseAddress!, $0.baseAddress!, ld: ld) } }
        let C = (0..<(rows * ld)).map { _ in S(rng.normal()) }
        let start = (0..<g.inputCount).map { _ in S(rng.normal()) }
        var back = start
        C.withUnsafeBufferPointer { cs in back.withUnsafeMutableBufferPointer { g.col2imAdd(cs.baseAddress!, $0.baseAddress!, ld: ld) } }
        return (g, x, cols, C, start, back, ld)
    }

    /// Checks one run against the definitions: columns element by element, col2im against the
    /// element-wise scatter-add in its order (c, i, j, oh, ow), to the bit.
    static func check<S: NetworkScalar>(_ index: Int, _ r: (g: ConvGeometry, x: [S], cols: [S], C: [S], start: [S], back: [S], ld: Int), _ label: String) {
        let t = geometries[index], g = r.g
        var row = 0, reference = r.start, wrong = 0
        for c in 0..<t.c {
            for i in 0..<t.k {
                for j in 0..<t.k {
                    for oh in 0..<g.outHeight {
                        for ow in 0..<g.outWidth {
                            let h = oh * t.s - t.p + i, w = ow * t.s - t.p + j, q = row * r.ld + oh * g.outWidth + ow
                            let inside = h >= 0 && h < t.h && w >= 0 && w < t.w
                            if r.cols[q] != (inside ? r.x[(c * t.h + h) * t.w + w] : 0) { wrong += 1 }
                            if inside { reference[(c * t.h + h) * t.w + w] += r.C[q] }
                        }
                    }
                    row += 1
                }
            }
        }
        #expect(wrong == 0, "\(label): \(wrong) columns differ from x[c, oh·s − p + i, ow·s − p + j]")
        #expect(r.back == reference, "\(label): col2im differs from the element-wise scatter-add")
    }

    @Test("im2col equals x[c, oh·s − p + i, ow·s − p + j] (0 outside); col2imAdd adds as the element-wise loops, to the bit; loops and AVX-512 alike, double and float",
          arguments: 0..<geometries.count)
    func againstDefinition(_ index: Int) throws {
        for width in kernelWidths {
            withKernelWidth(width) {
                Self.check(index, try! Self.run(index, Double.self), "double, width \(width)")
                Self.check(index, try! Self.run(index, Float.self), "float, width \(width)")
            }
        }
        // The adjoint identity ⟨im2col(x), C⟩ = ⟨x, col2im(C)⟩ (col2im from zero).
        let r = try Self.run(index, Double.self)
        var back = [Double](repeating: 0, count: r.g.inputCount)
        r.C.withUnsafeBufferPointer { cs in back.withUnsafeMutableBufferPointer { r.g.col2imAdd(cs.baseAddress!, $0.baseAddress!, ld: r.ld) } }
        let lhs = zip(r.cols, r.C).reduce(0.0) { $0 + ($1.0.isNaN ? 0 : $1.0 * $1.1) }, rhs = zip(r.x, back).reduce(0.0) { $0 + $1.0 * $1.1 }
        #expect(abs(lhs - rhs) <= 1e-12 * max(1, abs(lhs)))
    }
}
