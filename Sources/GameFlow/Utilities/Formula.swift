import Foundation

/// A utility written as a formula over named variables, evaluated at any `GameScalar` (so
/// `UtilityGame` differentiates it exactly).
///
/// **Grammar** (whitespace is ignored):
///
///     expression := term (("+" | "-") term)*
///     term       := unary (("*" | "/") unary)*
///     unary      := "-" unary | power
///     power      := primary ("^" unary)?              (right-associative: 2^3^2 = 2^9; -x^2 = -(x^2))
///     primary    := number | name | name "(" arguments ")" | "(" expression ")"
///
/// Numbers take every JSON form (`2`, `0.5`, `1e-3`, `2.5E+10`; a leading minus is unary minus).
/// Names are the players' variables; the functions are `exp`, `log`, `sqrt`, `sin`, `cos`,
/// `tanh`, `sigmoid` (1/(1 + e^{−x})), `softplus` (log(1 + eˣ)), `log1p` and `abs` of one
/// argument, `min` and `max` of two. `x^n` with an integer constant n is exact for every x;
/// any other exponent is exp(y·log x) (defined for x > 0). **Kinks:** `abs` takes the derivative
/// +1 at 0, `min`/`max` the first argument's at a tie. A constant that is not finite (`1e999`)
/// and an unknown name are errors.
public indirect enum Formula: Sendable, Equatable {
    /// A number.
    case constant(Double)
    /// Variable i (a player's scalar).
    case variable(Int)
    /// −a.
    case negate(Formula)
    /// a + b.
    case add(Formula, Formula)
    /// a − b.
    case subtract(Formula, Formula)
    /// a·b.
    case multiply(Formula, Formula)
    /// a/b.
    case divide(Formula, Formula)
    /// x^n, n a constant integer.
    case integerPower(Formula, Int)
    /// x^y = exp(y·log x).
    case power(Formula, Formula)
    /// A function of `functions` with its arguments.
    case function(String, [Formula])

    /// The functions a formula may call, with their number of arguments.
    public static let functions: [String: Int] = ["exp": 1, "log": 1, "sqrt": 1, "sin": 1, "cos": 1, "tanh": 1, "sigmoid": 1,
                                                  "softplus": 1, "log1p": 1, "abs": 1, "min": 2, "max": 2]

    /// The value at x (variable i is x[i]).
    public func evaluate<T: GameScalar>(_ x: [T]) -> T {
        switch self {
        case .constant(let c): return T(c)
        case .variable(let i): return x[i]
        case .negate(let a): return -a.evaluate(x)
        case let .add(a, b): return a.evaluate(x) + b.evaluate(x)
        case let .subtract(a, b): return a.evaluate(x) - b.evaluate(x)
        case let .multiply(a, b): return a.evaluate(x) * b.evaluate(x)
        case let .divide(a, b): return a.evaluate(x) / b.evaluate(x)
        case let .integerPower(a, n): return n >= 0 ? T.power(a.evaluate(x), n) : T(1) / T.power(a.evaluate(x), -n)
        case let .power(a, b): return T.pow(a.evaluate(x), b.evaluate(x))
        case let .function(name, args):
            let a = args[0].evaluate(x)
            switch name {
            case "exp": return T.exp(a)
            case "log": return T.log(a)
            case "sqrt": return T.sqrt(a)
            case "sin": return T.sin(a)
            case "cos": return T.cos(a)
            case "tanh": return T.tanh(a)
            case "sigmoid": return T.sigmoid(a)
            case "softplus": return T.softplus(a)
            case "log1p": return T.log1p(a)
            case "abs": return T.abs(a)
            case "min": return T.min(a, args[1].evaluate(x))
            case "max": return T.max(a, args[1].evaluate(x))
            default: preconditionFailure("unknown function \(name) (the parser admits only `functions`)")
            }
        }
    }

    /// The indices of the variables the formula reads.
    public var variables: Set<Int> {
        switch self {
        case .constant: return []
        case .variable(let i): return [i]
        case .negate(let a), .integerPower(let a, _): return a.variables
        case let .add(a, b), let .subtract(a, b), let .multiply(a, b), let .divide(a, b), let .power(a, b):
            return a.variables.union(b.variables)
        case .function(_, let args): return args.reduce(into: Set<Int>()) { $0.formUnion($1.variables) }
        }
    }

    /// Parses `text` over the variable names `names` (variable i is `names[i]`).
    /// - Throws: `GameFlowError.invalidInput` naming the position (1-based column) and what was
    ///   expected, an unknown name, or a non-finite constant.
    public static func parse(_ text: String, variables names: [String]) throws -> Formula {
        guard text.utf8.count <= maxLength else {
            throw GameFlowError.invalidInput("the formula has \(text.utf8.count) bytes; the limit is \(maxLength)")
        }
        var p = FormulaParser(text: Array(text.unicodeScalars), names: names)
        let f = try p.expression().formula
        p.skipSpace()
        if p.position < p.text.count { throw p.error("expected an operator or the end") }
        return f
    }

    /// The longest formula accepted, in bytes (1 MB).
    public static let maxLength = 1_000_000
    /// The deepest formula accepted: at most this many operations on any path from the whole
    /// formula to a number or variable (a sum of up to 1,000 terms; evaluation recurses this
    /// deep, and must fit the 512 KB stack of a sweep's worker threads).
    public static let maxDepth = 1_000
    /// The most parentheses, function calls and exponents nested inside one another.
    public static let maxNesting = 200
}

