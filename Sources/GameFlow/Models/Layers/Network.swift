import CKernels
import Foundation

/// A feed-forward network as a stack of layers over samples of a fixed shape (channels-first,
/// as PyTorch), whose parameters are a contiguous slice of a larger state vector: each layer's
/// weight (PyTorch's layout: dense (out, in), conv (out, in, k, k), deconv (in, out, k, k),
/// row-major) then its bias, layer after layer.
///
/// The four passes GameFlow's schemes need are written once here for every layer type, from
/// each bilinear map's three products (`BilinearMap`) and each activation's σ, σ′, σ″; with
/// z = B(x, W) + b and a = σ(z):
///
/// - forward: a_l from a_{l−1};
/// - JVP (R-forward): ż = B(ẋ, W) + B(x, Ẇ) + ḃ, ȧ = σ′(z)ż;
/// - VJP (backward): g_W += Bᵀ_W(x, δ_z), g_b += Σδ_z, δ_x = Bᵀₓ(δ_z, W), δ_z = σ′(z)δ_a;
/// - R-backward (forward-over-reverse): R{g_W} += Bᵀ_W(ẋ, δ_z) + Bᵀ_W(x, R{δ_z}),
///   R{δ_x} = Bᵀₓ(R{δ_z}, W) + Bᵀₓ(δ_z, Ẇ), R{δ_z} = σ″(z)ż·δ_a + σ′(z)R{δ_a}.
///
/// Reshape and flatten are views: no work in any pass. The passes run in a preallocated
/// `NetworkWorkspace` (no allocation per pass); the JVP and the R-backward use the state of
/// the last forward pass, and the R-backward that of the last JVP (checked: a pass in the wrong
/// order stops the program, it cannot return a stale product).
public struct Network: Sendable, Equatable {
    /// What a layer does.
    public enum Kind: Sendable, Equatable {
        /// A bilinear map with weight and bias.
        case map(BilinearMap)
        /// A pointwise nonlinearity.
        case pointwise(Pointwise)
        /// A reshape or flatten: the same numbers.
        case view
    }

    /// One resolved layer: its spec, shapes and where its parameters start.
    public struct Layer: Sendable, Equatable {
        public let spec: LayerSpec
        public let kind: Kind
        public let inputShape: [Int]
        public let outputShape: [Int]
        /// Offset of the weight in the network's parameters (the bias follows it).
        public let offset: Int
        /// Numbers per sample after this layer.
        public var outputCount: Int { outputShape.reduce(1, *) }
    }

    public let inputShape: [Int]
    public let layers: [Layer]
    public let parameterCount: Int
    /// Which layers run on the fused dense kernels.
    let plan: KernelPlan
    /// The arithmetic of the passes (`Precision`); parameters, inputs and outputs are double either way.
    public private(set) var precision: Precision

