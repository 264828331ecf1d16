import Foundation
import Testing
@testable import GameFlow

/// Discretisation drift: over a fixed time, SimGA's and AltGA's iterates are O(h) from the flow
/// of v and O(h²) from the flow of their modified fields (Rosca et al. 2021).
@Suite struct DriftTests {
    /// Slopes of log distance against log h at T = 2 from (1, 1).
    func slopes<S: Scheme>(_ scheme: S, kind: ModifiedField<DiracGAN>.Kind, game: DiracGAN) throws -> (exact: Double, modified: Double) {
        let steps = [64, 128, 256, 512]
        let t = 2.0
        let exact = try integrateFlow(game, from: [1, 1], times: [0, t], options: FlowOptions(method: .rk8pd, relativeTolerance: 1e-13, absoluteTolerance: 1e-15))
        var hs: [Double] = [], toExact: [Double] = [], toModified: [Double] = []
        for n in steps {
            let h = t / Double(n)
            let s = try solve(game, scheme: scheme, from: [1, 1], options: SolveOptions(stepSize: h, maxSteps: n))
            let modified = try integrateFlow(ModifiedField(game, h: h, kind: kind), from: [1, 1], times: [0, t],
                                             options: FlowOptions(method: .rk8pd, relativeTolerance: 1e-13, absoluteTolerance: 1e-15))
            hs.append(h)
            toExact.append(distance(s.finalState, exact.finalState))
            toModified.append(distance(s.finalState, modified.finalState))
        }
        return (logLogSlope(hs, toExact), logLogSlope(hs, toModified))
    }

    @Test("SimGA: slope 1 against the exact flow, 2 against v − (h/2)v′v (Dirac-GAN, with and without R1)", arguments: [0.0, 0.3])
    func simga(r1: Double) throws {
        let s = try slopes(SimGA(), kind: .simga, game: try DiracGAN(r1: r1))
        #expect(abs(s.exact - 1) < 0.15 && abs(s.modified - 2) < 0.15, "\(s)")
    }

    @Test("AltGA: slope 1 against the exact flow, 2 against its modified field (cross term's sign flipped)", arguments: [0.0, 0.3])
    func altga(r1: Double) throws {
        let s = try slopes(AltGA(), kind: .altga, game: try DiracGAN(r1: r1))
        #expect(abs(s.exact - 1) < 0.15 && abs(s.modified - 2) < 0.15, "\(s)")
        // SimGA's modified field does not describe AltGA to second order.
        let wrong = try slopes(AltGA(), kind: .simga, game: try DiracGAN(r1: r1))
        #expect(wrong.modified < 1.5, "\(wrong)")
    }
}
