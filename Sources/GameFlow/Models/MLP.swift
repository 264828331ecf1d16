import CKernels
import Foundation

/// Hidden-layer nonlinearity of an `MLP` (the output layer is always linear).
public enum Activation: String, Sendable, CaseIterable {
    /// max(x, 0).
    case relu
    /// max(x, αx) with α = `MLP.leakySlope`.
    case leakyRelu = "leaky-relu"
    /// tanh(x).
    case tanh
    /// No nonlinearity (a deep linear network).
    case linear
}

/// A multilayer perceptron whose parameters are a contiguous slice of a larger state vector.
///
/// Layer l (1…L) maps width w_{l−1} to w_l: z_l = a_{l−1}·W_lᵀ + b_l, a_l = σ(z_l) for hidden
/// layers and a_L = z_L. Parameters are stored layer by layer as W_l (w_l × w_{l−1}, row-major)
/// then b_l. Batches are row-major (batch × width). All passes are hand-written (forward,
/// backward for parameter *and* input gradients, and Pearlmutter's R-operator for exact
/// Hessian-vector products), work in a preallocated `MLPWorkspace`, and run on the fused small
/// dense kernels of `CKernels` (bias, activation and σ′ applied inside the products).
public struct MLP: Sendable, Equatable {
    /// [input, hidden…, output].
    public let widths: [Int]
    /// The hidden layers' activation (the output layer is linear).
    public let activation: Activation
    /// Leaky ReLU's slope for negative inputs.
    public static let leakySlope = 0.2

