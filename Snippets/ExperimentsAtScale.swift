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

// Then a GAN training run with checkpoints on disk: metrics every 50 steps, a checkpoint file at
// least every 10 s and at the end, stopped at step 100 (as a kill would), resumed from the file
// and compared with a run never stopped: bit for bit the same.
let gan = try MLPGAN.paperSetup(data: .ring8, hidden: 8, depth: 2, latent: 4, batchSize: 64, seed: 0)
let scheme = Preconditioned(try Consensus(gamma: 10), method: .referenceRMSProp)
let options = SolveOptions(stepSize: 1e-3, maxSteps: 200)
let path = folder + "/checkpoint.json"
let metrics = EveryNSteps(50) { event, _ in
    print("step", event.step, "‖v‖", norm2(gan.vectorField(at: event.state, step: MLPGAN.evaluationStep)))
}
let saver = EveryNSeconds(10) { _, checkpoint in try CheckpointFile(checkpoint()).write(to: path) }
var first = RunLoop(try Integrator(game: gan, scheme: scheme, initialState: gan.initialState(seed: 0), options: options))
try first.run(observers: [metrics, saver], shouldStop: { steps in steps >= 100 })

let saved = try CheckpointFile.load(path).checkpoint
var resumed = RunLoop(try Integrator(game: gan, scheme: scheme, resumingFrom: saved, options: options))
try resumed.run(observers: [metrics, saver])
let whole = try solve(gan, scheme: scheme, from: gan.initialState(seed: 0), options: options)
print("resumed from step \(saved.stepsCompleted):", resumed.integrator.state == whole.finalState ? "bit for bit" : "DIFFERENT")