    /// Resolves `specs` for inputs of `inputShape`; a mismatch names the layer (`role` says whose).
    /// `denseKernels` false runs every dense layer on OpenBLAS and every activation on its own
    /// (the products are the same to round-off: a second implementation, for tests). A `.float32`
    /// network runs its passes in float: the fused kernels' float build and OpenBLAS sgemm.
    public init(inputShape: [Int], layers specs: [LayerSpec], role: String = "network", denseKernels: Bool = true,
                precision: Precision = .float64) throws {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("\(role): the input shape must be positive sizes (got \(inputShape))")
        }
        guard !specs.isEmpty else { throw GameFlowError.invalidInput("\(role): no layers") }
        var shape = inputShape, offset = 0
        var resolved: [Layer] = []
        for (i, spec) in specs.enumerated() {
            func fail(_ why: String) -> GameFlowError {
                GameFlowError.invalidInput("\(role) layer \(i + 1) (\(spec.description)) on input \(shape.map(String.init).joined(separator: "×")): \(why)")
            }
            let count = shape.reduce(1, *)
            let kind: Kind, out: [Int]
            switch spec {
            case .dense(let o):
                guard o >= 1 else { throw fail("out must be ≥ 1") }
                kind = .map(.dense(inputs: count, outputs: o)); out = [o]
            case let .conv(o, k, s, p):
                guard shape.count == 3 else { throw fail("a convolution needs a (channels, height, width) input") }
                guard o >= 1, k >= 1, s >= 1, p >= 0 else { throw fail("out, kernel and stride must be ≥ 1 and padding ≥ 0") }
                let g: ConvGeometry
                do { g = try ConvGeometry(inChannels: shape[0], height: shape[1], width: shape[2], outChannels: o, kernel: k, stride: s, padding: p) } catch {
                    throw fail("the kernel does not fit the padded input")
                }
                kind = .map(.conv(g)); out = [o, g.outHeight, g.outWidth]
            case let .deconv(o, k, s, p, op):
                guard shape.count == 3 else { throw fail("a transposed convolution needs a (channels, height, width) input") }
                guard o >= 1, k >= 1, s >= 1, p >= 0, op >= 0 else { throw fail("out, kernel and stride must be ≥ 1, padding and output_padding ≥ 0") }
                guard op < s else { throw fail("output_padding must be smaller than the stride (PyTorch's rule)") }
                let h = (shape[1] - 1) * s - 2 * p + k + op, w = (shape[2] - 1) * s - 2 * p + k + op
                guard h >= 1, w >= 1 else { throw fail("the output would be empty") }
                // The deconvolution is the input-adjoint of this convolution (from its output to its input).
                guard let g = try? ConvGeometry(inChannels: o, height: h, width: w, outChannels: shape[0], kernel: k, stride: s, padding: p),
                      g.outHeight == shape[1], g.outWidth == shape[2] else { throw fail("inconsistent transposed-convolution arithmetic") }
                kind = .map(.deconv(g)); out = [o, h, w]
            case .reshape(let s):
                guard !s.isEmpty, s.allSatisfy({ $0 >= 1 }), s.reduce(1, *) == count else {
                    throw fail("reshape to \(s.map(String.init).joined(separator: "×")) needs \(count) numbers")
                }
                kind = .view; out = s
            case .flatten:
                kind = .view; out = [count]
            case .activation(let a):
                if case .leakyRelu(let slope) = a, !slope.isFinite { throw fail("slope must be finite") }
                kind = .pointwise(a); out = shape
            }
            resolved.append(Layer(spec: spec, kind: kind, inputShape: shape, outputShape: out, offset: offset))
            if case .map(let m) = kind { offset += m.weightCount + m.biasCount }
            shape = out
        }
        self.inputShape = inputShape
        self.layers = resolved
        self.parameterCount = offset
        self.plan = KernelPlan(resolved, enabled: denseKernels)
        self.precision = precision
    }

    /// The same network with its passes in `precision` (the layers and the kernel plan are the
    /// same: the fused kernels have both builds).
    public func withPrecision(_ precision: Precision) -> Network {
        var copy = self
        copy.precision = precision
        return copy
    }

    public var inputCount: Int { inputShape.reduce(1, *) }
    public var outputShape: [Int] { layers.last!.outputShape }
    public var outputCount: Int { outputShape.reduce(1, *) }

    /// Multiply-adds of one forward pass per sample (the bilinear maps'; each adjoint costs the same).
    public var multiplyAddsPerSample: Int {
        layers.reduce(0) { if case .map(let m) = $1.kind { return $0 + m.multiplyAdds }; return $0 }
    }

    /// Initial parameters at `offset` of `params`: dense layers Xavier-uniform with zero bias (the
    /// paper's reference code, as `MLP`), conv and deconv layers PyTorch's default
    /// (weight and bias U(−1/√fan_in, 1/√fan_in), fan_in = C_in·k², deconv C_out·k²).
    public func initialize(_ params: inout [Double], at offset: Int, rng: inout SeededGenerator) {
        for layer in layers {
            guard case .map(let m) = layer.kind else { continue }
            let o = offset + layer.offset
            if case let .dense(i, out) = m {
                let limit = (6.0 / Double(i + out)).squareRoot()
                for k in 0..<m.weightCount { params[o + k] = limit * (2 * rng.uniform() - 1) }
                for k in 0..<m.biasCount { params[o + m.weightCount + k] = 0 }
            } else {
                let limit = 1 / Double(m.fanIn).squareRoot()
                for k in 0..<(m.weightCount + m.biasCount) { params[o + k] = limit * (2 * rng.uniform() - 1) }
            }
        }
    }

    // MARK: - Backends

    /// Dense layers up to this width (inputs and outputs) run on the fused small-matrix kernels.
    public static let kernelWidthLimit = 512

    /// How layer `i` runs: "kernels" (a dense layer on `CKernels`' fused small-matrix products),
    /// "kernels (fused)" (an activation computed inside the dense products around it), "blas"
    /// (im2col or dense products by OpenBLAS dgemm), "direct" (a float32 convolution or transposed
    /// convolution whose three products run on the direct AVX-512 kernels on this thread),
    /// "direct + blas" (some of them do, the others on im2col and sgemm), "pointwise" or "view";
    /// " (float32)" after the products of a float32 network (the kernels' float build, sgemm).
    public func backend(ofLayer i: Int) -> String {
        switch layers[i].kind {
        case .map(let m):
            var name = plan.kernelDense[i] ? "kernels" : "blas"
            switch m {
            case .conv(let g), .deconv(let g):
                let d = g.direct, count = [d.forward, d.inputAdjoint, d.weightAdjoint].filter { $0 }.count
                if precision == .float32, count > 0 { name = count == 3 ? "direct" : "direct + blas" }
            case .dense: break
            }
            return name + (precision == .float32 ? " (float32)" : "")
        case .pointwise: return (i > 0 && plan.fusedActivation[i - 1]) || plan.maskedByAbove(i) ? "kernels (fused)" : "pointwise"
        case .view: return "view"
        }
    }

    // MARK: - Passes

    /// The output of `batch` samples of `input` (batch × inputCount), left in `ws` with every
    /// layer's activations; valid until the next forward pass on `ws`. A float32 network
    /// converts `p` and `input` to float here; the JVP and backward passes after it use these
    /// parameters (`p` must not change in between, as for a float64 network).
    @discardableResult
    public func forward(_ p: UnsafePointer<Double>, input: UnsafePointer<Double>, batch: Int, _ ws: NetworkWorkspace) -> UnsafeMutablePointer<Double> {
        guard let f = ws.single else { return forwardPass(p, input: input, batch: batch, ws.double!) }
        precondition(batch >= 1 && batch <= ws.capacity, "Network.forward: batch \(batch) outside the workspace's 1…\(ws.capacity)")
        convert(p, to: f.parameters, count: parameterCount)
        f.parametersSource = p
        convert(input, to: f.buffers.a[0], count: batch * inputCount)
        let out = forwardPass(UnsafePointer(f.parameters), input: f.buffers.a[0], batch: batch, f.buffers)
        convert(out, to: f.output, count: batch * outputCount)
        return f.output
    }

    /// The JVP after `forward`: the output's tangent along the parameter direction `dp` (nil: 0)
    /// and input direction `dx` (nil: 0); the layers' tangents stay in `ws` for `rBackward`.
    /// With `directionRowScale` s, sample r's parameter direction is s_r·dp (tangents are linear
    /// in the direction and a batch's samples independent: one pass serves per-sample directions).
    @discardableResult
    public func jvp(_ p: UnsafePointer<Double>, direction dp: UnsafePointer<Double>?, inputDirection dx: UnsafePointer<Double>?,
                    directionRowScale: UnsafePointer<Double>? = nil, _ ws: NetworkWorkspace) -> UnsafeMutablePointer<Double> {
        guard let f = ws.single else {
            return jvpPass(p, direction: dp, inputDirection: dx, directionRowScale: directionRowScale, ws.double!)
        }
        let b = f.buffers
        precondition(b.forwardCount > 0, "Network.jvp before a forward pass")
        checkParameters(p, f)
        if let dp { convert(dp, to: f.direction, count: parameterCount) }
        f.directionSource = dp
        if let dx { convert(dx, to: b.ra[0], count: b.batch * inputCount) }
        if let s = directionRowScale { convert(s, to: f.directionScale, count: b.batch) }
        let direction: UnsafePointer<Float>? = dp == nil ? nil : UnsafePointer(f.direction)
        let inputDirection: UnsafePointer<Float>? = dx == nil ? nil : UnsafePointer(b.ra[0])
        let scale: UnsafePointer<Float>? = directionRowScale == nil ? nil : UnsafePointer(f.directionScale)
        let out = jvpPass(UnsafePointer(f.parameters), direction: direction, inputDirection: inputDirection, directionRowScale: scale, b)
        convert(out, to: f.outputTangent, count: b.batch * outputCount)
        return f.outputTangent
    }

    /// The VJP after `forward`, for the upstream `dOut` = ∂ℓ/∂output (batch × outputCount):
    /// `gradient` += ∂ℓ/∂params (if given; sample r's term weighted by `gradientRowScale`[r] when
    /// that is given), `inputGradient` = ∂ℓ/∂input (if given).
    public func vjp(_ p: UnsafePointer<Double>, dOut: UnsafePointer<Double>, _ ws: NetworkWorkspace,
                    gradient: UnsafeMutablePointer<Double>?, gradientRowScale: UnsafePointer<Double>? = nil,
                    inputGradient: UnsafeMutablePointer<Double>?) {
        rBackward(p, dOut: dOut, dOutTangent: nil, ws, gradient: gradient, gradientRowScale: gradientRowScale, gradientTangent: nil,
                  inputGradient: inputGradient, inputGradientTangent: nil)
    }

    /// The R-backward after `forward` and `jvp` (whose parameter direction `direction` and row
    /// scale `directionRowScale` must be): the VJP for `dOut` and its tangent for R{dOut} =
    /// `dOutTangent`: `gradient` += ∂ℓ/∂params (sample r weighted by `gradientRowScale`[r] if
    /// given), `gradientTangent` += R{∂ℓ/∂params}, `inputGradient` = ∂ℓ/∂input,
    /// `inputGradientTangent` = R{∂ℓ/∂input} (each if given). With `dOutTangent` nil this is
    /// the VJP alone.
    ///
    /// `deltaIsCurrent`: the adjoints of an earlier backward pass with this `dOut`, after the
    /// same forward pass, are still in `ws` (checked); they are reused instead of recomputed.
    public func rBackward(_ p: UnsafePointer<Double>, dOut: UnsafePointer<Double>, dOutTangent: UnsafePointer<Double>?,
                          direction dp: UnsafePointer<Double>? = nil, directionRowScale: UnsafePointer<Double>? = nil,
                          _ ws: NetworkWorkspace, gradient: UnsafeMutablePointer<Double>?, gradientRowScale: UnsafePointer<Double>? = nil,
                          gradientTangent: UnsafeMutablePointer<Double>?,
                          inputGradient: UnsafeMutablePointer<Double>?, inputGradientTangent: UnsafeMutablePointer<Double>?,
                          deltaIsCurrent: Bool = false) {
        guard let f = ws.single else {
            rBackwardPass(p, dOut: dOut, dOutTangent: dOutTangent, direction: dp, directionRowScale: directionRowScale, ws.double!,
                          gradient: gradient, gradientRowScale: gradientRowScale, gradientTangent: gradientTangent,
                          inputGradient: inputGradient, inputGradientTangent: inputGradientTangent, deltaIsCurrent: deltaIsCurrent)
            return
        }
        let b = f.buffers, n = parameterCount, L = layers.count
        precondition(b.forwardCount > 0, "Network backward pass before a forward pass")
        checkParameters(p, f)
        if dOutTangent != nil {
            precondition(f.directionSource == dp, "Network.rBackward: the direction differs from the JVP's")
        }
        // The upstreams go straight into the last adjoints (with reused adjoints, the same values).
        convert(dOut, to: b.d[L], count: b.batch * outputCount)
        if let t = dOutTangent { convert(t, to: b.rd[L], count: b.batch * outputCount) }
        if gradient != nil { f.gradient.update(repeating: 0, count: n) }
        if gradientTangent != nil { f.gradientTangent.update(repeating: 0, count: n) }
        if let s = gradientRowScale { convert(s, to: f.gradientScale, count: b.batch) }
        let parameters = UnsafePointer(f.parameters), upstream = UnsafePointer(b.d[L])
        let upstreamTangent: UnsafePointer<Float>? = dOutTangent == nil ? nil : UnsafePointer(b.rd[L])
        let direction: UnsafePointer<Float>? = dp == nil ? nil : UnsafePointer(f.direction)
        let directionScale: UnsafePointer<Float>? = directionRowScale == nil ? nil : UnsafePointer(f.directionScale)
        let gradientScale: UnsafePointer<Float>? = gradientRowScale == nil ? nil : UnsafePointer(f.gradientScale)
        let g32: UnsafeMutablePointer<Float>? = gradient == nil ? nil : f.gradient
        let gt32: UnsafeMutablePointer<Float>? = gradientTangent == nil ? nil : f.gradientTangent
        let ig32: UnsafeMutablePointer<Float>? = inputGradient == nil ? nil : f.inputGradient
        let igt32: UnsafeMutablePointer<Float>? = inputGradientTangent == nil ? nil : f.inputGradientTangent
        rBackwardPass(parameters, dOut: upstream, dOutTangent: upstreamTangent, direction: direction, directionRowScale: directionScale, b,
                      gradient: g32, gradientRowScale: gradientScale, gradientTangent: gt32, inputGradient: ig32, inputGradientTangent: igt32,
                      deltaIsCurrent: deltaIsCurrent)
        if let g = gradient { for k in 0..<n { g[k] += Double(f.gradient[k]) } }
        if let g = gradientTangent { for k in 0..<n { g[k] += Double(f.gradientTangent[k]) } }
        if let g = inputGradient { convert(f.inputGradient, to: g, count: b.batch * inputCount) }
        if let g = inputGradientTangent { convert(f.inputGradientTangent, to: g, count: b.batch * inputCount) }
    }

    /// A float32 network's later passes use the parameters its forward pass converted, unless
    /// they come from another array (with the same values: a pass after `forward` needs them).
    @inline(__always)
    private func checkParameters(_ p: UnsafePointer<Double>, _ f: NetworkWorkspace.SingleBoundary) {
        if f.parametersSource != p {
            convert(p, to: f.parameters, count: parameterCount)
            f.parametersSource = p
        }
    }

    /// `forward` in the buffers' precision (`input` may be the buffers' own first activation).
    func forwardPass<S: NetworkScalar>(_ p: UnsafePointer<S>, input: UnsafePointer<S>, batch: Int, _ ws: NetworkBuffers<S>) -> UnsafeMutablePointer<S> {
        precondition(batch >= 1 && batch <= ws.capacity, "Network.forward: batch \(batch) outside the workspace's 1…\(ws.capacity)")
        ws.batch = batch
        ws.forwardCount &+= 1
        ws.tangentOf = nil
        ws.deltaOf = nil
        if input != UnsafePointer(ws.a[0]) { ws.a[0].update(from: input, count: batch * inputCount) }
        var i = 0
        while i < layers.count {
            let layer = layers[i]
            let x = ws.a[i], y = ws.a[i + 1], n = batch * layer.outputCount
            switch layer.kind {
            case .map(let m):
                let w = p + layer.offset
                if plan.kernelDense[i] {
                    // z = x·Wᵀ + b and, fused, a = σ(z) in one sweep (z itself is not kept).
                    let fuse = plan.fusedActivation[i], act = fuse ? plan.activation[i + 1]! : .linear
                    Kernels.nt(batch, m.inputCount, m.outputCount, x, w, w + m.weightCount, nil, 0, fuse ? ws.a[i + 2] : y,
                                Int32(GF_EPI_ACTIVATE), act.code, act.slope, nil, nil, ws.kernelScratch)
                    if fuse { i += 2; continue }
                } else {
                    m.apply(x, w, bias: w + m.weightCount, y, batch: batch, accumulate: false, scratch: ws.columns)
                }
            case .pointwise(let a):
                a.apply(x, y, count: n)
            case .view:
                break
            }
            i += 1
        }
        return ws.a[layers.count]
    }

    /// `jvp` in the buffers' precision (`dx` may be the buffers' own first tangent).
    func jvpPass<S: NetworkScalar>(_ p: UnsafePointer<S>, direction dp: UnsafePointer<S>?, inputDirection dx: UnsafePointer<S>?,
                    directionRowScale: UnsafePointer<S>? = nil, _ ws: NetworkBuffers<S>) -> UnsafeMutablePointer<S> {
        precondition(ws.forwardCount > 0, "Network.jvp before a forward pass")
        let batch = ws.batch
        if let dx, dx != UnsafePointer(ws.ra[0]) { ws.ra[0].update(from: dx, count: batch * inputCount) }
        ws.tangentIsZero[0] = dx == nil
        var i = 0
        while i < layers.count {
            let layer = layers[i]
            let x = ws.a[i], rx = ws.ra[i], ry = ws.ra[i + 1], n = batch * layer.outputCount
            let inputZero = ws.tangentIsZero[i]
            switch layer.kind {
            case .map(let m):
                let w = p + layer.offset
                let zero = inputZero && dp == nil
                ws.tangentIsZero[i + 1] = zero
                if plan.kernelDense[i] {
                    // R{z} = s ⊙ (x·dWᵀ + db) + R{x}·Wᵀ in one sweep, and R{a} = σ′(z)R{z} in its
                    // epilogue (σ′ from a = σ(z)); only tanh's σ″ term needs R{z} itself (kept in ra[i+1]).
                    let fuse = plan.fusedActivation[i], act = fuse ? plan.activation[i + 1]! : .linear
                    let ra = fuse ? ws.ra[i + 2] : ry, keepRz = fuse && act.code == Int32(GF_TANH)
                    let out = keepRz ? ry : ra, mask = fuse ? ws.a[i + 2] : ws.a[i + 1]
                    let epi = Int32(keepRz ? GF_EPI_DERIV : GF_EPI_MASKED), (nIn, nOut) = (m.inputCount, m.outputCount)
                    if let dp {
                        let dw = dp + layer.offset
                        if inputZero {
                            Kernels.nt(batch, nIn, nOut, x, dw, dw + m.weightCount, directionRowScale, 0, out, epi, act.code, act.slope,
                                        mask, ra, ws.kernelScratch)
                        } else {
                            Kernels.ntPair(batch, nIn, nOut, x, dw, dw + m.weightCount, directionRowScale, nIn, rx, w, out, epi,
                                             act.code, act.slope, mask, ra, ws.kernelScratch)
                        }
                    } else if !inputZero {
                        Kernels.nt(batch, nIn, nOut, rx, w, nil, nil, 0, out, epi, act.code, act.slope, mask, ra, ws.kernelScratch)
                    } else {
                        ry.update(repeating: 0, count: n)
                        if fuse { ra.update(repeating: 0, count: n) }
                    }
                    if fuse { ws.tangentIsZero[i + 2] = zero; i += 2; continue }
                } else if zero {
                    ry.update(repeating: 0, count: n)
                } else {
                    if !inputZero { m.apply(rx, w, bias: nil, ry, batch: batch, accumulate: false, scratch: ws.columns) }
                    if let dp {
                        let dw = dp + layer.offset
                        if let s = directionRowScale {
                            m.apply(x, dw, bias: dw + m.weightCount, ws.temporary, batch: batch, accumulate: false, scratch: ws.columns)
                            Self.scaleRows(ws.temporary, by: s, rows: batch, width: layer.outputCount, into: ry, accumulate: !inputZero)
                        } else {
                            m.apply(x, dw, bias: dw + m.weightCount, ry, batch: batch, accumulate: !inputZero, scratch: ws.columns)
                        }
                    }
                }
            case .pointwise(let a):
                ws.tangentIsZero[i + 1] = inputZero
                if inputZero { ry.update(repeating: 0, count: n) } else { a.tangent(x, rx, ry, count: n, output: ws.a[i + 1]) }
            case .view:
                ws.tangentIsZero[i + 1] = inputZero
            }
            i += 1
        }
        ws.tangentOf = ws.forwardCount
        ws.tangentDirection = dp
        ws.tangentRowScale = directionRowScale
        ws.tangentPassIsZero = dp == nil && dx == nil
        return ws.ra[layers.count]
    }

    /// `rBackward` in the buffers' precision (`dOut` and `dOutTangent` may be the buffers' own last adjoints).
    func rBackwardPass<S: NetworkScalar>(_ p: UnsafePointer<S>, dOut: UnsafePointer<S>, dOutTangent: UnsafePointer<S>?,
                          direction dp: UnsafePointer<S>? = nil, directionRowScale: UnsafePointer<S>? = nil,
                          _ ws: NetworkBuffers<S>, gradient: UnsafeMutablePointer<S>?, gradientRowScale: UnsafePointer<S>? = nil,
                          gradientTangent: UnsafeMutablePointer<S>?,
                          inputGradient: UnsafeMutablePointer<S>?, inputGradientTangent: UnsafeMutablePointer<S>?,
                          deltaIsCurrent: Bool = false) {
        precondition(ws.forwardCount > 0, "Network backward pass before a forward pass")
        let tangents = dOutTangent != nil
        if tangents {
            precondition(ws.tangentOf == ws.forwardCount, "Network.rBackward needs the JVP of the current forward pass")
            precondition(ws.tangentDirection == dp && ws.tangentRowScale == directionRowScale,
                         "Network.rBackward: the direction differs from the JVP's")
        }
        let batch = ws.batch, L = layers.count
        // tanh's σ″ term needs the adjoint before σ′ (ws.d at the activation's output), which a
        // pass that masked it in a product never wrote: no reuse then.
        let sigmaSecond = tangents && !ws.tangentPassIsZero
        let reuse = deltaIsCurrent && inputGradient == nil && !(sigmaSecond && plan.hasKernelTanh)
        if reuse { precondition(ws.deltaOf == ws.forwardCount, "Network.rBackward: no adjoints of the current forward pass to reuse") }
        if !reuse && dOut != UnsafePointer(ws.d[L]) { ws.d[L].update(from: dOut, count: batch * outputCount) }
        if let t = dOutTangent, t != UnsafePointer(ws.rd[L]) { ws.rd[L].update(from: t, count: batch * outputCount) }
        let wantInput = inputGradient != nil || inputGradientTangent != nil
        for i in stride(from: L - 1, through: 0, by: -1) {
            let layer = layers[i]
            let x = ws.a[i], d = ws.d[i + 1], rd = ws.rd[i + 1], dx = ws.d[i], rdx = ws.rd[i]
            let needInput = i > 0 || wantInput
            let n = batch * (layer.inputShape.reduce(1, *))
            switch layer.kind {
            case .map(let m):
                let w = p + layer.offset, gw = layer.offset
                if plan.kernelDense[i] {
                    let (nIn, nOut) = (m.inputCount, m.outputCount)
                    if let g = gradient {
                        Kernels.tn(batch, nOut, nIn, d, x, gradientRowScale, 1, g + gw, g + gw + m.weightCount, ws.kernelScratch)
                    }
                    if tangents, let g = gradientTangent {
                        // R{gW} = R{δ}ᵀx + δᵀR{x}, R{gb} = ΣR{δ}.
                        Kernels.tn(batch, nOut, nIn, rd, x, nil, 1, g + gw, g + gw + m.weightCount, ws.kernelScratch)
                        if !ws.tangentIsZero[i] { Kernels.tn(batch, nOut, nIn, d, ws.ra[i], nil, 1, g + gw, nil, ws.kernelScratch) }
                    }
                    guard needInput else { break }
                    // δ·W (and R{δ}·W + s ⊙ δ·dW), with σ′ of the activation below applied in the
                    // epilogue (read from its output a[i]) unless tanh's σ″ term needs δ before σ′.
                    var act = KernelActivation.linear, target = i
                    if i > 0, let below = plan.activation[i - 1], !(sigmaSecond && below.code == Int32(GF_TANH)) { act = below; target = i - 1 }
                    let epi = Int32(target < i ? GF_EPI_MASKED : GF_EPI_NONE), mask = ws.a[i]
                    if !reuse {
                        Kernels.nn(batch, nOut, nIn, d, w, nil, 0, ws.d[target], epi, act.code, act.slope, mask, nil, ws.kernelScratch)
                    }
                    if tangents {
                        if let dp {
                            Kernels.nnPair(batch, nOut, nIn, d, dp + gw, directionRowScale, nOut, rd, w, ws.rd[target], epi, act.code,
                                             act.slope, mask, nil, ws.kernelScratch)
                        } else {
                            Kernels.nn(batch, nOut, nIn, rd, w, nil, 0, ws.rd[target], epi, act.code, act.slope, mask, nil, ws.kernelScratch)
                        }
                    }
                    break
                }
                if let g = gradient {
                    var upstream = UnsafePointer(d)
                    if let s = gradientRowScale {
                        Self.scaleRows(d, by: s, rows: batch, width: layer.outputCount, into: ws.temporary, accumulate: false)
                        upstream = UnsafePointer(ws.temporary)
                    }
                    m.adjointWeights(x, upstream, g + gw, g + gw + m.weightCount, batch: batch, scratch: ws.columns)
                }
                if tangents, let g = gradientTangent {
                    m.adjointWeights(x, rd, g + gw, g + gw + m.weightCount, batch: batch, scratch: ws.columns)
                    if !ws.tangentIsZero[i] { m.adjointWeights(ws.ra[i], d, g + gw, nil, batch: batch, scratch: ws.columns) }
                }
                guard needInput else { break }
                if !reuse { m.adjointInput(d, w, dx, batch: batch, accumulate: false, scratch: ws.columns) }
                if tangents {
                    m.adjointInput(rd, w, rdx, batch: batch, accumulate: false, scratch: ws.columns)
                    if let dp {
                        if let s = directionRowScale {
                            m.adjointInput(d, dp + gw, ws.temporary, batch: batch, accumulate: false, scratch: ws.columns)
                            Self.scaleRows(ws.temporary, by: s, rows: batch, width: layer.inputShape.reduce(1, *), into: rdx, accumulate: true)
                        } else {
                            m.adjointInput(d, dp + gw, rdx, batch: batch, accumulate: true, scratch: ws.columns)
                        }
                    }
                }
            case .pointwise(let a):
                guard needInput else { break }
                if plan.maskedByAbove(i) {
                    // The dense layer above applied σ′ in its products, except tanh's σ″ case:
                    // R{δ_z} = σ″R{z}δ_a + σ′R{δ_a}, δ_z = σ′δ_a from a = tanh z (σ′ = 1 − a², σ″ = −2aσ′).
                    guard sigmaSecond, case .tanh = a else { break }
                    let y = ws.a[i + 1], rz = ws.ra[i], zero = ws.tangentIsZero[i]
                    for k in 0..<n {
                        let s1 = 1 - y[k] * y[k]
                        rdx[k] = (zero ? 0 : -2 * y[k] * s1 * rz[k] * d[k]) + s1 * rd[k]
                        if !reuse { dx[k] = s1 * d[k] }
                    }
                } else if tangents {
                    a.rBackward(x, ws.ra[i], zero: ws.tangentIsZero[i], d, rd, dx, rdx, count: n, delta: !reuse, output: ws.a[i + 1])
                } else if !reuse {
                    a.backward(x, d, dx, count: n, output: ws.a[i + 1])
                }
            case .view:
                break
            }
            if !needInput { break }
        }
        if !reuse { ws.deltaOf = ws.forwardCount }
        if let g = inputGradient { g.update(from: ws.d[0], count: batch * inputCount) }
        if let g = inputGradientTangent { g.update(from: ws.rd[0], count: batch * inputCount) }
    }

    /// out[r, ·] (+)= s_r·x[r, ·].
    private static func scaleRows<S: NetworkScalar>(_ x: UnsafePointer<S>, by s: UnsafePointer<S>, rows: Int, width: Int,
                                  into out: UnsafeMutablePointer<S>, accumulate: Bool) {
        for r in 0..<rows {
            let f = s[r], o = r * width
            if accumulate { for k in o..<(o + width) { out[k] += f * x[k] } } else { for k in o..<(o + width) { out[k] = f * x[k] } }
        }
    }
}