    /// An MLP with these layer widths (input first, at least two) and hidden activation.
    /// - Throws: when a width is below 1 or there are fewer than two.
    public init(widths: [Int], activation: Activation) throws {
        guard widths.count >= 2, widths.allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("MLP widths must be at least two positive numbers (got \(widths))")
        }
        self.widths = widths
        self.activation = activation
    }

    /// The number of affine layers (widths − 1).
    public var layers: Int { widths.count - 1 }
    /// The input width.
    public var inputWidth: Int { widths[0] }
    /// The output width.
    public var outputWidth: Int { widths[widths.count - 1] }

    /// Offset of W_l (l = 1…L) within the MLP's parameter slice; b_l follows W_l.
    public func weightOffset(_ l: Int) -> Int {
        var o = 0
        for k in 1..<l { o += widths[k] * widths[k - 1] + widths[k] }
        return o
    }

    /// Weights and biases in all.
    public var parameterCount: Int { weightOffset(layers + 1) }

    /// Xavier/Glorot-uniform weights, U(−√(6/(fan_in + fan_out)), +…), zero biases (the
    /// reference code's initialisation), written at `offset` in `params`.
    public func initialize(_ params: inout [Double], at offset: Int, rng: inout SeededGenerator) {
        for l in 1...layers {
            let o = offset + weightOffset(l), fanIn = widths[l - 1], fanOut = widths[l]
            let limit = (6.0 / Double(fanIn + fanOut)).squareRoot()
            for i in 0..<(fanIn * fanOut) { params[o + i] = limit * (2 * rng.uniform() - 1) }
            for i in 0..<fanOut { params[o + fanIn * fanOut + i] = 0 }
        }
    }

    // MARK: - Passes

    /// The kernels' code for this activation on hidden layer l (the output layer is linear).
    @inline(__always)
    private func code(_ l: Int) -> Int32 {
        if l == layers { return Int32(GF_LINEAR) }
        switch activation {
        case .relu: return Int32(GF_RELU)
        case .leakyRelu: return Int32(GF_LEAKY)
        case .tanh: return Int32(GF_TANH)
        case .linear: return Int32(GF_LINEAR)
        }
    }

    /// Forward pass of `batch` rows of `input` (batch × w₀); leaves activations in `ws` and
    /// returns a pointer to the output (batch × w_L), valid until the next pass on `ws`.
    @discardableResult
    public func forward(_ p: UnsafePointer<Double>, input: UnsafePointer<Double>, batch: Int,
                        _ ws: MLPWorkspace) -> UnsafeMutablePointer<Double> {
        precondition(batch <= ws.capacity, "MLP.forward: batch \(batch) exceeds the workspace's \(ws.capacity)")
        ws.batch = batch
        ws.a[0].update(from: input, count: batch * widths[0])
        for l in 1...layers {
            let nIn = widths[l - 1], nOut = widths[l], w = p + weightOffset(l), b = w + nIn * nOut
            // a_l = σ(a_{l−1}·W_lᵀ + b_l) in one sweep (σ′ is read back from a_l's sign, or 1 − a_l² for tanh).
            gf_dense_nt(batch, nIn, nOut, ws.a[l - 1], w, b, nil, 0, ws.a[l], Int32(GF_EPI_ACTIVATE), code(l),
                        MLP.leakySlope, nil, nil, ws.scratch)
        }
        return ws.a[layers]
    }

    /// Tangent (R-operator) forward pass after `forward`: R{z_l}, R{a_l} for the parameter
    /// direction `dp` (nil = 0) and input direction `dInput` (nil = 0). Returns R{output}.
    /// With `directionRowScale` s, sample r's parameter direction is s_r·dp (a per-sample
    /// direction; tangents are linear in it, and a batch's samples are independent).
    @discardableResult
    public func tangentForward(_ p: UnsafePointer<Double>, direction dp: UnsafePointer<Double>?,
                               inputDirection dInput: UnsafePointer<Double>?, directionRowScale: UnsafePointer<Double>? = nil,
                               _ ws: MLPWorkspace) -> UnsafeMutablePointer<Double> {
        let batch = ws.batch
        ws.tangentIsZero = dp == nil && dInput == nil
        ws.inputTangentIsZero = dInput == nil
        if let d = dInput { ws.ra[0].update(from: d, count: batch * widths[0]) } else { ws.ra[0].update(repeating: 0, count: batch * widths[0]) }
        var inputTangentIsZero = dInput == nil
        // R{a} = σ′(z)⊙R{z} in the products' epilogue. Only tanh's σ″ term (in `backward`) needs
        // R{z} itself: DERIV keeps it; otherwise MASKED writes R{a} alone.
        let keepRz = activation == .tanh
        let epi = Int32(keepRz ? GF_EPI_DERIV : GF_EPI_MASKED)
        for l in 1...layers {
            let nIn = widths[l - 1], nOut = widths[l], w = p + weightOffset(l)
            let ra = ws.ra[l], out = keepRz ? ws.rz[l] : ra
            // R{z} = s ⊙ (a_{l−1}·dWᵀ + db) + R{a_{l−1}}·Wᵀ: one sweep when both terms are present.
            if let dp {
                let dw = dp + weightOffset(l), db = dw + nIn * nOut
                if inputTangentIsZero {
                    gf_dense_nt(batch, nIn, nOut, ws.a[l - 1], dw, db, directionRowScale, 0, out, epi, code(l),
                                MLP.leakySlope, ws.a[l], ra, ws.scratch)
                } else {
                    gf_dense_nt_pair(batch, nIn, nOut, ws.a[l - 1], dw, db, directionRowScale, nIn, ws.ra[l - 1], w, out, epi,
                                     code(l), MLP.leakySlope, ws.a[l], ra, ws.scratch)
                }
            } else if !inputTangentIsZero {
                gf_dense_nt(batch, nIn, nOut, ws.ra[l - 1], w, nil, nil, 0, out, epi, code(l), MLP.leakySlope, ws.a[l], ra,
                            ws.scratch)
            } else {
                ws.rz[l].update(repeating: 0, count: batch * nOut)
                ra.update(repeating: 0, count: batch * nOut)
            }
            inputTangentIsZero = inputTangentIsZero && dp == nil
        }
        return ws.ra[layers]
    }

    /// Backward pass after `forward` (and, for tangents, `tangentForward`), for upstream
    /// gradient `dOut` = ∂ℓ/∂output (batch × w_L):
    /// - `gradient` += scale·∂ℓ/∂params (if non-nil), `inputGradient` = ∂ℓ/∂input (if non-nil);
    /// - with `dOutTangent` = R{∂ℓ/∂output} given, also `gradientTangent` += scale·R{∂ℓ/∂params}
    ///   and `inputGradientTangent` = R{∂ℓ/∂input}, for the directions of the last tangentForward
    ///   (`direction` and `directionRowScale` must be that pass's).
    /// - `gradientRowScale` s weights sample r's parameter gradient by s_r (one backward pass
    ///   then serves two losses of a scalar output: δ is linear in the upstream).
    /// - `deltaIsCurrent`: the workspace still holds δ of an earlier backward pass with this
    ///   `dOut` (after the same forward); it is reused instead of recomputed (except for tanh
    ///   with tangents, whose σ″ term needs δ before σ′).
    public func backward(_ p: UnsafePointer<Double>, dOut: UnsafePointer<Double>, _ ws: MLPWorkspace, scale: Double = 1,
                         gradient: UnsafeMutablePointer<Double>?, gradientRowScale: UnsafePointer<Double>? = nil,
                         inputGradient: UnsafeMutablePointer<Double>?,
                         dOutTangent: UnsafePointer<Double>? = nil, direction: UnsafePointer<Double>? = nil,
                         directionRowScale: UnsafePointer<Double>? = nil,
                         gradientTangent: UnsafeMutablePointer<Double>? = nil,
                         inputGradientTangent: UnsafeMutablePointer<Double>? = nil, deltaIsCurrent: Bool = false) {
        let batch = ws.batch
        let tangents = dOutTangent != nil
        // With a zero tangent state (R{a} = R{z} = 0) and no parameter direction, R{δ} does not
        // depend on δ: a tangent-only pass then skips δ's propagation and the δᵀR{a} products.
        let zeroTangentState = tangents && ws.tangentIsZero
        let needDelta = !tangents || gradient != nil || inputGradient != nil || direction != nil || !zeroTangentState
        // tanh's σ″ term needs δ^a before σ′ is applied; every other case applies σ′ in the product.
        let sigmaSecondTerm = activation == .tanh && tangents && !zeroTangentState
        let reuse = deltaIsCurrent && !sigmaSecondTerm && inputGradient == nil
        let computeDelta = needDelta && !reuse
        // δ_L = dOut (linear output layer).
        if !reuse { ws.d[layers].update(from: dOut, count: batch * widths[layers]) }
        if let t = dOutTangent { ws.rd[layers].update(from: t, count: batch * widths[layers]) }
        for l in stride(from: layers, through: 1, by: -1) {
            let nIn = widths[l - 1], nOut = widths[l], w = p + weightOffset(l)
            let d = ws.d[l], rd = ws.rd[l]
            if let g = gradient {
                let gw = g + weightOffset(l)
                gf_dense_tn(batch, nOut, nIn, d, ws.a[l - 1], gradientRowScale, scale, gw, gw + nIn * nOut, ws.scratch)
            }
            if tangents, let g = gradientTangent {
                // R{gW} = R{δ}ᵀ·a + δᵀ·R{a};  R{gb} = Σ R{δ}
                let gw = g + weightOffset(l)
                gf_dense_tn(batch, nOut, nIn, rd, ws.a[l - 1], nil, scale, gw, gw + nIn * nOut, ws.scratch)
                if !zeroTangentState && !(l == 1 && ws.inputTangentIsZero) {   // R{a₀} = 0 adds nothing
                    gf_dense_tn(batch, nOut, nIn, d, ws.ra[l - 1], nil, scale, gw, nil, ws.scratch)
                }
            }
            let needInput = l > 1 || inputGradient != nil || inputGradientTangent != nil
            guard needInput else { break }
            // δ^a_{l−1} = δ_l·W_l ; R{δ^a} = R{δ}·W + δ·dW; then δ_{l−1} = σ′(z)⊙δ^a (and the same
            // for R{δ}, σ″ = 0), applied in the products' epilogue unless tanh's σ″ term needs δ^a.
            let masked = l > 1 && activation != .linear && !sigmaSecondTerm
            let epi = Int32(masked ? GF_EPI_MASKED : GF_EPI_NONE), act = code(l - 1), mask = ws.a[l - 1]
            let da = l > 1 ? ws.d[l - 1] : ws.inputGrad
            if computeDelta {
                gf_dense_nn(batch, nOut, nIn, d, w, nil, 0, da, epi, act, MLP.leakySlope, mask, nil, ws.scratch)
            }
            let rda = l > 1 ? ws.rd[l - 1] : ws.rInputGrad
            if tangents {
                if let dp = direction {   // one sweep: s ⊙ (δ·dW) + R{δ}·W
                    gf_dense_nn_pair(batch, nOut, nIn, d, dp + weightOffset(l), directionRowScale, nOut, rd, w, rda, epi, act,
                                     MLP.leakySlope, mask, nil, ws.scratch)
                } else {
                    gf_dense_nn(batch, nOut, nIn, rd, w, nil, 0, rda, epi, act, MLP.leakySlope, mask, nil, ws.scratch)
                }
            }
            if l > 1 && sigmaSecondTerm {
                // R{δ} = σ″R{z}⊙δ^a + σ′⊙R{δ^a} with σ′ = 1 − a², σ″ = −2a(1 − a²); δ = σ′⊙δ^a.
                let a = ws.a[l - 1], rz = ws.rz[l - 1]
                for i in 0..<(batch * nIn) {
                    let s1 = 1 - a[i] * a[i]
                    rda[i] = -2 * a[i] * s1 * rz[i] * da[i] + s1 * rda[i]
                    da[i] *= s1
                }
            }
        }
        if let ig = inputGradient { ig.update(from: ws.inputGrad, count: batch * widths[0]) }   // needDelta holds here
        if let ig = inputGradientTangent { ig.update(from: ws.rInputGrad, count: batch * widths[0]) }
    }
}

