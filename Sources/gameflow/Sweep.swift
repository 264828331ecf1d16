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
        subcommands: [SweepRun.self, SweepMergeCommand.self],
        defaultSubcommand: SweepRun.self)
}

/// The keys a sweep sets itself (a cell's output, printing and recording).
let sweepReservedKeys: Set<String> = ["output", "json", "quiet"]

extension SweepCell {
    /// The command the cell runs: "run" (default) or "train" (the spec key "command").
    var command: String { text("command") ?? "run" }

    /// The command's arguments of this cell.
    var commandArguments: [String] { arguments(excluding: ["command"]) }

    /// The cell as its command sees it: a constant knob beside a list of schemes applies to the
    /// schemes that have it (as `compare` does), and relative file paths (`game-file`, `init`,
    /// `data` when it names a file) resolve against the spec's folder `base`.
    func prepared(base: String) -> SweepCell {
        var cell = self
        if axes.contains("scheme"), let scheme = text("scheme").flatMap(SchemeName.init(rawValue:)) {
            let foreign = SchemeOptions.knobOwners.filter { self[$0.key] != nil && !axes.contains($0.key) && !$0.owners.contains(scheme) }
            cell = cell.removing(Set(foreign.map(\.key)))
        }
        guard !base.isEmpty, base != "." else { return cell }
        for key in ["game-file", "init", "data", "config"] {
            guard case .string(let path)? = cell[key], !path.hasPrefix("/"), !path.isEmpty else { continue }
            if key == "data", (try? GaussianMixture.named(path)) != nil { continue }
            cell = cell.replacing(key, with: .string(joinPath(base, path)))
        }
        return cell
    }
}

/// Checks a cell as the command it names would (game, scheme, knobs, step), without running it.
func validateSweepCell(_ cell: SweepCell) throws {
    switch cell.command {
    case "run":
        // A run cell writes no folder, so its output schedule has nothing to schedule.
        guard cell["every"] == nil else { throw GameFlowError.invalidInput("'every' is set by the sweep itself for run cells (it applies to train cells' metrics)") }
        _ = try Run.parse(cell.commandArguments).cell(dryRun: true)
    case "train":
        let train = try Train.parse(cell.commandArguments)
        guard train.output == nil else { throw GameFlowError.invalidInput("a train cell writes no folder (no 'output')") }
        let c = try train.configuration()
        let game = try Train.makeGame(c)
        _ = try c.makeScheme(discriminator: game.discriminatorPlayer ?? 0)
        // Every file the cell names is read now, before any cell runs (a missing --init file
        // was once a row of status "error" after the others had run).
        if let path = c.initialState { _ = try readStateFile(path, dimension: game.dimension, networks: Train.networksJSON(game)) }
    default: throw GameFlowError.invalidInput("'command' must be run or train (got '\(cell.command)')")
    }
}

/// One line for a cell's problem; a key that is no flag of the command says so.
func sweepProblemText(_ error: Error) -> String {
    var message = storedArgumentsProblem(Run.self, error)
    if message.hasPrefix("Unknown option '--") {
        message = "unknown key '" + message.dropFirst("Unknown option '--".count).dropLast() + "' (keys are gameflow run's flag names)"
    }
    return message
}

/// Runs one cell as `gameflow run` or `gameflow train` would; wall times go to timings.csv
/// only, so results stay identical for every --jobs. A train cell with a `folder` writes its
/// run folder there (metrics.csv, metrics.svg, samples, state: what `gameflow plot` reads); a
/// folder left by a killed cell is replaced, since the cell runs again from its start.
func runSweepCell(_ cell: SweepCell, folder: String? = nil) throws -> SweepOutcome {
    if cell.command == "train" {
        let clock = ContinuousClock()
        let begin = clock.now
        var output: [String] = []
        if let folder {
            if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
            output = ["--output", folder, "--checkpoint-seconds", "1e9"]
        }
        let train = try Train.parse(cell.commandArguments + ["--quiet", "--no-eigenvalues"] + output)
        let summary = try train.execute(resuming: nil, sweepCell: true)
            .removing("seconds").removing("ms_per_step").removing("arguments").removing("commit")
        return SweepOutcome(result: summary, seconds: seconds(clock.now - begin))
    }
    let (summary, s) = try Run.parse(cell.commandArguments).cell()!
    return SweepOutcome(result: summary, seconds: s)
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
        var engine = SweepEngine(spec: try SweepSpec.load(spec, reservedKeys: sweepReservedKeys), output: output)
        if let s = shard { engine.shard = try SweepEngine.parseShard(s) }
        if let j = jobs { engine.jobs = j }
        guard engine.jobs >= 1 else { throw GameFlowError.invalidInput("--jobs must be at least 1 (got \(engine.jobs))") }
        engine.progress = !quiet
        try validateOutputDirectory(output, createsParents: false)
        let base = parentPath(spec)
        try engine.validate({ try validateSweepCell($0.prepared(base: base)) }, message: sweepProblemText)
        let cells = joinPath(output, "cells")
        let records = try engine.run { cell in
            try runSweepCell(cell.prepared(base: base), folder: joinPath(cells, String(format: "cell-%06d", cell.index)))
        }
        // An unsharded sweep has every cell: its figures are written beside results.csv.
        if shard == nil {
            for (name, text) in SweepMerge.figures(records) { try writeAtomically(text, to: joinPath(output, name)) }
        }
    }
}

struct SweepMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Merge the folders of a sweep's shards.")

    @Argument(help: "The shards' folders.")
    var folders: [String]

    @Option(help: "Folder for results.csv, results.json, the work–precision figures and the stable-region heatmaps (required).")
    var output: String

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func run() throws {
        let files = try SweepMerge.write(folders: folders, output: output)
        if !quiet { print("merged into \(output)/: " + files.joined(separator: ", ")) }
    }
}
