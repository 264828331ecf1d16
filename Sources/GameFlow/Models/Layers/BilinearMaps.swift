import CGSL
import CKernels

/// Scratch space for the products: a pointer and how many numbers it holds.
public struct GEMMScratch<Scalar> {
    public let base: UnsafeMutablePointer<Scalar>
    public let count: Int
}

/// The three products of a bilinear layer map z = B(x, W) (+ b), on a batch of samples stored
/// one after another (each channels-first, PyTorch's NCHW): `apply` x ↦ B(x, W), its adjoint
/// in the input `adjointInput` g ↦ Bᵀₓ(g, W) and its adjoint in the weights `adjointWeights`
/// (x, g) ↦ Bᵀ_W(x, g) (plus the bias's, the sum of g per output channel). A `Network` derives
/// the forward pass, the JVP, the VJP and the R-backward of every layer from these three.
///
/// Dense, convolution and transposed convolution are the three maps; transposed convolution is
/// convolution with `apply` and `adjointInput` exchanged (it *is* the adjoint of a convolution
/// in its input, which is how PyTorch defines `ConvTranspose2d`).
public enum BilinearMap: Sendable, Equatable, Hashable {
    /// z = x·Wᵀ + b, W (out, in) row-major (`torch.nn.Linear`).
    case dense(inputs: Int, outputs: Int)
    /// `torch.nn.Conv2d(in, out, kernel, stride, padding)`, W (out, in, k, k).
    case conv(ConvGeometry)
    /// `torch.nn.ConvTranspose2d(in, out, kernel, stride, padding, output_padding)`, W (in, out, k, k):
    /// the adjoint in the input of the convolution `geometry` (from the deconv's output to its input).
    case deconv(ConvGeometry)

    /// Numbers per input sample.
    public var inputCount: Int {
        switch self {
        case .dense(let i, _): return i
        case .conv(let g): return g.inputCount
        case .deconv(let g): return g.outputCount
        }
    }

    /// Numbers per output sample.
    public var outputCount: Int {
        switch self {
        case .dense(_, let o): return o
        case .conv(let g): return g.outputCount
        case .deconv(let g): return g.inputCount
        }
    }

    /// Output channels (the bias's length).
    public var biasCount: Int {
        switch self {
        case .dense(_, let o): return o
        case .conv(let g): return g.outChannels
        case .deconv(let g): return g.inChannels
        }
    }

    /// The weight's length.
    public var weightCount: Int {
        switch self {
        case .dense(let i, let o): return i * o
        case .conv(let g), .deconv(let g): return g.weightCount
        }
    }

    /// Multiply-adds of one `apply` (the same for each adjoint) per sample; each product adds its
    /// count to the kernels' per-thread counter (`gf_multiply_adds`).
    public var multiplyAdds: Int {
        switch self {
        case .dense(let i, let o): return i * o
        case .conv(let g), .deconv(let g): return g.weightCount * g.outputPositions
        }
    }

    /// GEMMScratch numbers the products of batches up to `capacity` use (convolutions: the im2col
    /// columns and the channel-major output of a chunk of samples, at most 16 MB).
    func scratchCount(capacity: Int) -> Int {
        switch self {
        case .dense: return 0
        case .conv(let g), .deconv(let g): return g.scratchCount(capacity: capacity)
        }
    }

    /// The fan-in of PyTorch's default initialisation (dense: in; conv: in·k²; deconv: out·k²).
    var fanIn: Int {
        switch self {
        case .dense(let i, _): return i
        case .conv(let g): return g.inChannels * g.kernel * g.kernel
        case .deconv(let g): return g.inChannels * g.kernel * g.kernel   // the conv's input channels = the deconv's outputs
        }
    }

