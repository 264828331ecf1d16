import Foundation

/// Training a classifier as a one-player game: the player maximises −L, L the mean softmax
/// cross-entropy of a network's logits on a minibatch, so v = −∇L and SimGA is gradient descent
/// (a potential game: v′ = −H is symmetric, and v′ᵀu = v′u). The minibatch of step k (indices
/// drawn uniformly with replacement) is a pure function of (seed, k), as a GAN's.
///
/// Derivatives are exact: v by backpropagation, v′u by the R-operator: with s = softmax(z),
/// ∂L/∂z = (s − e_y)/b and R{∂L/∂z} = (diag(s) − ssᵀ)ż/b, through the network's R-backward.
public struct ClassifierGame: Game {
    public let network: Network
    public let images: ImageDataset
    public let labels: [UInt8]
    public let batchSize: Int
    public let seed: UInt64
    public var classes: Int { network.outputCount }
    private let workspace: ClassifierWorkspace

    /// - Throws: when the labels do not match the images, a label is out of range, or the network
    ///   does not read the images.
    public init(network: Network, images: ImageDataset, labels: [UInt8], batchSize: Int, seed: UInt64) throws {
        guard labels.count == images.count else { throw GameFlowError.invalidInput("\(labels.count) labels for \(images.count) images") }
        guard network.inputShape.reduce(1, *) == images.dimension else {
            throw GameFlowError.invalidInput("the classifier reads \(network.inputShape), the images are \(images.shape)")
        }
        guard let top = labels.max(), Int(top) < network.outputCount else {
            throw GameFlowError.invalidInput("a label is ≥ the classifier's \(network.outputCount) outputs")
        }
        guard batchSize >= 1 else { throw GameFlowError.invalidInput("batch must be ≥ 1") }
        self.network = network
        self.images = images
        self.labels = labels
        self.batchSize = batchSize
        self.seed = seed
        workspace = ClassifierWorkspace(network, batch: batchSize)
    }

    public var name: String { "classifier" }
    public var dimension: Int { network.parameterCount }
    public var players: [Range<Int>] { [0..<dimension] }
    public var hasExactDerivatives: Bool { true }

    /// The network's initial parameters from `seed`.
    public func initialState(seed: UInt64) -> [Double] {
        var x = [Double](repeating: 0, count: dimension)
        var rng = SeededGenerator(seed: seed, stream: -2)
        network.initialize(&x, at: 0, rng: &rng)
        return x
    }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        workspace.locked { ws in
            forward(x, step: step, ws)
            v.withUnsafeMutableBufferPointer { out in
                out.baseAddress!.update(repeating: 0, count: dimension)
                network.vjp(x, dOut: ws.upstream, ws.net, gradient: out.baseAddress!, inputGradient: nil)
                for i in 0..<dimension { out[i] = -out[i] }
            }
        }
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        workspace.locked { ws in
            forward(x, step: step, ws)
            let k = classes, b = batchSize
            u.withUnsafeBufferPointer { us in
                let zdot = network.jvp(x, direction: us.baseAddress!, inputDirection: nil, ws.net)
                for r in 0..<b {
                    var sz = 0.0
                    for c in 0..<k { sz += ws.softmax[r * k + c] * zdot[r * k + c] }
                    for c in 0..<k { ws.rUpstream[r * k + c] = ws.softmax[r * k + c] * (zdot[r * k + c] - sz) / Double(b) }
                }
                out.withUnsafeMutableBufferPointer { o in
                    o.baseAddress!.update(repeating: 0, count: dimension)
                    network.rBackward(x, dOut: ws.upstream, dOutTangent: ws.rUpstream, direction: us.baseAddress!, ws.net, gradient: nil,
                                      gradientTangent: o.baseAddress!, inputGradient: nil, inputGradientTangent: nil)
                    for i in 0..<dimension { o[i] = -o[i] }
                }
            }
        }
    }

    /// v′ is symmetric (−H): v′ᵀu = v′u.
    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        jacobianVectorProduct(at: x, u, step: step, into: &out)
    }

    /// The mean cross-entropy on the batch of `step`.
    public func loss(at x: [Double], step: Int) -> Double {
        workspace.locked { ws in forward(x, step: step, ws); return ws.loss }
    }

    /// The batch, the logits, softmax, L and ∂L/∂z.
    private func forward(_ x: [Double], step: Int, _ ws: ClassifierWorkspace) {
        let b = batchSize, d = images.dimension, k = classes
        if ws.batchStep != step {
            var rng = SeededGenerator(seed: seed, stream: Int64(step))
            for r in 0..<b {
                let i = Int(rng.next() % UInt64(images.count))
                images.image(i, into: ws.input + r * d)
                ws.batchLabels[r] = Int(labels[i])
            }
            ws.batchStep = step
        }
        let z = network.forward(x, input: ws.input, batch: b, ws.net)
        var loss = 0.0
        for r in 0..<b {
            var top = -Double.infinity
            for c in 0..<k { top = max(top, z[r * k + c]) }
            var sum = 0.0
            for c in 0..<k { let e = exp(z[r * k + c] - top); ws.softmax[r * k + c] = e; sum += e }
            for c in 0..<k { ws.softmax[r * k + c] /= sum }
            let y = ws.batchLabels[r]
            loss += (log(sum) + top - z[r * k + y]) / Double(b)
            for c in 0..<k { ws.upstream[r * k + c] = (ws.softmax[r * k + c] - (c == y ? 1 : 0)) / Double(b) }
        }
        ws.loss = loss
    }
}

