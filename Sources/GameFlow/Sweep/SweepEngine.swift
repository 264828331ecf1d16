import Foundation

/// What running one cell gave: its result (a JSON object; its `"status"` is reported), the wall
/// time it took (to `timings.csv` only, so results stay identical for every `--jobs`), and
/// whether it failed.
public struct SweepOutcome: Sendable {
    /// The cell's result record.
    public var result: JSON
    /// Wall time of the cell, in seconds.
    public var seconds: Double
    /// Whether the cell counts as failed in the progress line.
    public var failed: Bool

    /// An outcome; `failed` defaults to the result's status being "failed" or "error".
    public init(result: JSON, seconds: Double, failed: Bool? = nil) {
        self.result = result
        self.seconds = seconds
        self.failed = failed ?? ["failed", "error"].contains(result["status"].map(SweepSpec.text) ?? "")
    }
}

/// Runs a spec's cells: in parallel on `jobs` threads, one shard of them, each result written
/// atomically as its own file `cells/cell-N.json` in the output folder (a killed sweep loses
/// at most the cells in flight; a re-run skips the finished ones), then `results.csv` and
/// `timings.csv`. The cell itself is the caller's: `gameflow sweep` runs `run`/`train`
/// cells, `gameflow-bench suite` its comparison cells, a Swift program whatever it likes.
///
/// ```swift
/// let spec = try SweepSpec(grids: [[("scheme", .array([.string("simga"), .string("rk4")])),
///                                   ("step", .array([.number(0.01), .number(0.1)]))]])
/// var engine = SweepEngine(spec: spec, output: "out/sweep")
/// let records = try engine.run { cell in SweepOutcome(result: ..., seconds: 0) }
/// ```
public struct SweepEngine {
    /// The spec whose cells run.
    public let spec: SweepSpec
    /// The folder for `spec.json`, `cells/`, `results.csv` and `timings.csv`; nil runs in
    /// memory (nothing written, nothing resumed).
    public var output: String?
    /// Cells run at once (default: the cores available).
    public var jobs: Int
    /// Run only shard `shard.index` of `shard.count` (1-based): the cells whose index is
    /// `shard.index − 1` modulo `shard.count`.
    public var shard: (index: Int, count: Int) = (1, 1)
    /// Print the progress line (cells done, failures, ETA) on stderr.
    public var progress = true
    /// The `results.csv` of the records (nil: none written; the caller writes its own tables).
    public var resultsTable: (([JSON]) -> String)? = SweepTable.csv

    /// An engine for `spec`, writing into `output` (nil: in memory).
    public init(spec: SweepSpec, output: String?, jobs: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.spec = spec
        self.output = output
        self.jobs = jobs
    }

    /// Parses "i/N" (1 ≤ i ≤ N) as a shard.
    public static func parseShard(_ s: String) throws -> (index: Int, count: Int) {
        let p = s.split(separator: "/")
        guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, (1...n).contains(i) else {
            throw GameFlowError.invalidInput("--shard must be i/N with 1 ≤ i ≤ N (got '\(s)')")
        }
        return (i, n)
    }

    /// The cells of this shard.
    public var shardCells: [SweepCell] { spec.cells.filter { $0.index % shard.count == shard.index - 1 } }

    /// Checks every cell with `check` before any runs: throws `SweepProblems` with one line per
    /// distinct problem ("cell N (key=value, …): message").
    public func validate(_ check: (SweepCell) throws -> Void, message: (Error) -> String = { "\($0)" }) throws {
        var problems: [String] = []
        for cell in spec.cells {
            do { try check(cell) } catch {
                let text = message(error)
                if !problems.contains(where: { $0.hasSuffix(text) }) { problems.append("cell \(cell.index) (\(cell.label)): \(text)") }
            }
        }
        guard problems.isEmpty else { throw SweepProblems(lines: problems) }
    }

