import Foundation

/// What training, metrics and analyses need of a GAN beyond `Game`: its data, samples,
/// utilities and the shapes its parameters belong to (`NetworkGAN`, for any architecture).
public protocol GANGame: Game {
    /// Where the real samples come from.
    var source: any SampleSource { get }
    /// One sample's shape (channels-first for images; [d] for points).
    var sampleShape: [Int] { get }
    /// The generator's input size.
    var latentDimension: Int { get }
    /// Real and fake samples per minibatch.
    var batchSize: Int { get }
    /// The order of the two networks in x.
    var layout: NetworkGAN.Layout { get }
    /// Keys every minibatch together with the step index.
    var seed: UInt64 { get }
    /// The utilities (f − P of D, g of G) on the batch of `step`.
    func utilities(at x: [Double], step: Int) -> (discriminator: Double, generator: Double)
    /// `count` generator samples for latents drawn from `sampleSeed`.
    func samples(at x: [Double], count: Int, sampleSeed: UInt64) -> [Double]
    /// Both networks' initial parameters from `seed`.
    func initialState(seed: UInt64) -> [Double]
    /// The shapes a state belongs to (state.json's "networks"; compared when a state is read).
    var networksJSON: JSON { get }
    /// Multiply-adds of one evaluation of v (the networks' bilinear maps; nil: not counted).
    var fieldMultiplyAdds: Int? { get }
}

extension GANGame {
    /// d, the numbers in one sample.
    public var dataDimension: Int { source.dimension }
    /// The target mixture, when the data is one.
    public var data: GaussianMixture? { source as? GaussianMixture }
    /// Whether the samples are images (C, H, W).
    public var isImageData: Bool { sampleShape.count == 3 }

    /// The minibatch of `step` as the game draws it: the real samples (batch × d, as D sees
    /// them) and the latents (batch × latent), from the stream (seed, step).
    public func minibatch(step: Int) -> (real: [Double], latents: [Double]) {
        var real = [Double](repeating: 0, count: batchSize * dataDimension)
        var latents = [Double](repeating: 0, count: batchSize * latentDimension)
        var rng = SeededGenerator(seed: seed, stream: Int64(step))
        real.withUnsafeMutableBufferPointer { source.sample(batchSize, into: $0.baseAddress!, rng: &rng) }
        latents.withUnsafeMutableBufferPointer { rng.fillNormals($0.baseAddress!, count: batchSize * latentDimension) }
        return (real, latents)
    }

    /// Writes the evaluation batch (step −1) as `evaluation_real.npy` (batch × sample shape) and
    /// `evaluation_latents.npy` (batch × latent) in `directory`: with the architecture and a state,
    /// everything an outside tool needs to evaluate the field GameFlow analyses.
    public func writeEvaluationBatch(to directory: String) throws {
        let (real, latents) = minibatch(step: NetworkGAN.evaluationStep)
        try writeAtomically(NumPyArray.encode(real, shape: [batchSize] + sampleShape), to: joinPath(directory, "evaluation_real.npy"))
        try writeAtomically(NumPyArray.encode(latents, shape: [batchSize, latentDimension]), to: joinPath(directory, "evaluation_latents.npy"))
    }
}

extension NetworkGAN: GANGame {
    public var networksJSON: JSON {
        if let w = mlpWidths {
            return .object([("generator", .array(w.generator.map { .int($0) })), ("discriminator", .array(w.discriminator.map { .int($0) })),
                            ("layout", .string(layout.rawValue))])
        }
        return .object([("generator", .array(generator.layers.map { .string($0.spec.description) })),
                 ("discriminator", .array(discriminator.layers.map { .string($0.spec.description) })),
                 ("latent", .int(latentDimension)), ("sample_shape", .array(sampleShape.map { .int($0) })),
                 ("layout", .string(layout.rawValue))])
    }

    /// v's bilinear-map sweeps: G forward and backward (weights and input: 3 sweeps), D forward on
    /// the real and the fake batch, backward for f on both and for G's input gradient (7 sweeps).
    public var fieldMultiplyAdds: Int? {
        let (g, d) = forwardMultiplyAdds
        return 3 * g + 7 * d
    }
}

extension SampleSource {
    /// One sample's shape: (C, H, W) for images, [d] otherwise.
    public var sampleShape: [Int] { (self as? ImageDataset)?.shape ?? [dimension] }
}
