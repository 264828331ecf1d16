import Testing
@testable import GameFlow

/// im2col and its adjoint against the element-wise definition, over strides, paddings and kernels
/// that put whole rows and columns in the padding (and kernels wider than the unpadded input).
@Suite struct Im2colTests {
    static let geometries: [(c: Int, h: Int, w: Int, k: Int, s: Int, p: Int)] = [
        (1, 28, 28, 4, 2, 1), (3, 7, 5, 3, 1, 1), (2, 6, 9, 4, 3, 2), (1, 4, 4, 5, 1, 2), (2, 5, 3, 2, 2, 0), (1, 3, 8, 3, 2, 3),
    ]

    @Test("im2col equals x[c, oh·s − p + i, ow·s − p + j] (0 outside) and col2imAdd is its exact adjoint", arguments: 0..<6)
    func againstDefinition(_ index: Int) throws {
        let t = Self.geometries[index]
        let g = try ConvGeometry(inChannels: t.c, height: t.h, width: t.w, outChannels: 1, kernel: t.k, stride: t.s, padding: t.p)
        var rng = SeededGenerator(seed: UInt64(index))
        let x = (0..<g.inputCount).map { _ in rng.normal() }
        let rows = g.inChannels * g.kernel * g.kernel, P = g.outputPositions, ld = P + 3   // a wider row stride, as in a chunk
        var cols = [Double](repeating: .nan, count: rows * ld)
        x.withUnsafeBufferPointer { xs in cols.withUnsafeMutableBufferPointer { g.im2col(xs.baseAddress!, $0.baseAddress!, ld: ld) } }
        var row = 0
        for c in 0..<t.c {
            for i in 0..<t.k {
                for j in 0..<t.k {
                    for oh in 0..<g.outHeight {
                        for ow in 0..<g.outWidth {
                            let h = oh * t.s - t.p + i, w = ow * t.s - t.p + j
                            let expected = (h >= 0 && h < t.h && w >= 0 && w < t.w) ? x[(c * t.h + h) * t.w + w] : 0
                            #expect(cols[row * ld + oh * g.outWidth + ow] == expected)
                        }
                    }
                    row += 1
                }
            }
        }
        // ⟨im2col(x), C⟩ = ⟨x, col2im(C)⟩, and col2im adds into what x held.
        let C = (0..<(rows * ld)).map { _ in rng.normal() }
        var back = [Double](repeating: 0, count: g.inputCount)
        C.withUnsafeBufferPointer { cs in back.withUnsafeMutableBufferPointer { g.col2imAdd(cs.baseAddress!, $0.baseAddress!, ld: ld) } }
        var lhs = 0.0, rhs = 0.0
        for r in 0..<rows { for q in 0..<P { lhs += cols[r * ld + q] * C[r * ld + q] } }
        for i in 0..<x.count { rhs += x[i] * back[i] }
        #expect(abs(lhs - rhs) <= 1e-12 * max(1, abs(lhs)))
        var twice = back
        C.withUnsafeBufferPointer { cs in twice.withUnsafeMutableBufferPointer { g.col2imAdd(cs.baseAddress!, $0.baseAddress!, ld: ld) } }
        #expect(zip(twice, back).allSatisfy { abs($0 - 2 * $1) <= 1e-12 * max(1, abs($1)) })
    }
}