final class ClassifierWorkspace: @unchecked Sendable {
    let net: NetworkWorkspace
    let input: UnsafeMutablePointer<Double>, softmax: UnsafeMutablePointer<Double>
    let upstream: UnsafeMutablePointer<Double>, rUpstream: UnsafeMutablePointer<Double>
    var batchLabels: [Int]
    var batchStep: Int?
    var loss = 0.0
    private let lock = NSLock()

    init(_ network: Network, batch: Int) {
        net = NetworkWorkspace(network, capacity: batch)
        func make(_ n: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        input = make(batch * network.inputCount)
        softmax = make(batch * network.outputCount)
        upstream = make(batch * network.outputCount)
        rUpstream = make(batch * network.outputCount)
        batchLabels = [Int](repeating: 0, count: batch)
    }

    deinit { input.deallocate(); softmax.deallocate(); upstream.deallocate(); rUpstream.deallocate() }

    func locked<T>(_ body: (ClassifierWorkspace) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }
}

/// A trained classifier used as a feature extractor: its penultimate layer's output (the input of
/// the last layer) as features and the softmax of its logits as class probabilities.
public struct FeatureClassifier: Sendable {
    public let network: Network
    public let parameters: [Double]

    public init(network: Network, parameters: [Double]) throws {
        guard parameters.count == network.parameterCount else {
            throw GameFlowError.invalidInput("the classifier has \(network.parameterCount) parameters, the weights \(parameters.count)")
        }
        self.network = network
        self.parameters = parameters
    }

    /// The features' dimension.
    public var featureDimension: Int { network.layers[network.layers.count - 2].outputCount }
    public var classes: Int { network.outputCount }

    /// Features (n × featureDimension) and probabilities (n × classes) of n samples (n × input size).
    public func features(_ samples: [Double]) -> (features: [Double], probabilities: [Double]) {
        let d = network.inputCount, n = samples.count / d, chunk = min(max(n, 1), 500), f = featureDimension, k = classes
        let ws = NetworkWorkspace(network, capacity: chunk)
        var features = [Double](repeating: 0, count: n * f), probabilities = [Double](repeating: 0, count: n * k)
        var done = 0
        samples.withUnsafeBufferPointer { s in
            while done < n {
                let m = min(chunk, n - done)
                let z = network.forward(parameters, input: s.baseAddress! + done * d, batch: m, ws)
                let penultimate = ws.activations(network.layers.count - 1)
                for i in 0..<(m * f) { features[done * f + i] = penultimate[i] }
                for r in 0..<m {
                    var top = -Double.infinity
                    for c in 0..<k { top = max(top, z[r * k + c]) }
                    var sum = 0.0
                    for c in 0..<k { sum += exp(z[r * k + c] - top) }
                    for c in 0..<k { probabilities[(done + r) * k + c] = exp(z[r * k + c] - top) / sum }
                }
                done += m
            }
        }
        return (features, probabilities)
    }