    /// y = B(x, W) + b (b may be nil), or y += B(x, W) (+ b) with `accumulate`.
    func apply<S: NetworkScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, bias: UnsafePointer<S>?, _ y: UnsafeMutablePointer<S>,
                                 batch: Int, accumulate: Bool, scratch: GEMMScratch<S>) {
        gf_count_multiply_adds(Int64(batch * multiplyAdds))
        switch self {
        case let .dense(i, o):
            if !accumulate {
                if let b = bias { for r in 0..<batch { (y + r * o).update(from: b, count: o) } } else { y.update(repeating: 0, count: batch * o) }
            } else if let b = bias {
                for r in 0..<batch { for j in 0..<o { y[r * o + j] += b[j] } }
            }
            S.gemm(false, true, batch, o, i, 1, x, i, w, i, 1, y, o)
        case .conv(let g):
            g.forward(x, w, y, batch: batch, accumulate: accumulate, scratch: scratch, bias: bias)
        case .deconv(let g):
            g.backwardInput(x, w, y, batch: batch, accumulate: accumulate, scratch: scratch)
            if let b = bias { g.addBias(b, to: y, channels: g.inChannels, positions: g.inputPositions, batch: batch) }
        }
    }

    /// gx = Bᵀₓ(g, W), or gx += … with `accumulate`.
    func adjointInput<S: NetworkScalar>(_ g: UnsafePointer<S>, _ w: UnsafePointer<S>, _ gx: UnsafeMutablePointer<S>, batch: Int,
                                        accumulate: Bool, scratch: GEMMScratch<S>) {
        gf_count_multiply_adds(Int64(batch * multiplyAdds))
        switch self {
        case let .dense(i, o):
            S.gemm(false, false, batch, i, o, 1, g, o, w, i, accumulate ? 1 : 0, gx, i)
        case .conv(let geometry):
            geometry.backwardInput(g, w, gx, batch: batch, accumulate: accumulate, scratch: scratch)
        case .deconv(let geometry):
            geometry.forward(g, w, gx, batch: batch, accumulate: accumulate, scratch: scratch)
        }
    }

    /// gW += Bᵀ_W(x, g) and, when `gb` is given, gb += the sums of g per output channel.
    func adjointWeights<S: NetworkScalar>(_ x: UnsafePointer<S>, _ g: UnsafePointer<S>, _ gw: UnsafeMutablePointer<S>,
                                          _ gb: UnsafeMutablePointer<S>?, batch: Int, scratch: GEMMScratch<S>) {
        gf_count_multiply_adds(Int64(batch * multiplyAdds))
        switch self {
        case let .dense(i, o):
            S.gemm(true, false, o, i, batch, 1, g, o, x, i, 1, gw, i)
            if let gb { for r in 0..<batch { for j in 0..<o { gb[j] += g[r * o + j] } } }
        case .conv(let geometry):
            geometry.backwardWeights(input: x, outputGradient: g, gw, batch: batch, scratch: scratch)
            if let gb { geometry.sumBias(g, into: gb, channels: geometry.outChannels, positions: geometry.outputPositions, batch: batch) }
        case .deconv(let geometry):
            // ⟨g, Bᵀₓ_conv(x, W)⟩ = ⟨B_conv(g, W), x⟩: the conv's weight adjoint with input g and output gradient x.
            geometry.backwardWeights(input: g, outputGradient: x, gw, batch: batch, scratch: scratch)
            if let gb { geometry.sumBias(g, into: gb, channels: geometry.inChannels, positions: geometry.inputPositions, batch: batch) }
        }
    }
}

/// A 2-D convolution's arithmetic, PyTorch's (`torch.nn.Conv2d`, dilation 1, groups 1): input
/// (C_in, H, W), square kernel k, stride s, zero padding p on every side, output
/// (C_out, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1), weight (C_out, C_in, k, k) row-major.
/// Products by im2col (one sample's patches as a (C_in·k²) × (H_o·W_o) matrix) and GEMM.
public struct ConvGeometry: Sendable, Equatable, Hashable {
    public let inChannels: Int, height: Int, width: Int
    public let outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let outHeight: Int, outWidth: Int

