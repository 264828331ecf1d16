import Foundation
import Testing
@testable import GameFlow
@testable import GameFlowBenchKit

/// The library's sweep engine: expansion, parallel and sharded runs, resume after a loss of
/// cell files, validation, and the stable-region heatmap against a closed form.
@Suite struct SweepEngineTests {
    static func folder(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "gameflow-sweep-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: dir)
        return dir
    }

    /// Consensus on f = φθ: w = (v′ − γI)x, so explicit Euler on w has eigenvalues
    /// 1 − hγ ± ih; it contracts iff (1 − hγ)² + h² < 1, i.e. h < 2γ/(γ² + 1).
    static func consensusCell(_ cell: SweepCell) throws -> SweepOutcome {
        let (gamma, h) = (cell.number("gamma")!, cell.number("step")!)
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1]))
        let run = try solve(game, scheme: try Consensus(gamma: gamma), from: [1, 1],
                            options: SolveOptions(stepSize: h, maxSteps: 400, divergenceBound: 1e200))
        return SweepOutcome(result: run.summaryJSON(game: "phi-theta", scheme: "consensus", stepSize: h, seconds: 0)
            .adding([("initial_distance_to_equilibrium", .number(2.squareRoot()))]), seconds: 0)
    }

    static let gammas = [0.05, 0.2, 0.5, 1, 2, 5]
    static let steps = [0.02, 0.05, 0.1, 0.3, 0.6, 1.5, 3]
    static func spec() throws -> SweepSpec {
        try SweepSpec(grids: [[("gamma", .array(gammas.map { .number($0) })), ("step", .array(steps.map { .number($0) })),
                               ("seed", .array([.int(0), .int(1)]))]])
    }

    @Test("Cells expand in sorted key order, the last key fastest; grids are a union, in order")
    func expansion() throws {
        let s = try SweepSpec(grids: [[("b", .array([.int(1), .int(2)])), ("a", .array([.string("x"), .string("y")]))],
                                      [("c", .bool(true))]])
        #expect(s.cells.map(\.label) == ["a=x, b=1", "a=x, b=2", "a=y, b=1", "a=y, b=2", "c=true"])
        #expect(s.canonical == #"[{"a":["x","y"],"b":[1,2]},{"c":[true]}]"#)
        #expect(s.cells[1].arguments() == ["--a", "x", "--b", "2"])
        #expect(throws: GameFlowError.self) { try SweepSpec(grids: [[("a", .array([]))]]) }
        #expect(throws: GameFlowError.self) { try SweepSpec(grids: [[("output", .string("x"))]], reservedKeys: ["output"]) }
        #expect(throws: GameFlowError.self) { try SweepSpec(grids: [[("a", .int(1)), ("a", .int(2))]]) }
        #expect(throws: GameFlowError.self) { try SweepSpec.parse(Data(#"{"a": [[1]]}"#.utf8), name: "t") }
    }

    @Test("jobs 1 and 3 give the same records; 3 shards merged give the unsharded results.csv byte for byte")
    func parallelAndShards() throws {
        let spec = try Self.spec()
        let one = Self.folder("one"), three = Self.folder("three")
        defer { for d in [one, three] { try? FileManager.default.removeItem(atPath: d) } }
        var e1 = SweepEngine(spec: spec, output: one, jobs: 1); e1.progress = false
        var e3 = SweepEngine(spec: spec, output: three, jobs: 3); e3.progress = false
        let r1 = try e1.run(Self.consensusCell), r3 = try e3.run(Self.consensusCell)
        #expect(r1.count == Self.gammas.count * Self.steps.count * 2)
        #expect(r1.map { $0.removing("seconds") } == r3.map { $0.removing("seconds") })
        let csv = try String(contentsOfFile: one + "/results.csv", encoding: .utf8)
        #expect(csv == (try String(contentsOfFile: three + "/results.csv", encoding: .utf8)))
        var shards: [String] = []
        defer { for d in shards { try? FileManager.default.removeItem(atPath: d) } }
        for i in 1...3 {
            var e = SweepEngine(spec: spec, output: Self.folder("shard\(i)"), jobs: 2)
            e.shard = (i, 3); e.progress = false
            shards.append(e.output!)
            #expect(try e.run(Self.consensusCell).count == e.shardCells.count)
        }
        let merged = Self.folder("merged")
        defer { try? FileManager.default.removeItem(atPath: merged) }
        let files = try SweepMerge.write(folders: shards, output: merged)
        #expect(try String(contentsOfFile: merged + "/results.csv", encoding: .utf8) == csv)
        #expect(files.contains("stable-region-phi-theta-consensus-gamma.svg"))
        #expect(throws: GameFlowError.self) { try SweepMerge.write(folders: Array(shards.prefix(2)), output: Self.folder("partial")) }
    }

    @Test("Cells whose files are lost run again, and only they; the tables are the same bytes")
    func resume() throws {
        let spec = try Self.spec()
        let dir = Self.folder("resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var e = SweepEngine(spec: spec, output: dir, jobs: 2); e.progress = false
        try e.run(Self.consensusCell)
        let before = try String(contentsOfFile: dir + "/results.csv", encoding: .utf8)
        for i in [3, 17, 40] { try FileManager.default.removeItem(atPath: SweepFolder.cellPath(dir, i)) }
        // A torn file (as a kill mid-write would leave, were writes not atomic) counts as not done.
        try "{\"cell\": 5, \"param".write(toFile: SweepFolder.cellPath(dir, 5), atomically: false, encoding: .utf8)
        let ran = Locked<[Int]>([])
        try e.run { cell in ran.mutate { $0.append(cell.index) }; return try Self.consensusCell(cell) }
        #expect(ran.value.sorted() == [3, 5, 17, 40])
        #expect(try String(contentsOfFile: dir + "/results.csv", encoding: .utf8) == before)
        // Another spec into the same folder is refused.
        let other = SweepEngine(spec: try SweepSpec(grids: [[("gamma", .number(1)), ("step", .number(0.1))]]), output: dir)
        #expect(throws: GameFlowError.self) { try other.run(Self.consensusCell) }
    }

    @Test("Validation reports every distinct problem, one line per problem, before any cell runs")
    func validation() throws {
        let e = SweepEngine(spec: try Self.spec(), output: nil)
        do {
            try e.validate { cell in
                if cell.number("gamma")! > 1 { throw GameFlowError.invalidInput("gamma too large") }
                if cell.number("step")! > 2 { throw GameFlowError.invalidInput("step too large") }
            }
            Issue.record("no problems reported")
        } catch let p as SweepProblems {
            #expect(p.lines.count == 2)
            #expect(p.lines.allSatisfy { $0.hasPrefix("cell ") })
        }
    }

    @Test("The stable-region heatmap's tiles match h < 2γ/(γ² + 1) for consensus on φθ")
    func stableRegionFromTheory() throws {
        var e = SweepEngine(spec: try Self.spec(), output: nil, jobs: 2)
        e.progress = false
        let records = try e.run(Self.consensusCell)
        let figures = SweepMerge.stableRegions(records)
        #expect(figures.map(\.0) == ["phi-theta-consensus-gamma"])
        let plot = figures[0].1
        var seen = 0
        for series in plot.series {
            guard case .tiles(let tiles) = series.kind else { continue }
            for t in tiles {
                // The grid value a tile covers: the one step inside its h-edges, γ's index at its middle.
                let inside = Self.steps.filter { t.x0 < $0 && $0 < t.x1 }
                #expect(inside.count == 1)
                let h = inside[0], gamma = Self.gammas[Int(((t.y0 + t.y1) / 2).rounded())]
                let hStar = 2 * gamma / (gamma * gamma + 1)
                let expected = h < hStar ? "stable (every run)" : "unstable (every run)"
                if abs(h / hStar - 1) > 0.05 { #expect(series.name == expected, "γ \(gamma), h \(h), h* \(hStar)") }
                seen += 1
            }
        }
        #expect(seen == Self.gammas.count * Self.steps.count)
    }

    @Test("Figure file names stay inside the output folder whatever a game is called")
    func fileNames() {
        #expect(SweepMerge.fileSafe("../etc/passwd") == "___etc_passwd")
        #expect(SweepMerge.fileSafe("my game/v2") == "my_game_v2")
        #expect(SweepMerge.fileSafe("dirac-r1-0.3") == "dirac-r1-0.3")
    }

    @Test("The suite's thinned trace keeps the exact best error within the equal-cost budget")
    func thinnedTrace() {
        var trace: [(Int, Double)] = []
        var rng = SeededGenerator(seed: 3)
        for k in 0...5000 { trace.append((3 * k, exp(-Double(k) / 700) * (1 + rng.uniform()))) }
        for budget in [1000, 4000, 12345] {
            let thin = SuiteRunner.thinned(trace, budget: budget)
            #expect(thin.count < 200)
            let exact = trace.filter { $0.0 <= budget }.map(\.1).min()!
            #expect(thin.filter { $0.0 <= budget }.map(\.1).min()! == exact)
            // Every kept point is the running minimum at its cost.
            for p in thin { #expect(p.1 == trace.filter { $0.0 <= p.0 }.map(\.1).min()!) }
        }
    }
}

/// A value shared by the engine's worker threads.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ v: T) { stored = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return stored }
    func mutate(_ f: (inout T) -> Void) { lock.lock(); f(&stored); lock.unlock() }
}
