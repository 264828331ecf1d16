import Foundation

/// A game read from a JSON game file (the CLI contract in docs/architecture):
///
///     {"game": "bilinear", "A": [[…], …], "x0": [...]}
///     {"game": "affine", "players": [n1, n2], "M": [[…], …], "b": [...], "x0": [...]}
///     {"game": "utilities", "players": [["x"], ["y"]], "utilities": ["x*y - x^4/4", "-x*y + y^4/4"],
///      "x0": [1, 1], "equilibrium": [0, 0], "name": "quartic"}
///
/// A utilities game lists each player's scalar variables (names) and one formula per player
/// (`Formula`'s grammar), or one formula for a two-player zero-sum game (the second player's
/// utility is its negative); "equilibrium" and "name" are optional.
///
/// Every problem (missing or misspelled key, wrong type, ragged or non-square matrix, size
/// mismatch, non-finite number) is a `GameFlowError.invalidInput` that names it.
public struct GameFile: Sendable {
    /// The game the file describes.
    public let game: any Game
    /// The file's x0.
    public let initialState: [Double]

    /// The largest game file read (bytes): a 5,000 × 5,000 matrix written out in full.
    public static let sizeLimit = 1 << 29

    /// Reads and parses a game file ("-" reads standard input).
    /// - Throws: one error naming the file and the problem.
    public static func load(path: String) throws -> GameFile {
        let data = try readInput(path, what: "game file", limit: GameFile.sizeLimit)
        do {
            return try parse(data)
        } catch GameFlowError.invalidInput(let m) {
            throw GameFlowError.invalidInput("game file '\(path)': \(m)")
        }
    }

    /// Parses a game file's bytes.
    /// - Throws: one error naming the problem (key, type, size, value).
    public static func parse(_ data: Data) throws -> GameFile {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw GameFlowError.invalidInput("malformed JSON (\(jsonReason(error)))")
        }
        guard let dict = object as? [String: Any] else { throw GameFlowError.invalidInput("top level must be a JSON object") }
        if let key = firstDuplicateJSONKey(in: data) {
            throw GameFlowError.invalidInput("key '\(key)' appears twice in one object")
        }
        guard let kind = dict["game"] as? String else { throw GameFlowError.invalidInput("missing string key 'game' (\"bilinear\", \"affine\" or \"utilities\")") }
        let allowed: Set<String>
        let game: any Game
        switch kind {
        case "bilinear":
            allowed = ["game", "A", "x0"]
            game = try BilinearGame(A: try matrix(dict, "A"))
        case "affine":
            allowed = ["game", "players", "M", "b", "x0"]
            let m = try matrix(dict, "M")
            guard m.isSquare else { throw GameFlowError.invalidInput("'M' must be square (got \(m.rows)×\(m.columns))") }
            let sizes = try integers(dict, "players")
            game = try AffineGame(M: m, b: try vector(dict, "b"), playerSizes: sizes)
        case "utilities":
            allowed = ["game", "players", "utilities", "x0", "equilibrium", "equilibrium_directions", "name"]
            game = try utilitiesGame(dict)
        default:
            throw GameFlowError.invalidInput("unknown game '\(kind)' (expected \"bilinear\", \"affine\" or \"utilities\")")
        }
        if let extra = dict.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw GameFlowError.invalidInput("unknown key '\(extra)' for a \(kind) game (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        let x0 = try vector(dict, "x0")
        guard x0.count == game.dimension else {
            throw GameFlowError.invalidInput("'x0' has \(x0.count) entries, the game has dimension \(game.dimension)")
        }
        return GameFile(game: game, initialState: x0)
    }

