import GameFlow

// Every fixed-step scheme on a bilinear game f = φᵀAθ at one step size: chosen at run time by
// name (as the command line does), integrated through the type-erased `solve`.
let game = try BilinearGame.random(rows: 5, columns: 5, seed: 1)
let x0 = [Double](repeating: 1, count: game.dimension)
var knobs = SchemeName.Knobs(gamma: 0.5)   // consensus's γ
knobs.lambda = 0.5                         // SGA's λ
knobs.alpha = 0.5                          // LA's look-ahead α
knobs.andersonDepth = 21                   // GDA-AM's depth (≥ 2n + 1)
for name in SchemeName.fixedStep {
    let scheme = try name.make(knobs)
    let s = try solve(game, scheme: scheme, from: x0, options: SolveOptions(stepSize: 0.3, maxSteps: 300))
    let work = s.stats.fieldEvaluations + s.stats.jacobianVectorProducts + s.stats.transposeJacobianVectorProducts
    print(name.rawValue, s.status, "distance", s.distanceToEquilibrium!, "work", work)
}

// Wrappers compose with any scheme: RMSProp around consensus, two time scales, momentum
// (for AltGA, Gidel et al.'s negative momentum: each player's update carries its own).
let rms = Preconditioned(try Consensus(gamma: 0.5), method: .referenceRMSProp, stepScale: try StepScale([1, 4]))
let heavyBall = try withMomentum(AltGA(), form: .polyak, weight: -0.3)
for scheme in [rms, heavyBall] as [any Scheme] {
    let s = try solve(game, scheme: scheme, from: x0, options: SolveOptions(stepSize: 0.05, maxSteps: 500))
    print(scheme.name, s.status, s.distanceToEquilibrium!)
}