struct FormulaParser {
    let text: [Unicode.Scalar]
    let names: [String]
    var position = 0

    func error(_ expected: String) -> GameFlowError {
        let found = position < text.count ? "'\(Character(text[position]))'" : "the end"
        return GameFlowError.invalidInput("at column \(position + 1): \(expected) (found \(found))")
    }

    mutating func skipSpace() {
        while position < text.count, text[position] == " " || text[position] == "\t" || text[position] == "\n" { position += 1 }
    }

    mutating func peek() -> Unicode.Scalar? {
        skipSpace()
        return position < text.count ? text[position] : nil
    }

    /// How deep the parser's own recursion is (parentheses, calls, exponents).
    var nesting = 0

    typealias Node = (formula: Formula, depth: Int)

    /// A node one operation above `children`, refused beyond `Formula.maxDepth`.
    func node(_ f: Formula, _ children: Int...) throws -> Node {
        let d = 1 + (children.max() ?? 0)
        guard d <= Formula.maxDepth else {
            throw GameFlowError.invalidInput("at column \(position): the formula is more than \(Formula.maxDepth) operations deep (e.g. a sum of more than \(Formula.maxDepth) terms); split it")
        }
        return (f, d)
    }

    mutating func nested<T>(_ body: (inout FormulaParser) throws -> T) throws -> T {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Formula.maxNesting else {
            throw error("more than \(Formula.maxNesting) parentheses, calls or exponents nested in one another")
        }
        return try body(&self)
    }

    mutating func expression() throws -> Node {
        var a = try term()
        while let c = peek(), c == "+" || c == "-" {
            position += 1
            let b = try term()
            a = try node(c == "+" ? .add(a.formula, b.formula) : .subtract(a.formula, b.formula), a.depth, b.depth)
        }
        return a
    }

    mutating func term() throws -> Node {
        var a = try unary()
        while let c = peek(), c == "*" || c == "/" {
            position += 1
            let b = try unary()
            a = try node(c == "*" ? .multiply(a.formula, b.formula) : .divide(a.formula, b.formula), a.depth, b.depth)
        }
        return a
    }

    mutating func unary() throws -> Node {
        // A run of minus signs is counted, not recursed into.
        var signs = 0
        while peek() == "-" { position += 1; signs += 1 }
        var a = try power()
        for _ in 0..<signs { a = try node(.negate(a.formula), a.depth) }
        return a
    }

