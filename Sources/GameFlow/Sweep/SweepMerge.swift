import Foundation

/// Joins the folders of a sweep's shards: `results.csv` (the same bytes as the unsharded
/// sweep's), `results.json`, and per game the work–precision figure (best error against cost,
/// one line per scheme) and, per scheme with a knob that varies, the stable region over
/// (h, knob) as a heatmap.
public enum SweepMerge {
    /// Merges `folders` into `output`; returns the files written (names inside `output`).
    @discardableResult
    public static func write(folders: [String], output: String) throws -> [String] {
        let (_, records) = try SweepFolder.merged(folders)
        try validateOutputDirectory(output)
        let lock = try createOutputDirectory(output)
        defer { close(lock) }
        var files: [(String, String)] = [("results.csv", SweepTable.csv(records)),
                                         ("results.json", JSON.array(records.map { $0.removing("seconds") }).serialized(indent: 1) + "\n")]
        files += figures(records)
        for (name, text) in files { try writeAtomically(text, to: joinPath(output, name)) }
        return files.map(\.0)
    }

    /// The figures of a sweep's records: per game the work–precision figure, per (game,
    /// scheme, knob) the stable-region heatmap; (file name, SVG text). An unsharded sweep
    /// writes them into its own folder, a merge into its output.
    public static func figures(_ records: [JSON]) -> [(String, String)] {
        var files: [(String, String)] = []
        for (name, plot) in workPrecision(records) { files.append(("work-precision-\(fileSafe(name)).svg", plot.svg())) }
        for (name, plot) in stableRegions(records) { files.append(("stable-region-\(name).svg", plot.svg())) }
        return files
    }