/// An activation the dense kernels apply in their epilogues (σ′ read from a = σ(z)).
struct KernelActivation: Sendable, Equatable {
    let code: Int32
    let slope: Double
    static let linear = KernelActivation(code: Int32(GF_LINEAR), slope: 0)

    /// ReLU, leaky ReLU with a positive slope (σ(z) then has z's sign), tanh and linear.
    init?(_ a: Pointwise) {
        switch a {
        case .relu: self.init(code: Int32(GF_RELU), slope: 0)
        case .leakyRelu(let s) where s > 0: self.init(code: Int32(GF_LEAKY), slope: s)
        case .tanh: self.init(code: Int32(GF_TANH), slope: 0)
        case .linear: self = .linear
        default: return nil
        }
    }

    private init(code: Int32, slope: Double) { (self.code, self.slope) = (code, slope) }
}

/// Which layers of a `Network` run on the fused dense kernels.
struct KernelPlan: Sendable, Equatable {
    /// Dense layers whose widths are at most `Network.kernelWidthLimit`.
    let kernelDense: [Bool]
    /// Activations the kernels can apply (nil: not one, or not an activation).
    let activation: [KernelActivation?]
    /// Kernel dense layers whose following activation runs inside their forward and tangent
    /// products: the activation's own adjoint then comes from the kernel dense layer after it,
    /// so the pre-activation z is never needed.
    let fusedActivation: [Bool]
    /// Whether some kernel activation is tanh (its σ″ term changes the backward pass).
    let hasKernelTanh: Bool

