import Foundation
import Testing
@testable import GameFlow
import GameFlowTestSupport

/// Issue 25: faults on the second wave's surfaces (formula games, flows, sweeps' figures).
@Suite struct FaultSurfaceTests {
    static func formulaGame(_ utilities: [String], x0: String = "[1, 1]") throws -> any Game {
        let list: String = utilities.map { "\"\($0)\"" }.joined(separator: ", ")
        let head = #"{"game": "utilities", "players": [["x"], ["y"]], "utilities": ["#
        let text: String = head + list + #"], "x0": "# + x0 + "}"
        return try GameFile.parse(Data(text.utf8)).game
    }

    @Test("A NaN field is not convergence: log(x) past x = 0 ends the run diverged (non-finite field) at the last state with a finite field")
    func nanFieldDiverges() throws {
        let game = try Self.formulaGame(["log(x)*y - 3*x", "-log(x)*y"])
        #expect(norm2([1, .nan, 0]).isNaN)
        for tolerance in [1e-8, nil] as [Double?] {
            let s = try integrate(game, SimGA(), from: [1, 1], h: 1, steps: 10, tolerance: tolerance)
            guard case .diverged(let why) = s.status else { Issue.record("expected diverged, got \(s.status)"); continue }
            #expect(why.contains("non-finite"), "\(why)")
            #expect(s.finalState.allSatisfy { $0.isFinite })
            if tolerance != nil { #expect(s.finalState == [1, 1] && s.vectorFieldNorm == 2) }
        }
    }

    @Test("Formulas deeper or larger than the documented limits are one error at parse time, not a stack overflow")
    func formulaLimits() throws {
        let cases = [String(repeating: "(", count: 20_000) + "x*y" + String(repeating: ")", count: 20_000),
                     (0..<50_000).map { "\($0 % 7 + 1)*x*y" }.joined(separator: " + "),
                     String(repeating: "-", count: 100_000) + "x*y",
                     "x" + String(repeating: "^x", count: 5000) + "*y",
                     String(repeating: "x*y + ", count: 200_000) + "x"]
        for text in cases {
            #expect(throws: GameFlowError.self) { _ = try Self.formulaGame([text]) }
        }
        // At the limits: a sum of 1,000 terms and 200 nested parentheses parse and evaluate.
        let sum = try Self.formulaGame([(0..<1000).map { _ in "x*y" }.joined(separator: " + ")])
        #expect(sum.vectorField(at: [2, 3]) == [3000, -2000])
        let nested = try Self.formulaGame([String(repeating: "(", count: 199) + "x*y" + String(repeating: ")", count: 199)])
        #expect(nested.vectorField(at: [2, 3]) == [3, -2])
    }

    @Test("Flows: an impossible rtol is refused; a stiff game under rkf45 ends failed at the step bound with exact counts")
    func flowBounds() throws {
        let rotation = try DiracGAN()
        for rtol in [1e-300, 1e-17, 0] {
            #expect(throws: GameFlowError.self) {
                _ = try integrateFlow(rotation, from: [1, 1], times: [0, 1], options: FlowOptions(method: .msbdf, relativeTolerance: rtol, absoluteTolerance: 1e-300))
            }
        }
        let stiff = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 0, 0, -1e8]), b: [0, 0], playerSizes: [1, 1])
        let s = try integrateFlow(stiff, from: [1, 1], times: [0, 10, 20],
                                  options: FlowOptions(method: .rkf45, relativeTolerance: 1e-6, absoluteTolerance: 1e-9, maxSteps: 20_000))
        guard case .failed(let why) = s.status else { Issue.record("expected failed, got \(s.status)"); return }
        #expect(why.contains("bound exceeded"))
        #expect(s.stats.acceptedSteps == 20_000 && s.stats.rejectedSteps >= 0)
        // rkf45 takes six evaluations per step's first trial and five per retry (v(x) is reused).
        #expect(s.stats.fieldEvaluations == 6 * s.stats.acceptedSteps + 5 * s.stats.rejectedSteps)
    }

    @Test("Figures survive zeros, subnormals and huge ranges: log and linear axes give well-formed SVG")
    func figureRanges() throws {
        for (scale, values) in [(Plot.Scale.log, [5e-324, 0, 1e-300, 1, 1e308, .infinity, .nan]),
                                (.linear, [-1.7e308, 0, 1.7e308]), (.log, [5e-324]), (.linear, [1e308, 1e308])] {
            var plot = Plot(title: "t", xLabel: "x", yLabel: "y")
            plot.yScale = scale
            plot.add("s", .lineWithMarkers(values.enumerated().map { (Double($0.offset + 1), $0.element) }, .circle), color: "#000000")
            #expect(SVGChecker.check(plot.svg()).wellFormed)
        }
        // A distance of exactly 0 is written "0" and read back as an integer: still a number.
        let result = try JSON.parse(Data(#"{"distance_to_equilibrium": 0, "vector_field_norm": 5e-324}"#.utf8))
        #expect(SweepMerge.finalError(result) == 0)
    }
}

@Suite struct SweepFaultTests {
    static func folder() -> String {
        NSTemporaryDirectory() + "gameflow-sweep-fault-\(UUID().uuidString)"
    }

    @Test("A grid of 10¹² cells is refused before it is expanded (counted with overflow checks)")
    func hugeGrid() throws {
        let axis = JSON.array((0..<1000).map { .number(Double($0)) })
        #expect(throws: GameFlowError.self) { _ = try SweepSpec(grids: [[("a", axis), ("b", axis), ("c", axis), ("d", axis)]]) }
        let big = JSON.array((0..<Int(1 << 20)).map { .int($0) })
        #expect(throws: GameFlowError.self) { _ = try SweepSpec(grids: [[("a", big)]]) }
        // At the limit of two grids it is counted across grids too.
        let half = JSON.array((0..<(SweepSpec.maxCells / 2 + 1)).map { .int($0) })
        #expect(throws: GameFlowError.self) { _ = try SweepSpec(grids: [[("a", half)], [("b", half)]]) }
        #expect(try SweepSpec(grids: [[("a", .array([.int(1), .int(2)])), ("b", .array([.int(1), .int(2), .int(3)]))]]).cells.count == 6)
    }

    @Test("A damaged shard (empty or cut spec.json) is refused by merge; a killed cell's temporary file is removed by the re-run")
    func damagedShardsAndTemporaries() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = try SweepSpec(grids: [[("h", .array([.number(0.1), .number(0.2), .number(0.3)]))]])
        var engine = SweepEngine(spec: spec, output: dir, jobs: 1)
        engine.progress = false
        let body: @Sendable (SweepCell) throws -> SweepOutcome = { cell in
            SweepOutcome(result: .object([("status", .string("completed")), ("h", .number(cell.number("h")!))]), seconds: 0)
        }
        _ = try engine.run(body)
        #expect(try SweepFolder.merged([dir]).records.count == 3)
        // A kill between a cell's write and its rename leaves cell-000001.json.tmp-PID and no cell file.
        let cell1 = SweepFolder.cellPath(dir, 1)
        try FileManager.default.removeItem(atPath: cell1)
        let leftover = cell1 + ".tmp-424242"
        try "{\"cell\": 1, \"resu".write(toFile: leftover, atomically: false, encoding: .utf8)
        _ = try engine.run(body)
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(FileManager.default.fileExists(atPath: cell1))
        for damaged in ["", "[", "[]", "{\"a\": 1}"] {
            try damaged.write(toFile: dir + "/spec.json", atomically: true, encoding: .utf8)
            #expect(throws: GameFlowError.self) { _ = try SweepFolder.merged([dir]) }
        }
    }

    @Test("CSV data with CRLF line ends (and a lone CR) reads as with LF")
    func crlfData() throws {
        let dir = Self.folder()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, end) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
            try ("x,y" + end + "1,2" + end + "3,4" + end).write(toFile: "\(dir)/\(name).csv", atomically: true, encoding: .utf8)
            let d = try Dataset.load(path: "\(dir)/\(name).csv")
            #expect(d.dimension == 2 && d.points == [1, 2, 3, 4], "\(name)")
        }
    }
}

