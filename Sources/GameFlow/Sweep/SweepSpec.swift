import Foundation

/// One cell of a sweep: its index in the expanded spec and its parameter values, in the
/// spec's sorted key order. A cell is a pure function of (spec, index): whoever runs it, on
/// whatever machine or shard, computes the same result.
public struct SweepCell: Sendable {
    /// The cell's index in the expanded spec (0, 1, …; grids in order, the last key fastest).
    public let index: Int
    /// The cell's (key, value) pairs, keys sorted.
    public let parameters: [(String, JSON)]
    /// The keys that vary across the cell's grid (lists of two or more values); the others
    /// are the grid's constants.
    public let axes: Set<String>

    /// A cell of `parameters` at `index`.
    public init(index: Int, parameters: [(String, JSON)], axes: Set<String> = []) {
        self.index = index
        self.parameters = parameters
        self.axes = axes
    }

    /// The same cell without `keys` (its index and axes kept).
    public func removing(_ keys: Set<String>) -> SweepCell {
        SweepCell(index: index, parameters: parameters.filter { !keys.contains($0.0) }, axes: axes)
    }

    /// The same cell with `key`'s value replaced (when the cell has it).
    public func replacing(_ key: String, with value: JSON) -> SweepCell {
        SweepCell(index: index, parameters: parameters.map { $0.0 == key ? (key, value) : $0 }, axes: axes)
    }

    /// The value of `key`, if the cell has it.
    public subscript(key: String) -> JSON? { parameters.first { $0.0 == key }?.1 }

    /// The value of `key` as text (a number in its shortest form), if the cell has it.
    public func text(_ key: String) -> String? { self[key].map(SweepSpec.text) }

    /// The value of `key` as a number, if the cell has it and it is one.
    public func number(_ key: String) -> Double? { self[key]?.numberValue }

    /// The command-line arguments of the cell: `--key value` for each parameter except those
    /// in `excluding`, and `--key` alone for a `true` (a `false` flag is left out).
    public func arguments(excluding: Set<String> = []) -> [String] {
        var a: [String] = []
        for (k, v) in parameters where !excluding.contains(k) {
            switch v {
            case .bool(let b): if b { a.append("--\(k)") }
            default: a += ["--\(k)", SweepSpec.text(v)]
            }
        }
        return a
    }

    /// "key=value, …", for messages.
    public var label: String { parameters.map { "\($0.0)=\(SweepSpec.text($0.1))" }.joined(separator: ", ") }
}

/// A parsed and expanded sweep spec: an object, or a list of objects (a union of grids), whose
/// values are scalars or lists of scalars; a list is a grid axis. Each grid expands to the
/// product of its axes (keys sorted, the last key varying fastest), grids in order.
public struct SweepSpec: Sendable {
    /// The spec in canonical form (keys sorted, every value a list): two specs with the same
    /// cells have the same canonical text. A sweep folder records it and refuses another spec.
    public let canonical: String
    /// The expanded cells.
    public let cells: [SweepCell]

    /// A spec of `grids`: each grid a list of (key, value) pairs, a `.array` value a grid axis.
    /// `reservedKeys` are refused (keys the sweep sets itself). Throws on an empty list of
    /// grids, an empty grid, an empty axis, a repeated key or a non-scalar value.
    public init(grids: [[(String, JSON)]], reservedKeys: Set<String> = []) throws {
        func bad(_ m: String) -> GameFlowError { .invalidInput("sweep spec: \(m)") }
        try self.init(validating: grids, reservedKeys: reservedKeys, bad)
    }

    /// The most cells a spec may expand to (counted before anything is expanded: a grid of
    /// 10¹² cells once took the machine's memory).
    public static let maxCells = 1_000_000

