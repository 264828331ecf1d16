import Foundation

/// A `Checkpoint` on disk: a JSON object with its format tag, the steps completed, the work
/// counters, the state, what the scheme carries and (under error control) `step_control`, the
/// controller's next step, time and last step, plus fields of the caller's (`gameflow
/// train` keeps its settings and training time there). Numbers are written in their shortest
/// round-trip form, so a run resumed from the file continues bit for bit. Written atomically:
/// a kill leaves the previous file or the new one, never half of one.
///
/// ```swift
/// let saver = EveryNSeconds(10) { _, checkpoint in try CheckpointFile(checkpoint()).write(to: "run/checkpoint.json") }
/// // … later, in another process:
/// let saved = try CheckpointFile.load("run/checkpoint.json")
/// var integrator = try Integrator(game: game, scheme: scheme, resumingFrom: saved.checkpoint, options: options)
/// ```
public struct CheckpointFile: Sendable {
    /// The `format` field: a file of another format is refused.
    public static let format = "gameflow-train-checkpoint-1"

    /// The integrator's checkpoint.
    public var checkpoint: Checkpoint
    /// The caller's fields, written after `format` (e.g. `"arguments"`, `"training_seconds"`).
    public var fields: [(String, JSON)]

    /// A file of `checkpoint` with the caller's `fields`.
    public init(_ checkpoint: Checkpoint, fields: [(String, JSON)] = []) {
        self.checkpoint = checkpoint
        self.fields = fields
    }

    /// The file's JSON object.
    public var json: JSON {
        .object([("format", .string(Self.format))] + fields + [
            ("steps_completed", .int(checkpoint.stepsCompleted)),
            ("stats", checkpoint.stats.json),
            ("state", .numbers(checkpoint.state)),
            ("carried", .numbers(checkpoint.carried)),
        ] + (checkpoint.control.isEmpty ? [] : [("step_control", .numbers(checkpoint.control))]))
    }

    /// Writes the file atomically at `path`.
    public func write(to path: String) throws {
        try writeAtomically(json.serialized() + "\n", to: path)
    }

    /// The checkpoint file at `path`; every malformed field is named in the error (one line).
    /// `fields` holds the file's other fields (parsed by JSONSerialization).
    public static func load(_ path: String) throws -> (checkpoint: Checkpoint, fields: [String: Any]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw GameFlowError.invalidInput("cannot read '\(path)'") }
        func bad(_ why: String) -> GameFlowError { .invalidInput("'\(path)' is not a train checkpoint: \(why)") }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw bad("malformed JSON") }
        if let key = firstDuplicateJSONKey(in: data) { throw bad("key '\(key)' appears twice in one object") }
        guard obj["format"] as? String == format else { throw bad("format is not \(format)") }
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
        var stats = Stats()
        if let given = obj["stats"] {
            guard let st = given as? [String: Any] else { throw bad("'stats' is not an object") }
            for (key, path) in Stats.jsonKeys where st[key] != nil {
                stats[keyPath: path] = try count(st[key], "stats.\(key)", limit: Int.max / 4)
            }
        }
        let control = obj["step_control"] == nil ? [] : try numbers("step_control")
        return (Checkpoint(state: try numbers("state"), stepsCompleted: steps, stats: stats, carried: try numbers("carried"), control: control), obj)
    }
}