    init(_ layers: [Network.Layer], enabled: Bool) {
        let n = layers.count
        kernelDense = layers.map {
            if enabled, case .map(.dense(let i, let o)) = $0.kind { return max(i, o) <= Network.kernelWidthLimit }
            return false
        }
        activation = layers.map { if case .pointwise(let a) = $0.kind { return KernelActivation(a) }; return nil }
        let dense = kernelDense, act = activation
        fusedActivation = (0..<n).map { i in dense[i] && i + 2 < n && act[i + 1] != nil && dense[i + 2] }
        hasKernelTanh = (0..<n).contains { i in act[i]?.code == Int32(GF_TANH) && i + 1 < n && dense[i + 1] }
    }

    /// Whether activation `i`'s adjoint is applied by the kernel dense layer after it.
    func maskedByAbove(_ i: Int) -> Bool { activation[i] != nil && i + 1 < kernelDense.count && kernelDense[i + 1] }
}

/// One `Network`'s buffers in one precision at batches up to `capacity`: every layer
/// boundary's activations, tangents, adjoints and adjoint tangents (views share their input's),
/// the convolutions' im2col chunk, and the pass bookkeeping that keeps passes in order.
final class NetworkBuffers<S: NetworkScalar>: @unchecked Sendable {
    let capacity: Int
    var batch = 0
    var a: [UnsafeMutablePointer<S>] = [], ra: [UnsafeMutablePointer<S>] = []
    var d: [UnsafeMutablePointer<S>] = [], rd: [UnsafeMutablePointer<S>] = []
    var tangentIsZero: [Bool]
    let columns: GEMMScratch<S>
    /// Which forward pass the buffers hold (counts passes), and which one the tangents belong to.
    var forwardCount = 0
    var tangentOf: Int?
    var tangentDirection: UnsafePointer<S>?
    var tangentRowScale: UnsafePointer<S>?
    /// The last JVP had neither a parameter nor an input direction.
    var tangentPassIsZero = true
    /// Which forward pass the adjoints (d) belong to (a backward pass computed them).
    var deltaOf: Int?
    /// One boundary's numbers for the batch (row-scaled products) and the dense kernels' packing space.
    let temporary: UnsafeMutablePointer<S>
    let kernelScratch: UnsafeMutablePointer<S>
    private var owned: [UnsafeMutablePointer<S>] = []