    /// The fraction of `labels` the argmax of the probabilities gets right.
    public func accuracy(_ samples: [Double], labels: [UInt8]) -> Double {
        let p = features(samples).probabilities, k = classes
        var right = 0
        for (r, y) in labels.enumerated() {
            let row = p[(r * k)..<((r + 1) * k)]
            if row.indices.max(by: { row[$0] < row[$1] })! - r * k == Int(y) { right += 1 }
        }
        return Double(right) / Double(labels.count)
    }

    /// The feature classifier GameFlow trains (`gameflow classifier`): conv 32 (k4 s2 p1) → relu →
    /// conv 64 (k4 s2 p1) → relu → flatten → dense 128 → relu → dense (classes); features are the
    /// 128 outputs of the last relu.
    public static func defaultLayers(classes: Int) -> [LayerSpec] {
        [.conv(out: 32, kernel: 4, stride: 2, padding: 1), .activation(.relu), .conv(out: 64, kernel: 4, stride: 2, padding: 1), .activation(.relu),
         .flatten, .dense(out: 128), .activation(.relu), .dense(out: classes)]
    }
}

extension ImageDataset {
    /// Fashion-MNIST's labels (0…9), training or test set.
    public static func fashionMNISTLabels(test: Bool = false) throws -> [UInt8] {
        let path = fashionMNISTDirectory + (test ? "/t10k-labels-idx1-ubyte.gz" : "/train-labels-idx1-ubyte.gz")
        return try loadLabels(path: path)
    }

    /// An IDX label file (N bytes, optionally gzipped).
    public static func loadLabels(path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw GameFlowError.invalidInput("label file '\(path)' does not exist") }
        var data = try readInput(path, what: "label file", limit: 1 << 30)
        if data.starts(with: [0x1f, 0x8b]) { data = try gunzip(data, path: path) }
        let idx = try IDXArray(data: data, path: path)
        guard idx.shape.count == 1 else { throw GameFlowError.invalidInput("IDX label file '\(path)' must be one-dimensional (got \(idx.shape))") }
        return idx.bytes
    }
}

extension FeatureClassifier {
    /// The file `gameflow classifier` writes in its output folder.
    public static let fileName = "classifier.json"

    /// classifier.json: the input shape, the layers, the weights and what the training measured.
    public func json(fields: [(String, JSON)]) -> JSON {
        .object([("format", .string("gameflow-classifier-1")), ("input_shape", .array(network.inputShape.map { .int($0) })),
                 ("layers", configurationJSON(network.layers.map(\.spec))), ("parameters", .int(parameters.count))]
                + fields + [("state", .numbers(parameters))])
    }

    /// The classifier in `directory` (its classifier.json); problems name the file.
    public static func load(directory: String) throws -> (classifier: FeatureClassifier, fields: JSON) {
        let path = joinPath(directory, fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw GameFlowError.invalidInput("'\(directory)' holds no trained classifier (\(fileName)): make one with gameflow classifier --output \(directory)")
        }
        let data = try readInput(path, what: "classifier file", limit: 1 << 30)
        guard let json = try? JSON.parse(data), case .string("gameflow-classifier-1")? = json["format"] else {
            throw GameFlowError.invalidInput("'\(path)' is not a gameflow classifier file")
        }
        guard case .array(let shape)? = json["input_shape"], let layers = json["layers"], case .array(let state)? = json["state"] else {
            throw GameFlowError.invalidInput("'\(path)' lacks input_shape, layers or state")
        }
        let specs: [LayerSpec] = try decodeConfiguration(Data(layers.serialized().utf8), source: "classifier file '\(path)'")
        let network = try Network(inputShape: shape.compactMap { if case .int(let i) = $0 { return i }; return nil }, layers: specs, role: "classifier")
        let x = try state.map { v -> Double in
            switch v {
            case .int(let i): return Double(i)
            case .number(let d) where d.isFinite: return d
            default: throw GameFlowError.invalidInput("'\(path)': the state holds a value that is not a finite number")
            }
        }
        return (try FeatureClassifier(network: network, parameters: x), json)
    }
}
