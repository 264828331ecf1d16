import Foundation

extension Stats {
    /// The counters' keys in the `stats` object of the CLI contract (extended with the extra
    /// counters), for writing and reading it back.
    public static let jsonKeys: [(String, any WritableKeyPath<Stats, Int> & Sendable)] = [
        ("field_evaluations", \.fieldEvaluations),
        ("jacobian_vector_products", \.jacobianVectorProducts),
        ("transpose_jacobian_vector_products", \.transposeJacobianVectorProducts),
        ("root_solves", \.rootSolves),
        ("root_iterations", \.rootIterations),
        ("jacobian_evaluations", \.jacobianEvaluations),
        ("root_failures", \.rootFailures),
        ("root_stalls", \.rootStalls),
        ("monitor_evaluations", \.monitorEvaluations),
        ("newton_iterations", \.newtonIterations),
        ("krylov_iterations", \.krylovIterations),
        ("line_search_backtracks", \.lineSearchBacktracks),
        ("accepted_steps", \.acceptedSteps),
        ("rejected_steps", \.rejectedSteps),
    ]

    /// The `stats` object of the CLI contract.
    public var json: JSON { .object(Self.jsonKeys.map { ($0.0, .int(self[keyPath: $0.1])) }) }

    /// Counters from a parsed `stats` object (`JSONSerialization`); absent keys count 0.
    public init(jsonObject: [String: Any]) {
        self.init()
        for (key, path) in Self.jsonKeys { self[keyPath: path] = (jsonObject[key] as? NSNumber)?.intValue ?? 0 }
    }
}

extension Solution {
    /// The summary object of `gameflow run --json` (architecture.md's contract, extended with
    /// `reason` for diverged/failed runs).
    /// `configuration`: further settings of the run, after `step_size` (e.g. `step_scale`).
    public func summaryJSON(game: String, scheme: String, stepSize: Double, seconds: Double,
                            configuration: [(String, JSON)] = []) -> JSON {
        .object([
            ("game", .string(game)),
            ("scheme", .string(scheme)),
            ("step_size", .number(stepSize)),
        ] + configuration + [
            ("steps", .int(steps)),
            ("status", .string(status.name)),
            ("reason", status.reason.map { .string($0) } ?? .null),
            ("reason_code", status.reasonCode.map { .string($0.rawValue) } ?? .null),
            ("final_state", .numbers(finalState)),
            ("vector_field_norm", .number(vectorFieldNorm)),
            ("distance_to_equilibrium", .optional(distanceToEquilibrium)),
            ("equilibrium_set_dimension", equilibriumSetDimension.map { .int($0) } ?? .null),
            ("stats", stats.json),
            ("seconds", .number(seconds)),
        ] + (average.map { [("average", .object([("state", .numbers($0.state)), ("vector_field_norm", .number($0.vectorFieldNorm)),
                                                  ("distance_to_equilibrium", .optional($0.distanceToEquilibrium))]))] } ?? []))
    }
}

extension Recording {
    /// CSV: `step`, the recorded quantities, then `x0 … x{n−1}` when states were kept.
    public func csv() -> String { csvHeader() + csvRows(0..<count) }

    /// The CSV header line.
    public func csvHeader() -> String {
        var header = ["step"] + options.quantities.map(\.rawValue)
        if tracksStepSize { header.append("step_size") }
        if options.states { header += (0..<dimension).map { "x\($0)" } }
        return header.joined(separator: ",") + "\n"
    }

    /// The CSV lines of records `range` (for writing a long run as it goes).
    public func csvRows(_ range: Range<Int>) -> String {
        var out = ""
        for r in range {
            var row = [String(steps[r])]
            for q in 0..<options.quantities.count { row.append(csvNumber(values[q][r])) }
            if tracksStepSize { row.append(csvNumber(stepSizes[r])) }
            if options.states {
                for i in 0..<dimension { row.append(csvNumber(states[r * dimension + i])) }
            }
            out += row.joined(separator: ",") + "\n"
        }
        return out
    }
}

/// A number for CSV: shortest round-trip form, `nan`/`inf` spelled as numpy and pandas read them.
public func csvNumber(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d > 0 ? "inf" : "-inf" }
    return JSON.format(d)
}