    init(_ network: Network, capacity: Int, scratchLimit: Int?) {
        precondition(capacity >= 1)
        self.capacity = capacity
        var owned: [UnsafeMutablePointer<S>] = []
        func make(_ n: Int) -> UnsafeMutablePointer<S> {
            let p = NetworkBuffers.allocate(n)
            owned.append(p)
            return p
        }
        let n0 = capacity * network.inputCount
        a = [make(n0)]; ra = [make(n0)]; d = [make(n0)]; rd = [make(n0)]
        var scratch = 1, widest = network.inputCount, packing = 1
        for (l, layer) in network.layers.enumerated() {
            widest = max(widest, layer.outputCount)
            if case .map(.dense(let i, let o)) = layer.kind, network.plan.kernelDense[l] { packing = max(packing, gf_scratch_count(i, o)) }
            if case .view = layer.kind {
                a.append(a.last!); ra.append(ra.last!); d.append(d.last!); rd.append(rd.last!)
            } else {
                let n = capacity * layer.outputCount
                a.append(make(n)); ra.append(make(n)); d.append(make(n)); rd.append(make(n))
            }
            if case .map(let m) = layer.kind { scratch = max(scratch, m.scratchCount(capacity: capacity)) }
        }
        tangentIsZero = [Bool](repeating: true, count: network.layers.count + 1)
        if let limit = scratchLimit { scratch = max(1, min(scratch, limit)) }
        columns = GEMMScratch(base: make(scratch), count: scratch)
        temporary = make(capacity * widest)
        kernelScratch = make(packing)
        self.owned = owned
    }

