import ArgumentParser
import Foundation
import GameFlow

/// `gameflow sweep SPEC.json --output DIR`: a grid of `run` cells, each a pure function of
/// (spec, cell index), each written atomically as its own file; `gameflow sweep merge` joins
/// the folders of shards.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a sweep of runs (games × schemes × knobs × steps × seeds) from a JSON spec.",
        discussion: """
            A spec is an object, or a list of objects (a union of grids), whose keys are
            `gameflow run` flag names; a list value is a grid axis:
              [{"game": "bilinear", "dim": 20, "seed": [0, 1, 2],
                "scheme": ["simga", "rk4"], "step": [0.01, 0.1], "steps": 1000},
               {"game": "dirac", "scheme": "consensus", "gamma": [0.1, 1],
                "step": [0.01, 0.1], "steps": 1000}]
            Every cell is validated before any runs. A killed sweep re-run skips the
            finished cells. Shards: --shard i/N on N machines (GNU parallel, Slurm
            arrays: see README), then gameflow sweep merge.
            """,
        subcommands: [SweepRun.self, SweepMerge.self],
        defaultSubcommand: SweepRun.self)
}

/// One cell: its index and its flag values (key, value as text), in the spec's sorted key order.
struct SweepCell {
    let index: Int
    let parameters: [(String, JSON)]

    /// The command the cell runs: "run" (default) or "train" (the spec key "command").
    var command: String {
        if case .string(let c)? = parameters.first(where: { $0.0 == "command" })?.1 { return c }
        return "run"
    }

    /// The command's arguments of this cell.
    var arguments: [String] {
        var a: [String] = []
        for (k, v) in parameters where k != "command" {
            switch v {
            case .bool(let b): if b { a.append("--\(k)") }
            default: a += ["--\(k)", SweepSpec.text(v)]
            }
        }
        return a
    }

    var label: String { parameters.map { "\($0.0)=\(SweepSpec.text($0.1))" }.joined(separator: ", ") }
}

/// A parsed, expanded spec.
struct SweepSpec {
    let canonical: String
    let cells: [SweepCell]

    static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : csvNumber(d)
        case .bool(let b): return b ? "true" : "false"
        default: return v.serialized()
        }
    }

    static func scalar(_ any: Any, _ what: String) throws -> JSON {
        if let s = any as? String { return .string(s) }
        if let n = any as? NSNumber {
            if type(of: n) == type(of: NSNumber(value: true)) { return .bool(n.boolValue) }
            let d = try GameFile.vector(["v": [n]], "v")[0]
            return .number(d)
        }
        throw GameFlowError.invalidInput("\(what) must be a number, a string, true/false or a list of them")
    }

    /// Parses and expands the spec (key order sorted; the last key varies fastest).
    static func load(_ path: String) throws -> SweepSpec {
        let data = try readInput(path, what: "sweep spec", limit: 1 << 24)
        func bad(_ m: String) -> GameFlowError { .invalidInput("sweep spec '\(path)': \(m)") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch { throw bad("malformed JSON") }
        if let key = firstDuplicateJSONKey(in: data) { throw bad("key '\(key)' appears twice in one object") }
        let grids: [[String: Any]]
        if let one = object as? [String: Any] { grids = [one] } else if let many = object as? [[String: Any]] { grids = many } else {
            throw bad("the top level must be an object or a list of objects")
        }
        guard !grids.isEmpty else { throw bad("the list of grids is empty") }
        var cells: [SweepCell] = []
        var canonicalGrids: [JSON] = []
        for (g, grid) in grids.enumerated() {
            guard !grid.isEmpty else { throw bad("grid \(g + 1) is empty") }
            var axes: [(String, [JSON])] = []
            for key in grid.keys.sorted() {
                guard !["output", "json", "quiet", "every"].contains(key) else { throw bad("grid \(g + 1): '\(key)' is set by the sweep itself") }
                if let list = grid[key] as? [Any] {
                    guard !list.isEmpty else { throw bad("grid \(g + 1): '\(key)' is an empty list (an empty grid axis)") }
                    axes.append((key, try list.enumerated().map { try scalar($1, "grid \(g + 1): '\(key)'[\($0)]") }))
                } else {
                    axes.append((key, [try scalar(grid[key]!, "grid \(g + 1): '\(key)'")]))
                }
            }
            canonicalGrids.append(.object(axes.map { ($0.0, .array($0.1)) }))
            var combos: [[(String, JSON)]] = [[]]
            for (key, values) in axes { combos = combos.flatMap { c in values.map { c + [(key, $0)] } } }
            for c in combos { cells.append(SweepCell(index: cells.count, parameters: c)) }
        }
        return SweepSpec(canonical: JSON.array(canonicalGrids).serialized(), cells: cells)
    }

    /// Every cell parsed and checked as a `run` (game, scheme, knobs, step), before any runs:
    /// one line per distinct problem.
    func validate() throws {
        var problems: [String] = []
        for cell in cells {
            do {
                switch cell.command {
                case "run": _ = try Run.parse(cell.arguments).cell(dryRun: true)
                case "train":
                    let train = try Train.parse(cell.arguments)
                    guard train.output == nil else { throw GameFlowError.invalidInput("a train cell writes no folder (no 'output')") }
                    _ = try train.makeGame()
                    _ = try train.knobs.make(try SchemeName.parse(train.scheme), metric: .referenceRMSProp)
                default: throw GameFlowError.invalidInput("'command' must be run or train (got '\(cell.command)')")
                }
            } catch {
                var message = (error as? GameFlowError)?.description
                    ?? Run.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
                if message.hasPrefix("Unknown option '--") {   // a key that is no `run` flag
                    message = "unknown key '" + message.dropFirst("Unknown option '--".count).dropLast() + "' (keys are gameflow run's flag names)"
                }
                let line = "cell \(cell.index) (\(cell.label)): \(message)"
                if !problems.contains(where: { $0.hasSuffix(message) }) { problems.append(line) }
            }
        }
        guard problems.isEmpty else { throw SweepProblems(lines: problems) }
    }
}

