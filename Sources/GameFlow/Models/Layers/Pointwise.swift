import CKernels
import Foundation

/// A pointwise nonlinearity a = σ(z) with its first and second derivatives, the activation
/// layers of a `Network`. The network derives every pass from σ, σ′ and σ″:
/// JVP ȧ = σ′(z)ż, VJP δ_z = σ′(z)δ_a, R-backward R{δ_z} = σ″(z)ż·δ_a + σ′(z)R{δ_a}.
///
/// ReLU and leaky ReLU have σ″ = 0 and take σ′(0) = 1 (ReLU: 0 for z ≤ 0), PyTorch's choice at
/// the kink.
public enum Pointwise: Sendable, Equatable, Hashable {
    /// max(z, 0).
    case relu
    /// z for z > 0, slope·z otherwise (PyTorch's `LeakyReLU(negative_slope)`).
    case leakyRelu(slope: Double)
    /// z for z > 0, eᶻ − 1 otherwise (PyTorch's `ELU(alpha=1)`).
    case elu
    /// tanh z.
    case tanh
    /// 1/(1 + e⁻ᶻ).
    case sigmoid
    /// log(1 + eᶻ) (PyTorch's `Softplus(beta=1)`, without its linear threshold).
    case softplus
    /// z (no nonlinearity).
    case linear

    /// The name in architecture files ("relu", "leaky_relu", …).
    public var name: String {
        switch self {
        case .relu: return "relu"
        case .leakyRelu: return "leaky_relu"
        case .elu: return "elu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .softplus: return "softplus"
        case .linear: return "linear"
        }
    }

    /// The names architecture files accept.
    public static let names = ["relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus", "linear"]

