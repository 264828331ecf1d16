import Foundation

/// One layer of an architecture file, as written there (`{"type": "conv", "out": 32, "kernel":
/// 4, "stride": 2, "padding": 1}`): the shapes come from the layer before, so a spec is
/// independent of its input. Types: dense, conv, deconv, reshape, flatten and the activations
/// relu, leaky_relu (slope), elu, tanh, sigmoid, softplus, linear.
public enum LayerSpec: Sendable, Equatable, Hashable, Codable {
    /// `torch.nn.Linear(in, out)` on a flat input (a (C, H, W) input is read flat, as after `flatten`).
    case dense(out: Int)
    /// `torch.nn.Conv2d(C, out, kernel, stride, padding)`.
    case conv(out: Int, kernel: Int, stride: Int, padding: Int)
    /// `torch.nn.ConvTranspose2d(C, out, kernel, stride, padding, output_padding)`.
    case deconv(out: Int, kernel: Int, stride: Int, padding: Int, outputPadding: Int)
    /// The sample seen with another shape (same count), e.g. [64, 7, 7].
    case reshape([Int])
    /// The sample seen flat.
    case flatten
    /// A pointwise nonlinearity.
    case activation(Pointwise)

    // Camel case: configurations are read with snake_case key conversion ("output_padding").
    private enum Keys: String, CodingKey { case type, out, kernel, stride, padding, outputPadding, shape, slope }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decode(String.self, forKey: .type)
        func int(_ k: Keys, _ fallback: Int? = nil) throws -> Int {
            if let v = try c.decodeIfPresent(Int.self, forKey: k) { return v }
            if let f = fallback { return f }
            throw GameFlowError.invalidInput("a \(type) layer needs \"\(k == .outputPadding ? "output_padding" : k.stringValue)\"")
        }
        switch type {
        case "dense": self = .dense(out: try int(.out))
        case "conv": self = .conv(out: try int(.out), kernel: try int(.kernel), stride: try int(.stride, 1), padding: try int(.padding, 0))
        case "deconv":
            self = .deconv(out: try int(.out), kernel: try int(.kernel), stride: try int(.stride, 1), padding: try int(.padding, 0),
                           outputPadding: try int(.outputPadding, 0))
        case "reshape": self = .reshape(try c.decode([Int].self, forKey: .shape))
        case "flatten": self = .flatten
        case "leaky_relu": self = .activation(.leakyRelu(slope: try c.decodeIfPresent(Double.self, forKey: .slope) ?? 0.01))
        case "relu": self = .activation(.relu)
        case "elu": self = .activation(.elu)
        case "tanh": self = .activation(.tanh)
        case "sigmoid": self = .activation(.sigmoid)
        case "softplus": self = .activation(.softplus)
        case "linear": self = .activation(.linear)
        default:
            throw GameFlowError.invalidInput("unknown layer type '\(type)' (expected dense, conv, deconv, reshape, flatten, \(Pointwise.names.joined(separator: ", ")))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .dense(let o): try c.encode("dense", forKey: .type); try c.encode(o, forKey: .out)
        case let .conv(o, k, s, p):
            try c.encode("conv", forKey: .type); try c.encode(o, forKey: .out); try c.encode(k, forKey: .kernel)
            try c.encode(s, forKey: .stride); try c.encode(p, forKey: .padding)
        case let .deconv(o, k, s, p, op):
            try c.encode("deconv", forKey: .type); try c.encode(o, forKey: .out); try c.encode(k, forKey: .kernel)
            try c.encode(s, forKey: .stride); try c.encode(p, forKey: .padding); try c.encode(op, forKey: .outputPadding)
        case .reshape(let s): try c.encode("reshape", forKey: .type); try c.encode(s, forKey: .shape)
        case .flatten: try c.encode("flatten", forKey: .type)
        case .activation(let a):
            try c.encode(a.name, forKey: .type)
            if case .leakyRelu(let s) = a { try c.encode(s, forKey: .slope) }
        }
    }

    /// "conv 32 k4 s2 p1" (for errors and summaries).
    public var description: String {
        switch self {
        case .dense(let o): return "dense \(o)"
        case let .conv(o, k, s, p): return "conv \(o) k\(k) s\(s) p\(p)"
        case let .deconv(o, k, s, p, op): return "deconv \(o) k\(k) s\(s) p\(p)" + (op > 0 ? " op\(op)" : "")
        case .reshape(let s): return "reshape \(s.map(String.init).joined(separator: "×"))"
        case .flatten: return "flatten"
        case .activation(let a):
            if case .leakyRelu(let s) = a { return "leaky_relu \(s)" }
            return a.name
        }
    }
}

/// A GAN's two networks as an architecture file holds them: the latent size, the generator's
/// layers (from the latent vector to a sample) and the discriminator's (from a sample to one
/// logit). The sample's shape comes from the data.
public struct Architecture: Sendable, Equatable, Codable {
    /// The generator's input size (z ~ N(0, I)).
    public var latent: Int
    public var generator: [LayerSpec]
    public var discriminator: [LayerSpec]