    /// A convolution of (inChannels, height, width) inputs.
    /// - Throws: when a size is not positive or the kernel does not fit the padded input.
    public init(inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int) throws {
        guard inChannels >= 1, height >= 1, width >= 1, outChannels >= 1, kernel >= 1, stride >= 1, padding >= 0 else {
            throw GameFlowError.invalidInput("a convolution needs positive channels, sizes, kernel and stride and padding ≥ 0")
        }
        guard height + 2 * padding >= kernel, width + 2 * padding >= kernel else {
            throw GameFlowError.invalidInput("kernel \(kernel) does not fit a \(height)×\(width) input with padding \(padding)")
        }
        (self.inChannels, self.height, self.width) = (inChannels, height, width)
        (self.outChannels, self.kernel, self.stride, self.padding) = (outChannels, kernel, stride, padding)
        outHeight = (height + 2 * padding - kernel) / stride + 1
        outWidth = (width + 2 * padding - kernel) / stride + 1
    }

    public var inputPositions: Int { height * width }
    public var outputPositions: Int { outHeight * outWidth }
    public var inputCount: Int { inChannels * inputPositions }
    public var outputCount: Int { outChannels * outputPositions }
    /// C_in·k², the rows of a sample's column matrix.
    var patch: Int { inChannels * kernel * kernel }
    public var weightCount: Int { outChannels * patch }
    /// Numbers one sample needs in a chunk: its columns (C_in·k² × P) and its channel-major output (C_out × P).
    var perSample: Int { (patch + outChannels) * outputPositions }

    /// GEMMScratch for chunks of up to `capacity` samples, about `chunkNumbers` numbers, and at
    /// least what the direct float kernel needs where it applies.
    func scratchCount(capacity: Int) -> Int {
        var count = max(1, min(capacity, ConvGeometry.chunkNumbers / perSample)) * perSample
        if appliesDirectForward {
            count = max(count, gf_conv_forward_scratch_f(inChannels, height, width, outChannels, kernel, stride, padding, outHeight, outWidth))
        }
        if appliesDirectInputAdjoint {
            count = max(count, gf_conv_input_adjoint_scratch_f(inChannels, height, width, outChannels, kernel, stride, padding))
        }
        if appliesDirectWeightAdjoint {
            count = max(count, gf_conv_weight_adjoint_scratch_f(inChannels, height, width, outChannels, kernel, stride, padding, outHeight,
                                                                outWidth))
        }
        return count
    }

    private var appliesDirectForward: Bool { gf_conv_forward_applies_f(inChannels, outChannels, kernel, stride, outWidth) != 0 }
    private var appliesDirectInputAdjoint: Bool {
        gf_conv_input_adjoint_applies_f(inChannels, width, outChannels, kernel, stride, padding) != 0
    }

    private var appliesDirectWeightAdjoint: Bool { gf_conv_weight_adjoint_applies_f(outChannels, outHeight, outWidth) != 0 }

    /// Whether `forward`, `backwardInput` and `backwardWeights` run on the direct float kernels on
    /// this thread (AVX-512 and the shape; `scratchCount` leaves them room).
    var direct: (forward: Bool, inputAdjoint: Bool, weightAdjoint: Bool) {
        let w8 = gf_kernels_width() == 8
        return (w8 && appliesDirectForward, w8 && appliesDirectInputAdjoint, w8 && appliesDirectWeightAdjoint)
    }

    /// A chunk's columns and output: 131,072 numbers (1 MB), about one core's L2 cache, so a
    /// chunk's im2col matrix is still in cache when its GEMM reads it. Measured on dcgan28
    /// (`gameflow-bench gan-step --architecture dcgan28 --batch 64`, AMD EPYC, one core): 16 MB
    /// chunks (the whole batch in one GEMM) took 75–82 ms per SimGA step, 1 MB chunks 72–76 ms,
    /// 256 KB 76 ms.
    static let chunkNumbers = 131_072

    /// Samples per chunk with this scratch.
    func chunk<S>(_ batch: Int, _ scratch: GEMMScratch<S>) -> Int {
        precondition(scratch.count >= perSample, "convolution scratch holds \(scratch.count) numbers, one sample needs \(perSample)")
        return max(1, min(batch, scratch.count / perSample))
    }

