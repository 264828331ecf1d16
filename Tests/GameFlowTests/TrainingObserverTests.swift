import Foundation
import Testing
@testable import GameFlow

/// The library's training observers, without the command line.
@Suite struct TrainingObserverTests {
    static func run(observers: [any RunObserver], steps: Int = 30, stopAt: Int? = nil) throws -> TrainingLoop<DiracGAN, SimGA> {
        var loop = TrainingLoop(try Integrator(game: try DiracGAN(r1: 0.3), scheme: SimGA(), initialState: [1, 1],
                                          options: SolveOptions(stepSize: 0.1, maxSteps: steps)))
        try loop.run(observers: observers, shouldStop: { done in stopAt.map { done >= $0 } ?? false })
        return loop
    }

    @Test("CheckpointWriter: a failed write is reported once and training goes on; the final checkpoint is rescued and resumes the run exactly")
    func checkpointFaults() throws {
        let lines = Locked<[String]>([])
        let writer = CheckpointWriter(path: "/nonexistent-dir-\(getpid())/checkpoint.json", every: 0) { e in [("step_seen", .int(e.step))] } report: { line in
            lines.mutate { $0.append(line) }
        }
        let loop = try Self.run(observers: [writer], stopAt: 12)
        #expect(loop.integrator.stepsCompleted == 12)
        let warnings = lines.value.filter { $0.hasPrefix("warning:") }
        #expect(warnings.count == 2, "\(lines.value)")     // the first failure, then the final one
        #expect(warnings[0].hasSuffix("training goes on and tries again"))
        let rescued = try #require(writer.rescuedPath)
        defer { unlink(rescued) }
        #expect(lines.value.last!.contains(rescued))
        let (saved, fields) = try CheckpointFile.load(rescued)
        #expect(saved == loop.integrator.checkpoint)
        #expect((fields["step_seen"] as? NSNumber)?.intValue == 12)
        // Resumed from the rescued file, the run ends where one never stopped ends.
        var resumed = TrainingLoop(try Integrator(game: try DiracGAN(r1: 0.3), scheme: SimGA(), resumingFrom: saved,
                                             options: SolveOptions(stepSize: 0.1, maxSteps: 30)))
        try resumed.run(observers: [])
        #expect(resumed.integrator.state == (try Self.run(observers: [])).integrator.state)
    }

    @Test("CheckpointWriter: back to a writable path, it says the checkpoint is written again")
    func checkpointRecovers() throws {
        let dir = NSTemporaryDirectory() + "gameflow-ckpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = Locked<[String]>([])
        let writer = CheckpointWriter(path: dir + "/checkpoint.json", every: 0) { _ in [] } report: { line in lines.mutate { $0.append(line) } }
        // The folder appears after step 5: the writes before it fail, the next one succeeds.
        let maker = EveryNSteps(1) { e, _ in if e.step == 5 { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } }
        _ = try Self.run(observers: [maker, writer], steps: 10)
        #expect(lines.value.count == 2, "\(lines.value)")
        #expect(lines.value[1] == "checkpoint written again at step 5")
        #expect(try CheckpointFile.load(dir + "/checkpoint.json").checkpoint.stepsCompleted == 10)
    }

    @Test("GANMetricsRecorder: rows on the schedule; a resumed run's metrics.csv equals the uninterrupted run's (but for seconds)")
    func ganMetrics() throws {
        let gan = try NetworkGAN.paperSetup(data: .ring8, hidden: 4, depth: 1, latent: 2, batchSize: 16, seed: 1)
        let options = SolveOptions(stepSize: 1e-2, maxSteps: 40)
        func rows(_ dir: String) throws -> [String] {
            try String(contentsOfFile: dir + "/metrics.csv", encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",").dropLast().joined(separator: ",") }
        }
        let a = NSTemporaryDirectory() + "gameflow-metrics-a-\(getpid())", b = NSTemporaryDirectory() + "gameflow-metrics-b-\(getpid())"
        defer { for d in [a, b] { try? FileManager.default.removeItem(atPath: d) } }
        for d in [a, b] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let straight = try GANMetricsRecorder(game: gan, every: 15, snapshots: [0, 40], totalSteps: 40, output: a)
        var loop = TrainingLoop(try Integrator(game: gan, scheme: SimGA(), initialState: gan.initialState(seed: 1), options: options))
        try loop.run(observers: [straight])
        #expect(try rows(a).map { $0.split(separator: ",").first.map(String.init) ?? "" } == ["step", "0", "15", "30", "40"])
        #expect(FileManager.default.fileExists(atPath: a + "/density-40.svg"))
        #expect(straight.last!.vectorFieldNorm == norm2(gan.vectorField(at: loop.integrator.state, step: NetworkGAN.evaluationStep)))
        // Stopped at 22 (off the schedule), then resumed.
        let first = try GANMetricsRecorder(game: gan, every: 15, snapshots: [0, 40], totalSteps: 40, output: b)
        var part = TrainingLoop(try Integrator(game: gan, scheme: SimGA(), initialState: gan.initialState(seed: 1), options: options))
        try part.run(observers: [first], shouldStop: { $0 >= 22 })
        let second = try GANMetricsRecorder(game: gan, every: 15, snapshots: [0, 40], totalSteps: 40, output: b, resumedAt: (22, false))
        var rest = TrainingLoop(try Integrator(game: gan, scheme: SimGA(), resumingFrom: part.integrator.checkpoint, options: options))
        try rest.run(observers: [second])
        // The stop's own row (22, the last event) is dropped on resume: rows follow the schedule.
        #expect(try rows(b) == (try rows(a)))
    }
}
