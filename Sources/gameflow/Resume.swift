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
                                             + storedArgumentsProblem(Train.self, error))
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

    var arguments: [String]
    var checkpoint: Checkpoint
    var trainingSeconds: Double

    /// The saved run's total steps when it had taken them all (a finished run), else nil.
    var finishedSteps: Int? {
        guard let i = arguments.firstIndex(of: "--steps"), i + 1 < arguments.count, let total = Int(arguments[i + 1]),
              total == checkpoint.stepsCompleted else { return nil }
        return total
    }

    /// The fields checkpoint.json adds to the library's checkpoint file: the run's settings and
    /// its training time so far.
    static func fields(arguments: [String], trainingSeconds: Double) -> [(String, JSON)] {
        [("arguments", .array(arguments.map { .string($0) })), ("training_seconds", .number(trainingSeconds))]
    }

    static func load(from directory: String) throws -> TrainingCheckpoint {
        let path = joinPath(directory, fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw GameFlowError.invalidInput("cannot read '\(path)' (is '\(directory)' the --output of a gameflow train run?)")
        }
        let (checkpoint, obj) = try CheckpointFile.load(path)
        func bad(_ why: String) -> GameFlowError { .invalidInput("'\(path)' is not a train checkpoint: \(why)") }
        guard let arguments = obj["arguments"] as? [String] else { throw bad("no 'arguments'") }
        if let i = arguments.firstIndex(of: "--steps"), i + 1 < arguments.count, let total = Int(arguments[i + 1]), checkpoint.stepsCompleted > total {
            throw bad("'steps_completed' is \(checkpoint.stepsCompleted), more than the run's --steps \(total)")
        }
        guard let secondsValue = obj["training_seconds"] as? NSNumber, secondsValue.doubleValue.isFinite, secondsValue.doubleValue >= 0 else {
            throw bad("'training_seconds' must be a finite number ≥ 0")
        }
        return TrainingCheckpoint(arguments: arguments, checkpoint: checkpoint, trainingSeconds: secondsValue.doubleValue)
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


