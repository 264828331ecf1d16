import ArgumentParser
import Foundation
import GameFlow
import Synchronization

/// `gameflow resume DIR`: continues the `train` run saved in DIR/checkpoint.json.
struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a `gameflow train --output DIR` run from DIR/checkpoint.json, bit for bit.",
        discussion: """
            train writes checkpoint.json at the start, every --checkpoint-seconds
            (default 10) of wall time, at the end and on Ctrl-C, SIGTERM or SIGHUP
            (then it exits with status 130). resume re-creates the run from the
            settings saved there and continues it into the same directory: the
            steps that follow are bit-identical to an uninterrupted run's, and
            metrics.csv keeps its rows before the checkpoint. --steps sets a new
            total (to extend a finished run).
              gameflow resume out/
              gameflow resume out/ --steps 60000
            """)

    @Argument(help: "The output directory of the run.")
    var directory: String

    @Option(help: "New total number of steps (default: the run's).")
    var steps: Int?

    @Flag(help: "Print one JSON summary object on stdout.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() throws {
        let saved = try TrainingCheckpoint.load(from: directory)
        var arguments = saved.arguments
        if let steps {
            let done = saved.checkpoint.stepsCompleted
            guard steps >= done else {
                throw GameFlowError.invalidInput("--steps \(steps) is fewer than the \(done) steps the run in '\(directory)' has done (a resume only continues or extends a run)")
            }
            if let i = arguments.firstIndex(of: "--steps"), i + 1 < arguments.count {
                // The metrics schedule stays the original run's (its default depends on --steps).
                if !arguments.contains("--every"), let old = Int(arguments[i + 1]) {
                    arguments += ["--every", "\(max(1, old / 100))"]
                }
                arguments.removeSubrange(i...(i + 1))
            }
            arguments += ["--steps", "\(steps)"]
        }
        var train: Train
        do {
            train = try Train.parse(arguments)
        } catch {
            throw GameFlowError.invalidInput("\(TrainingCheckpoint.fileName) in '\(directory)' has settings train refuses: "
                                             + Train.message(for: error))
        }
        train.output = directory
        train.json = json
        train.quiet = quiet
        try train.execute(resuming: saved)
    }
}

/// What checkpoint.json holds: the run's `train` settings, the integrator's checkpoint and the
/// training time so far.
struct TrainingCheckpoint {
    static let fileName = "checkpoint.json"
    static let format = "gameflow-train-checkpoint-1"

    var arguments: [String]
    var checkpoint: Checkpoint
    var trainingSeconds: Double

    /// The saved run's total steps when it had taken them all (a finished run), else nil.
    var finishedSteps: Int? {
        guard let i = arguments.firstIndex(of: "--steps"), i + 1 < arguments.count, let total = Int(arguments[i + 1]),
              total == checkpoint.stepsCompleted else { return nil }
        return total
    }

    var json: JSON {
        .object([
            ("format", .string(Self.format)),
            ("arguments", .array(arguments.map { .string($0) })),
            ("steps_completed", .int(checkpoint.stepsCompleted)),
            ("training_seconds", .number(trainingSeconds)),
            ("stats", checkpoint.stats.json),
            ("state", .numbers(checkpoint.state)),
            ("carried", .numbers(checkpoint.carried)),
        ])
    }