    public init(latent: Int, generator: [LayerSpec], discriminator: [LayerSpec]) {
        self.latent = latent
        self.generator = generator
        self.discriminator = discriminator
    }

    /// dcgan28: a batch-norm-free, half-width DCGAN for 28×28 grayscale images (273,666 parameters).
    /// G: z ∈ R⁶⁴ → dense 3136 → reshape (64, 7, 7) → relu → deconv 32 (k4 s2 p1) → relu →
    /// deconv 1 (k4 s2 p1) → tanh; D: conv 32 (k4 s2 p1) → leaky_relu 0.2 → conv 64 (k4 s2 p1) →
    /// leaky_relu 0.2 → flatten → dense 1.
    public static let dcgan28 = Architecture(
        latent: 64,
        generator: [.dense(out: 3136), .reshape([64, 7, 7]), .activation(.relu),
                    .deconv(out: 32, kernel: 4, stride: 2, padding: 1, outputPadding: 0), .activation(.relu),
                    .deconv(out: 1, kernel: 4, stride: 2, padding: 1, outputPadding: 0), .activation(.tanh)],
        discriminator: [.conv(out: 32, kernel: 4, stride: 2, padding: 1), .activation(.leakyRelu(slope: 0.2)),
                        .conv(out: 64, kernel: 4, stride: 2, padding: 1), .activation(.leakyRelu(slope: 0.2)),
                        .flatten, .dense(out: 1)])

    /// The built-in architectures by name.
    public static let builtIn: [String: Architecture] = ["dcgan28": dcgan28]

    /// Reads an architecture file; every problem is one line naming the file.
    public static func load(_ path: String) throws -> Architecture {
        let data = try readInput(path, what: "architecture file", limit: 1 << 24)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(Architecture.self, from: data)
        } catch let e as GameFlowError {
            throw GameFlowError.invalidInput("architecture file '\(path)': \(e.description)")
        } catch DecodingError.keyNotFound(let key, _) {
            throw GameFlowError.invalidInput("architecture file '\(path)': missing \"\(key.stringValue)\"")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw GameFlowError.invalidInput("architecture file '\(path)': wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw GameFlowError.invalidInput("architecture file '\(path)' is not valid JSON")
        }
    }

    /// The two networks for samples of `sampleShape`; shape mismatches name the layer.
    public func networks(sampleShape: [Int], denseKernels: Bool = true) throws -> (generator: Network, discriminator: Network) {
        guard latent >= 1 else { throw GameFlowError.invalidInput("architecture: latent must be ≥ 1 (got \(latent))") }
        let g = try Network(inputShape: [latent], layers: generator, role: "generator", denseKernels: denseKernels)
        guard g.outputCount == sampleShape.reduce(1, *) else {
            throw GameFlowError.invalidInput("architecture: the generator outputs \(g.outputShape.map(String.init).joined(separator: "×")), the data's samples are \(sampleShape.map(String.init).joined(separator: "×"))")
        }
        let d = try Network(inputShape: sampleShape, layers: discriminator, role: "discriminator", denseKernels: denseKernels)
        guard d.outputCount == 1 else {
            throw GameFlowError.invalidInput("architecture: the discriminator must output 1 number per sample (it outputs \(d.outputShape.map(String.init).joined(separator: "×")))")
        }
        return (g, d)
    }
}

extension Architecture {
    /// The MLP GAN's networks as layers: G latent → hidden… → d, D d → hidden… → 1, each hidden
    /// layer dense then the activation, output layers linear (`NetworkGAN.mlp`).
    public static func mlp(latent: Int, generatorHidden: [Int], discriminatorHidden: [Int], dataDimension d: Int,
                           generatorActivation: Activation, discriminatorActivation: Activation) -> Architecture {
        func layers(_ hidden: [Int], _ out: Int, _ a: Activation) -> [LayerSpec] {
            hidden.flatMap { [LayerSpec.dense(out: $0), .activation(a.pointwise)] } + [.dense(out: out)]
        }
        return Architecture(latent: latent, generator: layers(generatorHidden, d, generatorActivation),
                            discriminator: layers(discriminatorHidden, 1, discriminatorActivation))
    }
}

extension Activation {
    /// The same nonlinearity as a layer (leaky ReLU with `Activation.leakySlope`).
    public var pointwise: Pointwise {
        switch self {
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu(slope: Activation.leakySlope)
        case .tanh: return .tanh
        case .linear: return .linear
        }
    }
}

/// The hidden layers' nonlinearity of an MLP GAN's networks (`Architecture.mlp`; output layers are linear).
public enum Activation: String, Sendable, CaseIterable {
    /// max(x, 0).
    case relu
    /// max(x, αx) with α = `Activation.leakySlope`.
    case leakyRelu = "leaky-relu"
    /// tanh(x).
    case tanh
    /// No nonlinearity (a deep linear network).
    case linear

    /// Leaky ReLU's slope for negative inputs.
    public static let leakySlope = 0.2
}