    /// `n` zeros (at least one) on a cache line.
    static func allocate(_ n: Int) -> UnsafeMutablePointer<S> {
        let count = max(n, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<S>.stride, alignment: 64)
        return raw.initializeMemory(as: S.self, repeating: 0, count: count)
    }

    deinit { for p in owned { p.deallocate() } }
}

/// Preallocated buffers for one `Network` at batches up to `capacity` (one per thread), in the
/// network's precision. A float32 network's workspace also holds the float copies of what
/// crosses its boundary (parameters, directions, row scales, inputs and upstreams) and the
/// double copies of what leaves it (outputs, gradients, input gradients).
public final class NetworkWorkspace: @unchecked Sendable {
    public let capacity: Int
    /// The buffers of a float64 network, or nil.
    let double: NetworkBuffers<Double>?
    /// The buffers of a float32 network and its boundary, or nil.
    let single: SingleBoundary?

    /// A float32 network's float copies of its inputs and double copies of its outputs.
    final class SingleBoundary: @unchecked Sendable {
        let buffers: NetworkBuffers<Float>
        /// Parameters (converted by each forward pass, from `parametersSource`) and a direction.
        let parameters, direction, gradient, gradientTangent: UnsafeMutablePointer<Float>
        /// Row scales of a JVP and of a gradient (one per sample).
        let directionScale, gradientScale: UnsafeMutablePointer<Float>
        /// A backward pass's input gradient and its tangent, before conversion.
        let inputGradient, inputGradientTangent: UnsafeMutablePointer<Float>
        /// Outputs and tangents of the outputs in double (valid until the next pass of their kind).
        let output, outputTangent: UnsafeMutablePointer<Double>
        var parametersSource: UnsafePointer<Double>?
        var directionSource: UnsafePointer<Double>?
        private var owned: [UnsafeMutableRawPointer] = []