    static func load(from directory: String) throws -> TrainingCheckpoint {
        let path = joinPath(directory, fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GameFlowError.invalidInput("cannot read '\(path)' (is '\(directory)' the --output of a gameflow train run?)")
        }
        func bad(_ why: String) -> GameFlowError { .invalidInput("'\(path)' is not a train checkpoint: \(why)") }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw bad("malformed JSON") }
        if let key = firstDuplicateJSONKey(in: data) { throw bad("key '\(key)' appears twice in one object") }
        guard obj["format"] as? String == format else { throw bad("format is not \(format)") }
        guard let arguments = obj["arguments"] as? [String] else { throw bad("no 'arguments'") }
        /// A whole number in 0…limit, the field named when it is not one.
        func count(_ value: Any?, _ name: String, limit: Int = SolveOptions.maxStepsLimit) throws -> Int {
            guard let n = value as? NSNumber else { throw bad("'\(name)' is missing or not a number") }
            let d = n.doubleValue
            guard d.isFinite, d == d.rounded(), d >= 0, d <= Double(limit), let i = Int(exactly: d) else {
                throw bad("'\(name)' must be a whole number from 0 to \(limit) (got \(n))")
            }
            return i
        }
        func numbers(_ key: String) throws -> [Double] {
            guard let a = obj[key] as? [Any] else { throw bad("no '\(key)'") }
            do { return a.isEmpty ? [] : try GameFile.vector([key: a], key) } catch { throw bad("\(error)") }
        }
        let steps = try count(obj["steps_completed"], "steps_completed")
        if let i = arguments.firstIndex(of: "--steps"), i + 1 < arguments.count, let total = Int(arguments[i + 1]), steps > total {
            throw bad("'steps_completed' is \(steps), more than the run's --steps \(total)")
        }
        var stats = Stats()
        if let given = obj["stats"] {
            guard let st = given as? [String: Any] else { throw bad("'stats' is not an object") }
            for (key, path) in Stats.jsonKeys where st[key] != nil {
                stats[keyPath: path] = try count(st[key], "stats.\(key)", limit: Int.max / 4)
            }
        }
        guard let secondsValue = obj["training_seconds"] as? NSNumber, secondsValue.doubleValue.isFinite, secondsValue.doubleValue >= 0 else {
            throw bad("'training_seconds' must be a finite number ≥ 0")
        }
        let seconds = secondsValue.doubleValue
        return TrainingCheckpoint(arguments: arguments,
                                  checkpoint: Checkpoint(state: try numbers("state"), stepsCompleted: steps, stats: stats,
                                                         carried: try numbers("carried")),
                                  trainingSeconds: seconds)
    }
}

/// SIGINT, SIGTERM or SIGHUP during a training run: the loop finishes its step, saves a
/// checkpoint and exits with status 130. A second signal of the same kind ends the process at
/// once (the default action).
enum Interrupt {
    private static let flag = Atomic<Int32>(0)

    static var requested: Bool { flag.load(ordering: .relaxed) != 0 }

    /// "SIGINT", "SIGTERM" or "SIGHUP": the signal that stopped the run.
    static var signalName: String {
        switch flag.load(ordering: .relaxed) {
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "SIGINT"
        }
    }

    /// Back to the default actions (after the training loop: a signal during the end-of-run
    /// figure ends the process; the run's files are complete by then).
    static func uninstall() {
        for s in [SIGINT, SIGTERM, SIGHUP] { signal(s, SIG_DFL) }
    }

    static func install() {
        for s in [SIGINT, SIGTERM, SIGHUP] {
            signal(s) { received in
                Interrupt.flag.store(received, ordering: .relaxed)
                signal(received, SIG_DFL)
            }
        }
    }
}

/// Appends one or more complete rows to a streamed CSV: all of them or, when the write fails
/// (a full disk, a file-size limit), none — the file is cut back to its last complete row and the
/// error names the file.
func appendRow(_ text: String, to handle: FileHandle, path: String) throws {
    let before = handle.offsetInFile
    do {
        try handle.write(contentsOf: Data(text.utf8))
    } catch {
        try? handle.truncate(atOffset: before)
        throw GameFlowError.invalidInput("cannot write '\(path)': \(errorText(error))")
    }
}

/// The system's reason for a failed file operation, one line.
func errorText(_ error: Error) -> String {
    if let e = error as? CocoaError, let u = e.underlying as? POSIXError { return String(cString: strerror(u.code.rawValue)) }
    if let e = error as? POSIXError { return String(cString: strerror(e.code.rawValue)) }
    return error.localizedDescription
}
