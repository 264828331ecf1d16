import Foundation

/// FID, KID and the classifier score of a generator's samples against a fixed reference set
/// (e.g. Fashion-MNIST's test images) in a trained classifier's features, for
/// `GANMetricsRecorder`: the reference's features are computed once, and the floor (the
/// reference's first half against its second half) is stated beside the scores.
public struct ImageQuality: Sendable {
    public let classifier: FeatureClassifier
    /// Generator samples per measurement.
    public let samples: Int
    /// The reference's features (n × feature dimension).
    public let referenceFeatures: [Double]
    /// FID and KID of the reference's two halves: the scores' floor in these features.
    public let floor: (fid: Double, kid: Double)
    /// The reference's own KID term (the mean kernel over its distinct pairs), computed once.
    let referenceKernelMean: Double

    /// - Throws: when the classifier does not read the reference's samples, or fewer than 4 samples.
    public init(classifier: FeatureClassifier, reference: [Double], samples: Int) throws {
        guard samples >= 2 else { throw GameFlowError.invalidInput("fid samples must be at least 2 (got \(samples))") }
        let size = classifier.network.inputCount
        guard reference.count % size == 0, reference.count / size >= 4 else {
            throw GameFlowError.invalidInput("the reference set needs at least 4 samples of \(size) numbers")
        }
        self.classifier = classifier
        self.samples = samples
        referenceFeatures = classifier.features(reference).features
        let d = classifier.featureDimension, half = referenceFeatures.count / d / 2
        let first = Array(referenceFeatures[0..<(half * d)]), second = Array(referenceFeatures[(half * d)..<(2 * half * d)])
        floor = (try ImageMetrics.fid(first, second, dimension: d), try ImageMetrics.kid(first, second, dimension: d))
        referenceKernelMean = ImageMetrics.kernelMean(referenceFeatures, nil, dimension: d)
    }

    /// (FID, KID, classifier score) of `generated` (n × sample size).
    public func measure(_ generated: [Double]) -> (fid: Double, kid: Double, score: Double) {
        let (f, p) = classifier.features(generated)
        let d = classifier.featureDimension
        let fid = (try? ImageMetrics.fid(f, referenceFeatures, dimension: d)) ?? .nan
        let kid = f.allSatisfy(\.isFinite) ? ImageMetrics.kernelMean(f, nil, dimension: d) + referenceKernelMean
            - 2 * ImageMetrics.kernelMean(f, referenceFeatures, dimension: d) : .nan
        return (fid, kid, ImageMetrics.classifierScore(p, classes: classifier.classes))
    }
}
