import GameFlow

// A small GAN on the paper's ring of 8 Gaussians: consensus optimisation with RMSProp, run by
// the library's training loop with two observers (metrics every 50 steps; a checkpoint at least
// every 10 s, at the start and at the end), stopped at step 100 and resumed from its checkpoint:
// bit for bit the same run as one never stopped.
let game = try NetworkGAN.paperSetup(data: .ring8, hidden: 8, depth: 2, latent: 4, batchSize: 64, seed: 0)
let scheme = Preconditioned(try Consensus(gamma: 10), method: .referenceRMSProp)
let options = SolveOptions(stepSize: 1e-3, maxSteps: 200)

var saved: Checkpoint?                                  // a real run writes it to disk
let metrics = EveryNSteps(50) { event, _ in
    let samples = game.samples(at: event.state, count: 2_000, sampleSeed: 1)
    let coverage = ModeCoverage(samples: samples, mixture: .ring8)
    print("step", event.step, "modes", coverage.modesCaptured, "‖v‖", norm2(game.vectorField(at: event.state, step: NetworkGAN.evaluationStep)))
}
let checkpoints = EveryNSeconds(10) { _, checkpoint in saved = checkpoint() }

var loop = TrainingLoop(try Integrator(game: game, scheme: scheme, initialState: game.initialState(seed: 0), options: options))
try loop.run(observers: [metrics, checkpoints], shouldStop: { steps in steps >= 100 })

var resumed = TrainingLoop(try Integrator(game: game, scheme: scheme, resumingFrom: saved!, options: options))
try resumed.run(observers: [metrics, checkpoints])
print(resumed.integrator.status!, resumed.integrator.stepsCompleted)
