import GameFlow

// A small GAN on the paper's ring of 8 Gaussians: consensus optimisation with RMSProp, stopped
// half way and resumed from its checkpoint (bit for bit the same run).
let game = try MLPGAN.paperSetup(data: .ring8, hidden: 8, depth: 2, latent: 4, batchSize: 64, seed: 0)
let scheme = Preconditioned(try Consensus(gamma: 10), method: .referenceRMSProp)
let x0 = game.initialState(seed: 0)

var first = try Integrator(game: game, scheme: scheme, initialState: x0, options: SolveOptions(stepSize: 1e-3, maxSteps: 100))
_ = first.solve()
let checkpoint = first.checkpoint                     // state, step count, counters, RMSProp's accumulator
var resumed = try Integrator(game: game, scheme: scheme, resumingFrom: checkpoint,
                             options: SolveOptions(stepSize: 1e-3, maxSteps: 200))
let solution = resumed.solve()

let samples = game.samples(at: solution.finalState, count: 10_000, sampleSeed: 1)
let coverage = ModeCoverage(samples: samples, mixture: game.data)
print(solution.status, solution.steps, "modes", coverage.modesCaptured, "‖v‖", solution.vectorFieldNorm)