/// Several problems, one line each.
struct SweepProblems: Error {
    let lines: [String]
}

/// The files of a sweep folder.
enum SweepFolder {
    static func cellPath(_ dir: String, _ index: Int) -> String { joinPath(joinPath(dir, "cells"), String(format: "cell-%06d.json", index)) }

    /// A finished cell's record, if its file is there and whole.
    static func finished(_ dir: String, _ cell: SweepCell) -> JSON? {
        guard let data = FileManager.default.contents(atPath: cellPath(dir, cell.index)),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], obj["result"] != nil else { return nil }
        return try? JSON.parse(data)
    }

    static let resultColumns = ["status", "steps_completed", "vector_field_norm", "distance_to_equilibrium", "modes_captured",
                                "high_quality_fraction", "field_evaluations", "jacobian_vector_products",
                                "transpose_jacobian_vector_products", "root_iterations"]

    /// results.csv of these cell records (sorted by cell), byte-identical whoever computed them.
    static func resultsCSV(_ records: [JSON]) -> String {
        let sorted = records.sorted { index($0) < index($1) }
        var keys = Set<String>()
        for r in sorted { if case .object(let p)? = r["parameters"] { keys.formUnion(p.map(\.0)) } }
        let params = keys.sorted()
        var csv = (["cell"] + params + resultColumns + ["cost"]).joined(separator: ",") + "\n"
        for r in sorted {
            var row = [String(index(r))]
            for k in params { row.append(r["parameters"]?[k].map { csvField(SweepSpec.text($0)) } ?? "") }
            let result = r["result"]
            for c in resultColumns {
                let v = c == "steps_completed" ? result?["steps"] : (result?[c] ?? result?["stats"]?[c])
                row.append(v.map { csvValue($0) } ?? "")
            }
            var cost = 0
            for c in ["field_evaluations", "jacobian_vector_products", "transpose_jacobian_vector_products", "root_iterations"] {
                if case .int(let n)? = result?["stats"]?[c] { cost += n }
            }
            row.append(String(cost))
            csv += row.joined(separator: ",") + "\n"
        }
        return csv
    }

    static func index(_ r: JSON) -> Int { if case .int(let i)? = r["cell"] { return i }; return -1 }

    static func csvValue(_ v: JSON) -> String {
        switch v {
        case .number(let d): return csvNumber(d)
        case .null: return ""
        default: return csvField(SweepSpec.text(v))
        }
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

struct SweepRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a sweep spec's cells (the default).")

    @Argument(help: "The sweep spec (JSON).")
    var spec: String

    @Option(help: "Folder for the cells, results.csv and timings.csv (required).")
    var output: String

    @Option(parsing: .unconditional, help: "Cells run in parallel (default: the cores available).")
    var jobs: Int?

    @Option(help: "Run only shard i of N (1 ≤ i ≤ N): the cells whose index is i − 1 modulo N.")
    var shard: String?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws {
        let spec = try SweepSpec.load(self.spec)
        var (part, parts) = (1, 1)
        if let s = shard {
            let p = s.split(separator: "/")
            guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, (1...n).contains(i) else {
                throw GameFlowError.invalidInput("--shard must be i/N with 1 ≤ i ≤ N (got '\(s)')")
            }
            (part, parts) = (i, n)
        }
        let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        guard jobs >= 1 else { throw GameFlowError.invalidInput("--jobs must be at least 1 (got \(jobs))") }
        try validateOutputDirectory(output)
        try spec.validate()
        try createDirectory(output)
        try createDirectory(joinPath(output, "cells"))
        // The folder belongs to one spec: a re-run with another is refused.
        let specPath = joinPath(output, "spec.json")
        if let old = try? String(contentsOfFile: specPath, encoding: .utf8) {
            guard old == spec.canonical + "\n" else {
                throw GameFlowError.invalidInput("'\(output)' holds a sweep of another spec (its spec.json differs): give another --output")
            }
        } else {
            try write(spec.canonical + "\n", to: specPath)
        }
        let dir = self.output
        let mine = spec.cells.filter { $0.index % parts == part - 1 }
        let todo = mine.filter { SweepFolder.finished(dir, $0) == nil }
        let state = SweepProgress(total: mine.count, done: mine.count - todo.count, enabled: !quiet)
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(todo.count, 1))) { _ in
            while let k = next.take(below: todo.count) {
                let cell = todo[k]
                var record: [(String, JSON)] = [("cell", .int(cell.index)), ("parameters", .object(cell.parameters))]
                var secondsTaken = 0.0
                var failed = false
                do {
                    if cell.command == "train" {
                        let clock = ContinuousClock()
                        let begin = clock.now
                        let train = try Train.parse(cell.arguments + ["--quiet", "--no-eigenvalues"])
                        // Wall times go to timings.csv only: results stay identical for every --jobs.
                        let summary = try train.execute(resuming: nil, sweepCell: true)
                            .removing("seconds").removing("ms_per_step").removing("arguments").removing("commit")
                        record.append(("result", summary))
                        secondsTaken = seconds(clock.now - begin)
                        failed = summary["status"].map { SweepSpec.text($0) } == "failed"
                    } else if let (summary, s) = try Run.parse(cell.arguments).cell() {
                        record.append(("result", summary))
                        secondsTaken = s
                        failed = summary["status"].map { SweepSpec.text($0) } == "failed"
                    }
                } catch {
                    record.append(("result", .object([("status", .string("error")), ("reason", .string("\(error)"))])))
                    failed = true
                }
                record.append(("seconds", .number(secondsTaken)))
                do {
                    try write(JSON.object(record).serialized() + "\n", to: SweepFolder.cellPath(dir, cell.index))
                } catch {
                    state.report("gameflow: warning: \(error)")
                }
                state.finished(failed: failed)
            }
        }
        state.close()
        // results.csv and timings.csv of this folder's cells (for a shard, its own).
        let records = mine.compactMap { SweepFolder.finished(output, $0) }
        guard records.count == mine.count else {
            throw GameFlowError.invalidInput("\(mine.count - records.count) cells could not be written; run the sweep again to finish them")
        }
        try write(SweepFolder.resultsCSV(records), to: joinPath(output, "results.csv"))
        var timings = "cell,seconds\n"
        for r in records.sorted(by: { SweepFolder.index($0) < SweepFolder.index($1) }) {
            timings += "\(SweepFolder.index(r)),\(r["seconds"].map { SweepFolder.csvValue($0) } ?? "")\n"
        }
        try write(timings, to: joinPath(output, "timings.csv"))
        if !quiet { writeStandardError("sweep: \(mine.count) cells in \(output)/results.csv (\(state.failures) failed)\n") }
    }
}