/// Which build of the dense kernels runs: 8-wide AVX-512, 4-wide AVX2/FMA or the portable
/// baseline, the best the CPU supports (AVX-512 and AVX2 give bit-identical results).
public enum MLPKernels {
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

/// Preallocated buffers for one MLP at batches up to `capacity` (not thread-safe: one per thread).
public final class MLPWorkspace {
    /// The largest batch the workspace holds.
    public let capacity: Int
    var batch = 0
    /// Set by `tangentForward`: the last tangent pass had no direction at all (every R{·} = 0).
    var tangentIsZero = true
    /// Set by `tangentForward`: its input direction was nil (R{a₀} = 0).
    var inputTangentIsZero = true
    var a: [UnsafeMutablePointer<Double>] = []
    var d: [UnsafeMutablePointer<Double>] = []
    var ra: [UnsafeMutablePointer<Double>] = []
    var rz: [UnsafeMutablePointer<Double>] = []
    var rd: [UnsafeMutablePointer<Double>] = []
    let inputGrad: UnsafeMutablePointer<Double>
    let rInputGrad: UnsafeMutablePointer<Double>
    /// The kernels' packing space (a layer's transposed, padded weights).
    let scratch: UnsafeMutablePointer<Double>
    private var owned: [UnsafeMutablePointer<Double>] = []

    /// Buffers for `mlp` on batches of up to `capacity` rows.
    public init(_ mlp: MLP, capacity: Int) {
        self.capacity = capacity
        // Cache-line aligned: the kernels' 32-byte loads then never straddle two lines.
        func alloc(_ n: Int) -> UnsafeMutablePointer<Double> {
            let count = max(n, 1)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Double>.stride, alignment: 64)
            return raw.initializeMemory(as: Double.self, repeating: 0, count: count)
        }
        var owned: [UnsafeMutablePointer<Double>] = []
        func make(_ n: Int) -> UnsafeMutablePointer<Double> { let p = alloc(n); owned.append(p); return p }
        for w in mlp.widths {
            a.append(make(capacity * w)); d.append(make(capacity * w))
            ra.append(make(capacity * w)); rz.append(make(capacity * w)); rd.append(make(capacity * w))
        }
        inputGrad = make(capacity * mlp.widths[0])
        rInputGrad = make(capacity * mlp.widths[0])
        scratch = make((1...mlp.layers).map { gf_scratch_count(mlp.widths[$0 - 1], mlp.widths[$0]) }.max()!)
        self.owned = owned
    }

    deinit { for p in owned { p.deallocate() } }
}