    mutating func power() throws -> Node {
        let base = try primary()
        guard peek() == "^" else { return base }
        position += 1
        let exponent = try nested { try $0.unary() }
        if let n = Self.integerConstant(exponent.formula) { return try node(.integerPower(base.formula, n), base.depth) }
        return try node(.power(base.formula, exponent.formula), base.depth, exponent.depth)
    }

    /// The value of a constant integer exponent (2, -3, (4), 3^2), if it is one.
    static func integerConstant(_ f: Formula) -> Int? {
        guard f.variables.isEmpty else { return nil }
        let c: Double = f.evaluate([])
        return c == c.rounded() && Swift.abs(c) <= 1e9 ? Int(c) : nil
    }

    mutating func primary() throws -> Node {
        guard let c = peek() else { throw error("expected a number, a name or '('") }
        if c == "(" {
            position += 1
            let e = try nested { try $0.expression() }
            guard peek() == ")" else { throw error("expected ')'") }
            position += 1
            return e
        }
        if c.properties.numericType != nil || c == "." { return (try number(), 0) }
        if c.properties.isAlphabetic || c == "_" {
            let start = position
            while position < text.count, text[position].properties.isAlphabetic || text[position] == "_"
                    || ("0"..."9").contains(text[position]) {
                position += 1
            }
            let name = String(String.UnicodeScalarView(text[start..<position]))
            if peek() == "(" {
                guard let arity = Formula.functions[name] else {
                    position = start
                    throw error("unknown function '\(name)' (functions: \(Formula.functions.keys.sorted().joined(separator: ", ")))")
                }
                position += 1
                var args = [try nested { try $0.expression() }]
                while peek() == "," {
                    position += 1
                    args.append(try nested { try $0.expression() })
                }
                guard peek() == ")" else { throw error("expected ')' or ','") }
                position += 1
                guard args.count == arity else {
                    position = start
                    throw error("\(name) takes \(arity) argument\(arity == 1 ? "" : "s"), got \(args.count)")
                }
                return try node(.function(name, args.map(\.formula)), args.map(\.depth).max() ?? 0)
            }
            guard let i = names.firstIndex(of: name) else {
                position = start
                throw error("unknown name '\(name)' (variables: \(names.joined(separator: ", ")))")
            }
            return (.variable(i), 0)
        }
        throw error("expected a number, a name or '('")
    }

    /// A JSON number: int frac? exp?
    mutating func number() throws -> Formula {
        let start = position
        func digits() -> Int {
            let s = position
            while position < text.count, ("0"..."9").contains(text[position]) { position += 1 }
            return position - s
        }
        guard digits() > 0 else { throw error("expected a digit") }
        if position < text.count, text[position] == "." {
            position += 1
            guard digits() > 0 else { throw error("expected a digit after '.'") }
        }
        if position < text.count, text[position] == "e" || text[position] == "E" {
            position += 1
            if position < text.count, text[position] == "+" || text[position] == "-" { position += 1 }
            guard digits() > 0 else { throw error("expected the exponent's digits") }
        }
        let literal = String(String.UnicodeScalarView(text[start..<position]))
        guard let v = Double(literal), v.isFinite else {
            position = start
            throw error("a finite number ('\(literal)' is not)")
        }
        return .constant(v)
    }
}

/// The utilities of a formula game: `formulas[p]` is player p's (a zero-sum game's second
/// player has −f).
public struct FormulaUtilities: Utilities {
    /// Player p's utility is `formulas[p]`.
    public let formulas: [Formula]

    /// The utilities, one per player.
    public init(_ formulas: [Formula]) { self.formulas = formulas }

    public func utility<T: GameScalar>(_ player: Int, at x: [T]) -> T { formulas[player].evaluate(x) }
}
