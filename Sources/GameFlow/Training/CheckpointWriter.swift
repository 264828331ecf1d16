import Foundation

/// A `RunObserver` that writes the run's `CheckpointFile` atomically at `path`: at the start
/// (unless `atStart` is false), once at least `interval` seconds of wall time have passed since
/// the last write, and at the last event (the end of the run, or a stop — a signal's included).
/// A resumed run continues from the file bit for bit.
///
/// Faults never end the run: a failed write (a full disk, a removed folder) is reported once
/// through `report`, training goes on, and the next checkpoint tries again (and says when it
/// succeeds); if the last one cannot be written into place it is saved in `$TMPDIR` (else the
/// current directory) instead, and `report` says where.
public final class CheckpointWriter: RunObserver {
    /// Where the checkpoint file goes.
    public let path: String
    /// Seconds of wall time between writes at most.
    public let interval: Double
    /// Whether to write at the start too.
    public let atStart: Bool
    /// The caller's fields of each file (e.g. the run's settings, its training time).
    public let fields: (RunEvent) -> [(String, JSON)]
    /// Receives one line per fault and recovery ("warning: …", "error: …", or a note).
    public let report: (String) -> Void
    /// The last write's error, while writes fail (nil once one succeeds).
    public private(set) var failure: String?
    /// Where the last checkpoint went when it could not go to `path` (nil otherwise).
    public private(set) var rescuedPath: String?
    private let schedule: EveryNSeconds

    /// A writer of `path` at least every `interval` seconds, at the start (`atStart`) and at the end.
    public init(path: String, every interval: Double, atStart: Bool = true, fields: @escaping (RunEvent) -> [(String, JSON)] = { _ in [] },
                report: @escaping (String) -> Void = { writeStandardError("gameflow: \($0)\n") }) {
        self.path = path
        self.interval = interval
        self.atStart = atStart
        self.fields = fields
        self.report = report
        self.schedule = EveryNSeconds(interval, atStart: atStart) { _, _ in }
    }

    public func observe(_ event: RunEvent, checkpoint: () -> Checkpoint) throws {
        guard schedule.isDue(event) else { return }
        write(CheckpointFile(checkpoint(), fields: fields(event)), final: event.isLast && event.kind == .step)
    }

    private func write(_ file: CheckpointFile, final: Bool) {
        let step = file.checkpoint.stepsCompleted
        do {
            try file.write(to: path)
            if failure != nil {
                report("checkpoint written again at step \(step)")
                failure = nil
            }
        } catch {
            if failure == nil || final {
                report("warning: \(error) at step \(step)" + (final ? "" : "; training goes on and tries again"))
            }
            failure = "\(error)"
            if final { rescue(file) }
        }
    }

    /// The last checkpoint could not be written into place: put it where it can be.
    private func rescue(_ file: CheckpointFile) {
        let name = (path as NSString).lastPathComponent
        for base in [ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp", FileManager.default.currentDirectoryPath] {
            let target = joinPath(base, "gameflow-rescued-checkpoint-\(getpid()).json")
            if (try? file.write(to: target)) != nil {
                rescuedPath = target
                report("the run's checkpoint was saved to '\(target)' instead; copy it to \(name) in the run folder to resume")
                return
            }
        }
        report("error: the final checkpoint could not be saved anywhere")
    }
}
