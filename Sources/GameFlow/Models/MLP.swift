import CGSL
import Foundation

/// Hidden-layer nonlinearity of an `MLP` (the output layer is always linear).
public enum Activation: String, Sendable, CaseIterable {
    case relu
    /// max(x, αx) with α = `MLP.leakySlope`.
    case leakyRelu = "leaky-relu"
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
/// Hessian-vector products), work in a preallocated `MLPWorkspace`, and use OpenBLAS `dgemm`.
public struct MLP: Sendable, Equatable {
    /// [input, hidden…, output].
    public let widths: [Int]
    public let activation: Activation
    public static let leakySlope = 0.2

    public init(widths: [Int], activation: Activation) throws {
        guard widths.count >= 2, widths.allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("MLP widths must be at least two positive numbers (got \(widths))")
        }
        self.widths = widths
        self.activation = activation
    }

    public var layers: Int { widths.count - 1 }
    public var inputWidth: Int { widths[0] }
    public var outputWidth: Int { widths[widths.count - 1] }

    /// Offset of W_l (l = 1…L) within the MLP's parameter slice; b_l follows W_l.
    public func weightOffset(_ l: Int) -> Int {
        var o = 0
        for k in 1..<l { o += widths[k] * widths[k - 1] + widths[k] }
        return o
    }

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

    // MARK: - Activation derivatives (elementwise, from z and a = σ(z))

    @inline(__always)
    func sigma(_ z: Double) -> Double {
        switch activation {
        case .relu: return z > 0 ? z : 0
        case .leakyRelu: return z > 0 ? z : MLP.leakySlope * z
        case .tanh: return Foundation.tanh(z)
        case .linear: return z
        }
    }

    @inline(__always)
    func sigmaPrime(z: Double, a: Double) -> Double {
        switch activation {
        case .relu: return z > 0 ? 1 : 0
        case .leakyRelu: return z > 0 ? 1 : MLP.leakySlope
        case .tanh: return 1 - a * a
        case .linear: return 1
        }
    }

    @inline(__always)
    func sigmaSecond(z: Double, a: Double) -> Double {
        switch activation {
        case .tanh: return -2 * a * (1 - a * a)
        default: return 0
        }
    }