    /// A formula game: players' variable names, their utilities, an optional equilibrium.
    static func utilitiesGame(_ dict: [String: Any]) throws -> any Game {
        guard let rawPlayers = dict["players"] as? [Any], !rawPlayers.isEmpty else {
            throw GameFlowError.invalidInput("'players' must be a non-empty array of arrays of variable names, e.g. [[\"x\"], [\"y\"]]")
        }
        var names: [String] = [], sizes: [Int] = []
        for (p, raw) in rawPlayers.enumerated() {
            guard let list = raw as? [Any], !list.isEmpty else {
                throw GameFlowError.invalidInput("'players'[\(p)] must be a non-empty array of variable names")
            }
            for (k, item) in list.enumerated() {
                guard let name = item as? String else { throw GameFlowError.invalidInput("'players'[\(p)][\(k)] must be a string (a variable name)") }
                let scalars = Array(name.unicodeScalars)
                guard let first = scalars.first, first.properties.isAlphabetic || first == "_",
                      scalars.allSatisfy({ $0.properties.isAlphabetic || $0 == "_" || ("0"..."9").contains($0) }) else {
                    throw GameFlowError.invalidInput("'players'[\(p)][\(k)]: '\(name)' is not a name (letters, digits and _, not starting with a digit)")
                }
                guard Formula.functions[name] == nil else {
                    throw GameFlowError.invalidInput("'players'[\(p)][\(k)]: '\(name)' is a function's name")
                }
                guard !names.contains(name) else { throw GameFlowError.invalidInput("variable '\(name)' is listed twice in 'players'") }
                names.append(name)
            }
            sizes.append(list.count)
        }
        guard let rawUtilities = dict["utilities"] as? [Any], !rawUtilities.isEmpty else {
            throw GameFlowError.invalidInput("'utilities' must be a non-empty array of formulas (strings)")
        }
        let zeroSum = rawUtilities.count == 1 && sizes.count == 2
        guard zeroSum || rawUtilities.count == sizes.count else {
            throw GameFlowError.invalidInput("'utilities' has \(rawUtilities.count) formulas for \(sizes.count) players (one per player, or one for a two-player zero-sum game)")
        }
        var formulas: [Formula] = []
        for (u, raw) in rawUtilities.enumerated() {
            guard let text = raw as? String else { throw GameFlowError.invalidInput("utility \(u + 1) must be a string (a formula)") }
            do {
                formulas.append(try Formula.parse(text, variables: names))
            } catch GameFlowError.invalidInput(let m) {
                // A long formula is quoted by its start: the message stays one readable line.
                let quoted = text.count <= 80 ? text : String(text.prefix(60)) + "…"
                throw GameFlowError.invalidInput("utility \(u + 1) \"\(quoted)\": \(m)")
            }
        }
        if zeroSum { formulas.append(.negate(formulas[0])) }
        let used = formulas.reduce(into: Set<Int>()) { $0.formUnion($1.variables) }
        if let unused = names.indices.first(where: { !used.contains($0) }) {
            throw GameFlowError.invalidInput("variable '\(names[unused])' appears in no utility")
        }
        let equilibrium = dict["equilibrium"] == nil ? nil : try vector(dict, "equilibrium")
        if let e = equilibrium, e.count != names.count {
            throw GameFlowError.invalidInput("'equilibrium' has \(e.count) entries, the game has \(names.count) variables")
        }
        var directions: [[Double]] = []
        if dict["equilibrium_directions"] != nil {
            guard equilibrium != nil else {
                throw GameFlowError.invalidInput("'equilibrium_directions' needs 'equilibrium' (a point of the set)")
            }
            let m = try matrix(dict, "equilibrium_directions")
            guard m.columns == names.count else {
                throw GameFlowError.invalidInput("'equilibrium_directions' rows have \(m.columns) entries, the game has \(names.count) variables")
            }
            directions = (0..<m.rows).map { r in (0..<m.columns).map { m[r, $0] } }
        }
        var name = "utilities"
        if let raw = dict["name"] {
            guard let n = raw as? String, !n.isEmpty else { throw GameFlowError.invalidInput("'name' must be a non-empty string") }
            name = n
        }
        var game = try UtilityGame(FormulaUtilities(formulas), playerSizes: sizes, name: name, equilibrium: equilibrium,
                                   equilibriumDirections: directions)
        game.variableNames = names
        return game
    }