    /// The output positions o ∈ [lo, hi) whose input index o·s − p + t lies in [0, size): the
    /// branch-free middle of a row in `im2col` and `col2imAdd`.
    @inline(__always)
    private func validRange(offset t: Int, size: Int, outputs: Int) -> (lo: Int, hi: Int) {
        let a = padding - t                         // o·s ≥ a
        let lo = a <= 0 ? 0 : (a + stride - 1) / stride
        let b = size - 1 + padding - t              // o·s ≤ b
        let hi = b < 0 ? 0 : b / stride + 1
        return (min(lo, outputs), max(min(hi, outputs), min(lo, outputs)))
    }

    /// One sample's columns at `cols` with row stride `ld`: cols[(c·k + i)·k + j][oh·W_o + ow] =
    /// x[c, oh·s − p + i, ow·s − p + j] (0 outside). A chunk's samples sit side by side. The rows
    /// and columns that fall in the padding are found once per (i, j), not tested per element.
    func im2col<S: NetworkScalar>(_ x: UnsafePointer<S>, _ cols: UnsafeMutablePointer<S>, ld: Int) {
        if vectorIm2col(x, cols, ld: ld) { return }
        let k = kernel
        var row = 0
        for c in 0..<inChannels {
            let xc = x + c * inputPositions
            for i in 0..<k {
                let (ohLo, ohHi) = validRange(offset: i, size: height, outputs: outHeight)
                for j in 0..<k {
                    let (owLo, owHi) = validRange(offset: j, size: width, outputs: outWidth)
                    let out = cols + row * ld
                    if ohLo > 0 { out.update(repeating: 0, count: ohLo * outWidth) }
                    for oh in ohLo..<ohHi {
                        let o = out + oh * outWidth
                        let xr = xc + (oh * stride - padding + i) * width + (j - padding)
                        if owLo > 0 { o.update(repeating: 0, count: owLo) }
                        if stride == 1 {
                            (o + owLo).update(from: xr + owLo, count: owHi - owLo)
                        } else {
                            for ow in owLo..<owHi { o[ow] = xr[ow * stride] }
                        }
                        if owHi < outWidth { (o + owHi).update(repeating: 0, count: outWidth - owHi) }
                    }
                    if ohHi < outHeight { (out + ohHi * outWidth).update(repeating: 0, count: (outHeight - ohHi) * outWidth) }
                    row += 1
                }
            }
        }
    }

    /// The adjoint of `im2col`: x += col2im(cols) (scatter-add), row stride `ld`; the same
    /// additions in the same order as element-wise tests would make.
    func col2imAdd<S: NetworkScalar>(_ cols: UnsafePointer<S>, _ x: UnsafeMutablePointer<S>, ld: Int) {
        if vectorCol2imAdd(cols, x, ld: ld) { return }
        let k = kernel
        var row = 0
        for c in 0..<inChannels {
            let xc = x + c * inputPositions
            for i in 0..<k {
                let (ohLo, ohHi) = validRange(offset: i, size: height, outputs: outHeight)
                for j in 0..<k {
                    let (owLo, owHi) = validRange(offset: j, size: width, outputs: outWidth)
                    let src = cols + row * ld
                    for oh in ohLo..<ohHi {
                        let xr = xc + (oh * stride - padding + i) * width + (j - padding), s = src + oh * outWidth
                        for ow in owLo..<owHi { xr[ow * stride] += s[ow] }
                    }
                    row += 1
                }
            }
        }
    }

    /// `im2col` by AVX-512 permutes (`gf_im2col_f`/`_d`: the same numbers) where the CPU and the
    /// shape allow; false: the loops must run.
    @inline(__always)
    private func vectorIm2col<S: NetworkScalar>(_ x: UnsafePointer<S>, _ cols: UnsafeMutablePointer<S>, ld: Int) -> Bool {
        if S.self == Float.self {
            return gf_im2col_f(Kernels.f(x), Kernels.mf(cols), ld, inChannels, height, width, kernel, stride, padding, outHeight, outWidth) != 0
        }
        return gf_im2col_d(Kernels.d(x), Kernels.m(cols), ld, inChannels, height, width, kernel, stride, padding, outHeight, outWidth) != 0
    }