@Suite struct ReasonCodeTests {
    @Test("Every producer of a failed or diverged status gives its typed reason code")
    func codes() throws {
        let bilinear = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1]))
        let out = try integrate(bilinear, SimGA(), from: [1, 1], h: 1, steps: 100, bound: 1e3)
        #expect(out.status.reasonCode == .boundExceeded, "\(out.status)")
        let nan = try FaultSurfaceTests.formulaGame(["log(x)*y - 3*x", "-log(x)*y"])
        #expect(try integrate(nan, SimGA(), from: [1, 1], h: 1, steps: 10, tolerance: 1e-8).status.reasonCode == .nonFiniteValue)
        #expect(try integrate(nan, SimGA(), from: [1, 1], h: 1, steps: 10).status.reasonCode == .nonFiniteValue)
        let riccati = ClosureGame(name: "riccati", dimension: 1, field: { x, v in v[0] = 1 + x[0] * x[0] }, jacobian: { x, j in j[0] = 2 * x[0] })
        for method in [RootMethod.newtonKrylov, .hybridsj, .hybrids] {
            let scheme = try ImplicitEuler(ImplicitSolverOptions(method: method, tolerance: 1e-10, maxIterations: 50, stallTolerance: nil))
            let s = try integrate(riccati, scheme, from: [0], h: 1, steps: 3)
            #expect(s.status.reasonCode == .rootSolveFailed, "\(method): \(s.status)")
        }
        let control = StepSizeControl.errorControl(ErrorControl(relativeTolerance: 1e-10, absoluteTolerance: 1e-12, minimumStepFraction: 0.5))
        let stiff = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 0, 0, -1e6]), b: [0, 0], playerSizes: [1, 1])
        #expect(try integrate(stiff, EmbeddedRK(method: .rkf45), from: [1, 1], h: 1, steps: 3, control: control).status.reasonCode == .stepSizeUnderflow)
        let flow = try integrateFlow(stiff, from: [1, 1], times: [0, 1], options: FlowOptions(method: .rkf45, relativeTolerance: 1e-6, maxSteps: 100))
        #expect(flow.status.reasonCode == .boundExceeded)
        #expect(Status.completed.reasonCode == nil && Status.converged.reasonCode == nil)
    }
}

