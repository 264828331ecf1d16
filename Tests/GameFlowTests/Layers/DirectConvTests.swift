import CKernels
import Testing
@testable import GameFlow

/// The direct float convolution kernels (gf_conv.c: forward, input adjoint, weight adjoint)
/// against the definitions in double — y[n, o, a, b] (+)= Σ_{c,i,j} W[o, c, i, j]·x[n, c, a·s − p + i,
/// b·s − p + j] (+ bias[o]), its scatter-adjoint in x, and gW += Σ_{n,a,b} g ⊗ patches — every
/// number within the forward error bound of a float sum of its terms (γ_n·Σ|terms|), on the shapes
/// the kernels take (strides 1, 2 and 3, partial blocks and tiles, odd batches and chunks), with
/// and without accumulation and bias, repeatable to the bit; on the 4-wide kernels (im2col and
/// sgemm) the same bound holds; the shapes they decline fall back.
@Suite struct DirectConvTests {
    /// (C, H, W, C_out, k, s, p, batch): dcgan28's 32×14×14 → 64×7×7, a stride-1 5×5, a 14-wide
    /// output (two blocks of 7), a 13-wide one (a partial block) and an odd batch.
    static let shapes: [(c: Int, h: Int, w: Int, o: Int, k: Int, s: Int, p: Int, batch: Int)] = [
        (32, 14, 14, 64, 4, 2, 1, 4), (8, 7, 7, 32, 5, 1, 2, 3), (16, 28, 28, 32, 3, 2, 1, 2), (16, 13, 13, 32, 3, 1, 1, 3),
    ]

    struct Case {
        let g: ConvGeometry, batch: Int
        let x: [Float], w: [Float], b: [Float], y0: [Float]
    }