    /// `col2imAdd` by AVX-512 permutes (`gf_col2im_add_f`/`_d`: the same additions in the same
    /// order) where the CPU and the shape allow; false: the loops must run.
    @inline(__always)
    private func vectorCol2imAdd<S: NetworkScalar>(_ cols: UnsafePointer<S>, _ x: UnsafeMutablePointer<S>, ld: Int) -> Bool {
        if S.self == Float.self {
            return gf_col2im_add_f(Kernels.f(cols), Kernels.mf(x), ld, inChannels, height, width, kernel, stride, padding, outHeight, outWidth) != 0
        }
        return gf_col2im_add_d(Kernels.d(cols), Kernels.m(x), ld, inChannels, height, width, kernel, stride, padding, outHeight, outWidth) != 0
    }

    /// Calls `body(first sample, samples)` for each chunk of the batch (no array of chunks: these
    /// run several times per step).
    @inline(__always)
    private func forEachChunk<S>(_ batch: Int, _ scratch: GEMMScratch<S>, _ body: (Int, Int) -> Void) {
        let size = chunk(batch, scratch)
        var start = 0
        while start < batch {
            body(start, min(size, batch - start))
            start += size
        }
    }

    /// y (+)= conv(x, W) (+ b): in float, by the direct AVX-512 kernel where it applies
    /// (`gf_conv_forward_f`: no im2col matrix); otherwise per chunk of S samples, one GEMM
    /// W (C_out × C_in·k²) · cols (C_in·k² × S·P), then the channel-major result back to samples.
    func forward<S: NetworkScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, batch: Int, accumulate: Bool,
                                   scratch: GEMMScratch<S>, bias: UnsafePointer<S>? = nil) {
        if S.self == Float.self,
           gf_conv_forward_f(Kernels.f(x), Kernels.f(w), Kernels.f(bias), Kernels.mf(y), batch, accumulate ? 1 : 0, inChannels, height, width,
                             outChannels, kernel, stride, padding, outHeight, outWidth, Kernels.mf(scratch.base), scratch.count) != 0 {
            return
        }
        let P = outputPositions
        forEachChunk(batch, scratch) { start, s in
            let L = s * P, cols = scratch.base, t = scratch.base + patch * L
            for r in 0..<s { im2col(x + (start + r) * inputCount, cols + r * P, ld: L) }
            S.gemm(false, false, outChannels, L, patch, 1, w, patch, cols, L, 0, t, L)
            for r in 0..<s {
                for c in 0..<outChannels {
                    let dst = y + (start + r) * outputCount + c * P, src = t + c * L + r * P
                    if accumulate { for q in 0..<P { dst[q] += src[q] } } else { dst.update(from: src, count: P) }
                }
            }
        }
        if let b = bias { addBias(b, to: y, channels: outChannels, positions: P, batch: batch) }
    }

    /// gx (+)= convᵀₓ(g, W): in float, by the direct AVX-512 kernel where it applies
    /// (`gf_conv_input_adjoint_f`); otherwise per chunk, Wᵀ · g (channel-major) then col2im.
    func backwardInput<S: NetworkScalar>(_ g: UnsafePointer<S>, _ w: UnsafePointer<S>, _ gx: UnsafeMutablePointer<S>, batch: Int,
                                         accumulate: Bool, scratch: GEMMScratch<S>) {
        if S.self == Float.self,
           gf_conv_input_adjoint_f(Kernels.f(g), Kernels.f(w), Kernels.mf(gx), batch, accumulate ? 1 : 0, inChannels, height, width,
                                   outChannels, kernel, stride, padding, outHeight, outWidth, Kernels.mf(scratch.base), scratch.count) != 0 {
            return
        }
        let P = outputPositions
        if !accumulate { gx.update(repeating: 0, count: batch * inputCount) }
        forEachChunk(batch, scratch) { start, s in
            let L = s * P, cols = scratch.base, t = scratch.base + patch * L
            gather(g, start: start, samples: s, into: t)
            S.gemm(true, false, patch, L, outChannels, 1, w, patch, t, L, 0, cols, L)
            for r in 0..<s { col2imAdd(cols + r * P, gx + (start + r) * inputCount, ld: L) }
        }
    }

    /// gW += Σ_samples g · colsᵀ: in float, by the direct AVX-512 kernel where it applies
    /// (`gf_conv_weight_adjoint_f`); otherwise per chunk one GEMM (C_out × S·P) · (S·P × C_in·k²).
    func backwardWeights<S: NetworkScalar>(input x: UnsafePointer<S>, outputGradient g: UnsafePointer<S>, _ gw: UnsafeMutablePointer<S>,
                                           batch: Int, scratch: GEMMScratch<S>) {
        if S.self == Float.self,
           gf_conv_weight_adjoint_f(Kernels.f(x), Kernels.f(g), Kernels.mf(gw), batch, inChannels, height, width, outChannels, kernel, stride,
                                    padding, outHeight, outWidth, Kernels.mf(scratch.base), scratch.count) != 0 {
            return
        }
        let P = outputPositions
        forEachChunk(batch, scratch) { start, s in
            let L = s * P, cols = scratch.base, t = scratch.base + patch * L
            for r in 0..<s { im2col(x + (start + r) * inputCount, cols + r * P, ld: L) }
            gather(g, start: start, samples: s, into: t)
            S.gemm(false, true, outChannels, patch, L, 1, t, L, cols, L, 1, gw, patch)
        }
    }

    /// Samples' outputs (C_out × P each) into channel-major order t[c][r·P + q].
    private func gather<S>(_ g: UnsafePointer<S>, start: Int, samples s: Int, into t: UnsafeMutablePointer<S>) {
        let P = outputPositions, L = s * P
        for r in 0..<s {
            for c in 0..<outChannels { (t + c * L + r * P).update(from: g + (start + r) * outputCount + c * P, count: P) }
        }
    }

    func addBias<S: NetworkScalar>(_ b: UnsafePointer<S>, to y: UnsafeMutablePointer<S>, channels: Int, positions: Int, batch: Int) {
        for r in 0..<batch {
            for c in 0..<channels {
                let o = y + (r * channels + c) * positions, v = b[c]
                for q in 0..<positions { o[q] += v }
            }
        }
    }

    /// gb[c] += Σ over the batch and positions of g[·, c, ·]. In double, each (sample, channel)'s
    /// positions are summed one after another (the order earlier float64 runs used, kept so they
    /// repeat bit for bit); in float, in 16 lanes side by side (the serial sum waits on the adder
    /// for every number).
    func sumBias<S: NetworkScalar>(_ g: UnsafePointer<S>, into gb: UnsafeMutablePointer<S>, channels: Int, positions: Int, batch: Int) {
        for r in 0..<batch {
            for c in 0..<channels {
                let o = g + (r * channels + c) * positions
                if S.self == Float.self {
                    gb[c] += S(Self.laneSum(Kernels.f(o)!, positions))
                    continue
                }
                var s: S = 0
                for q in 0..<positions { s += o[q] }
                gb[c] += s
            }
        }
    }

    /// Σ p[0..<n] in 16 partial sums (then the lanes' total) and a serial tail.
    @inline(__always)
    static func laneSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0), q = 0
        let raw = UnsafeRawPointer(p)
        while q + 16 <= n {
            acc += raw.loadUnaligned(fromByteOffset: q * 4, as: SIMD16<Float>.self)
            q += 16
        }
        var s = acc.sum()
        while q < n { s += p[q]; q += 1 }
        return s
    }
}

/// Which build of the dense kernels runs: 8-wide AVX-512, 4-wide AVX2/FMA or the portable
/// baseline, the best the CPU supports (AVX-512 and AVX2 give bit-identical results).
public enum DenseKernels {
    /// Whether a vectorised (AVX2/FMA or AVX-512) kernel build runs.
    public static var vectorized: Bool { gf_kernels_vectorized() != 0 }
    /// "avx512", "avx2-fma" or "baseline" (for JSON).
    public static var name: String { build.name }
    public static var description: String { build.description }

    private static var build: (name: String, description: String) {
        switch gf_kernels_vectorized() {
        case 2: return ("avx512", "AVX-512 kernels")
        case 1: return ("avx2-fma", "AVX2/FMA kernels")
        default: return ("baseline", "baseline kernels")
        }
    }
}