@Suite struct ConfigurationTests {
    @Test("Every scheme's configuration round-trips through JSON and makes the scheme of that name")
    func schemesRoundTrip() throws {
        let implicit = SchemeConfiguration.ImplicitConfiguration(solver: .newtonKrylov, tolerance: 1e-9, maxIterations: 40, krylovDimension: 20,
                                                                 forcing: "ew1", lineSearch: false, predictor: true, stallTolerance: nil,
                                                                 newtonIterations: 2, krylovIterations: 5, inOptimizerMetric: false)
        let schemes: [SchemeConfiguration] = [
            .simga, .altga(substeps: [3, 1], innerTolerance: 1e-3), .consensus(gamma: 10, onDiscriminatorOnly: true, debias: .split),
            .implicit(.implicitEuler, implicit), .implicit(.trapezoidal, implicit), .heun, .rk4, .extragradient(extrapolationStep: 0.3),
            .optimistic(pastWeight: 0.5), .sga(lambda: 1, align: true), .adaptive(.rk8pd, rtol: 1e-7, atol: 1e-9)]
        for scheme in schemes {
            let c = GANTrainingConfiguration(
                data: "ring8", networks: .init(latent: 3, generatorHidden: [4], discriminatorHidden: [5, 6], generatorActivation: .tanh,
                                               discriminatorActivation: .relu),
                utility: .wgan, layout: .discriminatorFirst, batch: 8, seed: 12_345_678_901, penalties: .init(r1: 0.1, r2: 0, gp: 0.3),
                nkPenalty: 0.25, stepScale: [1, 0.1], scheme: scheme, optimizer: .momentum(form: .polyak, weight: -0.5), lr: 0.1 + 0.2,
                steps: 10, initialState: nil, metricsEvery: 3, checkpointSeconds: 7.5, eigenvalues: false)
            let back = try GANTrainingConfiguration.decode(c.json, source: "test")
            #expect(back == c, "\(scheme.name)")
            #expect(back.lr == 0.1 + 0.2)   // bit for bit
            #expect(try back.scheme.make(discriminator: 0, metric: nil).name.hasPrefix(scheme.name.rawValue.prefix(3)))
        }
    }
}