    // MARK: - Passes

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
            let z = ws.z[l], a = ws.a[l], prev = ws.a[l - 1]
            for r in 0..<batch { (z + r * nOut).update(from: b, count: nOut) }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(nOut), Int32(nIn),
                        1, prev, Int32(nIn), w, Int32(nIn), 1, z, Int32(nOut))
            let count = batch * nOut
            if l == layers || activation == .linear {
                a.update(from: z, count: count)
            } else {
                switch activation {
                case .relu: selectByPositive(z, into: a, z: z, negativeScale: 0, count: count)
                case .leakyRelu: selectByPositive(z, into: a, z: z, negativeScale: MLP.leakySlope, count: count)
                case .tanh: for i in 0..<count { a[i] = Foundation.tanh(z[i]) }
                case .linear: break
                }
            }
        }
        return ws.a[layers]
    }

    /// Tangent (R-operator) forward pass after `forward`: R{z_l}, R{a_l} for the parameter
    /// direction `dp` (nil = 0) and input direction `dInput` (nil = 0). Returns R{output}.
    @discardableResult
    public func tangentForward(_ p: UnsafePointer<Double>, direction dp: UnsafePointer<Double>?,
                               inputDirection dInput: UnsafePointer<Double>?, _ ws: MLPWorkspace) -> UnsafeMutablePointer<Double> {
        let batch = ws.batch
        ws.tangentIsZero = dp == nil && dInput == nil
        if let d = dInput { ws.ra[0].update(from: d, count: batch * widths[0]) } else { ws.ra[0].update(repeating: 0, count: batch * widths[0]) }
        var inputTangentIsZero = dInput == nil
        for l in 1...layers {
            let nIn = widths[l - 1], nOut = widths[l], w = p + weightOffset(l)
            let rz = ws.rz[l], ra = ws.ra[l], count = batch * nOut
            if let dp {
                let dw = dp + weightOffset(l), db = dw + nIn * nOut
                for r in 0..<batch { (rz + r * nOut).update(from: db, count: nOut) }
                // R{z} = a_{l−1}·dWᵀ + db + R{a_{l−1}}·Wᵀ
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(nOut), Int32(nIn),
                            1, ws.a[l - 1], Int32(nIn), dw, Int32(nIn), 1, rz, Int32(nOut))
            } else {
                rz.update(repeating: 0, count: count)
            }
            if !inputTangentIsZero {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(nOut), Int32(nIn),
                            1, ws.ra[l - 1], Int32(nIn), w, Int32(nIn), 1, rz, Int32(nOut))
            }
            if l == layers || activation == .linear {
                ra.update(from: rz, count: count)
            } else {
                multiplyBySigmaPrime(rz, into: ra, z: ws.z[l], a: ws.a[l], count: count)
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
    ///   (`direction` must be that pass's parameter direction).
    public func backward(_ p: UnsafePointer<Double>, dOut: UnsafePointer<Double>, _ ws: MLPWorkspace, scale: Double = 1,
                         gradient: UnsafeMutablePointer<Double>?, inputGradient: UnsafeMutablePointer<Double>?,
                         dOutTangent: UnsafePointer<Double>? = nil, direction: UnsafePointer<Double>? = nil,
                         gradientTangent: UnsafeMutablePointer<Double>? = nil,
                         inputGradientTangent: UnsafeMutablePointer<Double>? = nil) {
        let batch = ws.batch
        let tangents = dOutTangent != nil
        // With a zero tangent state (R{a} = R{z} = 0) and no parameter direction, R{δ} does not
        // depend on δ: a tangent-only pass then skips δ's propagation and the δᵀR{a} products.
        let zeroTangentState = tangents && ws.tangentIsZero
        let needDelta = !tangents || gradient != nil || inputGradient != nil || direction != nil || !zeroTangentState
        // δ_L = dOut (linear output layer).
        ws.d[layers].update(from: dOut, count: batch * widths[layers])
        if let t = dOutTangent { ws.rd[layers].update(from: t, count: batch * widths[layers]) }
        for l in stride(from: layers, through: 1, by: -1) {
            let nIn = widths[l - 1], nOut = widths[l], w = p + weightOffset(l)
            let d = ws.d[l], rd = ws.rd[l]
            if let g = gradient {
                let gw = g + weightOffset(l), gb = gw + nIn * nOut
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(nOut), Int32(nIn), Int32(batch),
                            scale, d, Int32(nOut), ws.a[l - 1], Int32(nIn), 1, gw, Int32(nIn))
                columnSums(d, rows: batch, columns: nOut, scale: scale, into: gb)
            }
            if tangents, let g = gradientTangent {
                // R{gW} = R{δ}ᵀ·a + δᵀ·R{a};  R{gb} = Σ R{δ}
                let gw = g + weightOffset(l), gb = gw + nIn * nOut
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(nOut), Int32(nIn), Int32(batch),
                            scale, rd, Int32(nOut), ws.a[l - 1], Int32(nIn), 1, gw, Int32(nIn))
                if !zeroTangentState {
                    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(nOut), Int32(nIn), Int32(batch),
                                scale, d, Int32(nOut), ws.ra[l - 1], Int32(nIn), 1, gw, Int32(nIn))
                }
                columnSums(rd, rows: batch, columns: nOut, scale: scale, into: gb)
            }
            let needInput = l > 1 || inputGradient != nil || inputGradientTangent != nil
            guard needInput else { break }
            // δ^a_{l−1} = δ_l·W_l ; R{δ^a} = R{δ}·W + δ·dW
            let da = l > 1 ? ws.d[l - 1] : ws.inputGrad
            if needDelta {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(nIn), Int32(nOut),
                            1, d, Int32(nOut), w, Int32(nIn), 0, da, Int32(nIn))
            }
            let rda = l > 1 ? ws.rd[l - 1] : ws.rInputGrad
            if tangents {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(nIn), Int32(nOut),
                            1, rd, Int32(nOut), w, Int32(nIn), 0, rda, Int32(nIn))
                if let dp = direction {
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(nIn), Int32(nOut),
                                1, d, Int32(nOut), dp + weightOffset(l), Int32(nIn), 1, rda, Int32(nIn))
                }
            }
            if l > 1 && activation != .linear {
                // δ_{l−1} = σ′(z)⊙δ^a ; R{δ_{l−1}} = σ″(z)R{z}⊙δ^a + σ′(z)⊙R{δ^a}
                let z = ws.z[l - 1], a = ws.a[l - 1], rz = ws.rz[l - 1], count = batch * nIn
                if tangents {
                    if activation == .tanh && !zeroTangentState {
                        // R{δ} = σ″R{z}⊙δ^a + σ′⊙R{δ^a} with σ′ = 1 − a², σ″ = −2a(1 − a²).
                        for i in 0..<count {
                            let s1 = 1 - a[i] * a[i]
                            rda[i] = -2 * a[i] * s1 * rz[i] * da[i] + s1 * rda[i]
                        }
                    } else {
                        multiplyBySigmaPrime(rda, into: rda, z: z, a: a, count: count)   // σ″ = 0
                    }
                }
                if needDelta { multiplyBySigmaPrime(da, into: da, z: z, a: a, count: count) }
            }
        }
        if let ig = inputGradient { ig.update(from: ws.inputGrad, count: batch * widths[0]) }   // needDelta holds here
        if let ig = inputGradientTangent { ig.update(from: ws.rInputGrad, count: batch * widths[0]) }
    }

    /// out = σ′(z)⊙v elementwise (v and out may alias); the activation is switched on once,
    /// outside the loop, and the piecewise-linear cases run branch-free on SIMD lanes (a ReLU
    /// mask is random, so a branch per element mispredicts half the time).
    @inline(__always)
    private func multiplyBySigmaPrime(_ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>,
                                      z: UnsafePointer<Double>, a: UnsafePointer<Double>, count: Int) {
        switch activation {
        case .relu: selectByPositive(v, into: out, z: z, negativeScale: 0, count: count)
        case .leakyRelu: selectByPositive(v, into: out, z: z, negativeScale: MLP.leakySlope, count: count)
        case .tanh: for i in 0..<count { out[i] = (1 - a[i] * a[i]) * v[i] }
        case .linear: if UnsafePointer(out) != v { out.update(from: v, count: count) }
        }
    }

    @inline(__always)
    private func columnSums(_ m: UnsafePointer<Double>, rows: Int, columns: Int, scale: Double,
                            into out: UnsafeMutablePointer<Double>) {
        for r in 0..<rows {
            let row = m + r * columns
            for c in 0..<columns { out[c] += scale * row[c] }
        }
    }
}

