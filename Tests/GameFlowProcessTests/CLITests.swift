import Foundation
import XCTest
@testable import GameFlow
import GameFlowTestSupport

/// The `gameflow` executable's contract, run as a user would (XCTest, so that the test summary
/// always shows XCTest's count too).
final class CLITests: XCTestCase {
    struct Result { let code: Int32; let stdout: String; let stderr: String }

    var binary: URL { gameflowBinary(near: CLITests.self) }

    func run(_ args: [String]) throws -> Result {
        let r = try runProcess(binary.path, args)
        return Result(code: r.code, stdout: r.stdout, stderr: r.stderr)
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
        for figure in ["convergence.svg", "phase.svg"] {
            let svg = try String(contentsOf: out.appendingPathComponent(figure), encoding: .utf8)
            XCTAssertTrue(SVGChecker.check(svg).wellFormed, figure)
        }
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
            (base + ["--scheme", "simga", "--step", "-1"], "got -1"),   // a negative value, not a missing one
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
                         "--root-max-iterations", "1", "--root-tolerance", "1e-300", "--root-stall-tolerance", "0", "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["status"] as? String, "failed")
        XCTAssertEqual(obj["steps"] as? Int, 0)
        XCTAssertEqual(obj["final_state"] as? [Double], [1, 1])
    }

    func testSpectrumJSON() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fig = dir.appendingPathComponent("s.svg")
        let r = try run(["spectrum", "--game", "dirac", "--r1", "1", "--x0", "0,0", "--gamma", "1", "--step", "0.5",
                         "--figure", fig.path, "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let eig = try XCTUnwrap(obj["eigenvalues"] as? [[Double]])
        XCTAssertEqual(eig.count, 2)
        for e in eig { XCTAssertEqual(e[0], -0.5, accuracy: 1e-7); XCTAssertEqual(e[1], 0, accuracy: 1e-7) }
        let steps = try XCTUnwrap(obj["max_stable_step"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(steps["simga"] as? Double), 4, accuracy: 1e-6)   // Lemma 4: 2·½/¼
        // The A-stable schemes (R(z) = 1/(1 − z) and (1 + z/2)/(1 − z/2)) at eigenvalues −½, −½, and CGD:
        // (I − hJ_off)⁻¹(I + hJ_diag) with J_off = [[0, −½], [½, 0]], J_diag = diag(0, −1) has
        // det (1 − h)/(1 + h²/4) and trace (2 − h)/(1 + h²/4): by Jury's test both eigenvalues lie
        // inside the unit circle for every h > 0 but h = 4, where one is −1 (an isolated neutral
        // point between the scan's grid points).
        XCTAssertEqual(obj["unconditionally_stable"] as? [String], ["implicit-euler", "implicit-midpoint", "trapezoidal", "rosenbrock-euler", "cgd"])
        let consensus = try XCTUnwrap(obj["consensus"] as? [String: Any])
        // Dirac-GAN with R1 γ = 1 at 0: v′ = [[0, −½], [½, −1]] is negative semi-definite and invertible.
        let lemma = try XCTUnwrap(consensus["lemma9"] as? [String: Any])
        XCTAssertEqual(lemma["holds"] as? Bool, true)
        // ρ = σ_min(v′): v′ᵀv′ has trace 3/2 and determinant 1/16, so ρ² = (3/2 − √2)/2.
        XCTAssertEqual(try XCTUnwrap(lemma["rho"] as? Double), ((1.5 - 2.0.squareRoot()) / 2).squareRoot(), accuracy: 1e-9)
        XCTAssertTrue(SVGChecker.check(try String(contentsOf: fig, encoding: .utf8)).wellFormed)

        let plain = try run(["spectrum", "--game", "dirac", "--x0", "0,0", "--json"])
        let p = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])
        XCTAssertTrue(p["max_imag_real_ratio"] is NSNull)                               // ±i/2 on the axis
        XCTAssertTrue((p["max_stable_step"] as? [String: Any])?["simga"] is NSNull)
    }

    /// Issue 32: stable sets are unions of intervals, "neutral" and "none", from R(hλ)'s closed forms.
    func testSpectrumStableSetsAreNotIntervalsFromZeroOnly() throws {
        let zoo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("zoo/quartic.json")
        let r = try run(["spectrum", "--game-file", zoo.path, "--x0", "0,0", "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let stable = try XCTUnwrap(obj["stable_steps"] as? [String: [[Any]]])
        // λ = 1 ± i: |1/(1 − hλ)| < 1 ⇔ h > 2Re λ/|λ|² = 1.
        let ie = try XCTUnwrap(stable["implicit-euler"])
        XCTAssertEqual(ie.count, 1)
        XCTAssertEqual(try XCTUnwrap(ie[0][0] as? Double), 1, accuracy: 1e-9)
        XCTAssertTrue(ie[0][1] is NSNull)
        for name in ["simga", "implicit-midpoint", "trapezoidal", "heun"] { XCTAssertEqual(stable[name]?.count, 0, name) }
        // Text lists the eigenvalues rightmost first: Dirac-GAN with R1 1.25 has −¼ and −1.
        let dirac = try run(["spectrum", "--game", "dirac", "--r1", "1.25", "--x0", "0,0"]).stdout.split(separator: "\n")
        let listed = dirac.drop { !$0.hasPrefix("eigenvalues of v′(x)") }.dropFirst().prefix(2).map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(listed.first?.hasPrefix("-0.25"), true, "\(listed)")
        XCTAssertEqual(listed.last?.hasPrefix("-1 "), true, "\(listed)")
        let text = try run(["spectrum", "--game-file", zoo.path, "--x0", "0,0"])
        XCTAssertTrue(text.stdout.contains("implicit-euler    stable for h > 1\n"), text.stdout)

        // A rotation (bilinear σ = 2): midpoint and trapezoidal neutral for every h, AltGA neutral
        // for h < 2/σ, implicit Euler stable for every h.
        let rot = try run(["spectrum", "--game", "dirac", "--x0", "0,0", "--json"])
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(rot.stdout.utf8)) as? [String: Any])
        let neutral = try XCTUnwrap(o["neutral_steps"] as? [String: [[Any]]])
        for name in ["implicit-midpoint", "trapezoidal"] {
            XCTAssertEqual(neutral[name]?.count, 1, name)
            XCTAssertEqual(neutral[name]?[0][0] as? Double, 0)
            XCTAssertTrue(neutral[name]?[0][1] is NSNull, name)
        }
        // Dirac-GAN without R1: v′ = [[0, −½], [½, 0]], σ = ½, so AltGA is neutral for h < 4.
        XCTAssertEqual(try XCTUnwrap(neutral["altga"]?[0][1] as? Double), 4, accuracy: 1e-9)
        XCTAssertEqual((o["stable_steps"] as? [String: [[Any]]])?["implicit-euler"]?.count, 1)
    }

