import ArgumentParser
import Foundation
import GameFlow
import Synchronization

/// `gameflow resume DIR`: continues the `train` run saved in DIR/checkpoint.json.
struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a `gameflow train --output DIR` run from DIR/checkpoint.json, bit for bit.",
        discussion: """
            train writes checkpoint.json at the start, on metrics steps (at most every 10 s), at
            the end and on Ctrl-C (then it exits with status 130). resume re-creates the run from
            the settings saved there and continues it into the same directory: the steps that
            follow are bit-identical to an uninterrupted run's, and metrics.csv keeps its rows
            before the checkpoint. --steps sets a new total (to extend a finished run).
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
            if let i = arguments.firstIndex(of: "--steps"), i + 1 < arguments.count { arguments.removeSubrange(i...(i + 1)) }
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
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GameFlowError.invalidInput("cannot read '\(path)' (is '\(directory)' the --output of a gameflow train run?)")
        }
        func bad(_ why: String) -> GameFlowError { .invalidInput("'\(path)' is not a train checkpoint: \(why)") }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw bad("malformed JSON") }
        guard obj["format"] as? String == format else { throw bad("format is not \(format)") }
        guard let arguments = obj["arguments"] as? [String] else { throw bad("no 'arguments'") }
        guard let steps = (obj["steps_completed"] as? NSNumber)?.intValue, steps >= 0 else { throw bad("no 'steps_completed'") }
        func numbers(_ key: String) throws -> [Double] {
            guard let a = obj[key] as? [Any] else { throw bad("no '\(key)'") }
            do { return a.isEmpty ? [] : try GameFile.vector([key: a], key) } catch { throw bad("\(error)") }
        }
        let stats = (obj["stats"] as? [String: Any]).map(Stats.init(jsonObject:)) ?? Stats()
        let seconds = (obj["training_seconds"] as? NSNumber)?.doubleValue ?? 0
        return TrainingCheckpoint(arguments: arguments,
                                  checkpoint: Checkpoint(state: try numbers("state"), stepsCompleted: steps, stats: stats,
                                                         carried: try numbers("carried")),
                                  trainingSeconds: seconds)
    }
}

/// SIGINT during a training run: the loop finishes its step, saves a checkpoint and exits
/// with status 130. A second Ctrl-C ends the process at once (the default action).
enum Interrupt {
    private static let flag = Atomic<Bool>(false)

    static var requested: Bool { flag.load(ordering: .relaxed) }

    static func install() {
        signal(SIGINT) { _ in
            Interrupt.flag.store(true, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)
        }
    }
}
