import Foundation
import Testing
@testable import GameFlow

/// A stochastic field that reports the step index it was called with: v = (1 + step >> 40, step mod 2⁴⁰).
struct StepEcho: Game {
    var dimension: Int { 2 }
    var players: [Range<Int>] { [0..<1, 1..<2] }
    func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        v[0] = Double(1 + step >> 40)
        v[1] = Double(step & ((1 << 40) - 1))
    }
}

@Suite struct SubstepTests {
    @Test("One sub-step each and no tolerance is AltGA bit for bit")
    func plain() throws {
        let game = try DiracGAN(r1: 0.2)
        let a = try solve(game, scheme: AltGA(), from: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 50))
        let b = try solve(game, scheme: try AltGA(substeps: [1, 1]), from: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 50))
        #expect(a.finalState == b.finalState && a.stats == b.stats)
    }

    @Test("Each sub-step sees its own step index (k, then k + s·2⁴⁰): a fresh minibatch per sub-step, a pure function of (k, s)")
    func minibatchKeys() throws {
        let game = StepEcho()
        let h = 0.5
        let s = try solve(game, scheme: try AltGA(substeps: [3, 2]), from: [0, 0], options: SolveOptions(stepSize: h, maxSteps: 2))
        // Player 0: keys k, k + 2⁴⁰, k + 2·2⁴⁰ → v₀ = 1, 2, 3 at each of the 2 steps.
        #expect(s.finalState[0] == 2 * h * (1 + 2 + 3))
        // Player 1: keys k, k + 2⁴⁰ → v₁ = k twice: steps 0 and 1 give 0 + 0 + 1 + 1.
        #expect(s.finalState[1] == h * 2)
        #expect(s.stats.fieldEvaluations >= 2 * 5)
    }

    @Test("On an affine game the step map is (I + hE₂M)^{n₂}(I + hE₁M)^{n₁}, Eᵢ the projection on player i's rows")
    func stepMatrix() throws {
        let m = Matrix(rows: 3, columns: 3, storage: [-0.5, 1.0, 0.2, -1.0, -0.1, 0.4, 0.3, -0.7, -0.2])
        let game = try AffineGame(M: m, b: [0, 0, 0], playerSizes: [2, 1])
        let h = 0.2, counts = [3, 2]
        let phi = try AltGA(substeps: counts).linearizedStepMatrix(jacobian: m, players: game.players, h: h)
        var expected = Matrix(zeros: 3, 3)
        for i in 0..<3 { expected[i, i] = 1 }
        for (p, block) in game.players.enumerated() {
            var e = Matrix(zeros: 3, 3)
            for i in 0..<3 { for j in 0..<3 { e[i, j] = (i == j ? 1 : 0) + (block.contains(i) ? h * m[i, j] : 0) } }
            for _ in 0..<counts[p] { expected = e * expected }
        }
        #expect(maxRelativeDifference(phi.storage, expected.storage) < 1e-14)
    }

    /// x = (d, g); D maximises f = −(a/2)d² + c·d·g + (e/2)g², G maximises −f. D's best response is
    /// d*(g) = cg/a, and the generator's best-response utility is −V(g) = −(c²/a + e)g²/2.
    @Test("Nested loop (--inner-tolerance T): the generator follows gradient ascent on its best-response utility, within K·h·c·T/a after K steps",
          arguments: [1e-4, 1e-8])
    func nestedLoop(tolerance t: Double) throws {
        let (a, c, e) = (2.0, 1.0, 0.5)
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-a, c, -c, -e]), b: [0, 0], playerSizes: [1, 1])
        let h = 0.1, k = 30
        let s = try solve(game, scheme: try AltGA(substeps: [1000, 1], innerTolerance: t), from: [0.3, 1],
                          options: SolveOptions(stepSize: h, maxSteps: k))
        let ideal = pow(1 - h * (c * c / a + e), Double(k)) * 1
        let bound = Double(k) * h * c * t / a
        #expect(abs(s.finalState[1] - ideal) <= bound, "|g − ideal| = \(abs(s.finalState[1] - ideal)), bound \(bound)")
        // The inner loop stopped early (far fewer than 1000 evaluations per step) and did run.
        #expect(s.stats.fieldEvaluations < k * 200 && s.stats.fieldEvaluations > 3 * k)
        // Without the inner loop (plain AltGA) the generator is far from the best-response path.
        let plain = try solve(game, scheme: AltGA(), from: [0.3, 1], options: SolveOptions(stepSize: h, maxSteps: k))
        #expect(abs(plain.finalState[1] - ideal) > 100 * bound)
    }

    @Test("Bad sub-step input is a clear error: wrong count, zero, negative tolerance")
    func validation() throws {
        #expect(throws: GameFlowError.self) { try AltGA(substeps: [0, 1]) }
        #expect(throws: GameFlowError.self) { try AltGA(substeps: [1, 1], innerTolerance: -1) }
        #expect(throws: GameFlowError.self) {
            try solve(try DiracGAN(r1: 0), scheme: try AltGA(substeps: [2, 2, 2]), from: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 1))
        }
    }
}