    static func make(_ t: (c: Int, h: Int, w: Int, o: Int, k: Int, s: Int, p: Int, batch: Int), seed: UInt64) throws -> Case {
        let g = try ConvGeometry(inChannels: t.c, height: t.h, width: t.w, outChannels: t.o, kernel: t.k, stride: t.s, padding: t.p)
        var rng = SeededGenerator(seed: seed)
        func draw(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.normal()) } }
        return Case(g: g, batch: t.batch, x: draw(t.batch * g.inputCount), w: draw(g.weightCount), b: draw(g.outChannels),
                    y0: draw(t.batch * g.outputCount))
    }

    /// Calls body(x index, W index, y index) for every term W[o, c, i, j]·x[n, c, a·s − p + i, b·s − p + j]
    /// of the convolution's outputs y[n, o, a, b] (terms in the padding left out): the one definition
    /// the three products are checked against.
    static func forEachTerm(_ g: ConvGeometry, batch: Int, _ body: (Int, Int, Int) -> Void) {
        for n in 0..<batch {
            for o in 0..<g.outChannels {
                for a in 0..<g.outHeight {
                    for b in 0..<g.outWidth {
                        let y = n * g.outputCount + (o * g.outHeight + a) * g.outWidth + b
                        for ch in 0..<g.inChannels {
                            for i in 0..<g.kernel {
                                for j in 0..<g.kernel {
                                    let r = a * g.stride - g.padding + i, q = b * g.stride - g.padding + j
                                    guard r >= 0, r < g.height, q >= 0, q < g.width else { continue }
                                    body(n * g.inputCount + (ch * g.height + r) * g.width + q, ((o * g.inChannels + ch) * g.kernel + i) * g.kernel + j, y)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The definition in double, and for each output the sum of its terms' magnitudes.
    static func reference(_ c: Case, accumulate: Bool, bias: Bool) -> (y: [Double], magnitude: [Double]) {
        var y = [Double](repeating: 0, count: c.batch * c.g.outputCount), m = y
        forEachTerm(c.g, batch: c.batch) { xi, wi, yi in
            let term = Double(c.w[wi]) * Double(c.x[xi])
            y[yi] += term
            m[yi] += abs(term)
        }
        for at in y.indices {
            if accumulate { y[at] += Double(c.y0[at]); m[at] += abs(Double(c.y0[at])) }
            if bias {
                let b = Double(c.b[at % c.g.outputCount / c.g.outputPositions])
                y[at] += b
                m[at] += abs(b)
            }
        }
        return (y, m)
    }

    /// `forward` in float on the kernels of this width (8: the direct kernel where it applies).
    static func forward(_ c: Case, accumulate: Bool, bias: Bool, width: Int32) -> [Float] {
        var y = c.y0
        let count = c.g.scratchCount(capacity: c.batch)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { scratch.deallocate() }
        withKernelWidth(width) {
            c.x.withUnsafeBufferPointer { x in c.w.withUnsafeBufferPointer { w in c.b.withUnsafeBufferPointer { b in
                y.withUnsafeMutableBufferPointer { yp in
                    c.g.forward(x.baseAddress!, w.baseAddress!, yp.baseAddress!, batch: c.batch, accumulate: accumulate,
                                scratch: GEMMScratch(base: scratch, count: count), bias: bias ? b.baseAddress : nil)
                }
            } } }
        }
        return y
    }

    @Test("Direct float convolution: every output within (terms + 2)·u·Σ|terms| of the definition; repeatable; the same bound on im2col + sgemm",
          arguments: 0..<shapes.count)
    func againstDefinition(_ index: Int) throws {
        let c = try Self.make(Self.shapes[index], seed: UInt64(40 + index))
        let terms = Double(c.g.inChannels * c.g.kernel * c.g.kernel + 2), u = Double(Float.ulpOfOne) / 2
        for (accumulate, bias) in [(false, false), (true, true), (false, true)] {
            let (want, magnitude) = Self.reference(c, accumulate: accumulate, bias: bias)
            for width in kernelWidths {
                let got = Self.forward(c, accumulate: accumulate, bias: bias, width: width)
                var worst = 0.0
                for k in got.indices {
                    // Sequential float summation's forward error bound, plus the output's own rounding.
                    let bound = terms * u * magnitude[k] + u * abs(want[k])
                    worst = max(worst, abs(Double(got[k]) - want[k]) / bound)
                }
                #expect(worst <= 1, "shape \(index), accumulate \(accumulate), bias \(bias), width \(width): \(worst) of the bound")
                #expect(Self.forward(c, accumulate: accumulate, bias: bias, width: width) == got)
            }
        }
        // The kernel takes these shapes where AVX-512 runs: the C call reports that it ran.
        if kernelWidths.contains(8) {
            #expect(withKernelWidth(8) { c.g.direct.forward })
            #expect(withKernelWidth(4) { !c.g.direct.forward })
            var y = c.y0
            let ran = y.withUnsafeMutableBufferPointer { yp in
                c.x.withUnsafeBufferPointer { x in c.w.withUnsafeBufferPointer { w in
                    withKernelWidth(8) {
                        gf_conv_forward_f(x.baseAddress, w.baseAddress, nil, yp.baseAddress, c.batch, 0, c.g.inChannels, c.g.height, c.g.width,
                                          c.g.outChannels, c.g.kernel, c.g.stride, c.g.padding, c.g.outHeight, c.g.outWidth, nil, 0)
                    }
                } }
            }
            #expect(ran == 0 && y == c.y0, "too little scratch: declined, nothing written")
        }
    }

    /// The input adjoint's definition in double (a scatter of every term), with the magnitudes.
    static func inputReference(_ c: Case, gradient: [Float], start: [Float], accumulate: Bool) -> (gx: [Double], magnitude: [Double]) {
        var gx = [Double](repeating: 0, count: c.batch * c.g.inputCount), m = gx
        if accumulate { for k in gx.indices { (gx[k], m[k]) = (Double(start[k]), abs(Double(start[k]))) } }
        forEachTerm(c.g, batch: c.batch) { xi, wi, yi in
            let term = Double(c.w[wi]) * Double(gradient[yi])
            gx[xi] += term
            m[xi] += abs(term)
        }
        return (gx, m)
    }

    /// (C, H, W, C_out, k, s, p, batch) for the input adjoint: dcgan28's layer, stride 1 with a 5×5
    /// kernel, k = 3 at stride 2 (residue classes with two and one taps, two blocks per class) and
    /// a 13-wide input with an odd batch.
    static let adjointShapes: [(c: Int, h: Int, w: Int, o: Int, k: Int, s: Int, p: Int, batch: Int)] = [
        (32, 14, 14, 64, 4, 2, 1, 4), (32, 7, 7, 32, 5, 1, 2, 3), (32, 28, 28, 32, 3, 2, 1, 2), (32, 13, 13, 32, 3, 1, 1, 3),
    ]

    @Test("Direct float input adjoint: every number within (terms + 1)·u·Σ|terms| of the definition's scatter; repeatable; declines as documented",
          arguments: 0..<adjointShapes.count)
    func inputAdjointAgainstDefinition(_ index: Int) throws {
        let c = try Self.make(Self.adjointShapes[index], seed: UInt64(60 + index))
        var rng = SeededGenerator(seed: UInt64(80 + index))
        let gradient = (0..<(c.batch * c.g.outputCount)).map { _ in Float(rng.normal()) }
        let start = (0..<(c.batch * c.g.inputCount)).map { _ in Float(rng.normal()) }
        let terms = Double(c.g.outChannels * c.g.kernel * c.g.kernel + 1), u = Double(Float.ulpOfOne) / 2
        let count = c.g.scratchCount(capacity: c.batch)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { scratch.deallocate() }
        func run(_ accumulate: Bool, _ width: Int32) -> [Float] {
            var gx = start
            withKernelWidth(width) {
                gradient.withUnsafeBufferPointer { gp in c.w.withUnsafeBufferPointer { w in gx.withUnsafeMutableBufferPointer { out in
                    c.g.backwardInput(gp.baseAddress!, w.baseAddress!, out.baseAddress!, batch: c.batch, accumulate: accumulate,
                                      scratch: GEMMScratch(base: scratch, count: count))
                } } }
            }
            return gx
        }
        for accumulate in [false, true] {
            let (want, magnitude) = Self.inputReference(c, gradient: gradient, start: start, accumulate: accumulate)
            for width in kernelWidths {
                let got = run(accumulate, width)
                var worst = 0.0
                for k in got.indices { worst = max(worst, abs(Double(got[k]) - want[k]) / (terms * u * magnitude[k] + u * abs(want[k]))) }
                #expect(worst <= 1, "shape \(index), accumulate \(accumulate), width \(width): \(worst) of the bound")
                #expect(run(accumulate, width) == got)
            }
        }
        if kernelWidths.contains(8) { #expect(withKernelWidth(8) { c.g.direct.inputAdjoint }) }
        #expect(withKernelWidth(4) { !c.g.direct.inputAdjoint })
    }

    /// (C, H, W, C_out, k, s, p, batch) for the weight adjoint: dcgan28's layer with a batch of 5
    /// (a chunk of 4 and one of 1), stride 1 at 3×3, and stride 3 with 128 output channels (two
    /// blocks of 64) and 75 taps (a partial tile of 6).
    static let weightShapes: [(c: Int, h: Int, w: Int, o: Int, k: Int, s: Int, p: Int, batch: Int)] = [
        (32, 14, 14, 64, 4, 2, 1, 5), (8, 9, 9, 64, 3, 1, 1, 3), (3, 16, 16, 128, 5, 3, 2, 2),
    ]

    @Test("Direct float weight adjoint: gW + Σ g ⊗ patches within (terms + 1)·u·Σ|terms| of the definition; repeatable",
          arguments: 0..<weightShapes.count)
    func weightAdjointAgainstDefinition(_ index: Int) throws {
        let c = try Self.make(Self.weightShapes[index], seed: UInt64(90 + index))
        let g = c.g
        var rng = SeededGenerator(seed: UInt64(95 + index))
        let gradient = (0..<(c.batch * g.outputCount)).map { _ in Float(rng.normal()) }
        let start = (0..<g.weightCount).map { _ in Float(rng.normal()) }
        var want = start.map(Double.init), magnitude = start.map { abs(Double($0)) }
        Self.forEachTerm(g, batch: c.batch) { xi, wi, yi in
            let term = Double(gradient[yi]) * Double(c.x[xi])
            want[wi] += term
            magnitude[wi] += abs(term)
        }
        let terms = Double(c.batch * g.outputPositions + 1), u = Double(Float.ulpOfOne) / 2
        let count = g.scratchCount(capacity: c.batch)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { scratch.deallocate() }
        func run(_ width: Int32) -> [Float] {
            var gw = start
            withKernelWidth(width) {
                c.x.withUnsafeBufferPointer { x in gradient.withUnsafeBufferPointer { gp in gw.withUnsafeMutableBufferPointer { out in
                    g.backwardWeights(input: x.baseAddress!, outputGradient: gp.baseAddress!, out.baseAddress!, batch: c.batch,
                                      scratch: GEMMScratch(base: scratch, count: count))
                } } }
            }
            return gw
        }
        for width in kernelWidths {
            let got = run(width)
            var worst = 0.0
            for k in got.indices { worst = max(worst, abs(Double(got[k]) - want[k]) / (terms * u * magnitude[k] + u * abs(want[k]))) }
            #expect(worst <= 1, "shape \(index), width \(width): \(worst) of the bound")
            #expect(run(width) == got)
        }
        if kernelWidths.contains(8) { #expect(withKernelWidth(8) { g.direct.weightAdjoint }) }
        #expect(withKernelWidth(4) { !g.direct.weightAdjoint })
    }

    @Test("Direct float kernels decline what they do not take: too few taps, channels not a multiple of 32, stride 3, a wasteful row")
    func declines() throws {
        for t in [(1, 28, 28, 32, 4, 2, 1), (32, 14, 14, 48, 4, 2, 1), (32, 15, 15, 64, 3, 3, 0), (16, 12, 12, 32, 3, 1, 1)] {
            let g = try ConvGeometry(inChannels: t.0, height: t.1, width: t.2, outChannels: t.3, kernel: t.4, stride: t.5, padding: t.6)
            #expect(gf_conv_forward_applies_f(g.inChannels, g.outChannels, g.kernel, g.stride, g.outWidth) == 0, "\(t)")
            #expect(!g.direct.forward)
        }
        // The input adjoint: input channels not a multiple of 32, too few taps per class (C_out·⌈k/s⌉² < 128), stride 3, a wasteful row.
        for t in [(16, 14, 14, 64, 4, 2, 1), (32, 14, 14, 16, 4, 2, 1), (32, 15, 15, 64, 3, 3, 0), (32, 12, 12, 32, 3, 1, 1)] {
            let g = try ConvGeometry(inChannels: t.0, height: t.1, width: t.2, outChannels: t.3, kernel: t.4, stride: t.5, padding: t.6)
            #expect(!g.direct.inputAdjoint, "\(t)")
        }
        // The weight adjoint: output channels not a multiple of 64, fewer than 16 output positions.
        for t in [(32, 14, 14, 32, 4, 2, 1), (32, 6, 6, 64, 4, 2, 1)] {
            let g = try ConvGeometry(inChannels: t.0, height: t.1, width: t.2, outChannels: t.3, kernel: t.4, stride: t.5, padding: t.6)
            #expect(!g.direct.weightAdjoint, "\(t)")
        }
    }
}