    private init(validating grids: [[(String, JSON)]], reservedKeys: Set<String>, _ bad: (String) -> GameFlowError) throws {
        guard !grids.isEmpty else { throw bad("the list of grids is empty") }
        // Count first, with overflow checked: the product of the axes' lengths, summed over grids.
        var total = 0
        for grid in grids {
            var product = 1
            for (_, value) in grid {
                guard case .array(let list) = value, !list.isEmpty else { continue }
                let (p, overflow) = product.multipliedReportingOverflow(by: list.count)
                product = overflow ? Int.max : p
                if product > Self.maxCells { break }
            }
            let (t, overflow) = total.addingReportingOverflow(product)
            total = overflow ? Int.max : t
            guard total <= Self.maxCells else {
                throw bad("the grids expand to more than \(Self.maxCells) cells (the limit); split the sweep")
            }
        }
        var cells: [SweepCell] = []
        var canonicalGrids: [JSON] = []
        for (g, grid) in grids.enumerated() {
            guard !grid.isEmpty else { throw bad("grid \(g + 1) is empty") }
            var axes: [(String, [JSON])] = []
            for (key, value) in grid.sorted(by: { $0.0 < $1.0 }) {
                guard !reservedKeys.contains(key) else { throw bad("grid \(g + 1): '\(key)' is set by the sweep itself") }
                guard !axes.contains(where: { $0.0 == key }) else { throw bad("key '\(key)' appears twice in one object") }
                let values: [JSON]
                if case .array(let list) = value {
                    guard !list.isEmpty else { throw bad("grid \(g + 1): '\(key)' is an empty list (an empty grid axis)") }
                    values = list
                } else {
                    values = [value]
                }
                for (i, v) in values.enumerated() {
                    switch v {
                    case .array, .object, .null:
                        throw bad("grid \(g + 1): '\(key)'\(values.count > 1 || value != v ? "[\(i)]" : "") must be a number, a string, true/false or a list of them")
                    case .number(let d) where !d.isFinite:
                        throw bad("grid \(g + 1): '\(key)' must be finite")
                    default: break
                    }
                }
                axes.append((key, values))
            }
            canonicalGrids.append(.object(axes.map { ($0.0, .array($0.1)) }))
            var combos: [[(String, JSON)]] = [[]]
            for (key, values) in axes { combos = combos.flatMap { c in values.map { c + [(key, $0)] } } }
            let varying = Set(axes.filter { $0.1.count > 1 }.map(\.0))
            for c in combos { cells.append(SweepCell(index: cells.count, parameters: c, axes: varying)) }
        }
        self.canonical = JSON.array(canonicalGrids).serialized()
        self.cells = cells
    }

    /// The spec in the JSON file at `path` (errors name the file).
    public static func load(_ path: String, reservedKeys: Set<String> = []) throws -> SweepSpec {
        try parse(try readInput(path, what: "sweep spec", limit: 1 << 24), name: path, reservedKeys: reservedKeys)
    }

    /// The spec in `data` (a JSON text); `name` names it in errors.
    public static func parse(_ data: Data, name: String, reservedKeys: Set<String> = []) throws -> SweepSpec {
        func bad(_ m: String) -> GameFlowError { .invalidInput("sweep spec '\(name)': \(m)") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch { throw bad("malformed JSON") }
        if let key = firstDuplicateJSONKey(in: data) { throw bad("key '\(key)' appears twice in one object") }
        let grids: [[String: Any]]
        if let one = object as? [String: Any] { grids = [one] } else if let many = object as? [[String: Any]] { grids = many } else {
            throw bad("the top level must be an object or a list of objects")
        }
        // Numbers keep their JSON text's value; true/false stay booleans (not 1/0).
        func value(_ any: Any) -> JSON {
            if let n = any as? NSNumber, type(of: n) == type(of: NSNumber(value: true)) { return .bool(n.boolValue) }
            if let n = any as? NSNumber { return .number(n.doubleValue) }
            if let s = any as? String { return .string(s) }
            if let list = any as? [Any] { return .array(list.map(value)) }
            if any is NSNull { return .null }
            return .object([])
        }
        return try SweepSpec(validating: grids.map { g in g.keys.map { ($0, value(g[$0]!)) } }, reservedKeys: reservedKeys, bad)
    }

    /// A value as text: strings as they are, whole numbers without a point, others in the
    /// shortest form that reads back to the same double.
    public static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : csvNumber(d)
        case .bool(let b): return b ? "true" : "false"
        default: return v.serialized()
        }
    }
}

/// Several problems with a spec, one line each (every bad field, before any cell runs).
public struct SweepProblems: Error, CustomStringConvertible {
    /// One line per distinct problem.
    public let lines: [String]

    /// Problems of these lines.
    public init(lines: [String]) { self.lines = lines }

    public var description: String { lines.joined(separator: "\n") }
}