        init(_ network: Network, capacity: Int, scratchLimit: Int?) {
            buffers = NetworkBuffers(network, capacity: capacity, scratchLimit: scratchLimit)
            var owned: [UnsafeMutableRawPointer] = []
            func single(_ n: Int) -> UnsafeMutablePointer<Float> {
                let p = NetworkBuffers<Float>.allocate(n)
                owned.append(UnsafeMutableRawPointer(p))
                return p
            }
            func double(_ n: Int) -> UnsafeMutablePointer<Double> {
                let p = NetworkBuffers<Double>.allocate(n)
                owned.append(UnsafeMutableRawPointer(p))
                return p
            }
            let n = network.parameterCount
            parameters = single(n); direction = single(n); gradient = single(n); gradientTangent = single(n)
            directionScale = single(capacity); gradientScale = single(capacity)
            inputGradient = single(capacity * network.inputCount); inputGradientTangent = single(capacity * network.inputCount)
            output = double(capacity * network.outputCount); outputTangent = double(capacity * network.outputCount)
            self.owned = owned
        }

        deinit { for p in owned { p.deallocate() } }
    }

    /// Buffers for batches up to `capacity`; `scratchLimit` caps the convolutions' scratch (in
    /// numbers; they then work in more, smaller chunks of samples: for tests).
    public init(_ network: Network, capacity: Int, scratchLimit: Int? = nil) {
        self.capacity = capacity
        switch network.precision {
        case .float64:
            double = NetworkBuffers(network, capacity: capacity, scratchLimit: scratchLimit)
            single = nil
        case .float32:
            double = nil
            single = SingleBoundary(network, capacity: capacity, scratchLimit: scratchLimit)
        }
    }

    /// The activations after layer `i − 1` of the last forward pass (a float64 network's).
    func activations(_ i: Int) -> UnsafeMutablePointer<Double> {
        guard let double else { preconditionFailure("NetworkWorkspace.activations: a float64 network's") }
        return double.a[i]
    }
}

/// Float ← double and double ← float over `n` numbers (a float32 network's boundary).
@inline(__always) func convert(_ x: UnsafePointer<Double>, to y: UnsafeMutablePointer<Float>, count n: Int) {
    for k in 0..<n { y[k] = Float(x[k]) }
}