struct SweepMerge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Merge the folders of a sweep's shards.")

    @Argument(help: "The shards' folders.")
    var folders: [String]

    @Option(help: "Folder for results.csv, results.json and the work–precision figures (required).")
    var output: String

    func run() throws {
        guard !folders.isEmpty else { throw GameFlowError.invalidInput("give the shards' folders") }
        var spec: String?
        var byIndex: [Int: JSON] = [:]
        for dir in folders {
            guard let s = try? String(contentsOfFile: joinPath(dir, "spec.json"), encoding: .utf8) else {
                throw GameFlowError.invalidInput("'\(dir)' is no sweep folder (no spec.json)")
            }
            if let other = spec, other != s { throw GameFlowError.invalidInput("'\(dir)' holds a sweep of another spec") }
            spec = s
            let files = (try? FileManager.default.contentsOfDirectory(atPath: joinPath(dir, "cells"))) ?? []
            for f in files where f.hasPrefix("cell-") && f.hasSuffix(".json") {
                guard let data = FileManager.default.contents(atPath: joinPath(joinPath(dir, "cells"), f)), let r = try? JSON.parse(data) else { continue }
                byIndex[SweepFolder.index(r)] = r
            }
        }
        let canonical = try JSON.parse(Data(spec!.utf8))
        var total = 0
        if case .array(let grids) = canonical {
            for g in grids {
                var n = 1
                if case .object(let axes) = g { for (_, v) in axes { if case .array(let vs) = v { n *= vs.count } } }
                total += n
            }
        }
        let missing = (0..<total).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw GameFlowError.invalidInput("\(missing.count) of \(total) cells are missing (first: cell \(missing[0])): run their shards to the end first")
        }
        try validateOutputDirectory(output)
        try createDirectory(output)
        let records = (0..<total).map { byIndex[$0]! }
        try write(SweepFolder.resultsCSV(records), to: joinPath(output, "results.csv"))
        try write(JSON.array(records.map { $0.removing("seconds") }).serialized(indent: 1) + "\n", to: joinPath(output, "results.json"))
        for (name, plot) in workPrecision(records) { try write(plot.svg(), to: joinPath(output, "work-precision-\(name).svg")) }
        print("merged \(total) cells into \(output)/results.csv, results.json and the work–precision figures")
    }

    /// Per game: final error (distance to equilibrium, else ‖v‖) against cost, one line per scheme.
    func workPrecision(_ records: [JSON]) -> [(String, Plot)] {
        var games: [String: [String: [(Double, Double)]]] = [:]
        for r in records {
            guard let result = r["result"], case .string(let game)? = result["game"], case .string(let scheme)? = result["scheme"] else { continue }
            var err: Double?
            if case .number(let d)? = result["distance_to_equilibrium"] { err = d }
            else if case .number(let v)? = result["vector_field_norm"] { err = v }
            var cost = 0
            for c in ["field_evaluations", "jacobian_vector_products", "transpose_jacobian_vector_products", "root_iterations"] {
                if case .int(let n)? = result["stats"]?[c] { cost += n }
            }
            if let e = err, e.isFinite, e > 0, cost > 0 { games[game, default: [:]][scheme, default: []].append((Double(cost), e)) }
        }
        return games.keys.sorted().map { game in
            var plot = Plot(title: "\(game): final error against cost", xLabel: "cost (evaluations + products + root iterations)",
                            yLabel: "final error (log)")
            plot.xScale = .log
            plot.yScale = .log
            for (k, scheme) in games[game]!.keys.sorted().enumerated() {
                let pts = games[game]![scheme]!.sorted { $0.0 < $1.0 }
                plot.add(scheme, .lineWithMarkers(pts, Figures.schemeStyle(scheme, index: k).marker), color: Figures.schemeStyle(scheme, index: k).color)
            }
            return (game, plot)
        }
    }
}

