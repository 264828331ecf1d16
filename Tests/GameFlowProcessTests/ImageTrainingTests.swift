import Foundation
import XCTest
@testable import GameFlow
import GameFlowTestSupport

/// Convolutional GANs on image files through the command line: a run writes its sample grids
/// and evaluation batch, resumes bit for bit, its field passes `gameflow field --check`, and bad
/// architectures and image files are one line with nothing written.
final class ImageTrainingTests: XCTestCase {
    var binary: URL { gameflowBinary(near: ImageTrainingTests.self) }

    func run(_ args: [String]) throws -> (code: Int32, stdout: String, stderr: String) { try runProcess(binary.path, args) }

    func temp() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("gameflow-images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// 40 random 1×8×8 images in [−1, 1] and a small conv/deconv architecture for them.
    func fixtures(_ dir: URL) throws -> (data: String, architecture: String) {
        var rng = SeededGenerator(seed: 7)
        let images = (0..<(40 * 64)).map { _ in tanh(rng.normal()) }
        let data = dir.appendingPathComponent("images.npy")
        try NumPyArray.encode(images, shape: [40, 1, 8, 8]).write(to: data)
        let architecture = dir.appendingPathComponent("arch.json")
        try Data("""
            {"latent": 4,
             "generator": [{"type": "dense", "out": 32}, {"type": "reshape", "shape": [2, 4, 4]}, {"type": "elu"},
                           {"type": "deconv", "out": 1, "kernel": 4, "stride": 2, "padding": 1}, {"type": "tanh"}],
             "discriminator": [{"type": "conv", "out": 3, "kernel": 3, "stride": 2, "padding": 1}, {"type": "leaky_relu", "slope": 0.2},
                               {"type": "flatten"}, {"type": "dense", "out": 1}]}
            """.utf8).write(to: architecture)
        return (data.path, architecture.path)
    }

    func testImageRunWritesGridsAndResumesBitForBit() throws {
        let dir = try temp()
        let (data, architecture) = try fixtures(dir)
        let common = ["train", "--data", data, "--architecture", architecture, "--scheme", "consensus", "--gamma", "0.1",
                      "--optimizer", "rmsprop", "--lr", "1e-3", "--batch", "8", "--every", "4", "--quiet"]
        let whole = dir.appendingPathComponent("whole"), part = dir.appendingPathComponent("part")
        var r = try run(common + ["--steps", "12", "--output", whole.path, "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["architecture"] as? String, architecture)
        XCTAssertEqual(summary["sample_shape"] as? [Int], [1, 8, 8])
        XCTAssertEqual(summary["parameters"] as? Int, (4 * 32 + 32) + (2 * 1 * 16 + 1) + (3 * 9 + 3) + (3 * 16 + 1))
        let png = try Data(contentsOf: whole.appendingPathComponent("samples-12.png"))
        XCTAssertEqual([UInt8](png.prefix(8)), [137, 80, 78, 71, 13, 10, 26, 10])
        let real = try NumPyArray(data: Data(contentsOf: whole.appendingPathComponent("evaluation_real.npy")), path: "real")
        XCTAssertEqual(real.shape, [8, 1, 8, 8])
        let latents = try NumPyArray(data: Data(contentsOf: whole.appendingPathComponent("evaluation_latents.npy")), path: "z")
        XCTAssertEqual(latents.shape, [8, 4])
        // Stopped at 5 steps and resumed to 12: the uninterrupted run's state, byte for byte.
        XCTAssertEqual(try run(common + ["--steps", "5", "--output", part.path]).code, 0)
        r = try run(["resume", part.path, "--steps", "12", "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: part.appendingPathComponent("state.json")), try Data(contentsOf: whole.appendingPathComponent("state.json")))
        // The trained field's exact products agree with differences and with each other.
        r = try run(["field", "--run", whole.path, "--check", "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let field = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let check = try XCTUnwrap(field["check"] as? [String: Any])
        XCTAssertEqual(check["passed"] as? Bool, true, "\(check)")
        XCTAssertEqual((field["v"] as? [Double])?.count, summary["parameters"] as? Int)
    }

    func testBadArchitecturesAndImagesAreOneLineAndWriteNothing() throws {
        let dir = try temp()
        let (data, architecture) = try fixtures(dir)
        let mismatch = dir.appendingPathComponent("mismatch.json")
        try Data(#"{"latent": 4, "generator": [{"type": "dense", "out": 50}], "discriminator": [{"type": "flatten"}, {"type": "dense", "out": 1}]}"#.utf8).write(to: mismatch)
        let badLayer = dir.appendingPathComponent("bad-layer.json")
        try Data(#"{"latent": 4, "generator": [{"type": "dense", "out": 64}, {"type": "conv", "out": 2, "kernel": 3}], "discriminator": [{"type": "dense", "out": 1}]}"#.utf8).write(to: badLayer)
        let unknown = dir.appendingPathComponent("unknown.json")
        try Data(#"{"latent": 4, "generator": [{"type": "dense", "out": 64}, {"type": "gelu"}], "discriminator": [{"type": "dense", "out": 1}]}"#.utf8).write(to: unknown)
        let truncated = dir.appendingPathComponent("truncated.npy")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        try bytes.prefix(bytes.count - 8).write(to: truncated)
        let base = ["train", "--scheme", "simga", "--lr", "0.01", "--steps", "3", "--batch", "4"]
        let cases: [([String], String)] = [
            (["--data", data, "--architecture", mismatch.path], "the generator outputs 50, the data's samples are 1×8×8"),
            (["--data", data, "--architecture", badLayer.path], "generator layer 2 (conv 2 k3 s1 p0) on input 64: a convolution needs a (channels, height, width) input"),
            (["--data", data, "--architecture", unknown.path], "unknown layer type 'gelu'"),
            (["--data", data, "--architecture", "dcgan29"], "unknown architecture 'dcgan29'"),
            (["--data", truncated.path, "--architecture", architecture], "truncated"),
            (["--data", data, "--architecture", "dcgan28"], "the generator outputs 1×28×28, the data's samples are 1×8×8"),
        ]
        for (args, expected) in cases {
            let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
            let r = try run(base + args + ["--output", out.path])
            XCTAssertEqual(r.code, 1, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(args) wrote \(out.path)")
        }
    }

    /// A feature classifier trained on the images (random labels: the pipeline, not accuracy),
    /// used by train's image metrics and by evaluate; metrics.svg and plot draw the columns.
    func testClassifierMetricsAndPlots() throws {
        let dir = try temp()
        let (data, architecture) = try fixtures(dir)
        var labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 40]
        labels += (0..<40).map { UInt8($0 % 10) }
        let labelFile = dir.appendingPathComponent("labels.idx1-ubyte")
        try Data(labels).write(to: labelFile)
        let clf = dir.appendingPathComponent("clf")
        var r = try run(["classifier", "--data", data, "--labels", labelFile.path, "--test-data", data, "--test-labels", labelFile.path,
                         "--steps", "5", "--batch", "8", "--output", clf.path, "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let accuracy = try XCTUnwrap(summary["test_accuracy"] as? Double)
        XCTAssertTrue((0...1).contains(accuracy))
        XCTAssertEqual(summary["feature_dimension"] as? Int, 128)
        var runs: [String] = []
        for scheme in ["simga", "consensus"] {
            let out = dir.appendingPathComponent(scheme)
            var args = ["train", "--data", data, "--architecture", architecture, "--scheme", scheme, "--lr", "1e-3", "--batch", "8",
                        "--steps", "6", "--every", "3", "--metrics-classifier", clf.path, "--fid-samples", "20", "--output", out.path, "--quiet"]
            if scheme == "consensus" { args += ["--gamma", "0.1"] }
            r = try run(args)
            XCTAssertEqual(r.code, 0, r.stderr)
            let csv = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
            XCTAssertTrue(csv[0].hasSuffix(",fid,kid,classifier_score"), String(csv[0]))
            for row in csv.dropFirst() {
                let fields = row.split(separator: ",", omittingEmptySubsequences: false)
                let fid = try XCTUnwrap(Double(fields[fields.count - 3])), score = try XCTUnwrap(Double(fields[fields.count - 1]))
                XCTAssertTrue(fid.isFinite && fid >= 0, String(row))
                XCTAssertTrue(score >= 1 && score <= 10, String(row))   // exp(KL) between 1 and the number of classes
            }
            let svg = try String(contentsOf: out.appendingPathComponent("metrics.svg"), encoding: .utf8)
            XCTAssertTrue(SVGChecker.check(svg).wellFormed)
            XCTAssertTrue(svg.contains("FID and KID"))
            runs.append(out.path)
        }
        let figure = dir.appendingPathComponent("fid.svg").path
        r = try run(["plot"] + runs + ["--metric", "fid", "--x", "seconds", "--output", figure])
        XCTAssertEqual(r.code, 0, r.stderr)
        let check = SVGChecker.check(try String(contentsOfFile: figure, encoding: .utf8))
        XCTAssertTrue(check.wellFormed)
        XCTAssertEqual(check.series, 2)
        // One legend entry per method (its seeds share it).
        XCTAssertEqual(check.names.filter { !$0.isEmpty }.sorted(), ["consensus γ=0.1", "simga"], "\(check.names)")
        r = try run(["plot", runs[0], "--metric", "nope", "--output", figure])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("has no column 'nope'"), r.stderr)
        // evaluate in the classifier's features: the data against itself has FID ≈ 0.
        r = try run(["evaluate", "--samples", data, "--reference", data, "--features", clf.path, "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let e = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertLessThan(abs(try XCTUnwrap(e["fid"] as? Double)), 1e-6)
        XCTAssertNotNil(e["fid_floor"] as? Double)
    }
}