    /// Issue 32: `flow` and `run` measure the distance to the same set (the README's 3×2 game).
    func testFlowAndRunMeasureTheSameDistance() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("g.json")
        try #"{"game": "bilinear", "A": [[1, 0], [0, 2], [1, 1]], "x0": [1, 0, 0, 1, 1]}"#.write(to: file, atomically: true, encoding: .utf8)
        let game = try GameFile.load(path: file.path).game
        let flow = try run(["flow", "--game-file", file.path, "--time", "0.5", "--json"])
        XCTAssertEqual(flow.code, 0, flow.stderr)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(flow.stdout.utf8)) as? [String: Any])
        let x = try XCTUnwrap(o["final_state"] as? [Double])
        let d = try XCTUnwrap(o["distance_to_equilibrium"] as? Double)
        // The distance to the line of equilibria, not to the origin.
        XCTAssertEqual(d, try XCTUnwrap(game.distanceToEquilibria(from: x)), accuracy: 1e-12)
        XCTAssertGreaterThan(abs(d - norm2(x)), 0.05)
        XCTAssertEqual(o["equilibrium_set_dimension"] as? Int, 1)
        let one = try run(["run", "--game-file", file.path, "--scheme", "simga", "--step", "0.1", "--steps", "1", "--json"])
        let s = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        let y = try XCTUnwrap(s["final_state"] as? [Double])
        XCTAssertEqual(try XCTUnwrap(s["distance_to_equilibrium"] as? Double), try XCTUnwrap(game.distanceToEquilibria(from: y)), accuracy: 1e-12)
    }

    /// Issue 32: momentum on run, compare and spectrum; AltGA with momentum is Gidel et al.'s method.
    func testMomentumOnRunCompareAndSpectrum() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sigma = 1.3
        let file = dir.appendingPathComponent("g.json")
        try #"{"game": "bilinear", "A": [[1.3]], "x0": [1, 0.5]}"#.write(to: file, atomically: true, encoding: .utf8)
        func norm(_ steps: Int, _ h: Double, _ beta: Double) throws -> Double {
            let r = try run(["run", "--game-file", file.path, "--scheme", "altga", "--optimizer", "momentum", "--momentum", "\(beta)",
                             "--step", "\(h)", "--steps", "\(steps)", "--divergence-bound", "1e300", "--json"])
            XCTAssertEqual(r.code, 0, r.stderr)
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(o["optimizer"] as? String, "momentum")
            return norm2(try XCTUnwrap(o["final_state"] as? [Double]))
        }
        for a in [0.5, 1.2] {
            for beta in [-0.6, -0.3, 0.2] {
                let predicted = try gidelRate(a: a, beta: beta)
                let measured = pow(try norm(600, a / sigma, beta) / norm(300, a / sigma, beta), 1.0 / 300)
                XCTAssertEqual(measured, predicted, accuracy: 3e-3, "a \(a) β \(beta)")
            }
        }
        let cmp = try run(["compare", "--game-file", file.path, "--schemes", "simga,altga", "--optimizer", "momentum", "--momentum", "-0.5",
                           "--step", "0.5", "--steps", "50", "--json"])
        XCTAssertEqual(cmp.code, 0, cmp.stderr)
        let runs = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(cmp.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.compactMap { $0["momentum"] as? Double }, [-0.5, -0.5])
        // spectrum: the 2n×2n maps; with σ = 1.3 and β = −½ Gidel's rate is below 1 iff hσ < 1.
        let sp = try run(["spectrum", "--game-file", file.path, "--x0", "0,0", "--optimizer", "momentum", "--momentum", "-0.5", "--json"])
        XCTAssertEqual(sp.code, 0, sp.stderr)
        let stable = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(sp.stdout.utf8)) as? [String: Any])?["stable_steps"] as? [String: [[Any]]])
        XCTAssertEqual(try XCTUnwrap(stable["altga"]?.first?[1] as? Double), 1 / sigma, accuracy: 1e-6)
        let bad = try run(["spectrum", "--game-file", file.path, "--optimizer", "rmsprop"])
        XCTAssertNotEqual(bad.code, 0)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
    }

    /// Issue 32: stored arguments asking for help are a one-line error, not the 172-line help.
    func testResumeOfAHelpCheckpointIsOneLine() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")
        let r = try run(["train", "--scheme", "simga", "--lr", "1e-3", "--steps", "10", "--output", out.path, "--quiet", "--no-eigenvalues"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let path = out.appendingPathComponent("checkpoint.json")
        var obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        // A checkpoint from before configurations: its stored arguments are what resume parses.
        obj["configuration"] = nil
        for flag in ["--help", "-h", "--version"] {
            obj["arguments"] = (obj["arguments"] as? [String] ?? []).filter { !["--help", "-h", "--version"].contains($0) } + [flag]
            try JSONSerialization.data(withJSONObject: obj).write(to: path)
            for args in [["resume", out.path], ["spectrum", "--run", out.path]] {
                let bad = try run(args)
                XCTAssertEqual(bad.code, 1, "\(args) \(flag)")
                XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, "\(args) \(flag): \(bad.stderr)")
                XCTAssertTrue(bad.stderr.contains("help") || bad.stderr.contains("--version"), bad.stderr)
                XCTAssertEqual(bad.stdout, "")
            }
        }
    }

    /// The same seed gives the same bits in two processes (ASLR, thread start-up and memory
    /// reuse differ between them), and another seed does not.
    func testSameSeedIsTheSameRunAcrossProcesses() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        func state(_ name: String, seed: Int) throws -> Data {
            let out = dir.appendingPathComponent(name)
            let r = try run(["train", "--scheme", "consensus", "--gamma", "10", "--optimizer", "rmsprop", "--lr", "1e-3", "--steps", "20",
                             "--hidden", "8", "--depth", "2", "--batch", "16", "--seed", "\(seed)", "--output", out.path, "--quiet", "--no-eigenvalues"])
            XCTAssertEqual(r.code, 0, r.stderr)
            return try Data(contentsOf: out.appendingPathComponent("state.json"))
        }
        let a = try state("a", seed: 3), b = try state("b", seed: 3), c = try state("c", seed: 4)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    /// Issue 32: the demo's measured rates agree with theory (no transient, no Jordan block);
    /// only AltGA's neutral ellipse on the bilinear game oscillates around 1, as it says.
    func testDemoMeasuresWhereThePredictionApplies() throws {
        let r = try run(["demo"])
        XCTAssertEqual(r.code, 0, r.stderr)
        var rows = 0
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 6, let measured = Double(f[f.count - 4]), let predicted = Double(f[f.count - 3]),
                  f.last == "completed" else { continue }
            rows += 1
            if f[0] == "altga" && rows <= SchemeName.fixedStep.filter(\.hasLinearizedStepMap).count {   // the bilinear table
                XCTAssertEqual(measured, 1, accuracy: 0.02, String(line))
            } else {
                XCTAssertEqual(measured, predicted, accuracy: 2e-5 * predicted, String(line))
            }
        }
        // hgd is not in the Dirac-GAN table (too slow to be linear there), lola, sos and gda-am in neither (no linearised step map).
        XCTAssertEqual(rows, 2 * SchemeName.fixedStep.count - 7)
    }

    /// Issue 25: a state carries its networks' shapes (another architecture with the same count is
    /// refused, a truncated file is named), and a resumed run no longer needs its --init file.
    func testInitStatesCarryTheirShapesAndResumeWithoutThem() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a")
        // 4-4-2 and 2-51-1 with latent 4: 235 parameters, as 4-8-8-2 and 2-8-8-1.
        var r = try run(["train", "--scheme", "simga", "--lr", "1e-3", "--steps", "3", "--generator-hidden", "4", "--discriminator-hidden", "51",
                         "--latent", "4", "--output", a.path, "--quiet", "--no-eigenvalues"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let state = a.appendingPathComponent("state.json")
        let b = dir.appendingPathComponent("b")
        r = try run(["train", "--scheme", "simga", "--lr", "1e-3", "--steps", "3", "--hidden", "8", "--depth", "2", "--latent", "4",
                     "--init", state.path, "--output", b.path, "--quiet"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("other networks"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: b.path))
        let truncated = dir.appendingPathComponent("truncated.json")
        try Data(try Data(contentsOf: state).prefix(120)).write(to: truncated)
        r = try run(["train", "--scheme", "simga", "--lr", "1e-3", "--steps", "3", "--generator-hidden", "4", "--discriminator-hidden", "51",
                     "--latent", "4", "--init", truncated.path, "--quiet"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains(truncated.path), r.stderr)
        // The same shapes: accepted; the run is stopped at 5 steps, the --init file moved, and
        // the resume to 8 steps equals a run of 8 steps.
        let moved = dir.appendingPathComponent("init.json")
        try FileManager.default.copyItem(at: state, to: moved)
        let common = ["train", "--scheme", "consensus", "--gamma", "1", "--lr", "1e-3", "--generator-hidden", "4", "--discriminator-hidden", "51",
                      "--latent", "4", "--init", moved.path, "--quiet", "--no-eigenvalues"]
        let whole = dir.appendingPathComponent("whole"), part = dir.appendingPathComponent("part")
        XCTAssertEqual(try run(common + ["--steps", "8", "--output", whole.path]).code, 0)
        XCTAssertEqual(try run(common + ["--steps", "5", "--output", part.path]).code, 0)
        try FileManager.default.removeItem(at: moved)
        r = try run(["resume", part.path, "--steps", "8", "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: part.appendingPathComponent("state.json")), try Data(contentsOf: whole.appendingPathComponent("state.json")))
    }

    /// Issue 25: a sweep naming a missing --init file is refused before any cell runs; data is
    /// read once, as a stream, from a FIFO or a process substitution.
    func testSweepFilesValidatedAndDataReadOnceAsAStream() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appendingPathComponent("spec.json")
        try #"{"command": "train", "scheme": "simga", "lr": 0.001, "steps": [2, 3], "init": "/nonexistent/state.json"}"#
            .write(to: spec, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("sweep")
        let r = try run(["sweep", spec.path, "--output", out.path])
        XCTAssertNotEqual(r.code, 0)
        XCTAssertTrue(r.stderr.contains("does not exist"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        // A FIFO with a writer: read once (it was opened twice and hung).
        let fifo = dir.appendingPathComponent("points")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let csv = "x,y\r\n" + (0..<100).map { "\(Double($0 % 7) / 3),\(Double($0 % 5) / 2)\r\n" }.joined()
        let writer = Thread { try? csv.write(toFile: fifo.path, atomically: false, encoding: .utf8) }
        writer.start()
        let t = try run(["train", "--data", fifo.path, "--scheme", "simga", "--lr", "1e-3", "--steps", "2", "--quiet", "--json"])
        XCTAssertEqual(t.code, 0, t.stderr)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(t.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(o["data_dimension"] as? Int, 2)
    }

    /// Issue 26: the end-of-run eigenvalues (eigenvalues.json) and `spectrum --run` are of one
    /// field, composed once (NK penalty per part, time scales, split debiasing).
    func testRunEigenvaluesAndSpectrumRunAnalyseTheTrainedField() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")
        var r = try run(["train", "--scheme", "consensus", "--gamma", "1", "--lr", "1e-3", "--steps", "5", "--nk-penalty", "0.3",
                         "--step-scale", "1,2", "--debias", "split", "--batch", "16", "--hidden", "4", "--depth", "1", "--latent", "2",
                         "--output", out.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let saved = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("eigenvalues.json"))) as? [String: Any])
        XCTAssertEqual(saved["batch_parts"] as? Int, 2)
        XCTAssertEqual(saved["nk_penalty"] as? Double, 0.3)
        r = try run(["spectrum", "--run", out.path, "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let analysed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        func sorted(_ any: Any?) throws -> [[Double]] {
            try XCTUnwrap(any as? [[Double]]).sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
        }
        let a = try sorted(saved["eigenvalues"]), b = try sorted(analysed["eigenvalues"])
        XCTAssertEqual(a.count, b.count)
        let scale = a.map { ($0[0] * $0[0] + $0[1] * $0[1]).squareRoot() }.max()!
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x[0], y[0], accuracy: 1e-10 * scale)
            XCTAssertEqual(x[1], y[1], accuracy: 1e-10 * scale)
        }
        // The run's own field: flags that would change it are refused with --run.
        let bad = try run(["spectrum", "--run", out.path, "--nk-penalty", "1"])
        XCTAssertEqual(bad.code, 1)
    }

    /// Issue 26: a misspelt flag is named before a missing one; train's --step points at --lr;
    /// spectrum accepts --quiet like every command.
    func testMisspeltFlagsAndQuiet() throws {
        for (args, expected) in [(["run", "--game", "dirac", "--scheme", "simga", "--stpe", "0.1", "--steps", "3"], "Unknown option '--stpe'"),
                                 (["train", "--scheme", "simga", "--step", "0.1", "--steps", "3"], "train's step size is --lr"),
                                 (["run", "--game", "dirac", "--scheme", "simgaa", "--step", "0.1", "--steps", "3"], "simga, altga")] {
            let r = try run(args)
            XCTAssertEqual(r.code, 1, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), r.stderr)
        }
        // Integral values in decimal notation: --steps 1e2 is 100 steps (and 1.5e1 is 15); 12.5 is refused.
        let e = try run(["run", "--game", "dirac", "--scheme", "simga", "--step", "0.1", "--steps", "1e2", "--json"])
        XCTAssertEqual(e.code, 0, e.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])?["steps"] as? Int, 100)
        XCTAssertEqual(try run(["run", "--game", "dirac", "--scheme", "simga", "--step", "0.1", "--steps=12.5"]).code, 1)
        let q = try run(["spectrum", "--game", "dirac", "--x0", "0,0", "--quiet"])
        XCTAssertEqual(q.code, 0, q.stderr)
        XCTAssertEqual(q.stderr, "")
        // Every command accepts --quiet (an unknown option would be exit 1).
        for command in [["demo"], ["flow", "--game", "dirac", "--time", "0.5"], ["run", "--game", "dirac", "--scheme", "simga", "--step", "0.1", "--steps", "2"],
                        ["compare", "--game", "dirac", "--step", "0.1", "--steps", "2"], ["train", "--scheme", "simga", "--lr", "0.1", "--steps", "2"]] {
            let r = try run(command + ["--quiet"])
            XCTAssertEqual(r.code, 0, "\(command): \(r.stderr)")
        }
        for command in [["resume", "/nonexistent"], ["sweep", "/nonexistent.json", "--output", "/tmp/none"], ["sweep", "merge", "/nonexistent", "--output", "/tmp/none"]] {
            let r = try run(command + ["--quiet"])
            XCTAssertFalse(r.stderr.contains("Unknown option"), "\(command): \(r.stderr)")
        }
    }

    /// Issue 26: a run's summary.json holds its typed configuration, and `train --config` on it
    /// reproduces the run's state.json byte for byte (many knobs at once); resume reads it too.
    func testConfigReproducesARunByteForByte() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("first")
        var r = try run(["train", "--scheme", "consensus", "--gamma", "10", "--optimizer", "rmsprop", "--lr", "1e-3", "--steps", "12",
                         "--nk-penalty", "0.2", "--step-scale", "1,3", "--debias", "split", "--batch", "16",
                         "--generator-hidden", "6,5", "--discriminator-hidden", "7", "--latent", "3", "--seed", "4",
                         "--output", first.path, "--quiet", "--no-eigenvalues"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: first.appendingPathComponent("summary.json"))) as? [String: Any])
        let configuration = try XCTUnwrap(summary["configuration"] as? [String: Any])
        XCTAssertEqual((configuration["scheme"] as? [String: Any])?["name"] as? String, "consensus")
        XCTAssertEqual((configuration["networks"] as? [String: Any])?["generator_hidden"] as? [Int], [6, 5])
        let second = dir.appendingPathComponent("second")
        r = try run(["train", "--config", first.appendingPathComponent("summary.json").path, "--output", second.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: second.appendingPathComponent("state.json")), try Data(contentsOf: first.appendingPathComponent("state.json")))
        // --config with settings flags is refused in one line; a bad configuration names its field.
        r = try run(["train", "--config", first.appendingPathComponent("summary.json").path, "--lr", "0.1"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        var broken = configuration
        broken["scheme"] = ["name": "consensuss"]
        let bad = dir.appendingPathComponent("bad.json")
        try JSONSerialization.data(withJSONObject: broken).write(to: bad)
        r = try run(["train", "--config", bad.path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("scheme") && r.stderr.contains("consensuss"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    /// Issue 26: the integrator owns the step-size controller, so an optimizer sits on an
    /// error-controlled embedded pair: the run counts accepted steps, keeps the controller's
    /// state in its checkpoint, resumes bit for bit and repeats through --config.
    func testErrorControlledTrainingWithAnOptimizerResumesAndRepeats() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let flags = ["train", "--scheme", "rkf45", "--optimizer", "rmsprop", "--lr", "0.05", "--rtol", "1e-4", "--atol", "1e-6",
                     "--batch", "16", "--generator-hidden", "6", "--discriminator-hidden", "7", "--latent", "3", "--seed", "3",
                     "--quiet", "--no-eigenvalues"]
        let whole = dir.appendingPathComponent("whole"), part = dir.appendingPathComponent("part"), again = dir.appendingPathComponent("again")
        var r = try run(flags + ["--steps", "12", "--output", whole.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: whole.appendingPathComponent("summary.json"))) as? [String: Any])
        let stats = try XCTUnwrap(summary["stats"] as? [String: Any])
        XCTAssertEqual(stats["accepted_steps"] as? Int, 12)
        let checkpoint = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: whole.appendingPathComponent("checkpoint.json"))) as? [String: Any])
        let control = try XCTUnwrap(checkpoint["step_control"] as? [Double])
        XCTAssertEqual(control.count, 3)
        XCTAssertTrue(control[1] > 0 && control[1] <= 12 * 0.05 * (1 + 1e-12), "\(control)")
        r = try run(flags + ["--steps", "5", "--output", part.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        r = try run(["resume", part.path, "--steps", "12", "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: part.appendingPathComponent("state.json")), try Data(contentsOf: whole.appendingPathComponent("state.json")))
        r = try run(["train", "--config", whole.appendingPathComponent("summary.json").path, "--output", again.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: again.appendingPathComponent("state.json")), try Data(contentsOf: whole.appendingPathComponent("state.json")))
    }

    /// Issue 31: `train --threads 2` (halves of each minibatch on two threads) is stored in the
    /// configuration, repeats bit for bit (through --config), stays within
    /// reassociation of the one-thread run, and bad values are one line that writes nothing.
    func testThreadsRepeatAndStayNearOneThread() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let flags = ["train", "--data", "ring8", "--scheme", "consensus", "--gamma", "10", "--optimizer", "rmsprop", "--lr", "1e-3",
                     "--steps", "10", "--batch", "24", "--r1", "0.5", "--seed", "2", "--quiet", "--no-eigenvalues"]
        func state(_ name: String) throws -> [Double] {
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(name).appendingPathComponent("state.json"))) as? [String: Any])
            return try XCTUnwrap(json["state"] as? [Double])
        }
        var r = try run(flags + ["--output", dir.appendingPathComponent("one").path])
        XCTAssertEqual(r.code, 0, r.stderr)
        r = try run(flags + ["--threads", "2", "--output", dir.appendingPathComponent("two").path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("two/summary.json"))) as? [String: Any])
        XCTAssertEqual((summary["configuration"] as? [String: Any])?["threads"] as? Int, 2)
        r = try run(["train", "--config", dir.appendingPathComponent("two/summary.json").path, "--output", dir.appendingPathComponent("again").path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("again/state.json")), try Data(contentsOf: dir.appendingPathComponent("two/state.json")))
        let one = try state("one"), two = try state("two")
        XCTAssertEqual(one.count, two.count)
        let scale = one.map(abs).max()!
        XCTAssertLessThan(zip(one, two).map { abs($0 - $1) }.max()!, 1e-9 * scale)
        XCTAssertNotEqual(one, two, "two threads reassociate the batch sums; identical bits would mean the option did nothing")
        for bad in ["0", "25"] {
            let out = dir.appendingPathComponent("bad-\(bad)")
            r = try run(flags + ["--threads", bad, "--output", out.path])
            XCTAssertEqual(r.code, 1)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("--threads"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        }
    }

    /// Issue 26: a comparison is a typed configuration: compare's summary.json holds one run
    /// configuration per scheme, `compare --config` repeats every run (same summaries but the
    /// wall time), and a comparison whose runs do not share the game and step is one line.
    func testCompareConfigRepeatsTheComparison() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        func summary(_ name: String) throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("\(name)/summary.json"))) as? [String: Any])
        }
        var r = try run(["compare", "--game", "bilinear", "--dim", "3", "--seed", "1", "--schemes", "simga,consensus,extragradient,implicit-euler",
                         "--gamma", "0.5", "--optimizer", "rmsprop", "--step", "0.01", "--steps", "40", "--output", dir.appendingPathComponent("a").path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        r = try run(["compare", "--config", dir.appendingPathComponent("a/summary.json").path, "--output", dir.appendingPathComponent("b").path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let a = try summary("a"), b = try summary("b")
        let runsA = try XCTUnwrap(a["runs"] as? [[String: Any]]), runsB = try XCTUnwrap(b["runs"] as? [[String: Any]])
        XCTAssertEqual(runsA.count, 4)
        XCTAssertEqual(runsA.count, runsB.count)
        func canonical(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) }
        for (x, y) in zip(runsA, runsB) {
            var x = x, y = y
            x["seconds"] = nil; y["seconds"] = nil
            XCTAssertEqual(try canonical(x), try canonical(y), "\(x["scheme"] ?? "?")")
        }
        let configuration = try XCTUnwrap(a["configuration"] as? [String: Any])
        XCTAssertEqual(try canonical(configuration), try canonical(try XCTUnwrap(b["configuration"])))
        // Runs that do not share the step: one line naming the run, nothing written.
        var runs = try XCTUnwrap(configuration["runs"] as? [[String: Any]])
        runs[2]["step"] = 0.02
        let bad = dir.appendingPathComponent("bad.json")
        try JSONSerialization.data(withJSONObject: ["runs": runs]).write(to: bad)
        r = try run(["compare", "--config", bad.path, "--output", dir.appendingPathComponent("c").path])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("runs[2]"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("c").path))
    }

    /// Issue 31: `train --precision float32` runs the networks in float: stored in the
    /// configuration, repeated bit for bit through --config, near the float64 run (float's
    /// round-off, not double's), float64 by default (no `precision` key: earlier runs reproduce),
    /// and a misspelt value is one line naming both values that writes nothing.
    func testFloat32NetworksRepeatAndStayNearFloat64() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let flags = ["train", "--data", "ring8", "--scheme", "consensus", "--gamma", "10", "--optimizer", "rmsprop", "--lr", "1e-4",
                     "--steps", "20", "--batch", "64", "--seed", "3", "--quiet", "--no-eigenvalues"]
        func state(_ name: String) throws -> [Double] {
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(name).appendingPathComponent("state.json"))) as? [String: Any])
            return try XCTUnwrap(json["state"] as? [Double])
        }
        func configuration(_ name: String) throws -> [String: Any] {
            let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("\(name)/summary.json"))) as? [String: Any])
            return try XCTUnwrap(summary["configuration"] as? [String: Any])
        }
        var r = try run(flags + ["--output", dir.appendingPathComponent("double").path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertNil(try configuration("double")["precision"])
        r = try run(flags + ["--precision", "float32", "--output", dir.appendingPathComponent("single").path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try configuration("single")["precision"] as? String, "float32")
        r = try run(["train", "--config", dir.appendingPathComponent("single/summary.json").path, "--output", dir.appendingPathComponent("again").path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("again/state.json")), try Data(contentsOf: dir.appendingPathComponent("single/state.json")))
        let double = try state("double"), single = try state("single")
        // 20 RMSProp steps of 1e-4 move each weight by at most 2e-3; float round-off in the
        // networks perturbs the field by ~1e-7 relative, so the states agree far below the steps.
        let gap = zip(double, single).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(gap, 1e-4)
        XCTAssertGreaterThan(gap, 0, "float32 networks must not give double's bits")
        let out = dir.appendingPathComponent("bad")
        r = try run(flags + ["--precision", "float16", "--output", out.path])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("float32") && r.stderr.contains("float64"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// Issue 26: run, flow, compare and train refuse a folder that holds another command's
    /// results, and create only the last folder of --output.
    func testOutputFoldersBelongToOneCommand() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        XCTAssertEqual(try run(["run", "--game", "dirac", "--scheme", "simga", "--step", "0.1", "--steps", "3", "--output", out.path, "--quiet"]).code, 0)
        let before = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        for args in [["flow", "--game", "dirac", "--time", "1"], ["compare", "--game", "dirac", "--step", "0.1", "--steps", "3"],
                     ["train", "--scheme", "simga", "--lr", "0.1", "--steps", "2"]] {
            let r = try run(args + ["--output", out.path, "--quiet"])
            XCTAssertEqual(r.code, 1, "\(args)")
            XCTAssertTrue(r.stderr.contains("holds the results of gameflow run"), r.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("summary.json")), before)
        // The same command may write there again.
        XCTAssertEqual(try run(["run", "--game", "dirac", "--scheme", "rk4", "--step", "0.1", "--steps", "3", "--output", out.path, "--quiet"]).code, 0)
        let deep = dir.appendingPathComponent("no/such/out")
        let r = try run(["run", "--game", "dirac", "--scheme", "simga", "--step", "0.1", "--steps", "3", "--output", deep.path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("does not exist"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("no").path))
    }

    /// Issue 26: sweep specs as configurations — a constant knob beside a list of schemes goes to
    /// the schemes that have it, relative paths resolve against the spec's folder, an unsharded
    /// sweep writes its figures, and results.csv has the heatmap's `stable` column.
    func testSweepSpecsActLikeCompare() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let specDir = dir.appendingPathComponent("specs/games")
        try FileManager.default.createDirectory(at: specDir, withIntermediateDirectories: true)
        try #"{"game": "bilinear", "A": [[1]], "x0": [1, 1]}"#.write(to: specDir.appendingPathComponent("rot.json"), atomically: true, encoding: .utf8)
        let spec = dir.appendingPathComponent("specs/spec.json")
        try #"{"game-file": "games/rot.json", "scheme": ["simga", "consensus"], "gamma": 1, "step": [0.1, 0.5], "steps": 100}"#
            .write(to: spec, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        let r = try run(["sweep", spec.path, "--output", out.path, "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let rows = try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        XCTAssertEqual(header.last, "stable")
        let scheme = try XCTUnwrap(header.firstIndex(of: "scheme")), step = try XCTUnwrap(header.firstIndex(of: "step"))
        // On φθ SimGA spirals out at every h (|1 + ih| > 1); consensus with γ = 1 is stable iff h < 2γ/(γ² + 1) = 1.
        for row in rows.dropFirst() {
            XCTAssertEqual(row.last, row[scheme] == "consensus" && Double(row[step])! < 1 ? "true" : "false", row.joined(separator: ","))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("work-precision-bilinear.svg").path))
    }

    /// Issue 26: every misspelt enumerated value is one line that lists the valid values.
    func testMisspeltEnumeratedValuesListTheValidOnes() throws {
        let runBase = ["run", "--game", "dirac", "--step", "0.1", "--steps", "2"]
        let trainBase = ["train", "--scheme", "simga", "--lr", "0.1", "--steps", "2"]
        let cases: [([String], [String])] = [
            (runBase + ["--scheme", "simgaa"], ["simga", "consensus", "rk8pd"]),
            (runBase + ["--scheme", "simga", "--optimizer", "sgd"], ["none", "rmsprop", "adam", "momentum"]),
            (runBase + ["--scheme", "simga", "--optimizer", "momentum", "--momentum", "0.1", "--momentum-form", "nesterov"], ["polyak", "supplement"]),
            (runBase + ["--scheme", "implicit-euler", "--root-solver", "newton"], ["hybridsj", "hybrids", "newton-krylov", "auto"]),
            (runBase + ["--scheme", "implicit-euler", "--forcing", "ew9"], ["ew1", "ew2"]),
            (runBase + ["--scheme", "implicit-euler", "--line-search", "maybe"], ["on", "off"]),
            (runBase + ["--scheme", "consensus", "--gamma", "1", "--consensus-on", "d"], ["all", "discriminator"]),
            (runBase + ["--scheme", "consensus", "--gamma", "1", "--debias", "half"], ["none", "variance", "split"]),
            (["run", "--game", "nash", "--scheme", "simga", "--step", "0.1", "--steps", "2"], ["bilinear", "dirac"]),
            (["flow", "--game", "dirac", "--time", "1", "--method", "rk9"], ["rkf45", "rk8pd", "msbdf"]),
            (trainBase + ["--utility", "minmax"], ["non-saturating", "standard", "wgan"]),
            (trainBase + ["--layout", "sideways"], ["generator-first", "discriminator-first"]),
            (trainBase + ["--activation", "gelu"], ["relu", "leaky-relu", "tanh", "linear"]),
            (trainBase + ["--data", "ring9"], ["ring8", "grid25", "grid16"]),
            (trainBase + ["--precision", "half"], ["float32", "float64"]),
            (["spectrum", "--game", "bilinear", "--top", "1", "--which", "XX"], ["LM", "LR", "LI", "SR"]),
        ]
        for (args, values) in cases {
            let r = try run(args)
            XCTAssertEqual(r.code, 1, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            for v in values { XCTAssertTrue(r.stderr.contains(v), "\(args): \(r.stderr) lacks \(v)") }
        }
    }

    /// Issue 26: a game run is a configuration too: `run --config RUN/summary.json` repeats it
    /// (same final state bits) for built-in games and game files, with field modifiers, knobs
    /// and an optimizer.
    func testRunConfigRepeatsARun() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("g.json")
        try #"{"game": "affine", "players": [1, 1], "M": [[-0.1, 1], [-1, -0.1]], "b": [0.2, 0], "x0": [1, 1]}"#.write(to: file, atomically: true, encoding: .utf8)
        let cases: [[String]] = [
            ["--game", "bilinear", "--dim", "3", "--seed", "4", "--scheme", "consensus", "--gamma", "0.7", "--optimizer", "momentum",
             "--momentum", "-0.3", "--nk-penalty", "0.1", "--step", "0.1", "--steps", "50"],
            ["--game-file", file.path, "--scheme", "implicit-euler", "--root-solver", "hybrids", "--step", "2", "--steps", "20", "--tolerance", "1e-12"],
            ["--game", "dirac", "--r1", "0.3", "--scheme", "altga", "--substeps", "2,1", "--step-scale", "1,2", "--optimizer", "rmsprop",
             "--step", "0.05", "--steps", "40"],
        ]
        for (k, args) in cases.enumerated() {
            let first = dir.appendingPathComponent("first-\(k)"), again = dir.appendingPathComponent("again-\(k)")
            var r = try run(["run"] + args + ["--output", first.path, "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            r = try run(["run", "--config", first.appendingPathComponent("summary.json").path, "--output", again.path, "--json"])
            XCTAssertEqual(r.code, 0, r.stderr)
            let a = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: first.appendingPathComponent("summary.json"))) as? [String: Any])
            let b = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(a["final_state"] as? [Double], b["final_state"] as? [Double], "\(args)")
            XCTAssertEqual(a["status"] as? String, b["status"] as? String)
            XCTAssertNotNil(a["configuration"] as? [String: Any])
        }
        let r = try run(["run", "--config", dir.appendingPathComponent("first-0/summary.json").path, "--scheme", "simga"])
        XCTAssertEqual(r.code, 1)
    }

    func testSpectrumBadInput() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("state.json")
        try "[1, 2, 3]".write(to: state, atomically: true, encoding: .utf8)
        let fig = dir.appendingPathComponent("f.svg").path
        let cases: [([String], String)] = [
            (["spectrum", "--game", "dirac", "--state", state.path], "has 3 numbers, the game has dimension 2"),
            (["spectrum", "--game", "dirac", "--state", dir.appendingPathComponent("none").path], "does not exist"),
            (["spectrum", "--game", "dirac", "--figure", fig], "--figure needs --step"),
            (["spectrum", "--game", "dirac", "--figure", fig, "--step", "0"], "step size"),
            (["spectrum", "--game", "dirac", "--gamma", "-1"], "--gamma"),
            (["spectrum", "--game", "nope"], "unknown game 'nope'"),
        ]
        for (args, expected) in cases {
            let r = try run(args)
            XCTAssertNotEqual(r.code, 0, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: fig), "\(args) wrote a figure")
        }
    }

    func testCompareWritesFiguresForEveryScheme() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("cmp")
        let r = try run(["compare", "--game", "dirac", "--schemes", "simga,rk4,implicit-euler", "--step", "0.2",
                         "--steps", "50", "--output", out.path, "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((obj["runs"] as? [[String: Any]])?.map { $0["scheme"] as? String }, ["simga", "rk4", "implicit-euler"])
        let phase = SVGChecker.check(try String(contentsOf: out.appendingPathComponent("phase.svg"), encoding: .utf8))
        XCTAssertTrue(phase.wellFormed)
        XCTAssertEqual(phase.series, 1 + 1 + 3 + 1)   // field, flow, 3 schemes, equilibrium
        let conv = SVGChecker.check(try String(contentsOf: out.appendingPathComponent("convergence.svg"), encoding: .utf8))
        XCTAssertEqual(conv.series, 6)                  // ‖v‖ and distance per scheme
    }

    func testTrainJSONAndOutputs() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("train")
        let r = try run(["train", "--scheme", "consensus", "--gamma", "1", "--optimizer", "rmsprop", "--lr", "0.001", "--steps", "40",
                         "--batch", "32", "--hidden", "4", "--depth", "1", "--latent", "2", "--every", "10", "--json", "--quiet",
                         "--output", out.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["modes_captured", "high_quality_fraction", "kl_modes", "vector_field_norm", "steps", "status", "seconds", "ms_per_step"] {
            XCTAssertNotNil(obj[key], "missing \(key)")
        }
        XCTAssertEqual(obj["steps"] as? Int, 40)
        // The full configuration: enough to reproduce the run from the summary alone.
        for key in ["data", "scheme", "optimizer", "gamma", "lr", "seed", "batch", "hidden", "depth", "latent", "activation",
                    "utility", "layout", "optimizer_constants", "step_scale", "nk_penalty", "gameflow_version", "commit", "arguments"] {
            XCTAssertNotNil(obj[key], "missing \(key)")
        }
        XCTAssertEqual((obj["optimizer_constants"] as? [String: Double])?["decay"], 0.9)
        XCTAssertEqual(obj["hidden"] as? Int, 4)
        XCTAssertEqual(obj["kernels"] as? String, DenseKernels.name)
        XCTAssertTrue(["avx512", "avx2-fma", "baseline"].contains(DenseKernels.name))
        let metrics = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(metrics.count, 1 + 5)   // header, steps 0, 10, 20, 30, 40
        for name in ["density-0.svg", "density-10.svg", "density-20.svg", "density-40.svg", "eigenvalues.svg"] {
            XCTAssertTrue(SVGChecker.check(try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)).wellFormed, name)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("samples-40.csv").path))
    }

    static let tinyTrain = ["--optimizer", "adam", "--lr", "0.001", "--batch", "16", "--hidden", "4", "--depth", "1", "--latent", "2",
                            "--no-eigenvalues", "--quiet"]

    /// metrics.csv without its seconds column.
    func metricsWithoutTime(_ dir: URL) throws -> [String] {
        try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
    }

    func testResumeContinuesARunBitForBit() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let straight = dir.appendingPathComponent("straight"), split = dir.appendingPathComponent("split")
        let args = ["train", "--scheme", "optimistic", "--every", "5"] + Self.tinyTrain
        XCTAssertEqual(try run(args + ["--steps", "40", "--output", straight.path]).code, 0)
        XCTAssertEqual(try run(args + ["--steps", "20", "--output", split.path]).code, 0)
        let r = try run(["resume", split.path, "--steps", "40", "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["steps"] as? Int, 40)
        XCTAssertEqual(try Data(contentsOf: split.appendingPathComponent("state.json")),
                       try Data(contentsOf: straight.appendingPathComponent("state.json")))
        XCTAssertEqual(try metricsWithoutTime(split), try metricsWithoutTime(straight))
        XCTAssertEqual(try metricsWithoutTime(split).count, 1 + 9)   // header, steps 0, 5, …, 40
        // Not a run directory: one line, non-zero exit.
        let bad = try run(["resume", dir.appendingPathComponent("none").path])
        XCTAssertNotEqual(bad.code, 0)
        XCTAssertTrue(bad.stderr.contains("cannot read"), bad.stderr)
    }

    /// Trains `args` for 20 steps into `straight`, and for 10 into `split` then resumes it to 20:
    /// the two state.json files must be the same bytes. Returns the straight run's summary.json.
    func assertResumesBitForBit(_ args: [String], straight: URL, split: URL, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(try run(args + ["--steps", "20", "--output", straight.path]).code, 0, file: file, line: line)
        XCTAssertEqual(try run(args + ["--steps", "10", "--output", split.path]).code, 0, file: file, line: line)
        XCTAssertEqual(try run(["resume", split.path, "--steps", "20", "--quiet"]).code, 0, file: file, line: line)
        XCTAssertEqual(try Data(contentsOf: split.appendingPathComponent("state.json")),
                       try Data(contentsOf: straight.appendingPathComponent("state.json")), file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: straight.appendingPathComponent("summary.json"))) as? [String: Any])
    }

    func testDebiasedConsensusTrainsTheGANAndResumesBitForBit() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        for debias in ["split", "variance"] {
            let straight = dir.appendingPathComponent("straight-\(debias)"), split = dir.appendingPathComponent("split-\(debias)")
            let args = ["train", "--scheme", "consensus", "--gamma", "1", "--debias", debias, "--every", "5", "--lr", "0.01", "--batch", "8",
                        "--hidden", "4", "--depth", "1", "--latent", "2", "--quiet"]
            let summary = try assertResumesBitForBit(args, straight: straight, split: split)
            XCTAssertEqual(summary["batch_parts"] as? Int, debias == "split" ? 2 : 8)
            XCTAssertEqual(summary["debias"] as? String, debias)
        }
        let odd = try run(["train", "--scheme", "consensus", "--gamma", "1", "--debias", "split", "--batch", "7", "--lr", "0.01", "--steps", "2"])
        XCTAssertNotEqual(odd.code, 0)
        XCTAssertTrue(odd.stderr.contains("even batch"), odd.stderr)
    }

    func testHelpVersionAndQuiet() throws {
        // --help fits 80 columns everywhere, so no line is re-wrapped mid-sentence.
        for command in [[], ["run"], ["compare"], ["spectrum"], ["flow"], ["train"], ["resume"], ["demo"]] {
            let r = try run(command + ["--help"])
            XCTAssertEqual(r.code, 0)
            for line in r.stdout.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 80, "\(command): \(line)") }
        }
        let v = try run(["--version"])
        XCTAssertEqual(v.code, 0)
        XCTAssertTrue(v.stdout.hasPrefix("gameflow \(GameFlowVersion.version) (commit "), v.stdout)
        XCTAssertFalse(GameFlowVersion.commit.isEmpty)
        // --help says what --dim gives.
        XCTAssertTrue(try run(["run", "--help"]).stdout.contains("dimension 2N"))
        // summary.json carries the version, commit and the arguments that reproduce it.
        let j = try run(["run", "--game", "dirac", "--scheme", "sga", "--lambda", "0.5", "--step", "0.1", "--steps", "3", "--json", "--quiet"])
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["gameflow_version"] as? String, GameFlowVersion.version)
        XCTAssertEqual(obj["commit"] as? String, GameFlowVersion.commit)
        XCTAssertEqual(obj["lambda"] as? Double, 0.5)
        XCTAssertEqual((obj["arguments"] as? [String])?.first, "run")
        // A debug build's train says so, once (the tests run the debug build).
        #if DEBUG
        let t = try run(["train", "--scheme", "simga", "--lr", "0.001", "--steps", "3", "--batch", "8", "--hidden", "2", "--depth", "1",
                         "--latent", "2", "--no-eigenvalues"])
        XCTAssertEqual(t.code, 0, t.stderr)
        XCTAssertEqual(t.stderr.components(separatedBy: "debug build").count - 1, 1, t.stderr)
        #endif
        // compare takes --quiet too.
        XCTAssertEqual(try run(["compare", "--game", "dirac", "--step", "0.1", "--steps", "5", "--quiet", "--json"]).code, 0)
    }

    func testStepScaleOnRunTrainAndResume() throws {
        // run: one SimGA step on the Dirac-GAN is x₀ + h·S·v(x₀).
        let r = try run(["run", "--game", "dirac", "--scheme", "simga", "--step", "0.1", "--steps", "1", "--step-scale", "0.5,3", "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["step_scale"] as? [Double], [0.5, 3])
        let v = try DiracGAN(r1: 0).vectorField(at: [1, 1])
        XCTAssertEqual(obj["final_state"] as? [Double], [1 + 0.1 * 0.5 * v[0], 1 + 0.1 * 3 * v[1]])
        // train without and with an optimizer; a resumed run keeps the scales (bit for bit).
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        for optimizer in ["none", "adam"] {
            let straight = dir.appendingPathComponent("s-\(optimizer)"), split = dir.appendingPathComponent("p-\(optimizer)")
            var args = ["train", "--scheme", "simga", "--every", "5", "--step-scale", "1,4"] + Self.tinyTrain
            args[args.firstIndex(of: "adam")!] = optimizer
            let summary = try assertResumesBitForBit(args, straight: straight, split: split)
            XCTAssertEqual(summary["step_scale"] as? [Double], [1, 4])
            // An unscaled run differs.
            let plain = dir.appendingPathComponent("u-\(optimizer)")
            XCTAssertEqual(try run(Array(args[0..<5]) + Array(args[7...]) + ["--steps", "20", "--output", plain.path]).code, 0)
            XCTAssertNotEqual(try Data(contentsOf: plain.appendingPathComponent("state.json")),
                              try Data(contentsOf: straight.appendingPathComponent("state.json")))
        }
        let bad = try run(["train", "--scheme", "simga", "--steps", "5", "--step-scale", "1,2,3"] + Self.tinyTrain)
        XCTAssertNotEqual(bad.code, 0)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("players"), bad.stderr)
    }

    func testMomentumAndLiteratureKnobsOnTrainAndResume() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tiny = ["--lr", "0.001", "--batch", "16", "--hidden", "4", "--depth", "1", "--latent", "2", "--no-eigenvalues", "--quiet", "--every", "5"]
        let cases: [[String]] = [["--scheme", "altga", "--optimizer", "momentum", "--momentum", "-0.3"],
                                 ["--scheme", "simga", "--optimizer", "momentum", "--momentum", "0.5", "--momentum-form", "supplement"],
                                 ["--scheme", "sga", "--lambda", "0.5", "--sga-align"],
                                 ["--scheme", "optimistic", "--past-weight", "0.5"],
                                 ["--scheme", "extragradient", "--extrapolation-step", "0.002"],
                                 ["--scheme", "altga", "--substeps", "1,3", "--inner-tolerance", "0.01", "--layout", "generator-first"],
                                 ["--scheme", "simga", "--r1", "0.5"],
                                 ["--scheme", "simga", "--utility", "wgan", "--gp", "1", "--r2", "0.2"]]
        for (k, c) in cases.enumerated() {
            let straight = dir.appendingPathComponent("s\(k)"), split = dir.appendingPathComponent("p\(k)")
            XCTAssertEqual(try run(["train"] + c + tiny + ["--steps", "20", "--output", straight.path]).code, 0, "\(c)")
            XCTAssertEqual(try run(["train"] + c + tiny + ["--steps", "10", "--output", split.path]).code, 0, "\(c)")
            let r = try run(["resume", split.path, "--steps", "20", "--quiet"])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertEqual(try Data(contentsOf: split.appendingPathComponent("state.json")),
                           try Data(contentsOf: straight.appendingPathComponent("state.json")), "\(c)")
        }
        for (bad, expected) in [(["--scheme", "simga", "--optimizer", "momentum"], "--momentum"),
                                (["--scheme", "simga", "--optimizer", "momentum", "--momentum", "1.5"], "(−1, 1)"),
                                (["--scheme", "simga", "--momentum", "0.5"], "--optimizer momentum"),
                                (["--scheme", "sga"], "--lambda"),
                                (["--scheme", "simga", "--lambda", "1"], "sga"),
                                (["--scheme", "simga", "--past-weight", "1"], "optimistic"),
                                (["--scheme", "altga", "--substeps", "2,x"], "whole number"),
                                (["--scheme", "altga", "--substeps", "2,1,1"], "players"),
                                (["--scheme", "altga", "--inner-tolerance", "0.1"], "--substeps")] {
            let r = try run(["train"] + bad + tiny + ["--steps", "5"])
            XCTAssertNotEqual(r.code, 0, "\(bad)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), r.stderr)
        }
    }

    func testTrainOnTheUsersData() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededGenerator(seed: 5)
        for d in [3, 2] {
            var csv = (0..<d).map { "c\($0)" }.joined(separator: ",") + "\n"
            for _ in 0..<200 { csv += (0..<d).map { _ in String(rng.normal()) }.joined(separator: ",") + "\n" }
            let data = dir.appendingPathComponent("data\(d).csv")
            try csv.write(to: data, atomically: true, encoding: .utf8)
            let out = dir.appendingPathComponent("run\(d)")
            let args = ["train", "--data", data.path, "--scheme", "simga", "--optimizer", "adam", "--lr", "0.001", "--steps", "20",
                        "--batch", "16", "--generator-hidden", "6,5", "--discriminator-hidden", "4", "--latent", "2", "--every", "10",
                        "--no-eigenvalues", "--quiet", "--json", "--output", out.path]
            let r = try run(args)
            XCTAssertEqual(r.code, 0, r.stderr)
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(obj["data_dimension"] as? Int, d)
            XCTAssertTrue(obj["modes_captured"] is NSNull)
            XCTAssertGreaterThan(try XCTUnwrap(obj["energy_distance"] as? Double), 0)
            XCTAssertEqual(obj["generator_hidden"] as? [Int], [6, 5])
            let samples = try String(contentsOf: out.appendingPathComponent("samples-20.csv"), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(samples.count, 1 + 10_000)
            XCTAssertEqual(samples[1].split(separator: ",").count, d)
            XCTAssertEqual(FileManager.default.fileExists(atPath: out.appendingPathComponent("density-20.svg").path), d == 2)
            // Resumes bit for bit like any run.
            let split = dir.appendingPathComponent("split\(d)")
            var half = args
            half[half.firstIndex(of: "20")!] = "10"
            half[half.firstIndex(of: out.path)!] = split.path
            XCTAssertEqual(try run(half).code, 0)
            XCTAssertEqual(try run(["resume", split.path, "--steps", "20", "--quiet"]).code, 0)
            XCTAssertEqual(try Data(contentsOf: split.appendingPathComponent("state.json")), try Data(contentsOf: out.appendingPathComponent("state.json")))
        }
        let bad = dir.appendingPathComponent("bad.csv")
        try "1,2\n3,4,5\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try run(["train", "--data", bad.path, "--scheme", "simga", "--lr", "0.001", "--steps", "5", "--output", dir.appendingPathComponent("x").path])
        XCTAssertNotEqual(r.code, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("line 2"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x").path))
    }

    func testMalformedFormulaFilesAreOneLineEach() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ players: String, _ utilities: String) -> String {
            #"{"game": "utilities", "players": "# + players + #", "utilities": "# + utilities + #", "x0": [1, 1]}"#
        }
        let cases: [(String, String)] = [
            (file(#"[["x"], ["y"]]"#, #"["(x*y", "-x*y"]"#), "expected ')'"),
            (file(#"[["x"], ["y"]]"#, #"["foo(x)*y"]"#), "unknown function 'foo'"),
            (file(#"[["x"], ["y"]]"#, #"["x*"]"#), "expected a number, a name or '('"),
            (file(#"[["x"], ["x"]]"#, #"["x"]"#), "listed twice"),
            (file(#"[["x"], ["y"]]"#, #"[""]"#), "column 1"),
            (file(#"[["x"], ["y"]]"#, #"["x*y", "y", "x"]"#), "3 formulas for 2 players"),
            (file(#"[["x"], ["y"]]"#, #"["x*z"]"#), "unknown name 'z'"),
            (file(#"[["x"], ["y"]]"#, #"["x*y + 1e999"]"#), "finite number"),
            (file(#"[["x"], ["y"]]"#, #"["min(x)*y"]"#), "min takes 2 arguments"),
            (file(#"[["x"], ["y"]]"#, #"["x y"]"#), "expected an operator or the end"),
            (file(#"[["x"], ["y"]]"#, #"["x*y)"]"#), "expected an operator or the end"),
            (file(#"[["x"], ["y", "z"]]"#, #"["x*y"]"#), "appears in no utility"),
            (file(#"[["x"], []]"#, #"["x"]"#), "non-empty array"),
            (file(#"[["x"], ["y"]]"#, #"[3]"#), "must be a string"),
            (file(#"[["x"], ["y"]]"#, #"["2..5*x*y"]"#), "expected a digit after '.'"),
        ]
        XCTAssertGreaterThanOrEqual(cases.count, 12)
        for (k, (text, expected)) in cases.enumerated() {
            let path = dir.appendingPathComponent("bad\(k).json")
            try text.write(to: path, atomically: true, encoding: .utf8)
            let out = dir.appendingPathComponent("out\(k)")
            let r = try run(["run", "--game-file", path.path, "--scheme", "simga", "--step", "0.1", "--steps", "3", "--output", out.path])
            XCTAssertNotEqual(r.code, 0, text)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), "\(text): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("bad\(k).json"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        }
    }

    func testTrainOnA3DMixtureLowersTheEnergyDistance() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 4 Gaussians in ℝ³ at (±2, ±2, 0) … , σ 0.1.
        var rng = SeededGenerator(seed: 9)
        var csv = "x,y,z\n"
        for k in 0..<800 {
            let c = [[2.0, 2, 0], [-2, 2, 1], [2, -2, -1], [-2, -2, 0]][k % 4]
            csv += c.map { String($0 + 0.1 * rng.normal()) }.joined(separator: ",") + "\n"
        }
        let data = dir.appendingPathComponent("mix3.csv")
        try csv.write(to: data, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run")
        let r = try run(["train", "--data", data.path, "--scheme", "consensus", "--gamma", "1", "--optimizer", "rmsprop", "--lr", "0.01",
                         "--steps", "300", "--batch", "64", "--hidden", "16", "--depth", "2", "--latent", "3", "--every", "100",
                         "--no-eigenvalues", "--quiet", "--output", out.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let rows = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        let header = rows[0].split(separator: ",").map(String.init)
        let col = try XCTUnwrap(header.firstIndex(of: "energy_distance"))
        let first = Double(rows[1].split(separator: ",", omittingEmptySubsequences: false)[col])!
        let last = Double(rows[rows.count - 1].split(separator: ",", omittingEmptySubsequences: false)[col])!
        XCTAssertLessThan(last, 0.5 * first, "energy distance \(first) → \(last)")
    }

    func testTrainInitFromAnotherRun() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        let tiny = ["--lr", "0.001", "--batch", "16", "--hidden", "4", "--depth", "1", "--latent", "2", "--no-eigenvalues", "--quiet"]
        XCTAssertEqual(try run(["train", "--scheme", "simga", "--optimizer", "adam", "--steps", "10", "--output", a.path] + tiny).code, 0)
        // Switch schemes: consensus from simga's parameters; at step 0 it starts where simga ended.
        let r = try run(["train", "--scheme", "consensus", "--gamma", "1", "--steps", "5", "--init", a.appendingPathComponent("state.json").path,
                         "--every", "5", "--output", b.path] + tiny)
        XCTAssertEqual(r.code, 0, r.stderr)
        let rowsA = try String(contentsOf: a.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        let rowsB = try String(contentsOf: b.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        // Same networks, same state: the last metrics of a are the first of b (but for the step and time columns).
        let lastA = rowsA.last!.split(separator: ",").dropFirst().dropLast(), firstB = rowsB[1].split(separator: ",").dropFirst().dropLast()
        XCTAssertEqual(Array(lastA), Array(firstB))
        let wrong = try run(["train", "--scheme", "simga", "--steps", "5", "--hidden", "5", "--init", a.appendingPathComponent("state.json").path, "--lr", "0.1", "--quiet"])
        XCTAssertNotEqual(wrong.code, 0)
        XCTAssertTrue(wrong.stderr.contains("other networks"), wrong.stderr)
    }

    func testSpectrumOfATrainedGAN() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("gan")
        XCTAssertEqual(try run(["train", "--scheme", "consensus", "--gamma", "1", "--steps", "30", "--output", out.path] + Self.tinyTrain).code, 0)
        let r = try run(["spectrum", "--run", out.path, "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        // The same GAN, state and evaluation batch as the run's own final metrics.
        XCTAssertEqual(obj["vector_field_norm"] as? Double, summary["vector_field_norm"] as? Double)
        XCTAssertEqual(obj["dimension"] as? Int, summary["parameters"] as? Int)
        // A ring8 run with its eigenvalue figure: spectrum --run gives the eigenvalues it was drawn from.
        let fig = dir.appendingPathComponent("fig")
        XCTAssertEqual(try run(["train", "--scheme", "consensus", "--gamma", "1", "--optimizer", "adam", "--lr", "0.001", "--steps", "30",
                                "--batch", "16", "--hidden", "4", "--depth", "1", "--latent", "2", "--quiet", "--output", fig.path]).code, 0)
        let svg = try String(contentsOf: fig.appendingPathComponent("eigenvalues.svg"), encoding: .utf8)
        let sr = try run(["spectrum", "--run", fig.path, "--json"])
        XCTAssertEqual(sr.code, 0, sr.stderr)
        let so = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(sr.stdout.utf8)) as? [String: Any])
        let eig = try XCTUnwrap(so["eigenvalues"] as? [[Double]])
        XCTAssertTrue(svg.contains("λ (\(eig.count)"), "the figure's count")
        let q = try XCTUnwrap(so["max_imag_real_ratio"] as? Double)
        XCTAssertTrue(svg.contains("|Im λ| = q·|Re λ|, q = " + String(format: "%.3g", q)), "q = \(q)")
        let bad = try run(["spectrum", "--run", dir.appendingPathComponent("none").path])
        XCTAssertNotEqual(bad.code, 0)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1)
    }

    func testSweepValidatesThenRunsCellsAndShards() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A malformed spec: one line per problem, non-zero exit, nothing written.
        let bad = dir.appendingPathComponent("bad.json")
        // (A constant γ beside a list of schemes goes to the schemes that have it; beside one
        // scheme without it, it is an error.)
        try #"[{"game": "bilinear", "scheme": ["simga", "nosuch"], "step": 0.1, "steps": 10, "gamma": 1}, {"game": "dirac", "scheme": "simga", "step": 0.1, "steps": 10, "gamma": 1}, {"game": "dirac", "scheme": "simga", "step": -1, "steps": 10}, {"game": "dirac", "scheme": "simga", "step": 0.1, "steps": 10, "colour": 1}]"#
            .write(to: bad, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        let r = try run(["sweep", bad.path, "--output", out.path])
        XCTAssertNotEqual(r.code, 0)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, r.stderr)
        XCTAssertTrue(r.stderr.contains("--gamma applies only to --scheme consensus"), r.stderr)
        XCTAssertTrue(r.stderr.contains("unknown scheme 'nosuch'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("step size must be") || r.stderr.contains("--step"), r.stderr)
        XCTAssertTrue(r.stderr.contains("unknown key 'colour'"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        for (text, expected) in [(#"{"game": "dirac", "scheme": "simga", "step": [], "steps": 10}"#, "empty list"),
                                 (#"{"game": "dirac", "game": "dirac", "scheme": "simga", "step": 0.1, "steps": 10}"#, "appears twice")] {
            try text.write(to: bad, atomically: true, encoding: .utf8)
            let e = try run(["sweep", bad.path, "--output", out.path])
            XCTAssertNotEqual(e.code, 0)
            XCTAssertTrue(e.stderr.contains(expected), e.stderr)
        }
        // A good one: each cell is its run's summary; shards merge to the same results.csv.
        let spec = dir.appendingPathComponent("spec.json")
        try #"{"game": "dirac", "r1": 0.3, "scheme": ["simga", "rk4"], "step": [0.1, 0.2], "steps": 50}"#.write(to: spec, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["sweep", spec.path, "--output", out.path, "--quiet"]).code, 0)
        let csv = try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 4)
        XCTAssertTrue(csv[0].hasPrefix("cell,game,r1,scheme,step,steps,status,steps_completed,"), String(csv[0]))
        let single = try run(["run", "--game", "dirac", "--r1", "0.3", "--scheme", "rk4", "--step", "0.2", "--steps", "50", "--json"])
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(single.stdout.utf8)) as? [String: Any])
        XCTAssertTrue(csv[4].contains(GameFlow.csvNumber(obj["vector_field_norm"] as! Double)), String(csv[4]))
        for i in 1...2 { XCTAssertEqual(try run(["sweep", spec.path, "--output", dir.appendingPathComponent("s\(i)").path, "--shard", "\(i)/2", "--quiet"]).code, 0) }
        XCTAssertEqual(try run(["sweep", "merge", dir.appendingPathComponent("s1").path, dir.appendingPathComponent("s2").path,
                                "--output", dir.appendingPathComponent("m").path]).code, 0)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("m/results.csv")), try Data(contentsOf: out.appendingPathComponent("results.csv")))
        // A missing shard is named, not merged.
        let partial = try run(["sweep", "merge", dir.appendingPathComponent("s1").path, "--output", dir.appendingPathComponent("m2").path])
        XCTAssertNotEqual(partial.code, 0)
        XCTAssertTrue(partial.stderr.contains("cells are missing"), partial.stderr)
    }

    func testCtrlCSavesACheckpointThatResumes() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run"), reference = dir.appendingPathComponent("reference")
        let args = ["train", "--scheme", "consensus", "--gamma", "1", "--every", "1000"] + Self.tinyTrain
        let p = Process()
        p.executableURL = binary
        p.arguments = args + ["--steps", "100000000", "--output", out.path, "--json"]
        let stdout = Pipe()
        p.standardOutput = stdout
        p.standardError = Pipe()
        try p.run()
        let checkpoint = out.appendingPathComponent("checkpoint.json")
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline { usleep(50_000) }
        usleep(300_000)
        p.interrupt()
        let text = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: text) as? [String: Any])
        XCTAssertEqual(obj["status"] as? String, "interrupted")
        let k = try XCTUnwrap(obj["steps"] as? Int)
        XCTAssertGreaterThan(k, 0)
        let saved = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: checkpoint)) as? [String: Any])
        XCTAssertEqual(saved["steps_completed"] as? Int, k)
        // Continued a little past the interruption, it matches a run that was never interrupted.
        XCTAssertEqual(try run(["resume", out.path, "--steps", "\(k + 30)"]).code, 0)
        XCTAssertEqual(try run(args + ["--steps", "\(k + 30)", "--output", reference.path]).code, 0)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("state.json")),
                       try Data(contentsOf: reference.appendingPathComponent("state.json")))
    }

    func testTrainBadInput() throws {
        let base = ["train", "--scheme", "simga", "--steps", "5"]
        let cases: [([String], String)] = [
            (base + ["--lr", "0"], "step size"),
            (base + ["--lr", "-1e-4"], "got -0.0001"),
            (["train", "--scheme", "consensus", "--gamma", "-10", "--lr", "0.1", "--steps", "5"], "gamma must be a finite number ≥ 0"),
            (base + ["--lr", "0.1", "--data", "ring9"], "data file 'ring9' does not exist"),
            (base + ["--lr", "0.1", "--optimizer", "sgd"], "The value 'sgd' is invalid for '--optimizer"),
            (base + ["--lr", "0.1", "--batch", "0"], "--batch"),
            (base + ["--lr", "0.1", "--activation", "gelu"], "The value 'gelu' is invalid for '--activation"),
            (["train", "--scheme", "consensus", "--lr", "0.1", "--steps", "5"], "--gamma"),
            (["train", "--scheme", "rkf45", "--optimizer", "rmsprop", "--lr", "0.1", "--steps", "5", "--rtol", "0"], "rtol must be a number in (0, 1)"),
            (["train", "--scheme", "rk8pd", "--optimizer", "momentum", "--momentum", "0.5", "--lr", "0.1", "--steps", "5", "--atol", "-1"], "atol must be a finite number > 0"),
        ]
        for (args, expected) in cases {
            let r = try run(args)
            XCTAssertNotEqual(r.code, 0, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
    }

    /// Issue 29: eigenvalues along training (spectrum.csv and spectrum.svg) survive a resume row for
    /// row; a finished run's resume recomputes nothing and says so; spectrum --top is ARPACK's.
    func testSpectrumAlongTrainingAndTop() throws {
        let dir = try temp()
        let common = ["train", "--data", "ring8", "--scheme", "consensus", "--gamma", "1", "--lr", "0.01", "--hidden", "8", "--depth", "2",
                      "--batch", "64", "--spectrum-every", "10", "--top", "4", "--quiet"]
        let whole = dir.appendingPathComponent("whole"), part = dir.appendingPathComponent("part")
        XCTAssertEqual(try run(common + ["--steps", "40", "--output", whole.path]).code, 0)
        XCTAssertEqual(try run(common + ["--steps", "20", "--output", part.path]).code, 0)
        var r = try run(["resume", part.path, "--steps", "40", "--quiet"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let a = try String(contentsOf: whole.appendingPathComponent("spectrum.csv"), encoding: .utf8)
        XCTAssertEqual(try String(contentsOf: part.appendingPathComponent("spectrum.csv"), encoding: .utf8), a)
        let rows = a.split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.map { $0.split(separator: ",")[0] }, ["0", "10", "20", "30", "40"])
        XCTAssertTrue(SVGChecker.check(try String(contentsOf: whole.appendingPathComponent("spectrum.svg"), encoding: .utf8)).wellFormed)
        // The last row's eigenvalues are the run's own at its final state (spectrum --run --top, LR).
        r = try run(["spectrum", "--run", whole.path, "--top", "4", "--which", "LR", "--json"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let top = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rightmost = try XCTUnwrap((top["eigenvalues"] as? [[Double]])?.first?.first)
        let abscissa = try XCTUnwrap(Double(rows.last!.split(separator: ",")[1]))
        XCTAssertEqual(rightmost, abscissa, accuracy: 1e-8 * max(1, abs(abscissa)))
        XCTAssertTrue((top["residuals"] as? [Double])?.allSatisfy { $0 < 1e-6 } == true)
        // Finished: nothing to do.
        let before = try Data(contentsOf: whole.appendingPathComponent("summary.json"))
        r = try run(["resume", whole.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("is complete (40 of 40 steps): nothing to do"), r.stdout)
        XCTAssertEqual(try Data(contentsOf: whole.appendingPathComponent("summary.json")), before)
        r = try run(["spectrum", "--run", whole.path, "--top", "4", "--which", "XX"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("The value 'XX' is invalid for '--which") && r.stderr.contains("'LM', 'LR', 'LI' or 'SR'"), r.stderr)
    }

    /// flow writes ‖v‖ and the distance against t for a game of any dimension; on a bilinear
    /// game (v = Jx, J skew) the flow conserves the distance to the equilibrium.
    func testFlowConvergenceFigureInAnyDimension() throws {
        let out = try temp().appendingPathComponent("flow")
        let r = try run(["flow", "--game", "bilinear", "--dim", "5", "--seed", "2", "--time", "5", "--every", "0.5", "--output", out.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let check = SVGChecker.check(try String(contentsOf: out.appendingPathComponent("convergence.svg"), encoding: .utf8))
        XCTAssertTrue(check.wellFormed)
        XCTAssertEqual(check.names.filter { !$0.isEmpty }, ["‖v(x(t))‖", "distance to equilibria (dashed)"])
        let rows = try String(contentsOf: out.appendingPathComponent("trajectory.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let distances = rows.map { Double($0.split(separator: ",")[2])! }
        XCTAssertEqual(distances.count, 11)
        XCTAssertLessThan(distances.map { abs($0 - distances[0]) }.max()!, 1e-8 * distances[0])
    }

    /// Issue 26: a flow's summary.json holds its typed configuration and `flow --config` on it
    /// integrates the same flow to the same bits; settings flags beside --config are one line.
    func testFlowConfigReproducesTheFlow() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("first"), second = dir.appendingPathComponent("second")
        var r = try run(["flow", "--game", "dirac", "--r1", "0.3", "--nk-penalty", "0.2", "--time", "3", "--every", "0.25", "--method", "rkck",
                         "--rtol", "1e-9", "--output", first.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: first.appendingPathComponent("summary.json"))) as? [String: Any])
        let configuration = try XCTUnwrap(summary["configuration"] as? [String: Any])
        XCTAssertEqual(configuration["method"] as? String, "rkck")
        XCTAssertEqual(configuration["nk_penalty"] as? Double, 0.2)
        r = try run(["flow", "--config", first.appendingPathComponent("summary.json").path, "--output", second.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: second.appendingPathComponent("trajectory.csv")), try Data(contentsOf: first.appendingPathComponent("trajectory.csv")))
        r = try run(["flow", "--config", first.appendingPathComponent("summary.json").path, "--time", "2"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        r = try run(["flow", "--game", "dirac"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("--time"), r.stderr)
    }

    /// A formula game's variable names label the phase portrait's axes.
    func testPhasePortraitAxesCarryTheVariableNames() throws {
        let out = try temp().appendingPathComponent("run")
        let zoo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("zoo/balduzzi.json").path
        let r = try run(["run", "--game-file", zoo, "--scheme", "simga", "--step", "0.01", "--steps", "50", "--output", out.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let svg = try String(contentsOf: out.appendingPathComponent("phase.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains(">x (player 1)<") && svg.contains(">y (player 2)<"))
        // Titles carry the knobs of the game and the scheme.
        let dirac = try temp().appendingPathComponent("dirac")
        XCTAssertEqual(try run(["run", "--game", "dirac", "--r1", "0.3", "--scheme", "consensus", "--gamma", "0.5", "--step", "0.2", "--steps", "50",
                                "--output", dirac.path]).code, 0)
        let title = try String(contentsOf: dirac.appendingPathComponent("phase.svg"), encoding: .utf8)
        XCTAssertTrue(title.contains("<title>dirac (R1 γ = 0.3): consensus γ = 0.5, h = 0.2</title>"))
    }
}
