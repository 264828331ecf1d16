import Foundation

/// Writes a run's `Recording` to a CSV file as the run goes (`gameflow run`'s trajectory.csv):
/// the header when made, the new records every `every` steps and at the last event, so an
/// interrupted long run keeps what it computed. `flush` writes what is left (the final record a
/// run's summary adds).
public final class RecordingCSVWriter: RunObserver {
    /// The file written.
    public let path: String
    /// Steps between writes.
    public let every: Int
    private let handle: FileHandle
    private var written = 0

    /// Creates (or empties) `path` and writes `recording`'s CSV header.
    /// - Throws: when the file cannot be written.
    public init(path: String, header recording: Recording, every: Int = 256) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(recording.csvHeader().utf8)),
              let h = FileHandle(forWritingAtPath: path) else { throw GameFlowError.invalidInput("cannot write '\(path)'") }
        h.seekToEndOfFile()
        self.path = path
        self.every = max(1, every)
        self.handle = h
    }

    deinit { try? handle.close() }

    public func observe(_ event: RunEvent, checkpoint: () -> Checkpoint) throws {
        guard event.isLast || event.step % every == 0, let r = event.recording else { return }
        try flush(r)
    }

    /// Appends the records not yet written.
    public func flush(_ recording: Recording) throws {
        guard recording.count > written else { return }
        try appendRow(recording.csvRows(written..<recording.count), to: handle, path: path)
        written = recording.count
    }
}
