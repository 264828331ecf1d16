import ArgumentParser
import Foundation
import GameFlow
import GameFlowBenchKit

/// Measured orders of accuracy: every scheme for a fixed time T at h, h/2, h/4, … against the
/// rk8pd flow (consensus also against the flow of w = v − γv′ᵀv, which it integrates).
struct OrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Measured order of accuracy of every scheme: global error at time T against h (log–log slope).",
        discussion: """
              gameflow-bench order --output order/
            writes order.md (slopes per game) and order-GAME.svg (log–log error against h).
            """)

    @Option(help: "Final time T.") var time = 2.0
    @Option(help: "Consensus γ.") var gamma = 0.5
    @Option(help: "Write order.md and the figures here.") var output: String?

    func run() throws {
        guard time.isFinite, time > 0, gamma.isFinite, gamma >= 0 else { throw ValidationError("--time must be > 0 and --gamma ≥ 0") }
        let quartic = SuiteGames.quartic(quick: true)
        let games: [(String, any Game, [Double])] = [("dirac-r1-0.3", try DiracGAN(r1: 0.3), [1, 1]), ("quartic", quartic.game, [0.3, 0.2])]
        var md = "Global error at T = \(time) against the flow (GSL rk8pd, rtol 1e-13); slope of log error against log h.\n\n"
        md += "| scheme | stated order | " + games.map { $0.0 }.joined(separator: " | ") + " |\n|---|---|" + games.map { _ in "---|" }.joined() + "\n"
        var perGame: [[(String, MeasuredOrder)]] = Array(repeating: [], count: games.count)
        // HGD integrates another flow (−∇½‖v‖²) and LA's and LOLA's α-terms do not vanish with h, GDA-AM extrapolates from its history: no order against v's flow.
        for name in SchemeName.fixedStep where ![.hgd, .la, .lola, .sos, .gdaAM].contains(name) {
            var knobs = SchemeName.Knobs(gamma: gamma, implicit: ImplicitSolverOptions(tolerance: 1e-13, maxIterations: 50))
            knobs.lambda = gamma   // SGA's λ: the same weight as consensus's γ
            let scheme = try name.make(knobs)
            let steps = scheme.order >= 4 ? [16, 32, 64, 128] : [64, 128, 256, 512]
            var cells: [String] = []
            for (k, g) in games.enumerated() {
                let m = try MeasuredOrder(scheme, on: g.1, against: g.1, from: g.2, time: time, steps: steps)
                var cell = String(format: "%.3f", m.slope)
                if name == .consensus {
                    let w = try consensusOrder(scheme, g.1, gamma: gamma, x0: g.2, steps: steps)
                    cell += String(format: " (against w: %.3f)", w.slope)
                    perGame[k].append(("consensus vs flow of w", w))
                }
                perGame[k].append((name.rawValue, m))
                cells.append(cell)
            }
            md += "| \(name.rawValue) | \(scheme.order) | " + cells.joined(separator: " | ") + " |\n"
        }
        print(md)
        guard let dir = output else { return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try md.write(toFile: dir + "/order.md", atomically: true, encoding: .utf8)
        for (k, g) in games.enumerated() {
            var plot = Plot(title: "Global error at T = \(time) against h: \(g.0)", xLabel: "step size h", yLabel: "‖x_N − x(T)‖")
            plot.xScale = .log
            plot.yScale = .log
            for (i, (label, m)) in perGame[k].enumerated() {
                let pts = zip(m.stepSizes, m.errors).filter { $0.1 > 0 }.map { ($0.0, $0.1) }
                plot.add(label + String(format: " (slope %.2f)", m.slope), .lineWithMarkers(pts, [.circle, .square, .cross, .diamond][i % 4]),
                         color: ImplicitStudy.colors[i % ImplicitStudy.colors.count])
            }
            plot.notes = ["reference: GSL rk8pd at rtol 1e-13; consensus γ = \(gamma)"]
            try plot.svg().write(toFile: dir + "/order-\(g.0).svg", atomically: true, encoding: .utf8)
        }
    }

    /// Against the flow of w = v − γv′ᵀv (generic, so that `ConsensusField` gets a concrete game).
    private func consensusOrder<S: Scheme, G: Game>(_ scheme: S, _ game: G, gamma: Double, x0: [Double], steps: [Int]) throws -> MeasuredOrder {
        try MeasuredOrder(scheme, on: game, against: ConsensusField(game, gamma: gamma), from: x0, time: time, steps: steps)
    }
}