/// Preallocated buffers for one MLP at batches up to `capacity` (not thread-safe: one per thread).
public final class MLPWorkspace {
    public let capacity: Int
    var batch = 0
    /// Set by `tangentForward`: the last tangent pass had no direction at all (every R{·} = 0).
    var tangentIsZero = true
    var a: [UnsafeMutablePointer<Double>] = []
    var z: [UnsafeMutablePointer<Double>] = []
    var d: [UnsafeMutablePointer<Double>] = []
    var ra: [UnsafeMutablePointer<Double>] = []
    var rz: [UnsafeMutablePointer<Double>] = []
    var rd: [UnsafeMutablePointer<Double>] = []
    let inputGrad: UnsafeMutablePointer<Double>
    let rInputGrad: UnsafeMutablePointer<Double>
    private var owned: [UnsafeMutablePointer<Double>] = []

    public init(_ mlp: MLP, capacity: Int) {
        self.capacity = capacity
        func alloc(_ n: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        var owned: [UnsafeMutablePointer<Double>] = []
        func make(_ n: Int) -> UnsafeMutablePointer<Double> { let p = alloc(n); owned.append(p); return p }
        for w in mlp.widths {
            a.append(make(capacity * w)); z.append(make(capacity * w)); d.append(make(capacity * w))
            ra.append(make(capacity * w)); rz.append(make(capacity * w)); rd.append(make(capacity * w))
        }
        inputGrad = make(capacity * mlp.widths[0])
        rInputGrad = make(capacity * mlp.widths[0])
        self.owned = owned
    }

    deinit { for p in owned { p.deallocate() } }
}

/// out[i] = z[i] > 0 ? v[i] : negativeScale·v[i], eight lanes at a time without branches
/// (`out` may alias `v` or `z`).
@inline(__always)
func selectByPositive(_ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, z: UnsafePointer<Double>,
                      negativeScale: Double, count: Int) {
    var i = 0
    while i + 8 <= count {
        let zv = UnsafeRawPointer(z + i).loadUnaligned(as: SIMD8<Double>.self)
        let vv = UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Double>.self)
        let r = vv.replacing(with: vv * negativeScale, where: zv .<= 0)
        UnsafeMutableRawPointer(out + i).storeBytes(of: r, as: SIMD8<Double>.self)
        i += 8
    }
    while i < count {
        out[i] = z[i] > 0 ? v[i] : negativeScale * v[i]
        i += 1
    }
}
