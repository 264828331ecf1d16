import Foundation
import GameFlow

/// Tables, files and figures from `SuiteResults`.
public struct SuiteReport {
    public let results: SuiteResults
    public init(_ results: SuiteResults) { self.results = results }

    var cells: [Cell] { results.cells }

    /// Game names in suite order, without duplicates.
    var gameNames: [String] {
        var seen = Set<String>(), out: [String] = []
        for c in cells where seen.insert(c.game).inserted { out.append(c.game) }
        return out
    }

    var schemeNames: [String] {
        var seen = Set<String>(), out: [String] = []
        for c in cells where seen.insert(c.scheme).inserted { out.append(c.scheme) }
        return out
    }

    static func fmt(_ d: Double?, _ spec: String = "%.4g") -> String {
        guard let d, d.isFinite else { return "—" }
        return String(format: spec, d)
    }

    static func bound(_ b: StableStepBound) -> String {
        switch b {
        case .none: return "none"
        case .unbounded: return "any"
        case .upTo(let h): return String(format: "%.6g", h)
        }
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n"
        out += "|" + header.map { _ in "---" }.joined(separator: "|") + "|\n"
        for r in rows { out += "| " + r.joined(separator: " | ") + " |\n" }
        return out
    }

    // MARK: - Views

    /// Relative difference of measured and predicted rates, over linear games' cells whose run
    /// resolved a rate (its tail spans 25 nats of error).
    public func rateAgreement() -> [(family: String, scheme: String, cells: Int, maxRelativeDifference: Double)] {
        var out: [(String, String, Int, Double)] = []
        for game in gameNames where isLinear(game) {
            for scheme in schemeNames {
                let diffs = cells.filter { $0.game == game && $0.scheme == scheme }
                    .compactMap { c -> Double? in
                        guard let m = c.measuredRate, let p = c.predictedRate else { return nil }
                        return abs(m - p) / p
                    }
                if !diffs.isEmpty { out.append((game, scheme, diffs.count, diffs.max()!)) }
            }
        }
        return out
    }

    func isLinear(_ game: String) -> Bool { game.hasPrefix("bilinear") || game.hasPrefix("affine") }

    /// For each game and scheme (median over seeds where the game has several): the best error
    /// reached within the cost budget, over the whole step grid.
    public func equalCost() -> [String: [String: Double]] {
        var out: [String: [String: Double]] = [:]
        let budget = results.options.costBudget
        for game in gameNames {
            for scheme in schemeNames {
                var perSeed: [UInt64: Double] = [:]
                for c in cells where c.game == game && c.scheme == scheme {
                    let best = c.trace.filter { $0.0 <= budget }.map { $0.1 / c.initialError }.filter(\.isFinite).min() ?? .infinity
                    perSeed[c.seed] = min(perSeed[c.seed] ?? .infinity, best)
                }
                let values = perSeed.values.sorted()
                if !values.isEmpty { out[game, default: [:]][scheme] = values[values.count / 2] }
            }
        }
        return out
    }

    // MARK: - Markdown

