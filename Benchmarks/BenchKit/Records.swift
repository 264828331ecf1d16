import Foundation
import GameFlow

// The suite's cells and frontiers as JSON: written by the sweep engine into each cell's file,
// read back for the report (fresh and resumed cells alike, so the tables are the same bytes
// whoever computed them), and used by `results.json`.

extension StableStepBound {
    /// "none", "unbounded" or the bound.
    var json: JSON {
        switch self {
        case .none: return .string("none")
        case .unbounded: return .string("unbounded")
        case .upTo(let h): return .number(h)
        }
    }

    init?(json: JSON?) {
        switch json {
        case .string("none")?: self = .none
        case .string("unbounded")?: self = .unbounded
        case .number(let h)?: self = .upTo(h)
        case .int(let h)?: self = .upTo(Double(h))
        default: return nil
        }
    }
}

/// A JSON number (or null, for a non-finite value) as a Double.
func number(_ v: JSON?) -> Double? { v?.numberValue }

func integer(_ v: JSON?) -> Int? { if case .int(let i)? = v { return i }; return nil }
func string(_ v: JSON?) -> String? { if case .string(let s)? = v { return s }; return nil }

extension Cell {
    /// The cell's fields (`results.json`); with `trace`, its thinned (cost, error) trace too.
    func json(trace withTrace: Bool) -> JSON {
        func optional(_ i: Int?) -> JSON { i.map { .int($0) } ?? .null }
        var fields: [(String, JSON)] = [
            ("game", .string(game)), ("seed", .int(Int(seed))), ("scheme", .string(scheme)), ("h", .number(h)),
            ("status", .string(status)), ("steps", .int(steps)), ("steps_to_tolerance", optional(stepsToTolerance)),
            ("cost_to_tolerance", optional(costToTolerance)), ("root_iterations", .int(rootIterations)),
            ("cost", .int(cost)), ("seconds", .number(seconds)), ("initial_error", .number(initialError)),
            ("final_error", .number(finalError)), ("measured_rate", .optional(measuredRate)),
            ("predicted_rate", .optional(predictedRate)),
        ]
        if withTrace { fields.append(("trace", .array(trace.map { .array([.int($0.0), .number($0.1)]) }))) }
        return .object(fields)
    }

    /// A cell read back from `json(trace: true)`. A non-finite error was written as null and
    /// reads back as +∞ (it only ever arises from a run that left the finite range).
    init?(json: JSON) {
        guard let game = string(json["game"]), let seed = integer(json["seed"]), let scheme = string(json["scheme"]),
              let h = number(json["h"]), let status = string(json["status"]), let steps = integer(json["steps"]),
              let rootIterations = integer(json["root_iterations"]), let cost = integer(json["cost"]) else { return nil }
        var trace: [(Int, Double)] = []
        if case .array(let points)? = json["trace"] {
            for p in points { if case .array(let xy) = p, xy.count == 2, let c = integer(xy[0]) { trace.append((c, number(xy[1]) ?? .infinity)) } }
        }
        self.init(game: game, seed: UInt64(seed), scheme: scheme, h: h, status: status, steps: steps,
                  stepsToTolerance: integer(json["steps_to_tolerance"]), costToTolerance: integer(json["cost_to_tolerance"]),
                  rootIterations: rootIterations, cost: cost, seconds: number(json["seconds"]) ?? 0,
                  finalError: number(json["final_error"]) ?? .infinity, initialError: number(json["initial_error"]) ?? .infinity,
                  measuredRate: number(json["measured_rate"]), predictedRate: number(json["predicted_rate"]), trace: trace)
    }
}

extension Frontier {
    /// The frontier's fields (`results.json` and the cell files).
    var json: JSON {
        .object([
            ("game", .string(game)), ("seed", .int(Int(seed))), ("scheme", .string(scheme)), ("predicted", predicted.json),
            ("measured", {
                switch measured {
                case .bound(let b): return b.json
                case .atLeast(let h): return .object([("at_least", .number(h))])
                case .bracket(let a, let b): return .object([("stable", .number(a)), ("unstable", .number(b))])
                case .undecided: return .string("undecided")
                }
            }()),
            ("predicted_set", predictedSet.map { .string($0) } ?? .null),
        ])
    }

    init?(json: JSON) {
        guard let game = string(json["game"]), let seed = integer(json["seed"]), let scheme = string(json["scheme"]),
              let predicted = StableStepBound(json: json["predicted"]), let m = json["measured"] else { return nil }
        let measured: MeasuredFrontier
        if let b = StableStepBound(json: m) { measured = .bound(b) }
        else if m == .string("undecided") { measured = .undecided }
        else if let h = number(m["at_least"]) { measured = .atLeast(h) }
        else if let a = number(m["stable"]), let b = number(m["unstable"]) { measured = .bracket(stable: a, unstable: b) }
        else { return nil }
        self.init(game: game, seed: UInt64(seed), scheme: scheme, measured: measured, predicted: predicted,
                  predictedSet: string(json["predicted_set"]))
    }
}
