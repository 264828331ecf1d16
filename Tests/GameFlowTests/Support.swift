import CKernels
import Foundation
@testable import GameFlow

/// Runs `steps` steps and returns the solution (no tolerance, no recording).
func integrate<G: Game, S: Scheme>(_ game: G, _ scheme: S, from x0: [Double], h: Double, steps: Int,
                                   tolerance: Double? = nil, bound: Double = 1e12, control: StepSizeControl = .fixed) throws -> Solution {
    try solve(game, scheme: scheme, from: x0,
              options: SolveOptions(stepSize: h, maxSteps: steps, tolerance: tolerance, divergenceBound: bound, stepSizeControl: control))
}

/// The state after exactly one step from x.
func oneStep<G: Game, S: Scheme>(_ game: G, _ scheme: S, from x: [Double], h: Double) throws -> [Double] {
    var integrator = try Integrator(game: game, scheme: scheme, initialState: x,
                                    options: SolveOptions(stepSize: h, maxSteps: 1))
    integrator.step()
    return integrator.state
}

/// The matrix of a linear one-step map, column by column from the basis vectors.
func stepMatrix<G: Game, S: Scheme>(_ game: G, _ scheme: S, h: Double) throws -> Matrix {
    let n = game.dimension
    var m = Matrix(zeros: n, n)
    for j in 0..<n {
        var e = [Double](repeating: 0, count: n)
        e[j] = 1
        let col = try oneStep(game, scheme, from: e, h: h)
        for i in 0..<n { m[i, j] = col[i] }
    }
    return m
}

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), .leastNormalMagnitude) }

func maxRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    let scale = max(maxAbs(b), 1e-300)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

func randomVector(_ n: Int, _ rng: inout SeededGenerator) -> [Double] { (0..<n).map { _ in rng.normal() } }

/// A 3×2 matrix σ·Q with orthonormal columns (both singular values σ), so that every state in
/// range(Q) × ℝ² is scaled by one closed-form factor per step.
func equalSingularValues3x2(_ sigma: Double) -> Matrix {
    let c1 = [1.0, 2, 2].map { $0 / 3 }, c2 = [2.0, 1, -2].map { $0 / 3 }   // orthonormal
    return Matrix(rows: 3, columns: 2, storage: [c1[0], c2[0], c1[1], c2[1], c1[2], c2[2]].map { sigma * $0 })
}

let allSchemeNames = SchemeName.allCases

/// Any scheme with test knobs: consensus's γ and SGA's λ both `gamma`.
func makeScheme(_ name: SchemeName, gamma: Double = 0.3, rootTolerance: Double = 1e-13) throws -> any Scheme {
    var knobs = SchemeName.Knobs(gamma: gamma, rootTolerance: rootTolerance, rootMaxIterations: 50)
    knobs.lambda = gamma
    knobs.alpha = gamma
    knobs.andersonDepth = 5
    return try name.make(knobs)
}

/// The kernel builds this CPU runs: width 4 (AVX2 or baseline) always, 8 with AVX-512.
let kernelWidths: [Int32] = [4, 8].filter { gf_kernels_width_available($0) == 1 }

/// Runs body with the kernels of this width on the calling thread, then restores the default.
func withKernelWidth<T>(_ width: Int32, _ body: () throws -> T) rethrows -> T {
    precondition(gf_kernels_set_width(width) == 1, "kernel width \(width) not available")
    defer { gf_kernels_set_width(0) }
    return try body()
}


/// Whether `scheme` on `game`, stopped after `split` steps and resumed from its checkpoint,
/// reaches the state of an uninterrupted run of `total` steps bit for bit.
func resumesBitForBit<G: Game, S: Scheme>(_ game: G, _ scheme: S, from x0: [Double], h: Double, split: Int, total: Int) throws -> Bool {
    var straight = try Integrator(game: game, scheme: scheme, initialState: x0, options: SolveOptions(stepSize: h, maxSteps: total))
    let full = straight.solve()
    var first = try Integrator(game: game, scheme: scheme, initialState: x0, options: SolveOptions(stepSize: h, maxSteps: split))
    _ = first.solve()
    var resumed = try Integrator(game: game, scheme: scheme, resumingFrom: first.checkpoint, options: SolveOptions(stepSize: h, maxSteps: total))
    return resumed.solve().finalState == full.finalState
}

/// An MLP GAN of these widths (G latent → … → d, D d → … → 1; `NetworkGAN.mlp`).
func mlpGAN(_ generator: [Int], _ discriminator: [Int], activation: Activation, data: GaussianMixture, batchSize: Int,
            utility: NetworkGAN.Utility = .nonSaturating, layout: NetworkGAN.Layout = .generatorFirst, seed: UInt64) throws -> NetworkGAN {
    try NetworkGAN.mlp(data: data, latent: generator[0], generatorHidden: Array(generator.dropFirst().dropLast()),
                       discriminatorHidden: Array(discriminator.dropFirst().dropLast()), generatorActivation: activation,
                       discriminatorActivation: activation, batchSize: batchSize, utility: utility, layout: layout, seed: seed)
}