    /// Runs this shard's unfinished cells with `body` (called from `jobs` threads at once; an
    /// error it throws becomes the cell's `{"status": "error", "reason": …}`), then writes the
    /// tables. Returns the shard's records, sorted by cell: `{"cell", "parameters", "result",
    /// "seconds"}`.
    @discardableResult
    public func run(_ body: @Sendable (SweepCell) throws -> SweepOutcome) throws -> [JSON] {
        guard jobs >= 1 else { throw GameFlowError.invalidInput("--jobs must be at least 1 (got \(jobs))") }
        // The folder's lock is held while the sweep runs (a library program may run it again).
        var lock: Int32 = -1
        defer { if lock >= 0 { close(lock) } }
        if let dir = output {
            try validateOutputDirectory(dir)
            lock = try createOutputDirectory(dir)
            try FileManager.default.createDirectory(atPath: joinPath(dir, "cells"), withIntermediateDirectories: true)
            // What a killed cell left half-written (its rename never happened) goes; the cell runs again.
            removeTemporaries(in: joinPath(dir, "cells"))
            // The folder belongs to one spec: a re-run with another is refused.
            let specPath = joinPath(dir, "spec.json")
            if let old = try? String(contentsOfFile: specPath, encoding: .utf8) {
                guard old == spec.canonical + "\n" else {
                    throw GameFlowError.invalidInput("'\(dir)' holds a sweep of another spec (its spec.json differs): give another --output")
                }
            } else {
                try writeAtomically(spec.canonical + "\n", to: specPath)
            }
        }
        let mine = shardCells
        var done: [Int: JSON] = [:]
        if let dir = output { for c in mine { if let r = SweepFolder.finished(dir, c) { done[c.index] = r } } }
        let todo = mine.filter { done[$0.index] == nil }
        let state = SweepProgress(total: mine.count, done: mine.count - todo.count, enabled: progress)
        let next = SweepCounter()
        let fresh = SweepRecords()
        let output = self.output
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(todo.count, 1))) { _ in
            while let k = next.take(below: todo.count) {
                let cell = todo[k]
                var outcome: SweepOutcome
                do { outcome = try body(cell) } catch {
                    outcome = SweepOutcome(result: .object([("status", .string("error")), ("reason", .string("\(error)"))]), seconds: 0, failed: true)
                }
                let record = JSON.object([("cell", .int(cell.index)), ("parameters", .object(cell.parameters)),
                                          ("result", outcome.result), ("seconds", .number(outcome.seconds))])
                if let dir = output {
                    do { try writeAtomically(record.serialized() + "\n", to: SweepFolder.cellPath(dir, cell.index)) } catch {
                        state.report("gameflow: warning: \(error)")
                    }
                }
                // The record as a re-run reads it back from its file, so the tables are the same
                // whether a cell ran now or before.
                fresh.put(cell.index, (try? JSON.parse(Data((record.serialized() + "\n").utf8))) ?? record)
                state.finished(failed: outcome.failed)
            }
        }
        state.close()
        var records = done
        for (i, r) in fresh.all { records[i] = r }
        if let dir = output {
            // What is on disk counts: a cell whose file could not be written runs again next time.
            let written = mine.compactMap { SweepFolder.finished(dir, $0) }
            guard written.count == mine.count else {
                throw GameFlowError.invalidInput("\(mine.count - written.count) cells could not be written; run the sweep again to finish them")
            }
            if let table = resultsTable { try writeAtomically(table(written), to: joinPath(dir, "results.csv")) }
            try writeAtomically(SweepTable.timings(written), to: joinPath(dir, "timings.csv"))
            if progress { writeStandardError("sweep: \(mine.count) cells in \(dir)\(resultsTable == nil ? "" : "/results.csv") (\(state.failures) failed)\n") }
            return written
        }
        return mine.compactMap { records[$0.index] }
    }
}

/// The files of a sweep folder.
public enum SweepFolder {
    /// `dir/cells/cell-NNNNNN.json`.
    public static func cellPath(_ dir: String, _ index: Int) -> String {
        joinPath(joinPath(dir, "cells"), String(format: "cell-%06d.json", index))
    }

    /// A finished cell's record, if its file is there and whole.
    public static func finished(_ dir: String, _ cell: SweepCell) -> JSON? {
        guard let data = FileManager.default.contents(atPath: cellPath(dir, cell.index)),
              let r = try? JSON.parse(data), r["result"] != nil, index(r) == cell.index else { return nil }
        return r
    }

    /// A record's cell index (−1 if it has none).
    public static func index(_ r: JSON) -> Int { if case .int(let i)? = r["cell"] { return i }; return -1 }

