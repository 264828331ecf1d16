import Foundation
import GameFlow

// Experiments through the library alone. First a sweep: consensus optimisation on f = φθ over
// a grid of γ and h, on the library's sweep engine (two cells at a time; each cell's result is
// written atomically into the folder, so a killed sweep re-run skips the finished cells), then
// results.csv and a stable-region heatmap. Theory: stable iff h < 2γ/(γ² + 1).
let folder = NSTemporaryDirectory() + "gameflow-example-\(getpid())"
let spec = try SweepSpec(grids: [[("gamma", .array([.number(0.1), .number(1)])),
                                  ("step", .array([.number(0.1), .number(0.5), .number(2)]))]])
var engine = SweepEngine(spec: spec, output: folder + "/sweep", jobs: 2)
engine.progress = false
let records = try engine.run { cell in
    let (gamma, h) = (cell.number("gamma")!, cell.number("step")!)
    let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1]))
    let run = try solve(game, scheme: try Consensus(gamma: gamma), from: [1, 1], options: SolveOptions(stepSize: h, maxSteps: 300))
    let result = run.summaryJSON(game: "phi-theta", scheme: "consensus", stepSize: h, seconds: 0)
        .adding([("initial_distance_to_equilibrium", .number(2.squareRoot()))])
    return SweepOutcome(result: result, seconds: 0)
}
for r in records {
    let (gamma, h) = (r["parameters"]!["gamma"]!.serialized(), r["parameters"]!["step"]!.serialized())
    print("γ \(gamma), h \(h): distance \(r["result"]!["distance_to_equilibrium"]!.serialized())")
}
for (name, plot) in SweepMerge.stableRegions(records) { try plot.svg().write(toFile: "\(folder)/\(name).svg", atomically: true, encoding: .utf8) }

// Then a GAN training run with the library's observers: metrics every 50 steps into
// metrics.csv (with density figures at steps 0 and 200), the checkpoint file at least every
// 10 s and at the end. It stops at step 100 (as a kill would), resumes from the file, and is
// compared with a run never stopped: bit for bit the same.
let gan = try NetworkGAN.paperSetup(data: .ring8, hidden: 8, depth: 2, latent: 4, batchSize: 64, seed: 0)
let scheme = Preconditioned(try Consensus(gamma: 10), method: .referenceRMSProp)
let options = SolveOptions(stepSize: 1e-3, maxSteps: 200)
let path = folder + "/checkpoint.json"
func saver(atStart: Bool) -> CheckpointWriter {     // the file keeps the training time too
    CheckpointWriter(path: path, every: 10, atStart: atStart) { event in [("training_seconds", .number(event.trainingSeconds))] }
}
let metrics = try GANMetricsRecorder(game: gan, every: 50, snapshots: [0, 200], totalSteps: 200, output: folder)
var first = TrainingLoop(try Integrator(game: gan, scheme: scheme, initialState: gan.initialState(seed: 0), options: options))
try first.run(observers: [metrics, saver(atStart: true)], shouldStop: { steps in steps >= 100 })

let (saved, fields) = try CheckpointFile.load(path)
let resumedMetrics = try GANMetricsRecorder(game: gan, every: 50, snapshots: [0, 200], totalSteps: 200, output: folder,
                                            resumedAt: (saved.stepsCompleted, false))
var resumed = TrainingLoop(try Integrator(game: gan, scheme: scheme, resumingFrom: saved, options: options),
                      trainingSeconds: (fields["training_seconds"] as! NSNumber).doubleValue)
try resumed.run(observers: [resumedMetrics, saver(atStart: false)])
let whole = try solve(gan, scheme: scheme, from: gan.initialState(seed: 0), options: options)
print(try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8))
print("resumed from step \(saved.stepsCompleted):", resumed.integrator.state == whole.finalState ? "bit for bit" : "DIFFERENT")
