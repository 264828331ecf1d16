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

    /// Resolves `specs` for inputs of `inputShape`; a mismatch names the layer (`role` says whose).
    /// `denseKernels` false runs every dense layer on OpenBLAS and every activation on its own
    /// (the products are the same to round-off: a second implementation, for tests).
    public init(inputShape: [Int], layers specs: [LayerSpec], role: String = "network", denseKernels: Bool = true) throws {
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
    /// (im2col or dense products by OpenBLAS dgemm), "pointwise" or "view".
    public func backend(ofLayer i: Int) -> String {
        switch layers[i].kind {
        case .map: return plan.kernelDense[i] ? "kernels" : "blas"
        case .pointwise: return (i > 0 && plan.fusedActivation[i - 1]) || plan.maskedByAbove(i) ? "kernels (fused)" : "pointwise"
        case .view: return "view"
        }
    }

    // MARK: - Passes

    /// The output of `batch` samples of `input` (batch × inputCount), left in `ws` with every
    /// layer's activations; valid until the next forward pass on `ws`.
    @discardableResult
    public func forward(_ p: UnsafePointer<Double>, input: UnsafePointer<Double>, batch: Int, _ ws: NetworkWorkspace) -> UnsafeMutablePointer<Double> {
        precondition(batch >= 1 && batch <= ws.capacity, "Network.forward: batch \(batch) outside the workspace's 1…\(ws.capacity)")
        ws.batch = batch
        ws.forwardCount &+= 1
        ws.tangentOf = nil
        ws.deltaOf = nil
        ws.a[0].update(from: input, count: batch * inputCount)
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
                    gf_dense_nt(batch, m.inputCount, m.outputCount, x, w, w + m.weightCount, nil, 0, fuse ? ws.a[i + 2] : y,
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

    /// The JVP after `forward`: the output's tangent along the parameter direction `dp` (nil: 0)
    /// and input direction `dx` (nil: 0); the layers' tangents stay in `ws` for `rBackward`.
    /// With `directionRowScale` s, sample r's parameter direction is s_r·dp (tangents are linear
    /// in the direction and a batch's samples independent: one pass serves per-sample directions).
    @discardableResult
    public func jvp(_ p: UnsafePointer<Double>, direction dp: UnsafePointer<Double>?, inputDirection dx: UnsafePointer<Double>?,
                    directionRowScale: UnsafePointer<Double>? = nil, _ ws: NetworkWorkspace) -> UnsafeMutablePointer<Double> {
        precondition(ws.forwardCount > 0, "Network.jvp before a forward pass")
        let batch = ws.batch
        if let dx { ws.ra[0].update(from: dx, count: batch * inputCount) }
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
                            gf_dense_nt(batch, nIn, nOut, x, dw, dw + m.weightCount, directionRowScale, 0, out, epi, act.code, act.slope,
                                        mask, ra, ws.kernelScratch)
                        } else {
                            gf_dense_nt_pair(batch, nIn, nOut, x, dw, dw + m.weightCount, directionRowScale, nIn, rx, w, out, epi,
                                             act.code, act.slope, mask, ra, ws.kernelScratch)
                        }
                    } else if !inputZero {
                        gf_dense_nt(batch, nIn, nOut, rx, w, nil, nil, 0, out, epi, act.code, act.slope, mask, ra, ws.kernelScratch)
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
                if inputZero { ry.update(repeating: 0, count: n) } else { a.tangent(x, rx, ry, count: n) }
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
        if !reuse { ws.d[L].update(from: dOut, count: batch * outputCount) }
        if let t = dOutTangent { ws.rd[L].update(from: t, count: batch * outputCount) }
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
                        gf_dense_tn(batch, nOut, nIn, d, x, gradientRowScale, 1, g + gw, g + gw + m.weightCount, ws.kernelScratch)
                    }
                    if tangents, let g = gradientTangent {
                        // R{gW} = R{δ}ᵀx + δᵀR{x}, R{gb} = ΣR{δ}.
                        gf_dense_tn(batch, nOut, nIn, rd, x, nil, 1, g + gw, g + gw + m.weightCount, ws.kernelScratch)
                        if !ws.tangentIsZero[i] { gf_dense_tn(batch, nOut, nIn, d, ws.ra[i], nil, 1, g + gw, nil, ws.kernelScratch) }
                    }
                    guard needInput else { break }
                    // δ·W (and R{δ}·W + s ⊙ δ·dW), with σ′ of the activation below applied in the
                    // epilogue (read from its output a[i]) unless tanh's σ″ term needs δ before σ′.
                    var act = KernelActivation.linear, target = i
                    if i > 0, let below = plan.activation[i - 1], !(sigmaSecond && below.code == Int32(GF_TANH)) { act = below; target = i - 1 }
                    let epi = Int32(target < i ? GF_EPI_MASKED : GF_EPI_NONE), mask = ws.a[i]
                    if !reuse {
                        gf_dense_nn(batch, nOut, nIn, d, w, nil, 0, ws.d[target], epi, act.code, act.slope, mask, nil, ws.kernelScratch)
                    }
                    if tangents {
                        if let dp {
                            gf_dense_nn_pair(batch, nOut, nIn, d, dp + gw, directionRowScale, nOut, rd, w, ws.rd[target], epi, act.code,
                                             act.slope, mask, nil, ws.kernelScratch)
                        } else {
                            gf_dense_nn(batch, nOut, nIn, rd, w, nil, 0, ws.rd[target], epi, act.code, act.slope, mask, nil, ws.kernelScratch)
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
                    a.rBackward(x, ws.ra[i], zero: ws.tangentIsZero[i], d, rd, dx, rdx, count: n, delta: !reuse)
                } else if !reuse {
                    a.backward(x, d, dx, count: n)
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
    private static func scaleRows(_ x: UnsafePointer<Double>, by s: UnsafePointer<Double>, rows: Int, width: Int,
                                  into out: UnsafeMutablePointer<Double>, accumulate: Bool) {
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

/// Preallocated buffers for one `Network` at batches up to `capacity` (one per thread): every
/// layer boundary's activations, tangents, adjoints and adjoint tangents (views share their
/// input's), and one sample's im2col columns.
public final class NetworkWorkspace: @unchecked Sendable {
    public let capacity: Int
    var batch = 0
    var a: [UnsafeMutablePointer<Double>] = [], ra: [UnsafeMutablePointer<Double>] = []
    var d: [UnsafeMutablePointer<Double>] = [], rd: [UnsafeMutablePointer<Double>] = []
    var tangentIsZero: [Bool]
    let columns: GEMMScratch
    /// Which forward pass the buffers hold (counts passes), and which one the tangents belong to.
    var forwardCount = 0
    var tangentOf: Int?
    var tangentDirection: UnsafePointer<Double>?
    var tangentRowScale: UnsafePointer<Double>?
    /// The last JVP had neither a parameter nor an input direction.
    var tangentPassIsZero = true
    /// Which forward pass the adjoints (d) belong to (a backward pass computed them).
    var deltaOf: Int?
    /// One boundary's numbers for the batch (row-scaled products) and the dense kernels' packing space.
    let temporary: UnsafeMutablePointer<Double>
    let kernelScratch: UnsafeMutablePointer<Double>
    private var owned: [UnsafeMutablePointer<Double>] = []

    /// Buffers for batches up to `capacity`; `scratchLimit` caps the convolutions' scratch (in
    /// numbers; they then work in more, smaller chunks of samples: for tests).
    public init(_ network: Network, capacity: Int, scratchLimit: Int? = nil) {
        precondition(capacity >= 1)
        self.capacity = capacity
        var owned: [UnsafeMutablePointer<Double>] = []
        func make(_ n: Int) -> UnsafeMutablePointer<Double> {
            let count = max(n, 1)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Double>.stride, alignment: 64)
            let p = raw.initializeMemory(as: Double.self, repeating: 0, count: count)
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

    deinit { for p in owned { p.deallocate() } }
}