/// A shared counter handing out 0, 1, 2, … to worker threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take(below n: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < n else { return nil }
        defer { value += 1 }
        return value
    }
}

/// The sweep's progress line: cells done, failures and an ETA, at most once a second.
final class SweepProgress: @unchecked Sendable {
    private let lock = NSLock()
    let total: Int
    private var done: Int
    private let startDone: Int
    private(set) var failures = 0
    private let enabled: Bool
    private let start = ContinuousClock.now
    private var last = ContinuousClock.now
    private var printed = false

    init(total: Int, done: Int, enabled: Bool) {
        self.total = total
        self.done = done
        self.startDone = done
        self.enabled = enabled
    }

    func finished(failed: Bool) {
        lock.lock(); defer { lock.unlock() }
        done += 1
        if failed { failures += 1 }
        let now = ContinuousClock.now
        guard enabled, now - last >= .seconds(1) || done == total else { return }
        last = now
        printed = true
        let elapsed = seconds(now - start)
        let rate = Double(done - startDone) / max(elapsed, 1e-9)
        let eta = rate > 0 ? durationText(Double(total - done) / rate) : "?"
        writeStandardError("\rsweep: \(done)/\(total) cells, \(failures) failed, eta \(eta)   ")
    }

    func report(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        writeStandardError((printed ? "\n" : "") + line + "\n")
    }

    func close() {
        lock.lock(); defer { lock.unlock() }
        if printed { writeStandardError("\n") }
    }
}
