import GameFlow

let game = try DiracGAN(r1: 0.3)                       // or BilinearGame, AffineGame, ClosureGame, your own Game
let options = SolveOptions(stepSize: 0.2, maxSteps: 5_000, tolerance: 1e-10,
                           recording: .init(every: 10))  // nothing is recorded unless asked
var integrator = try Integrator(game: game, scheme: try Consensus(gamma: 0.5),
                                initialState: [1, 1], options: options)
let solution = integrator.solve()                      // or call integrator.step() yourself
print(solution.status, solution.steps, solution.stats.fieldEvaluations,
      solution.recording!.series(.vectorFieldNorm).last!)
