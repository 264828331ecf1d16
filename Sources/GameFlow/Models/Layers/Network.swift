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

    /// Resolves `specs` for inputs of `inputShape`; a mismatch names the layer (`role` says whose).
    public init(inputShape: [Int], layers specs: [LayerSpec], role: String = "network") throws {
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

    // MARK: - Passes

    /// The output of `batch` samples of `input` (batch × inputCount), left in `ws` with every
    /// layer's activations; valid until the next forward pass on `ws`.
    @discardableResult
    public func forward(_ p: UnsafePointer<Double>, input: UnsafePointer<Double>, batch: Int, _ ws: NetworkWorkspace) -> UnsafeMutablePointer<Double> {
        precondition(batch >= 1 && batch <= ws.capacity, "Network.forward: batch \(batch) outside the workspace's 1…\(ws.capacity)")
        ws.batch = batch
        ws.forwardCount &+= 1
        ws.tangentOf = nil
        ws.a[0].update(from: input, count: batch * inputCount)
        for (i, layer) in layers.enumerated() {
            let x = ws.a[i], y = ws.a[i + 1], n = batch * layer.outputCount
            switch layer.kind {
            case .map(let m):
                let w = p + layer.offset
                m.apply(x, w, bias: w + m.weightCount, y, batch: batch, accumulate: false, scratch: ws.columns)
            case .pointwise(let a):
                for k in 0..<n { y[k] = a.value(x[k]) }
            case .view:
                break
            }
        }
        return ws.a[layers.count]
    }

    /// The JVP after `forward`: the output's tangent along the parameter direction `dp` (nil: 0)
    /// and input direction `dx` (nil: 0); the layers' tangents stay in `ws` for `rBackward`.
    @discardableResult
    public func jvp(_ p: UnsafePointer<Double>, direction dp: UnsafePointer<Double>?, inputDirection dx: UnsafePointer<Double>?,
                    _ ws: NetworkWorkspace) -> UnsafeMutablePointer<Double> {
        precondition(ws.forwardCount > 0, "Network.jvp before a forward pass")
        let batch = ws.batch
        if let dx { ws.ra[0].update(from: dx, count: batch * inputCount) }
        ws.tangentIsZero[0] = dx == nil
        for (i, layer) in layers.enumerated() {
            let x = ws.a[i], rx = ws.ra[i], ry = ws.ra[i + 1], n = batch * layer.outputCount
            let inputZero = ws.tangentIsZero[i]
            switch layer.kind {
            case .map(let m):
                let w = p + layer.offset
                if !inputZero { m.apply(rx, w, bias: nil, ry, batch: batch, accumulate: false, scratch: ws.columns) }
                if let dp {
                    let dw = dp + layer.offset
                    m.apply(x, dw, bias: dw + m.weightCount, ry, batch: batch, accumulate: !inputZero, scratch: ws.columns)
                }
                ws.tangentIsZero[i + 1] = inputZero && dp == nil
            case .pointwise(let a):
                if !inputZero { for k in 0..<n { ry[k] = a.derivatives(x[k]).d1 * rx[k] } }
                ws.tangentIsZero[i + 1] = inputZero
            case .view:
                ws.tangentIsZero[i + 1] = inputZero
            }
            if ws.tangentIsZero[i + 1] { ry.update(repeating: 0, count: n) }
        }
        ws.tangentOf = ws.forwardCount
        ws.tangentDirection = dp
        return ws.ra[layers.count]
    }

    /// The VJP after `forward`, for the upstream `dOut` = ∂ℓ/∂output (batch × outputCount):
    /// `gradient` += ∂ℓ/∂params (if given), `inputGradient` = ∂ℓ/∂input (if given).
    public func vjp(_ p: UnsafePointer<Double>, dOut: UnsafePointer<Double>, _ ws: NetworkWorkspace,
                    gradient: UnsafeMutablePointer<Double>?, inputGradient: UnsafeMutablePointer<Double>?) {
        rBackward(p, dOut: dOut, dOutTangent: nil, ws, gradient: gradient, gradientTangent: nil,
                  inputGradient: inputGradient, inputGradientTangent: nil)
    }

    /// The R-backward after `forward` and `jvp` (whose parameter direction `direction` must be):
    /// the VJP for `dOut` and its tangent for R{dOut} = `dOutTangent`: `gradient` += ∂ℓ/∂params,
    /// `gradientTangent` += R{∂ℓ/∂params}, `inputGradient` = ∂ℓ/∂input, `inputGradientTangent` =
    /// R{∂ℓ/∂input} (each if given). With `dOutTangent` nil this is the VJP alone.
    public func rBackward(_ p: UnsafePointer<Double>, dOut: UnsafePointer<Double>, dOutTangent: UnsafePointer<Double>?, direction dp: UnsafePointer<Double>? = nil,
                          _ ws: NetworkWorkspace, gradient: UnsafeMutablePointer<Double>?, gradientTangent: UnsafeMutablePointer<Double>?,
                          inputGradient: UnsafeMutablePointer<Double>?, inputGradientTangent: UnsafeMutablePointer<Double>?) {
        precondition(ws.forwardCount > 0, "Network backward pass before a forward pass")
        let tangents = dOutTangent != nil
        if tangents {
            precondition(ws.tangentOf == ws.forwardCount, "Network.rBackward needs the JVP of the current forward pass")
            precondition(ws.tangentDirection == dp, "Network.rBackward: the direction differs from the JVP's")
        }
        let batch = ws.batch, L = layers.count
        ws.d[L].update(from: dOut, count: batch * outputCount)
        if let t = dOutTangent { ws.rd[L].update(from: t, count: batch * outputCount) }
        let wantInput = inputGradient != nil || inputGradientTangent != nil
        for i in stride(from: L - 1, through: 0, by: -1) {
            let layer = layers[i]
            let x = ws.a[i], d = ws.d[i + 1], rd = ws.rd[i + 1], dx = ws.d[i], rdx = ws.rd[i]
            let needInput = i > 0 || wantInput
            let n = batch * (layer.inputShape.reduce(1, *))
            switch layer.kind {
            case .map(let m):
                let w = p + layer.offset
                if let g = gradient { m.adjointWeights(x, d, g + layer.offset, g + layer.offset + m.weightCount, batch: batch, scratch: ws.columns) }
                if tangents, let g = gradientTangent {
                    m.adjointWeights(x, rd, g + layer.offset, g + layer.offset + m.weightCount, batch: batch, scratch: ws.columns)
                    if !ws.tangentIsZero[i] { m.adjointWeights(ws.ra[i], d, g + layer.offset, nil, batch: batch, scratch: ws.columns) }
                }
                guard needInput else { break }
                m.adjointInput(d, w, dx, batch: batch, accumulate: false, scratch: ws.columns)
                if tangents {
                    m.adjointInput(rd, w, rdx, batch: batch, accumulate: false, scratch: ws.columns)
                    if let dp { m.adjointInput(d, dp + layer.offset, rdx, batch: batch, accumulate: true, scratch: ws.columns) }
                }
            case .pointwise(let a):
                guard needInput else { break }
                if tangents {
                    let rx = ws.ra[i], zero = ws.tangentIsZero[i]
                    for k in 0..<n {
                        let s = a.derivatives(x[k])
                        rdx[k] = (zero ? 0 : s.d2 * rx[k] * d[k]) + s.d1 * rd[k]
                        dx[k] = s.d1 * d[k]
                    }
                } else {
                    for k in 0..<n { dx[k] = a.derivatives(x[k]).d1 * d[k] }
                }
            case .view:
                break
            }
            if !needInput { break }
        }
        if let g = inputGradient { g.update(from: ws.d[0], count: batch * inputCount) }
        if let g = inputGradientTangent { g.update(from: ws.rd[0], count: batch * inputCount) }
    }
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
        var scratch = 1
        for layer in network.layers {
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
        self.owned = owned
    }

    deinit { for p in owned { p.deallocate() } }
}