    /// The records of the sweep in `folders` (its shards' folders), one per cell, sorted; throws
    /// when the folders hold different specs or cells are missing.
    public static func merged(_ folders: [String]) throws -> (spec: String, records: [JSON]) {
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
                guard let data = FileManager.default.contents(atPath: joinPath(joinPath(dir, "cells"), f)), let r = try? JSON.parse(data),
                      r["result"] != nil else { continue }
                byIndex[index(r)] = r
            }
        }
        // The spec says how many cells there are: a damaged spec.json (empty, cut short, not a
        // list of grids) is refused, not merged into a header-only table.
        var total = 0
        guard case .array(let grids)? = try? JSON.parse(Data(spec!.utf8)), !grids.isEmpty else {
            throw GameFlowError.invalidInput("'\(joinPath(folders[0], "spec.json"))' is damaged (not a sweep spec): run that shard again")
        }
        for g in grids {
            guard case .object(let axes) = g, !axes.isEmpty else {
                throw GameFlowError.invalidInput("'\(joinPath(folders[0], "spec.json"))' is damaged (a grid is not an object of axes): run that shard again")
            }
            var n = 1
            for (_, v) in axes { if case .array(let vs) = v { n *= vs.count } }
            total += n
        }
        let missing = (0..<total).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw GameFlowError.invalidInput("\(missing.count) of \(total) cells are missing (first: cell \(missing[0])): run their shards to the end first")
        }
        return (spec!, (0..<total).map { byIndex[$0]! })
    }
}

/// The tables of a sweep's records.
public enum SweepTable {
    /// The result columns of `results.csv` (a `run` cell's summary fields, or its `stats`).
    public static let resultColumns = ["status", "steps_completed", "vector_field_norm", "distance_to_equilibrium", "modes_captured",
                                       "high_quality_fraction", "field_evaluations", "jacobian_vector_products",
                                       "transpose_jacobian_vector_products", "root_iterations"]

    /// The cost of a result: field evaluations + products + root iterations.
    public static func cost(_ result: JSON?) -> Int {
        var cost = 0
        for c in ["field_evaluations", "jacobian_vector_products", "transpose_jacobian_vector_products", "root_iterations"] {
            if case .int(let n)? = result?["stats"]?[c] { cost += n }
        }
        return cost
    }

    /// results.csv of these records (sorted by cell): the cell, every parameter key, the
    /// result columns and the cost; byte-identical whoever computed them.
    public static func csv(_ records: [JSON]) -> String {
        let sorted = records.sorted { SweepFolder.index($0) < SweepFolder.index($1) }
        var keys = Set<String>()
        for r in sorted { if case .object(let p)? = r["parameters"] { keys.formUnion(p.map(\.0)) } }
        let params = keys.sorted()
        // `stable`: the heatmap's verdict per run (converged, or completed with its error not
        // grown), empty for an error record.
        var csv = (["cell"] + params + resultColumns + ["cost", "stable"]).joined(separator: ",") + "\n"
        for r in sorted {
            var row = [String(SweepFolder.index(r))]
            for k in params { row.append(r["parameters"]?[k].map { field(SweepSpec.text($0)) } ?? "") }
            let result = r["result"]
            for c in resultColumns {
                let v = c == "steps_completed" ? result?["steps"] : (result?[c] ?? result?["stats"]?[c])
                row.append(v.map { value($0) } ?? "")
            }
            row.append(String(cost(result)))
            row.append(result.flatMap(SweepMerge.isStable).map { $0 ? "true" : "false" } ?? "")
            csv += row.joined(separator: ",") + "\n"
        }
        return csv
    }

    /// timings.csv: each cell's wall time (the one file allowed to differ between runs).
    public static func timings(_ records: [JSON]) -> String {
        var out = "cell,seconds\n"
        for r in records.sorted(by: { SweepFolder.index($0) < SweepFolder.index($1) }) {
            out += "\(SweepFolder.index(r)),\(r["seconds"].map { value($0) } ?? "")\n"
        }
        return out
    }

    /// A CSV field of a JSON value.
    public static func value(_ v: JSON) -> String {
        switch v {
        case .number(let d): return csvNumber(d)
        case .null: return ""
        default: return field(SweepSpec.text(v))
        }
    }

    /// A CSV field, quoted when it holds a comma or a quote.
    public static func field(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// Hands out 0, 1, 2, … to worker threads.
final class SweepCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take(below n: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < n else { return nil }
        defer { value += 1 }
        return value
    }
}

/// Records computed by the worker threads.
final class SweepRecords: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [Int: JSON] = [:]
    func put(_ i: Int, _ r: JSON) { lock.lock(); records[i] = r; lock.unlock() }
    var all: [Int: JSON] { lock.lock(); defer { lock.unlock() }; return records }
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
