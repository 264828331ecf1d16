import Foundation
import XCTest
@testable import GameFlow
import GameFlowTestSupport

/// Faults a user meets: odd paths, unwritable streams, a full disk, special files, huge counts,
/// duplicate keys, signals, resume misuse. Each refusal is one line and no trap.
final class FaultTests: XCTestCase {
    struct Result { let code: Int32; let stdout: String; let stderr: String }

    var binary: String { gameflowBinary(near: FaultTests.self).path }

    /// Runs a shell line with $G the gameflow binary, in `directory`.
    func shell(_ line: String, in directory: URL? = nil) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["G"] = binary
        let r = try runProcess("/bin/bash", ["-c", line], environment: env, directory: directory)
        return Result(code: r.code, stdout: r.stdout, stderr: r.stderr)
    }

    func temp() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("gameflow-fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    func assertOneLineRefusal(_ r: Result, mentioning word: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.code, 0, file: file, line: line)
        XCTAssertLessThan(r.code, 128, "killed by a signal: \(r.stderr)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(word), r.stderr, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("crashed"), r.stderr, file: file, line: line)
    }

    func testOneLetterRelativeOutputPath() throws {
        let d = try temp()
        let r = try shell("$G run --game dirac --scheme simga --step 0.1 --steps 10 --output o --quiet", in: d)
        XCTAssertEqual(r.code, 0, r.stderr)
        for f in ["trajectory.csv", "summary.json", "convergence.svg", "phase.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: d.appendingPathComponent("o/\(f)").path), f)
        }
        // No temporary files left beside them.
        let names = try FileManager.default.contentsOfDirectory(atPath: d.appendingPathComponent("o").path)
        XCTAssertFalse(names.contains { $0.contains(".tmp") }, "\(names)")
    }

    func testUnwritableStandardStreams() throws {
        // stdout full: an error exit, not a silent 0.
        let full = try shell("$G run --game dirac --scheme simga --step 0.1 --steps 3 --json > /dev/full")
        assertOneLineRefusal(full, mentioning: "standard output")
        // stderr full on bad input: still the error's exit code, no trap.
        let noErr = try shell("$G run --game dirac --scheme simga --step nan --steps 3 2>/dev/full; echo rc=$?")
        XCTAssertTrue(noErr.stdout.contains("rc=1"), noErr.stdout)
    }

    func testFullDiskWhileStreamingLeavesWholeRows() throws {
        let d = try temp()
        let r = try shell("(trap '' XFSZ; ulimit -f 64; exec $G run --game bilinear --dim 50 --scheme simga --step 1e-3 --steps 20000 --every 1 --output D --quiet)", in: d)
        assertOneLineRefusal(r, mentioning: "trajectory.csv")
        let text = try String(contentsOfFile: d.appendingPathComponent("D/trajectory.csv").path, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"))
        let widths = Set(text.split(separator: "\n").map { $0.split(separator: ",").count })
        XCTAssertEqual(widths.count, 1, "a half row was left")
    }

    func testHugeStepCountsAreRefused() throws {
        for command in ["run", "compare"] {
            let extra = command == "compare" ? "--schemes simga,rk4" : "--scheme simga"
            let r = try shell("$G \(command) --game dirac \(extra) --step 0.1 --steps 9223372036854775807")
            assertOneLineRefusal(r, mentioning: "steps")
        }
    }

    func testSpecialFileTargetsAreNotReplaced() throws {
        let d = try temp()
        let r = try shell("mkfifo fifo; ln -s /dev/null link; $G spectrum --game dirac --r1 0.3 --x0 0,0 --step 0.5 --figure fifo; echo; $G spectrum --game dirac --r1 0.3 --x0 0,0 --step 0.5 --figure link; test -p fifo && test -L link && echo KEPT", in: d)
        XCTAssertTrue(r.stdout.contains("KEPT"), r.stdout + r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.contains("not a regular file") }.count, 2, r.stderr)
    }

    func testDuplicateKeysInAGameFile() throws {
        let d = try temp()
        let path = d.appendingPathComponent("g.json").path
        try #"{"game": "affine", "players": [1, 1], "M": [[0, 1], [-1, 0]], "b": [0, 0], "b": [1, 1], "x0": [1, 1]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let r = try shell("$G run --game-file \(path) --scheme simga --step 0.1 --steps 3")
        assertOneLineRefusal(r, mentioning: "'b' appears twice")
        XCTAssertNil(firstDuplicateJSONKey(in: Data(#"{"a": {"b": 1}, "b": [{"b": 2}, {"b": 3}]}"#.utf8)))
        XCTAssertEqual(firstDuplicateJSONKey(in: Data(#"{"a": [1, {"x": "y", "x": 2}]}"#.utf8)), "x")
    }

    func testSIGTERMAndSIGHUPStopWithACheckpointAndResumeBitForBit() throws {
        let d = try temp()
        let args = "--scheme simga --lr 1e-4 --batch 64 --steps 1500 --every 100 --no-eigenvalues --quiet"
        XCTAssertEqual(try shell("$G train \(args) --output whole", in: d).code, 0)
        for signal in ["TERM", "HUP"] {
            let r = try shell("$G train \(args) --output \(signal) & p=$!; sleep 0.8; kill -\(signal) $p; wait $p; echo rc=$?", in: d)
            XCTAssertTrue(r.stdout.contains("rc=130"), r.stdout + r.stderr)
            XCTAssertTrue(r.stderr.contains("SIG\(signal)"), r.stderr)
            XCTAssertEqual(try shell("$G resume \(signal) --quiet", in: d).code, 0)
            XCTAssertEqual(try shell("cmp whole/state.json \(signal)/state.json && diff <(cut -d, -f1-7 whole/metrics.csv) <(cut -d, -f1-7 \(signal)/metrics.csv)", in: d).code, 0)
        }
    }

    func testResumeRefusesFewerSteps() throws {
        let d = try temp()
        XCTAssertEqual(try shell("$G train --scheme simga --lr 1e-4 --steps 200 --every 100 --no-eigenvalues --quiet --output R", in: d).code, 0)
        let before = try String(contentsOfFile: d.appendingPathComponent("R/metrics.csv").path, encoding: .utf8)
        assertOneLineRefusal(try shell("$G resume R --steps 100", in: d), mentioning: "fewer")
        XCTAssertEqual(try String(contentsOfFile: d.appendingPathComponent("R/metrics.csv").path, encoding: .utf8), before)
        // Extending keeps every row already written.
        XCTAssertEqual(try shell("$G resume R --steps 300 --quiet", in: d).code, 0)
        let after = try String(contentsOfFile: d.appendingPathComponent("R/metrics.csv").path, encoding: .utf8)
        XCTAssertEqual(after.split(separator: "\n").map { $0.split(separator: ",")[0] }, ["step", "0", "50", "100", "200", "300"])
    }

    func testASecondRunIntoTheSameFolderIsRefused() throws {
        let d = try temp()
        let r = try shell("""
            $G train --scheme simga --lr 1e-4 --batch 64 --steps 100000 --no-eigenvalues --quiet --output R & p=$!
            sleep 1.5; $G run --game dirac --scheme simga --step 0.1 --steps 10 --output R --quiet; echo rc=$?
            kill -INT $p; wait $p
            $G train --scheme simga --lr 1e-4 --steps 10 --no-eigenvalues --quiet --output R; echo rc2=$?
            """, in: d)
        XCTAssertTrue(r.stdout.contains("rc=1"), r.stdout + r.stderr)
        // Refused by the folder's lock, or first by its owner (train's folder is not run's).
        XCTAssertTrue(r.stderr.contains("another gameflow run is writing into 'R'") || r.stderr.contains("holds the results of gameflow train"), r.stderr)
        // A finished or stopped train run is not overwritten by a new one.
        XCTAssertTrue(r.stdout.contains("rc2=1") && r.stderr.contains("holds a train run already"), r.stdout + r.stderr)
    }

    func testStaleTemporaryFilesAreRemovedByTheNextRun() throws {
        let d = try temp()
        let r = try shell("mkdir -p o && touch o/summary.json.tmp-123 o/keep.tmp-x && $G run --game dirac --scheme simga --step 0.1 --steps 3 --output o --quiet >/dev/null && ls o", in: d)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("summary.json.tmp-123"), r.stdout)
        XCTAssertTrue(r.stdout.contains("keep.tmp-x"), r.stdout)      // not a name GameFlow writes
    }

    func testSpectrumAtLargeNSkipsOnlyTheStepMatrixScans() throws {
        let r = try shell("$G spectrum --game bilinear --dim 200 --json")
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["stability_not_computed"] as? [String], ["altga", "optimistic", "hgd", "cgd", "gda-am"])   // no stability function: step-matrix scans (gda-am: none)
        XCTAssertNotNil((obj["max_stable_step"] as? [String: Any])?["rk4"])
    }

    func testGSLAllocationFailureIsOneLine() throws {
        // hybridsj at n = 6000 needs several n² matrices: more than 900 MB of address space.
        let r = try shell("ulimit -v 900000; $G run --game bilinear --dim 3000 --scheme implicit-euler --root-solver hybridsj --step 1 --steps 1")
        assertOneLineRefusal(r, mentioning: "GSL could not allocate")
    }

    func testAFailedCheckpointWriteKeepsTheRunGoingAndTheStateSafe() throws {
        let d = try temp()
        let r = try shell("""
            TMPDIR=$PWD $G train --scheme simga --lr 1e-4 --batch 64 --steps 1500 --no-eigenvalues --quiet --checkpoint-seconds 0.2 --output R & p=$!
            sleep 1; mkfifo f; mv -f f R/checkpoint.json; wait $p; echo rc=$?
            """, in: d)
        XCTAssertTrue(r.stdout.contains("rc=0"), r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("not a regular file") && r.stderr.contains("training goes on"), r.stderr)
        XCTAssertTrue(r.stderr.contains("gameflow-rescued-checkpoint-"), r.stderr)
        let rescued = try FileManager.default.contentsOfDirectory(atPath: d.path).filter { $0.hasPrefix("gameflow-rescued-checkpoint-") }
        XCTAssertEqual(rescued.count, 1)
        let text = try String(contentsOfFile: d.appendingPathComponent(rescued[0]).path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"steps_completed\":1500"))
    }

    func testTrainSurvivesAFullStderr() throws {
        let d = try temp()
        let r = try shell("$G train --scheme simga --lr 1e-4 --batch 64 --steps 400 --no-eigenvalues --output R 2>/dev/full >/dev/null; echo rc=$?", in: d)
        XCTAssertTrue(r.stdout.contains("rc=0"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: d.appendingPathComponent("R/state.json").path))
    }

    func testTamperedCheckpointsNameTheField() throws {
        let d = try temp()
        XCTAssertEqual(try shell("$G train --scheme simga --lr 1e-4 --batch 64 --steps 20 --no-eigenvalues --quiet --output R", in: d).code, 0)
        let path = d.appendingPathComponent("R/checkpoint.json").path
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("\"steps_completed\":20", "\"steps_completed\":2.5", "steps_completed"),
            ("\"steps_completed\":20", "\"steps_completed\":1e30", "steps_completed"),
            ("\"steps_completed\":20", "\"steps_completed\":21", "more than the run's steps"),
            ("\"training_seconds\":", "\"training_seconds\":-1, \"x\":", "training_seconds"),
            ("\"field_evaluations\":", "\"field_evaluations\":-3, \"y\":", "stats.field_evaluations"),
        ]
        for (from, to, word) in cases {
            XCTAssertTrue(original.contains(from), from)
            try original.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
            assertOneLineRefusal(try shell("$G resume R --steps 30", in: d), mentioning: word)
        }
    }

    func testNegativeNumbersAfterFlagsAndPipedGameFiles() throws {
        let r = try shell("$G run --game dirac --x0 -1,2 --scheme simga --step 0.1 --steps 3 --json")
        XCTAssertEqual(r.code, 0, r.stderr)
        assertOneLineRefusal(try shell("$G run --game dirac --r1 -1 --scheme simga --step 0.1 --steps 3"), mentioning: "R1")
        let game = #"{"game": "affine", "players": [1, 1], "M": [[0, 1], [-1, 0]], "b": [0, 0], "x0": [1, 1]}"#
        for source in ["--game-file /dev/stdin <<< '\(game)'", "--game-file <(echo '\(game)')"] {
            let p = try shell("$G run \(source) --scheme simga --step 0.1 --steps 3 --json")
            XCTAssertEqual(p.code, 0, source + ": " + p.stderr)
        }
    }

    func testOversizedNetworksAreRefusedBeforeWork() throws {
        let r = try shell("ulimit -v 4000000; $G train --scheme simga --lr 1e-4 --steps 1 --hidden 4096 --depth 64 --batch 1")
        assertOneLineRefusal(r, mentioning: "parameters")
        let d = try temp()
        let e = try shell("$G train --scheme simga --lr 1e-4 --steps 1 --hidden 64 --depth 4 --batch 8 --output R", in: d)
        XCTAssertEqual(e.code, 0, e.stderr)
        XCTAssertTrue(e.stderr.contains("eigenvalues.svg skipped"), e.stderr)
    }
}
