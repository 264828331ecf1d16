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
        var (train, c) = try saved.train(directory: directory)
        if let steps {
            let done = saved.checkpoint.stepsCompleted
            guard steps >= done else {
                throw GameFlowError.invalidInput("--steps \(steps) is fewer than the \(done) steps the run in '\(directory)' has done (a resume only continues or extends a run)")
            }
            // The metrics schedule stays the original run's (its default depends on the steps).
            if c.metricsEvery == nil { c.metricsEvery = max(1, c.steps / 100) }
            c.steps = steps
        }
        // A finished run (its last step checkpointed and its summary written) has nothing left:
        // nothing is recomputed, nothing rewritten.
        let done = saved.checkpoint.stepsCompleted
        let summary = joinPath(directory, "summary.json")
        if done >= c.steps && FileManager.default.fileExists(atPath: summary) {
            if json {
                print((try? String(contentsOfFile: summary, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "{}")
            } else {
                print("'\(directory)' is complete (\(done) of \(c.steps) steps): nothing to do; give --steps N to extend it")
            }
            return
        }
        train.output = directory
        train.json = json
        train.quiet = quiet
        try train.execute(resuming: saved, configuration: c)
    }
}

/// What checkpoint.json holds: the run's `train` settings, the integrator's checkpoint and the
/// training time so far.
struct TrainingCheckpoint {
    static let fileName = "checkpoint.json"

    /// The command's arguments (kept for readers; checkpoints before the configuration existed
    /// are resumed from them).
    var arguments: [String]
    /// The run's configuration (nil in checkpoints written before it existed).
    var configuration: GANTrainingConfiguration?
    var checkpoint: Checkpoint
    var trainingSeconds: Double

    /// The run's total steps: the configuration's, else the stored --steps.
    var totalSteps: Int? {
        if let c = configuration { return c.steps }
        guard let i = arguments.firstIndex(of: "--steps"), i + 1 < arguments.count else { return nil }
        return Int(arguments[i + 1])
    }

    /// The saved run's total steps when it had taken them all (a finished run), else nil.
    var finishedSteps: Int? {
        guard let total = totalSteps, total == checkpoint.stepsCompleted else { return nil }
        return total
    }

    /// The run as `train` rebuilds it: from the configuration, else (an older checkpoint) from
    /// its stored arguments.
    func train(directory: String) throws -> (Train, GANTrainingConfiguration) {
        var train: Train
        do {
            train = try Train.parse(configuration == nil ? arguments : [])
        } catch {
            throw GameFlowError.invalidInput("\(Self.fileName) in '\(directory)' has settings train refuses: " + storedArgumentsProblem(Train.self, error))
        }
        let c = try configuration ?? train.configuration()
        return (train, c)
    }

    /// The fields checkpoint.json adds to the library's checkpoint file: the run's settings and
    /// its training time so far.
    static func fields(arguments: [String], configuration: JSON, trainingSeconds: Double) -> [(String, JSON)] {
        [("arguments", .array(arguments.map { .string($0) })), ("configuration", configuration), ("training_seconds", .number(trainingSeconds))]
    }

    static func load(from directory: String) throws -> TrainingCheckpoint {
        let path = joinPath(directory, fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw GameFlowError.invalidInput("cannot read '\(path)' (is '\(directory)' the --output of a gameflow train run?)")
        }
        let (checkpoint, obj) = try CheckpointFile.load(path)
        func bad(_ why: String) -> GameFlowError { .invalidInput("'\(path)' is not a train checkpoint: \(why)") }
        guard let arguments = obj["arguments"] as? [String] else { throw bad("no 'arguments'") }
        var configuration: GANTrainingConfiguration?
        if let raw = obj["configuration"] {
            guard JSONSerialization.isValidJSONObject(raw), let data = try? JSONSerialization.data(withJSONObject: raw),
                  let json = try? JSON.parse(data) else { throw bad("'configuration' is not an object") }
            configuration = try GANTrainingConfiguration.decode(json, source: path)
        }
        guard let secondsValue = obj["training_seconds"] as? NSNumber, secondsValue.doubleValue.isFinite, secondsValue.doubleValue >= 0 else {
            throw bad("'training_seconds' must be a finite number ≥ 0")
        }
        let saved = TrainingCheckpoint(arguments: arguments, configuration: configuration, checkpoint: checkpoint, trainingSeconds: secondsValue.doubleValue)
        if let total = saved.totalSteps, checkpoint.stepsCompleted > total {
            throw bad("'steps_completed' is \(checkpoint.stepsCompleted), more than the run's steps \(total)")
        }
        return saved
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

    /// During the end-of-run figures: a signal says the run is complete and exits 130 at once
    /// (the figures are extras; summary.json, state.json and checkpoint.json are written).
    static func installForFigures() {
        for s in [SIGINT, SIGTERM, SIGHUP] {
            signal(s) { received in
                let text = "\ngameflow: interrupted during the end-of-run figures; the run itself is complete (state.json, summary.json, checkpoint.json)\n"
                var bytes = Array(text.utf8)
                _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
                _exit(128 + received)
            }
        }
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