    public func markdown() -> String {
        var out = "# gameflow-bench\n\n"
        out += results.environment.map { "- \($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
        out += "- tolerance: error ≤ \(results.options.tolerance) × initial error; cost = field evaluations + v′u + v′ᵀu + root-solver iterations\n\n"

        let agreement = rateAgreement()
        if !agreement.isEmpty {
            out += "## Contraction rates: measured (tail fit of log error) vs predicted (spectral radius of the step map)\n\n"
            out += Self.table(["game", "scheme", "cells", "max relative difference"],
                              agreement.map { [$0.family, $0.scheme, String($0.cells), Self.fmt($0.maxRelativeDifference, "%.2e")] })
            out += "\n"
        }

        if !results.frontiers.isEmpty {
            out += "## Stability frontier: largest stable h, measured by bisection on runs vs predicted\n\n"
            out += "Measured: runs from near the equilibrium, scanned up by doubling then bisected; a step is stable when the error falls 10⁴-fold "
                + "or two tail windows agree on a rate below 1, unstable when it grows 10⁴-fold or they agree above 1, undecided otherwise "
                + "(a contraction too slow to call within the run budget); a range a–b means stable at a, unstable at b, undecided between.\n\n"
            out += "Predicted stable set: every h classified by the linearisation's amplification (stable, neutral, unstable; "
                + "`Stability.stableSteps`), which need not be an interval from 0.\n\n"
            out += Self.table(["game", "seed", "scheme", "predicted", "predicted stable set", "measured", "relative difference"], results.frontiers.map { f in
                var diff = "—", measured = "undecided"
                switch f.measured {
                case .bound(let b):
                    measured = Self.bound(b)
                    if let p = f.predicted.value, let m = b.value { diff = String(format: "%.1e", abs(m - p) / p) }
                    else if f.predicted == b { diff = "same" }
                case .bracket(let a, let b):
                    measured = String(format: "%.6g–%.6g", a, b)
                    if let p = f.predicted.value {
                        diff = p >= a && p <= b ? String(format: "in bracket (width %.1e)", (b - a) / p)
                                                : String(format: "%.1e", min(abs(p - a), abs(p - b)) / p)
                    }
                case .atLeast(let h):
                    measured = "≥ " + String(format: "%.6g", h) + " (undecided above)"
                case .undecided:
                    measured = "undecided: at no probed h did the error fall or grow 10⁴-fold, nor the tail windows agree, within the run budget"
                }
                return [f.game, String(f.seed), f.scheme, Self.bound(f.predicted), f.predictedSet ?? "—", measured, diff]
            })
            out += "\n"
        }

        out += "## Reaching the tolerance (first seed of each game)\n\n"
        var rows: [[String]] = []
        for game in gameNames {
            guard let seed = cells.first(where: { $0.game == game })?.seed else { continue }
            for scheme in schemeNames {
                let mine = cells.filter { $0.game == game && $0.seed == seed && $0.scheme == scheme }
                guard !mine.isEmpty else { continue }
                let ok = mine.filter { $0.status == "converged" }
                let best = ok.min { ($0.costToTolerance ?? .max) < ($1.costToTolerance ?? .max) }
                let hs = ok.map(\.h)
                rows.append([game, scheme, "\(ok.count)/\(mine.count)",
                             hs.isEmpty ? "—" : "\(Self.fmt(hs.min()))–\(Self.fmt(hs.max()))",
                             Self.fmt(best?.h), best?.stepsToTolerance.map(String.init) ?? "—",
                             best?.costToTolerance.map(String.init) ?? "—", best.map { String($0.rootIterations) } ?? "—"])
            }
        }
        out += Self.table(["game", "scheme", "h that converge", "converging h", "best h", "steps", "cost", "root iterations"], rows)
        out += "\n" + implicitOnlyLines() + "\n"
        out += verdict()

        let eq = equalCost()
        if !eq.isEmpty {
            out += "## Equal cost: best error / initial error within a budget of \(results.options.costBudget) (median over seeds)\n\n"
            let schemes = schemeNames
            out += Self.table(["game"] + schemes, gameNames.map { g in [g] + schemes.map { Self.fmt(eq[g]?[$0], "%.1e") } })
            out += "\n"
        }

        if !results.speed.isEmpty {
            out += "## Speed: µs per step (median of 5 repeats after warm-up)\n\n"
            var workloads: [String] = []
            for r in results.speed where !workloads.contains(r.workload) { workloads.append(r.workload) }
            let schemes = results.speed.reduce(into: [String]()) { if !$0.contains($1.scheme) { $0.append($1.scheme) } }
            out += Self.table(["workload"] + schemes, workloads.map { w in
                [w] + schemes.map { s in results.speed.first { $0.workload == w && $0.scheme == s }.map { Self.fmt($0.microsecondsPerStep, "%.3g") } ?? "—" }
            })
            let notes = results.speed.filter { $0.note != nil }
            for n in notes { out += "\n- \(n.workload), \(n.scheme): \(n.note!)" }
            if let t = results.throughput {
                out += String(format: "\n\nv(x) on bilinear n = %d: %.2f GB/s; OpenBLAS dgemv on the same matrix: %.2f GB/s (ratio %.2f)\n",
                              t.n, t.fieldGBps, t.dgemvGBps, t.fieldGBps / t.dgemvGBps)
            }
        }
        return out
    }

    /// Whether a scheme (by name) solves a system each step: the implicit and linearly implicit ones.
    static func solvesEachStep(_ scheme: String) -> Bool {
        guard let n = SchemeName(rawValue: scheme) else { return false }
        return n.isImplicit || n == .rosenbrockEuler || n == .cgd
    }

    /// "Which scheme?": per game, the schemes that reach the tolerance at the least cost (the
    /// best over the step grid, first seed) and those stable at the largest h (measured frontiers),
    /// with the numbers.
    public func verdict() -> String {
        var out = "## Verdict: which scheme?\n\n"
        var any = false
        for game in gameNames {
            guard let seed = cells.first(where: { $0.game == game })?.seed else { continue }
            var best: [(scheme: String, cost: Int, h: Double)] = []
            for scheme in schemeNames {
                let ok = cells.filter { $0.game == game && $0.seed == seed && $0.scheme == scheme && $0.status == "converged" }
                if let b = ok.min(by: { ($0.costToTolerance ?? .max) < ($1.costToTolerance ?? .max) }), let c = b.costToTolerance {
                    best.append((scheme, c, b.h))
                }
            }
            best.sort { $0.cost < $1.cost }
            var line = "- **\(game)**: "
            if best.isEmpty {
                line += "no scheme reaches the tolerance on the step grid"
            } else {
                line += "cheapest to the tolerance " + best.prefix(3).map { "\($0.scheme) (cost \($0.cost) at h = \(Self.fmt($0.h)))" }.joined(separator: ", ")
            }
            var stable: [(scheme: String, h: Double?, any: Bool)] = []
            for f in results.frontiers where f.game == game && f.seed == seed {
                switch f.measured {
                case .bound(.unbounded): stable.append((f.scheme, nil, true))
                case .bound(.upTo(let h)), .atLeast(let h): stable.append((f.scheme, h, false))
                case .bracket(let a, _): stable.append((f.scheme, a, false))
                default: break
                }
            }
            if !stable.isEmpty {
                stable.sort { ($0.any ? .infinity : $0.h ?? 0) > ($1.any ? .infinity : $1.h ?? 0) }
                line += "; stable at the largest h: " + stable.prefix(3).map { $0.any ? "\($0.scheme) (any h)" : "\($0.scheme) (h ≥ \(Self.fmt($0.h)))" }.joined(separator: ", ")
            }
            out += line + "\n"
            any = true
        }
        return any ? out + "\n" : ""
    }

    /// Step sizes at which implicit Euler reaches the tolerance and no explicit scheme does.
    func implicitOnlyLines() -> String {
        var lines: [String] = []
        for game in gameNames {
            guard let seed = cells.first(where: { $0.game == game })?.seed else { continue }
            let mine = cells.filter { $0.game == game && $0.seed == seed }
            let hs = Array(Set(mine.map(\.h))).sorted()
            for h in hs {
                let atH = mine.filter { $0.h == h }
                let explicit = atH.filter { !Self.solvesEachStep($0.scheme) }
                guard let ie = atH.first(where: { $0.scheme == SchemeName.implicitEuler.rawValue }), ie.status == "converged",
                      !explicit.isEmpty, explicit.allSatisfy({ $0.status != "converged" }) else { continue }
                let otherImplicit = atH.filter { Self.solvesEachStep($0.scheme) && $0.scheme != ie.scheme }
                lines.append("- \(game), h = \(Self.fmt(h)): implicit Euler reaches the tolerance and no explicit scheme does — \(ie.stepsToTolerance!) steps, "
                             + "\(ie.rootIterations) root-solver iterations, cost \(ie.costToTolerance!); explicit schemes: "
                             + explicit.map { "\($0.scheme) \($0.status)" }.joined(separator: ", ")
                             + (otherImplicit.isEmpty ? "" : "; the other implicit schemes: " + otherImplicit.map { "\($0.scheme) \($0.status)" }.joined(separator: ", ")))
                break
            }
        }
        return lines.isEmpty ? "" : "Where implicit Euler converges and no explicit scheme does (smallest such h per game):\n\n" + lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Files

    public func csv() -> String {
        var out = "game,seed,scheme,h,status,steps,steps_to_tolerance,cost_to_tolerance,root_iterations,cost,seconds,initial_error,final_error,measured_rate,predicted_rate\n"
        for c in cells {
            let fields: [String] = [c.game, String(c.seed), c.scheme, csvNumber(c.h), c.status, String(c.steps),
                                    c.stepsToTolerance.map(String.init) ?? "", c.costToTolerance.map(String.init) ?? "",
                                    String(c.rootIterations), String(c.cost), csvNumber(c.seconds), csvNumber(c.initialError),
                                    csvNumber(c.finalError), c.measuredRate.map(csvNumber) ?? "", c.predictedRate.map(csvNumber) ?? ""]
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    public func json() -> JSON {
        let o = results.options
        return .object([
            ("environment", .object(results.environment.map { ($0.0, .string($0.1)) })),
            ("options", .object([("quick", .bool(o.quick)), ("seeds", .array(o.seeds.map { .int(Int($0)) })),
                                 ("tolerance", .number(o.tolerance)), ("cost_budget", .int(o.costBudget)),
                                 ("consensus_gamma", .number(o.consensusGamma))])),
            ("cells", .array(cells.map { $0.json(trace: false) })),
            ("frontiers", .array(results.frontiers.map(\.json))),
            ("speed", .array(results.speed.map { r in .object([
                ("workload", .string(r.workload)), ("scheme", .string(r.scheme)),
                ("microseconds_per_step", .optional(r.microsecondsPerStep)), ("note", r.note.map { .string($0) } ?? .null),
            ]) })),
            ("throughput", results.throughput.map { t in .object([
                ("n", .int(t.n)), ("field_gb_per_s", .number(t.fieldGBps)), ("dgemv_gb_per_s", .number(t.dgemvGBps)),
            ]) } ?? .null),
        ])
    }

    /// Work–precision figures: for each game (first seed), error/initial error against cost, the
    /// envelope over the step grid, one line per scheme, log–log.
    public func equalCostFigures() -> [(name: String, plot: Plot)] {
        var figures: [(String, Plot)] = []
        for game in gameNames {
            guard let seed = cells.first(where: { $0.game == game })?.seed else { continue }
            var plot = Plot(title: "\(game): best error reachable at each cost (envelope over h)", xLabel: "cost (evaluations + products + root iterations)",
                            yLabel: "error / initial error")
            plot.xScale = .log
            plot.yScale = .log
            let mine = cells.filter { $0.game == game && $0.seed == seed }
            // Errors below 1e-16 of the initial one are round-off: clipped there, on whole decades.
            let floor = 1e-16
            let maxCost = mine.flatMap { $0.trace.map(\.0) }.max() ?? 1
            let grid = logGrid(1, Double(max(maxCost, 2)), count: 60)
            for scheme in schemeNames {
                let runs = mine.filter { $0.scheme == scheme }
                guard !runs.isEmpty else { continue }
                var points: [(Double, Double)] = []
                for c in grid {
                    let best = runs.compactMap { r in r.trace.filter { Double($0.0) <= c }.map { $0.1 / r.initialError }.filter(\.isFinite).min() }.min()
                    if let b = best { points.append((c, max(b, floor))) }
                }
                plot.add(scheme, .line(points))
            }
            let top = max(1, plot.series.flatMap { s -> [Double] in if case .line(let p, _) = s.kind { return p.map { $0.1 } }; return [] }.max() ?? 1)
            let decades = Int(log10(top).rounded(.up))
            plot.yRange = floor...pow(10, Double(decades))
            let step = max(1, (decades + 16) / 8)
            plot.yTicks = stride(from: -16, through: decades, by: step).map { (pow(10, Double($0)), "1e\($0)") }
            figures.append(("equal-cost-\(game).svg", plot))
        }
        return figures
    }

    /// Writes results.csv, results.json, results.md and the figures into `dir`.
    public func write(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func put(_ text: String, _ name: String) throws {
            try text.write(toFile: (dir as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try put(csv(), "results.csv")
        try put(json().serialized(indent: 1) + "\n", "results.json")
        try put(markdown(), "results.md")
        for (name, plot) in equalCostFigures() { try put(plot.svg(), name) }
    }
}
