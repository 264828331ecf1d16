import Foundation
import GameFlow

/// One finished run, as the figures need it.
struct RunCurves {
    let label: String
    let solution: Solution
}

/// Writes `convergence.svg` (‖v‖ and distance to equilibrium versus step, log scale) and, for
/// 2-D games, `phase.svg` (vector field, exact flow, each run's iterates) into `dir`.
/// Returns the names of the files written.
func writeFigures<G: Game>(_ game: G, runs: [RunCurves], start: [Double], h: Double, steps: Int,
                           title: String, into dir: String) throws -> [String] {
    var written: [String] = []
    var curves: [Figures.Curve] = []
    for (k, r) in runs.enumerated() {
        guard let rec = r.solution.recording else { continue }
        let prefix = runs.count > 1 ? "\(r.label): " : ""
        curves.append(.init(label: prefix + "‖v(x)‖", steps: rec.steps, values: rec.series(.vectorFieldNorm), group: k, scheme: r.label))
        if game.distanceToEquilibria(from: start) != nil {
            curves.append(.init(label: prefix + "distance to equilibria (dashed)", steps: rec.steps,
                                values: rec.series(.distanceToEquilibrium), group: k, dashed: true, scheme: r.label))
        }
    }
    let convergence = Figures.convergence(curves, title: title)
    try writeAtomically(convergence.svg(), to: joinPath(dir, "convergence.svg"))
    written.append("convergence.svg")

    if game.dimension == 2 {
        let iterates = runs.compactMap { r -> (label: String, states: [[Double]])? in
            guard let rec = r.solution.recording, rec.options.states else { return nil }
            return (r.label, (0..<rec.count).map { rec.state(at: $0) })
        }
        // The flow over the longest time a run covered (adaptive schemes choose their steps).
        let time = runs.map(\.solution.time).max() ?? h * Double(steps)
        let flow = Figures.flow(game, from: start, time: time, substeps: min(20 * steps, 4_000))
        var plot = Figures.phasePortrait(game, flow: flow, iterates: iterates, title: title)
        plot.notes = ["flow: dx/dt = v(x) over t = \(String(format: "%.4g", time)) (GSL rk8pd with error control); iterates: h = \(h)"
                      + (runs.contains { $0.solution.stats.acceptedSteps > 0 } ? " (error-controlled runs: the largest step)" : "")]
        try writeAtomically(plot.svg(), to: joinPath(dir, "phase.svg"))
        written.append("phase.svg")
    }
    return written
}
