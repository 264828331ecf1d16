import ArgumentParser
import Foundation
import GameFlow

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "FID, KID and (with a classifier) the classifier score of a sample set against a reference set.",
        discussion: """
            Features are raw pixels (--features raw) or a trained classifier's penultimate layer
            (--features DIR, from gameflow classifier). Scores compare only within one feature
            extractor: the report gives the floor beside each score, the reference's first half
            against its second half.
              gameflow evaluate --samples fake.npy --reference real.npy --features clf/ --json
            """)

    @Option(help: "The samples (.npy or IDX; N×H×W, N×C×H×W, or N×d).") var samples: String
    @Option(help: "The reference samples, same shape.") var reference: String
    @Option(help: "raw (the samples' numbers) or a classifier folder (gameflow classifier --output).") var features: String
    @Flag(help: "Print one JSON object on stdout.") var json = false
    @Flag(help: "No notes on stderr.") var quiet = false

    func run() throws {
        let a = try Self.read(samples, what: "--samples"), b = try Self.read(reference, what: "--reference")
        guard a.shape == b.shape else {
            throw GameFlowError.invalidInput("--samples are \(a.shape.map(String.init).joined(separator: "×")), --reference \(b.shape.map(String.init).joined(separator: "×"))")
        }
        guard b.count >= 4 else { throw GameFlowError.invalidInput("--reference needs at least 4 samples (two halves of 2 for the floor)") }
        let report = try ImageEvaluation(features: features).evaluate(a.values, b.values, shape: a.shape)
        if json {
            print(report.json.serialized())
        } else {
            print(report.description)
        }
    }

    /// A sample file as numbers and one sample's shape.
    static func read(_ path: String, what: String) throws -> (values: [Double], shape: [Int], count: Int) {
        guard FileManager.default.fileExists(atPath: path) else { throw GameFlowError.invalidInput("\(what) file '\(path)' does not exist") }
        if path.lowercased().hasSuffix(".npy") {
            let array = try NumPyArray(data: try readInput(path, what: "\(what) file", limit: 1 << 31), path: path)
            if array.shape.count == 2 {
                let values: [Double]
                switch array.pixels {
                case .doubles(let d): values = d
                case .floats(let f): values = f.map(Double.init)
                case .bytes(let b): values = b.map { Double($0) / 127.5 - 1 }
                }
                guard values.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("\(what) file '\(path)' holds a value that is not finite") }
                return (values, [array.shape[1]], array.shape[0])
            }
        }
        let images = try ImageDataset.load(path: path)
        return (images.images(images.count), images.shape, images.count)
    }
}

/// FID, KID and the classifier score of samples against a reference in one feature space, with
/// the floor (the reference's first half against its second half).
struct ImageEvaluation {
    let classifier: FeatureClassifier?
    let featureName: String

    init(features: String) throws {
        if features == "raw" {
            classifier = nil
        } else {
            classifier = try FeatureClassifier.load(directory: features).classifier
        }
        featureName = features
    }

    struct Report {
        var fid: Double, kid: Double, fidFloor: Double, kidFloor: Double
        var classifierScore: Double?, referenceScore: Double?
        var histogram: [Int]?
        var samples: Int, references: Int, featureDimension: Int, features: String

        var json: JSON {
            .object([("features", .string(features)), ("feature_dimension", .int(featureDimension)), ("samples", .int(samples)),
                     ("reference_samples", .int(references)), ("fid", .number(fid)), ("fid_floor", .number(fidFloor)),
                     ("kid", .number(kid)), ("kid_floor", .number(kidFloor)),
                     ("classifier_score", .optional(classifierScore)), ("reference_classifier_score", .optional(referenceScore)),
                     ("label_histogram", histogram.map { .array($0.map { .int($0) }) } ?? .null)])
        }

        var description: String {
            var s = String(format: "FID %.6g (floor %.6g), KID %.6g (floor %.6g) in %@ features (%d dimensions), %d samples against %d",
                           fid, fidFloor, kid, kidFloor, features, featureDimension, samples, references)
            if let c = classifierScore, let r = referenceScore {
                s += String(format: "\nclassifier score %.4g (reference %.4g); samples per class %@", c, r,
                            (histogram ?? []).map(String.init).joined(separator: " "))
            }
            return s
        }
    }

    /// The metrics of `a` against `b` (each n × the sample size of `shape`).
    func evaluate(_ a: [Double], _ b: [Double], shape: [Int]) throws -> Report {
        let size = shape.reduce(1, *)
        let (fa, pa, fb, pb, d): ([Double], [Double]?, [Double], [Double]?, Int)
        if let c = classifier {
            guard c.network.inputCount == size else {
                throw GameFlowError.invalidInput("the classifier reads \(c.network.inputShape.map(String.init).joined(separator: "×")) samples, these are \(shape.map(String.init).joined(separator: "×"))")
            }
            let ea = c.features(a), eb = c.features(b)
            (fa, pa, fb, pb, d) = (ea.features, ea.probabilities, eb.features, eb.probabilities, c.featureDimension)
        } else {
            (fa, pa, fb, pb, d) = (a, nil, b, nil, size)
        }
        let half = (b.count / size) / 2
        let first = Array(fb[0..<(half * d)]), second = Array(fb[(half * d)..<(2 * half * d)])
        let k = classifier?.classes ?? 0
        return Report(fid: try ImageMetrics.fid(fa, fb, dimension: d), kid: try ImageMetrics.kid(fa, fb, dimension: d),
                      fidFloor: try ImageMetrics.fid(first, second, dimension: d), kidFloor: try ImageMetrics.kid(first, second, dimension: d),
                      classifierScore: pa.map { ImageMetrics.classifierScore($0, classes: k) },
                      referenceScore: pb.map { ImageMetrics.classifierScore($0, classes: k) },
                      histogram: pa.map { ImageMetrics.labelHistogram($0, classes: k) },
                      samples: a.count / size, references: b.count / size, featureDimension: d, features: featureName)
    }
}
