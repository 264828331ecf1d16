import Foundation
import Testing
@testable import GameFlow
import GameFlowBenchKit

/// Measured orders of accuracy against the GSL rk8pd flow: each slope within 0.1 of the order.
@Suite struct OrderTests {
    static let cases: [(SchemeName, Int)] = [
        (.simga, 1), (.heun, 2), (.rk4, 4), (.implicitMidpoint, 2), (.trapezoidal, 2), (.extragradient, 1), (.optimistic, 1),
        (.implicitEuler, 1), (.altga, 1),
    ]

    static func games() throws -> [(String, any Game, [Double])] {
        let quartic = SuiteGames.quartic(quick: true)
        return [("dirac-r1-0.3", try DiracGAN(r1: 0.3), [1, 1]), ("quartic", quartic.game, [0.3, 0.2])]
    }

    @Test("Slope of the global error at T = 2 against h is the order (Dirac-GAN with R1, quartic game)", arguments: cases)
    func order(name: SchemeName, expected: Int) throws {
        let scheme = try makeScheme(name)
        for (label, game, x0) in try Self.games() {
            // Grids where the error is far above the reference's and far below 1.
            let steps = expected >= 4 ? [16, 32, 64, 128] : [64, 128, 256, 512]
            let m = try MeasuredOrder(scheme, on: game, against: game, from: x0, time: 2, steps: steps)
            #expect(abs(m.slope - Double(expected)) < 0.1, "\(name) on \(label): slope \(m.slope), errors \(m.errors)")
        }
    }

    @Test("Consensus converges to the flow of w = v − γv′ᵀv, not of v")
    func consensusField() throws {
        let game = try DiracGAN(r1: 0.3)
        let scheme = try Consensus(gamma: 0.5)
        let steps = [64, 128, 256, 512]
        let againstW = try MeasuredOrder(scheme, on: game, against: ConsensusField(game, gamma: 0.5), from: [1, 1], time: 2, steps: steps)
        let againstV = try MeasuredOrder(scheme, on: game, against: game, from: [1, 1], time: 2, steps: steps)
        #expect(abs(againstW.slope - 1) < 0.1, "\(againstW.errors)")
        #expect(abs(againstV.slope) < 0.1, "\(againstV.errors)")            // the error against v's flow does not shrink
        #expect(againstV.errors.last! > 100 * againstW.errors.last!)
    }
}