    // MARK: - Field readers

    /// A number from `JSONSerialization`, exactly: Foundation hands long decimals (17
    /// significant digits, as Swift prints doubles) over as NSDecimalNumber, whose `doubleValue`
    /// is off in the last bits for about half of all doubles; their decimal string, parsed by
    /// Swift, is correctly rounded.
    static func number(_ any: Any, _ what: String) throws -> Double {
        // JSON true/false also arrive as NSNumber (and `is Bool` holds for 0 and 1), so compare types.
        guard let n = any as? NSNumber, type(of: n) != type(of: NSNumber(value: true)) else {
            throw GameFlowError.invalidInput("\(what) must be a number")
        }
        let d = (n as? NSDecimalNumber).flatMap { Double($0.stringValue) } ?? n.doubleValue
        guard d.isFinite else { throw GameFlowError.invalidInput("\(what) is not finite") }
        return d
    }

    /// The finite numbers under `key` (exactly, see `number`).
    /// - Throws: when the key is missing or holds anything else.
    public static func vector(_ dict: [String: Any], _ key: String) throws -> [Double] {
        guard let raw = dict[key] else { throw GameFlowError.invalidInput("missing key '\(key)'") }
        guard let arr = raw as? [Any] else { throw GameFlowError.invalidInput("'\(key)' must be an array of numbers") }
        guard !arr.isEmpty else { throw GameFlowError.invalidInput("'\(key)' is empty") }
        return try arr.enumerated().map { try number($1, "'\(key)'[\($0)]") }
    }

    static func integers(_ dict: [String: Any], _ key: String) throws -> [Int] {
        try vector(dict, key).enumerated().map { i, d in
            guard d == d.rounded(), d >= 1, d < 1e9 else {
                throw GameFlowError.invalidInput("'\(key)'[\(i)] must be a whole number ≥ 1 (got \(d))")
            }
            return Int(d)
        }
    }

    static func matrix(_ dict: [String: Any], _ key: String) throws -> Matrix {
        guard let raw = dict[key] else { throw GameFlowError.invalidInput("missing key '\(key)'") }
        guard let rows = raw as? [Any], !rows.isEmpty else {
            throw GameFlowError.invalidInput("'\(key)' must be a non-empty array of rows")
        }
        var out: [[Double]] = []
        for (i, r) in rows.enumerated() {
            guard let row = r as? [Any] else { throw GameFlowError.invalidInput("'\(key)'[\(i)] must be an array of numbers (a row)") }
            guard !row.isEmpty else { throw GameFlowError.invalidInput("'\(key)'[\(i)] is an empty row") }
            out.append(try row.enumerated().map { try number($1, "'\(key)'[\(i)][\($0)]") })
            if out[i].count != out[0].count {
                throw GameFlowError.invalidInput("'\(key)' rows differ in length (row 0 has \(out[0].count) entries, row \(i) has \(out[i].count))")
            }
        }
        return try Matrix(rowArrays: out)
    }

    private static func jsonReason(_ error: Error) -> String {
        let ns = error as NSError
        if let d = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return d }
        return ns.localizedDescription
    }
}

/// The bytes of `path`: a regular file, a pipe, /dev/stdin or any other readable stream, read
/// up to `limit` bytes (one more is an error naming the limit).
public func readInput(_ path: String, what: String, limit: Int) throws -> Data {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        let reason = errno == ENOENT ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))"
        throw GameFlowError.invalidInput("\(what) '\(path)' \(reason)")
    }
    defer { close(fd) }
    var data = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw GameFlowError.invalidInput("\(what) '\(path)' cannot be read (\(String(cString: strerror(errno))))")
        }
        if n == 0 { break }
        data.append(contentsOf: chunk[0..<n])
        if data.count > limit {
            throw GameFlowError.invalidInput("\(what) '\(path)' is larger than \(limit / (1 << 20)) MiB")
        }
    }
    return data
}
