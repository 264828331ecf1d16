import Foundation
import XCTest
@testable import GameFlow

/// The `gameflow` executable's contract, run as a user would (XCTest, so that the test summary
/// always shows XCTest's count too).
final class CLITests: XCTestCase {
    struct Result { let code: Int32; let stdout: String; let stderr: String }

    var binary: URL {
        // The test bundle and the executable are built into the same products directory.
        var dir = Bundle(for: CLITests.self).bundleURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("gameflow").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("gameflow")
    }

    func run(_ args: [String]) throws -> Result {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func temp() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("gameflow-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    func testJSONSummaryFollowsTheContract() throws {
        let r = try run(["run", "--game", "dirac", "--scheme", "rk4", "--step", "0.2", "--steps", "500", "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["game", "scheme", "step_size", "steps", "status", "final_state", "vector_field_norm",
                    "distance_to_equilibrium", "stats", "seconds"] {
            XCTAssertNotNil(obj[key], "missing \(key)")
        }
        XCTAssertEqual(obj["status"] as? String, "completed")
        XCTAssertEqual(obj["steps"] as? Int, 500)
        let stats = try XCTUnwrap(obj["stats"] as? [String: Any])
        XCTAssertEqual(stats["field_evaluations"] as? Int, 2000)
        for key in ["jacobian_vector_products", "transpose_jacobian_vector_products", "root_solves", "root_iterations"] {
            XCTAssertNotNil(stats[key], "missing stats.\(key)")
        }
        let d = try XCTUnwrap(obj["distance_to_equilibrium"] as? Double)
        XCTAssertEqual(d, 2.0.squareRoot(), accuracy: 0.01 * 2.0.squareRoot())
    }

    func testGameFileAndOutputDirectory() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("g.json")
        try #"{"game": "affine", "players": [1, 1], "M": [[-0.1, 1], [-1, -0.1]], "b": [0, 0], "x0": [1, 1]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        let r = try run(["run", "--game-file", file.path, "--scheme", "implicit-euler", "--step", "10", "--steps", "40",
                         "--output", out.path, "--every", "10", "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let csv = try String(contentsOf: out.appendingPathComponent("trajectory.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.first, "step,vector_field_norm,distance_to_equilibrium,energy,x0,x1")
        XCTAssertEqual(lines.count, 1 + 5)   // steps 0, 10, 20, 30, 40
        let summary = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: summary) as? [String: Any])
        XCTAssertEqual(obj["scheme"] as? String, "implicit-euler")
        XCTAssertGreaterThan((obj["stats"] as? [String: Any])?["root_solves"] as? Int ?? 0, 0)
    }

    func testBadInputFailsWithOneLineAndWritesNothing() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let write = { (name: String, text: String) -> String in
            let u = dir.appendingPathComponent(name)
            try? text.write(to: u, atomically: true, encoding: .utf8)
            return u.path
        }
        let nonSquare = write("ns.json", #"{"game": "affine", "players": [1, 1], "M": [[1, 2, 3], [4, 5, 6]], "b": [0, 0], "x0": [1, 1]}"#)
        let malformed = write("bad.json", #"{"game": "bilinear", "A": [[1, 2]"#)
        let mismatch = write("mm.json", #"{"game": "bilinear", "A": [[1, 2]], "x0": [1]}"#)
        let huge = write("inf.json", #"{"game": "bilinear", "A": [[1, 1e999]], "x0": [1, 2, 3]}"#)
        let base = ["run", "--game", "dirac", "--steps", "10"]
        let cases: [([String], String)] = [
            (base + ["--scheme", "leapfrog", "--step", "0.1"], "unknown scheme 'leapfrog'"),
            (base + ["--scheme", "simga", "--step", "0"], "step size"),
            (base + ["--scheme", "simga", "--step=-1"], "step size"),
            (base + ["--scheme", "simga", "--step", "nan"], "step size"),
            (["run", "--game", "dirac", "--scheme", "simga", "--step", "0.1", "--steps", "0"], "steps must be at least 1"),
            (base + ["--scheme", "simga"], "--step"),
            (base + ["--scheme", "consensus", "--step", "0.1"], "--gamma"),
            (["run", "--game-file", nonSquare, "--scheme", "simga", "--step", "0.1", "--steps", "5"], "must be square"),
            (["run", "--game-file", malformed, "--scheme", "simga", "--step", "0.1", "--steps", "5"], "malformed JSON"),
            (["run", "--game-file", mismatch, "--scheme", "simga", "--step", "0.1", "--steps", "5"], "'x0' has 1 entries"),
            (["run", "--game-file", huge, "--scheme", "simga", "--step", "0.1", "--steps", "5"], "malformed JSON"),
            (["run", "--game-file", dir.appendingPathComponent("none.json").path, "--scheme", "simga", "--step", "0.1", "--steps", "5"], "does not exist"),
            (base + ["--scheme", "simga", "--step", "0.1", "--x0", "1,2,3"], "--x0 has 3 entries"),
        ]
        for (args, expected) in cases {
            let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
            let r = try run(args + ["--output", out.path])
            XCTAssertNotEqual(r.code, 0, "\(args) succeeded")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(args): stderr was \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): stderr was \(r.stderr)")
            XCTAssertEqual(r.stdout, "")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(args) wrote output")
        }
    }

    func testFailedRootSolveIsAStatusNotACrash() throws {
        let r = try run(["run", "--game", "dirac", "--scheme", "implicit-euler", "--step", "0.1", "--steps", "3",
                         "--root-max-iterations", "1", "--root-tolerance", "1e-300", "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["status"] as? String, "failed")
        XCTAssertEqual(obj["steps"] as? Int, 0)
        XCTAssertEqual(obj["final_state"] as? [Double], [1, 1])
    }
}
