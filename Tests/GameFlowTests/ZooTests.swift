import Foundation
import Testing
@testable import GameFlow

/// The game-optimisation zoo's schemes against their formulas on affine games with non-zero
/// diagonal blocks and three players (the bilinear closed forms are in `BilinearContractionTests`).
@Suite struct ZooTests {
    /// A random affine game v = Mx + b with players of sizes 2, 1, 3.
    static func game() throws -> (AffineGame, Matrix, [Double]) {
        var rng = SeededGenerator(seed: 21)
        let n = 6
        let m = Matrix(rows: n, columns: n, storage: randomVector(n * n, &rng))
        let b = randomVector(n, &rng)
        return (try AffineGame(M: m, b: b, playerSizes: [2, 1, 3]), m, b)
    }

    static func apply(_ m: Matrix, _ x: [Double]) -> [Double] {
        (0..<m.rows).map { i in (0..<m.columns).reduce(0) { $0 + m[i, $1] * x[$1] } }
    }

    @Test("LA: x + h(v + α·J_off·v), J_off = M without its diagonal player blocks (three players, 1e-13)")
    func lookAhead() throws {
        let (game, m, b) = try Self.game()
        var off = m
        for block in game.players { for i in block { for j in block { off[i, j] = 0 } } }
        var rng = SeededGenerator(seed: 2)
        let x = randomVector(6, &rng)
        for (h, alpha) in [(0.1, 0.0), (0.2, 0.7), (0.05, 3.0)] {
            let v = zip(Self.apply(m, x), b).map { $0 + $1 }
            let jv = Self.apply(off, v)
            let expected = (0..<6).map { x[$0] + h * (v[$0] + alpha * jv[$0]) }
            let got = try oneStep(game, try LookAheadGradient(alpha: alpha), from: x, h: h)
            #expect(maxRelativeDifference(got, expected) < 1e-13, "h \(h) α \(alpha)")
        }
    }

    @Test("HGD: x − h·Mᵀ(Mx + b) on an affine game (1e-13)")
    func hamiltonian() throws {
        let (game, m, b) = try Self.game()
        var rng = SeededGenerator(seed: 3)
        let x = randomVector(6, &rng)
        let v = zip(Self.apply(m, x), b).map { $0 + $1 }
        let mtv = (0..<6).map { j in (0..<6).reduce(0) { $0 + m[$1, j] * v[$1] } }
        let h = 0.15
        let got = try oneStep(game, HGD(), from: x, h: h)
        #expect(maxRelativeDifference(got, (0..<6).map { x[$0] - h * mtv[$0] }) < 1e-13)
    }

    @Test("HGD converges on a random 5×5 bilinear game where SimGA diverges; LA with α = γ takes consensus's steps")
    func bilinearRuns() throws {
        var rng = SeededGenerator(seed: 5)
        let game = try BilinearGame(A: Matrix(rows: 5, columns: 5, storage: randomVector(25, &rng)))
        let x0 = randomVector(10, &rng)
        // v′ = J has eigenvalues ±iσ (σ the singular values of A); HGD's factor per mode is
        // |1 − hσ²|, slowest at the ends: with h = 2/(σ²_max + σ²_min) both are (κ² − 1)/(κ² + 1).
        let sigmas = try Spectrum(matrix: game.jacobianMatrix(at: x0)).eigenvalues.map { $0.imaginary.magnitude }
        let (lo, hi) = (sigmas.min()!, sigmas.max()!)
        let h = 2 / (hi * hi + lo * lo), rate = (hi * hi - lo * lo) / (hi * hi + lo * lo)
        let needed = Int((log(1e-8 / norm2(game.vectorField(at: x0))) / log(rate)).rounded(.up))
        let hgd = try solve(game, scheme: HGD(), from: x0, options: SolveOptions(stepSize: h, maxSteps: needed + needed / 5 + 10, tolerance: 1e-8))
        #expect(hgd.status == .converged, "\(hgd.status) after \(hgd.steps) of \(needed) predicted")
        let sim = try solve(game, scheme: SimGA(), from: x0, options: SolveOptions(stepSize: h, maxSteps: 200))
        #expect(norm2(sim.finalState) > norm2(x0))
        let la = try solve(game, scheme: try LookAheadGradient(alpha: 0.4), from: x0, options: SolveOptions(stepSize: 0.1, maxSteps: 50))
        let cons = try solve(game, scheme: try Consensus(gamma: 0.4), from: x0, options: SolveOptions(stepSize: 0.1, maxSteps: 50))
        #expect(maxRelativeDifference(la.finalState, cons.finalState) < 1e-10)
    }
}