    @inline(__always) static func logistic(_ z: Double) -> Double { z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)) }

    /// σ(z).
    @inline(__always) public func value(_ z: Double) -> Double {
        switch self {
        case .relu: return z > 0 ? z : 0
        case .leakyRelu(let s): return z > 0 ? z : s * z
        case .elu: return z > 0 ? z : expm1(z)
        case .tanh: return Foundation.tanh(z)
        case .sigmoid: return Self.logistic(z)
        case .softplus: return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
        case .linear: return z
        }
    }

    /// (σ′(z), σ″(z)).
    @inline(__always) public func derivatives(_ z: Double) -> (d1: Double, d2: Double) {
        switch self {
        case .relu: return (z > 0 ? 1 : 0, 0)
        case .leakyRelu(let s): return (z > 0 ? 1 : s, 0)
        case .elu: return z > 0 ? (1, 0) : (exp(z), exp(z))
        case .tanh:
            let t = Foundation.tanh(z), s = 1 - t * t
            return (s, -2 * t * s)
        case .sigmoid:
            let s = Self.logistic(z), d = s * (1 - s)
            return (d, d * (1 - 2 * s))
        case .softplus:
            let s = Self.logistic(z)
            return (s, s * (1 - s))
        case .linear: return (1, 0)
        }
    }

    /// (σ′, σ″) from the output y = σ(z) for tanh and the logistic — the same operations as
    /// `derivatives` makes after computing σ(z), so the same numbers without σ again; nil for the
    /// other activations.
    @inline(__always) func derivatives(output y: Double) -> (d1: Double, d2: Double)? {
        switch self {
        case .tanh:
            let s = 1 - y * y
            return (s, -2 * y * s)
        case .sigmoid:
            let d = y * (1 - y)
            return (d, d * (1 - 2 * y))
        default: return nil
        }
    }

    /// Whether `derivatives(output:)` applies.
    var derivativesFromOutput: Bool { self == .tanh || self == .sigmoid }

    // Whole-buffer passes (the case chosen once per buffer, not per number), in either
    // precision: ReLU and leaky ReLU in the buffer's own arithmetic, the smooth activations by
    // their double-precision formulas rounded to the buffer's type.

    /// y = σ(x) over `n` numbers.
    func apply<S: NetworkScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count n: Int) {
        switch self {
        case .relu, .leakyRelu: tangent(x, x, y, count: n)     // x > 0 ? x : slope·x (0): the tangent with ẋ = x
        case .linear: y.update(from: x, count: n)
        default: for k in 0..<n { y[k] = S(value(Double(x[k]))) }
        }
    }

    /// ẏ = σ′(x)ẋ. ReLU's and leaky ReLU's load ẋ before the sign test, so the choice is a
    /// select, not a branch the sign of x mispredicts half the time (ry may be rx: in place).
    /// With the layer's output `y` = σ(x), tanh and the logistic take σ′ from it.
    func tangent<S: NetworkScalar>(_ x: UnsafePointer<S>, _ rx: UnsafePointer<S>, _ ry: UnsafeMutablePointer<S>, count n: Int,
                                   output y: UnsafePointer<S>? = nil) {
        if vectorSelect(x, rx, ry, count: n) { return }
        switch self {
        case .relu: for k in 0..<n { let r = rx[k]; ry[k] = x[k] > 0 ? r : 0 }
        case .leakyRelu(let s): let slope = S(s); for k in 0..<n { let r = rx[k]; ry[k] = x[k] > 0 ? r : slope * r }
        case .linear: ry.update(from: rx, count: n)
        default:
            if let y, derivativesFromOutput {
                for k in 0..<n { ry[k] = S(derivatives(output: Double(y[k]))!.d1) * rx[k] }
            } else {
                for k in 0..<n { ry[k] = S(derivatives(Double(x[k])).d1) * rx[k] }
            }
        }
    }

    /// ReLU's and leaky ReLU's select, out = x > 0 ? r : slope·r (or 0), in AVX-512 where it runs
    /// (`gf_relu_f`/`_d`: the loops' numbers); false for the other activations and elsewhere.
    @inline(__always)
    private func vectorSelect<S: NetworkScalar>(_ x: UnsafePointer<S>, _ r: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, count n: Int) -> Bool {
        let slope: Double, leaky: Int32
        switch self {
        case .relu: (slope, leaky) = (0, 0)
        case .leakyRelu(let s): (slope, leaky) = (s, 1)
        default: return false
        }
        if S.self == Float.self { return gf_relu_f(Kernels.f(x), Kernels.f(r), Kernels.mf(out), n, Float(slope), leaky) != 0 }
        return gf_relu_d(Kernels.d(x), Kernels.d(r), Kernels.m(out), n, slope, leaky) != 0
    }

    /// δ_x = σ′(x)δ_y (σ′ from the output `y` where `tangent` takes it).
    func backward<S: NetworkScalar>(_ x: UnsafePointer<S>, _ d: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, count n: Int,
                                    output y: UnsafePointer<S>? = nil) {
        tangent(x, d, dx, count: n, output: y)
    }

    /// R{δ_x} = σ″(x)ẋ·δ_y + σ′(x)R{δ_y} (ẋ = 0 when `zero`) and, with `delta`, δ_x = σ′(x)δ_y
    /// (σ′ and σ″ from the output `y` where `tangent` takes it).
    func rBackward<S: NetworkScalar>(_ x: UnsafePointer<S>, _ rx: UnsafePointer<S>, zero: Bool, _ d: UnsafePointer<S>,
                                     _ rd: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, _ rdx: UnsafeMutablePointer<S>,
                                     count n: Int, delta: Bool, output y: UnsafePointer<S>? = nil) {
        switch self {
        case .relu, .leakyRelu, .linear:   // σ″ = 0
            tangent(x, rd, rdx, count: n)
            if delta { tangent(x, d, dx, count: n) }
        default:
            let fromOutput = y != nil && derivativesFromOutput
            for k in 0..<n {
                let s = fromOutput ? derivatives(output: Double(y![k]))! : derivatives(Double(x[k])), d1 = S(s.d1)
                rdx[k] = (zero ? 0 : S(s.d2) * rx[k] * d[k]) + d1 * rd[k]
                if delta { dx[k] = d1 * d[k] }
            }
        }
    }
}