    /// A name as part of a file name: letters, digits, '-' and '.' kept, anything else '_' (a
    /// game file's name may hold '/' or spaces).
    static func fileSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }).replacingOccurrences(of: "..", with: "__")
    }

    /// A run's final error: its distance to the equilibrium (set), else ‖v‖.
    static func finalError(_ result: JSON) -> Double? {
        result["distance_to_equilibrium"]?.numberValue ?? result["vector_field_norm"]?.numberValue
    }

    /// The same at the start (`run` cells record both).
    static func initialError(_ result: JSON) -> Double? {
        result["initial_distance_to_equilibrium"]?.numberValue ?? result["initial_vector_field_norm"]?.numberValue
    }

    /// Per game: final error against cost, one line per scheme (log–log).
    public static func workPrecision(_ records: [JSON]) -> [(String, Plot)] {
        var games: [String: [String: [(Double, Double)]]] = [:]
        for r in records {
            guard let result = r["result"], case .string(let game)? = result["game"], case .string(let scheme)? = result["scheme"] else { continue }
            let cost = SweepTable.cost(result)
            if let e = finalError(result), e.isFinite, e > 0, cost > 0 { games[game, default: [:]][scheme, default: []].append((Double(cost), e)) }
        }
        return games.keys.sorted().map { game in
            var plot = Plot(title: "\(game): final error against cost", xLabel: "cost (evaluations + products + root iterations)",
                            yLabel: "final error (log)")
            plot.xScale = .log
            plot.yScale = .log
            for (k, scheme) in games[game]!.keys.sorted().enumerated() {
                let pts = games[game]![scheme]!.sorted { $0.0 < $1.0 }
                plot.add(scheme, .lineWithMarkers(pts, Figures.schemeStyle(scheme, index: k).marker), color: Figures.schemeStyle(scheme, index: k).color)
            }
            return (game, plot)
        }
    }

    /// Whether a run was stable: it converged or completed without its error growing (a run
    /// without a recorded initial error: converged or completed), or not (diverged, failed,
    /// grew); nil for an error record.
    public static func isStable(_ result: JSON) -> Bool? {
        guard case .string(let status)? = result["status"] else { return nil }
        switch status {
        case "diverged", "failed": return false
        case "converged": return true
        case "completed", "stalled":
            guard let e = finalError(result), e.isFinite else { return false }
            if let e0 = initialError(result) { return e <= e0 }
            return true
        default: return nil
        }
    }

    /// Keys that are never a knob of the stable-region figure.
    static let notKnobs: Set<String> = ["game", "scheme", "step", "lr", "seed", "steps", "command", "dim", "game-file", "x0", "data",
                                        "tolerance", "divergence-bound"]

    /// Per (game, scheme) and each knob with two or more values: a heatmap over (h, knob) whose
    /// tiles say whether every run there was stable, none was, or some were (runs with the
    /// same h and knob pooled: seeds and any other keys).
    public static func stableRegions(_ records: [JSON]) -> [(String, Plot)] {
        struct Key: Hashable { let game: String, scheme: String }
        var groups: [Key: [(parameters: [(String, JSON)], h: Double, stable: Bool)]] = [:]
        for r in records {
            guard let result = r["result"], case .string(let game)? = result["game"], case .string(let scheme)? = result["scheme"],
                  case .object(let p)? = r["parameters"], let stable = isStable(result) else { continue }
            let cell = SweepCell(index: 0, parameters: p)
            guard let h = cell.number("step") ?? cell.number("lr"), h > 0 else { continue }
            groups[Key(game: game, scheme: scheme), default: []].append((p, h, stable))
        }
        var out: [(String, Plot)] = []
        for key in groups.keys.sorted(by: { ($0.game, $0.scheme) < ($1.game, $1.scheme) }) {
            let runs = groups[key]!
            let knobs = Set(runs.flatMap { $0.parameters.map(\.0) }).subtracting(notKnobs).sorted()
            for knob in knobs {
                let values = runs.compactMap { SweepCell(index: 0, parameters: $0.parameters).number(knob) }
                let distinctK = Set(values).sorted(), distinctH = Set(runs.map(\.h)).sorted()
                guard distinctK.count >= 2, values.count == runs.count else { continue }
                var pooled: [[Int]: (stable: Int, all: Int)] = [:]
                for (run, k) in zip(runs, values) {
                    let at = [distinctH.firstIndex(of: run.h)!, distinctK.firstIndex(of: k)!]
                    pooled[at, default: (0, 0)].all += 1
                    if run.stable { pooled[at]!.stable += 1 }
                }
                // The knob's grid values at equal spacing (a categorical axis), h on a log axis.
                let distinctHEdges: [Double] = {
                    let v = distinctH
                    guard v.count > 1 else { return [v[0] / 1.5, v[0] * 1.5] }
                    var e = [v[0] * (v[0] / v[1]).squareRoot()]
                    for i in 0..<(v.count - 1) { e.append((v[i] * v[i + 1]).squareRoot()) }
                    e.append(v[v.count - 1] * (v[v.count - 1] / v[v.count - 2]).squareRoot())
                    return e
                }()
                var classes: [[(x0: Double, x1: Double, y0: Double, y1: Double, opacity: Double)]] = [[], [], []]
                for (at, c) in pooled.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                    let tile = (x0: distinctHEdges[at[0]], x1: distinctHEdges[at[0] + 1], y0: Double(at[1]) - 0.5, y1: Double(at[1]) + 0.5,
                                opacity: 0.85)
                    classes[c.stable == c.all ? 0 : c.stable == 0 ? 1 : 2].append(tile)
                }
                var plot = Plot(title: "\(key.game), \(key.scheme): stable region over (h, \(knob))", xLabel: "step size h (log)",
                                yLabel: knob)
                plot.xScale = .log
                plot.yRange = -0.5...(Double(distinctK.count) - 0.5)
                plot.yTicks = distinctK.enumerated().map { (Double($0.offset), SweepSpec.text(.number($0.element))) }
                plot.notes = ["\(runs.count) runs on \(distinctH.count) × \(distinctK.count) grid points; stable: converged or completed, error not grown"]
                for (k, (name, color)) in [("stable (every run)", "#2ca02c"), ("unstable (every run)", "#d62728"),
                                           ("mixed (some runs stable)", "#ff7f0e")].enumerated() where !classes[k].isEmpty {
                    plot.add(name, .tiles(classes[k]), color: color)
                }
                out.append(("\(fileSafe(key.game))-\(fileSafe(key.scheme))-\(fileSafe(knob))", plot))
            }
        }
        return out
    }
}