@inline(__always) func convert(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Double>, count n: Int) {
    for k in 0..<n { y[k] = Double(x[k]) }
}

/// The fused dense kernels (CKernels) from the generic passes: the double build (`gf_dense_nt`, …)
/// or the float one (`gf_dense_nt_f`, …), chosen by the passes' type (a constant once specialised).
enum Kernels {
    @inline(__always) static func d<S>(_ p: UnsafePointer<S>?) -> UnsafePointer<Double>? {
        p.map { UnsafeRawPointer($0).assumingMemoryBound(to: Double.self) }
    }
    @inline(__always) static func m<S>(_ p: UnsafeMutablePointer<S>?) -> UnsafeMutablePointer<Double>? {
        p.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Double.self) }
    }
    @inline(__always) static func f<S>(_ p: UnsafePointer<S>?) -> UnsafePointer<Float>? {
        p.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) }
    }
    @inline(__always) static func mf<S>(_ p: UnsafeMutablePointer<S>?) -> UnsafeMutablePointer<Float>? {
        p.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) }
    }
    @inline(__always)
    static func nt<S: NetworkScalar>(_ M: Int, _ K: Int, _ N: Int, _ X: UnsafePointer<S>, _ W: UnsafePointer<S>, _ bias: UnsafePointer<S>?,
                                     _ rowScale: UnsafePointer<S>?, _ accumulate: Int32, _ out: UnsafeMutablePointer<S>, _ epi: Int32, _ act: Int32,
                                     _ slope: Double, _ mask: UnsafePointer<S>?, _ out2: UnsafeMutablePointer<S>?, _ scratch: UnsafeMutablePointer<S>) {
        if S.self == Double.self {
            gf_dense_nt(M, K, N, d(X), d(W), d(bias), d(rowScale), accumulate, m(out), epi, act, slope, d(mask), m(out2), m(scratch))
        } else {
            gf_dense_nt_f(M, K, N, f(X), f(W), f(bias), f(rowScale), accumulate, mf(out), epi, act, Float(slope), f(mask), mf(out2), mf(scratch))
        }
    }
    @inline(__always)
    static func ntPair<S: NetworkScalar>(_ M: Int, _ K: Int, _ N: Int, _ X: UnsafePointer<S>, _ W: UnsafePointer<S>, _ bias: UnsafePointer<S>?,
                                         _ rowScale: UnsafePointer<S>?, _ K2: Int, _ X2: UnsafePointer<S>, _ W2: UnsafePointer<S>,
                                         _ out: UnsafeMutablePointer<S>, _ epi: Int32, _ act: Int32, _ slope: Double, _ mask: UnsafePointer<S>?,
                                         _ out2: UnsafeMutablePointer<S>?, _ scratch: UnsafeMutablePointer<S>) {
        if S.self == Double.self {
            gf_dense_nt_pair(M, K, N, d(X), d(W), d(bias), d(rowScale), K2, d(X2), d(W2), m(out), epi, act, slope, d(mask), m(out2), m(scratch))
        } else {
            gf_dense_nt_pair_f(M, K, N, f(X), f(W), f(bias), f(rowScale), K2, f(X2), f(W2), mf(out), epi, act, Float(slope), f(mask), mf(out2),
                               mf(scratch))
        }
    }
    @inline(__always)
    static func nn<S: NetworkScalar>(_ M: Int, _ K: Int, _ N: Int, _ X: UnsafePointer<S>, _ W: UnsafePointer<S>, _ rowScale: UnsafePointer<S>?,
                                     _ accumulate: Int32, _ out: UnsafeMutablePointer<S>, _ epi: Int32, _ act: Int32, _ slope: Double,
                                     _ mask: UnsafePointer<S>?, _ out2: UnsafeMutablePointer<S>?, _ scratch: UnsafeMutablePointer<S>) {
        if S.self == Double.self {
            gf_dense_nn(M, K, N, d(X), d(W), d(rowScale), accumulate, m(out), epi, act, slope, d(mask), m(out2), m(scratch))
        } else {
            gf_dense_nn_f(M, K, N, f(X), f(W), f(rowScale), accumulate, mf(out), epi, act, Float(slope), f(mask), mf(out2), mf(scratch))
        }
    }
    @inline(__always)
    static func nnPair<S: NetworkScalar>(_ M: Int, _ K: Int, _ N: Int, _ X: UnsafePointer<S>, _ W: UnsafePointer<S>, _ rowScale: UnsafePointer<S>?,
                                         _ K2: Int, _ X2: UnsafePointer<S>, _ W2: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, _ epi: Int32,
                                         _ act: Int32, _ slope: Double, _ mask: UnsafePointer<S>?, _ out2: UnsafeMutablePointer<S>?,
                                         _ scratch: UnsafeMutablePointer<S>) {
        if S.self == Double.self {
            gf_dense_nn_pair(M, K, N, d(X), d(W), d(rowScale), K2, d(X2), d(W2), m(out), epi, act, slope, d(mask), m(out2), m(scratch))
        } else {
            gf_dense_nn_pair_f(M, K, N, f(X), f(W), f(rowScale), K2, f(X2), f(W2), mf(out), epi, act, Float(slope), f(mask), mf(out2), mf(scratch))
        }
    }
    @inline(__always)
    static func tn<S: NetworkScalar>(_ M: Int, _ N: Int, _ K: Int, _ D: UnsafePointer<S>, _ A: UnsafePointer<S>, _ rowScale: UnsafePointer<S>?,
                                     _ scale: Double, _ G: UnsafeMutablePointer<S>, _ gb: UnsafeMutablePointer<S>?, _ scratch: UnsafeMutablePointer<S>) {
        if S.self == Double.self {
            gf_dense_tn(M, N, K, d(D), d(A), d(rowScale), scale, m(G), m(gb), m(scratch))
        } else {
            gf_dense_tn_f(M, N, K, f(D), f(A), f(rowScale), Float(scale), mf(G), mf(gb), mf(scratch))
        }
    }
}
