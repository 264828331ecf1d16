import Foundation

/// A minimal JSON value with ordered keys and exact, locale-free number formatting (Swift's
/// shortest round-trip representation), used for every machine-readable output. Non-finite
/// numbers are written as `null` (JSON has no NaN or infinity).
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.serialized() == b.serialized() }

    public static func numbers(_ xs: [Double]) -> JSON { .array(xs.map { .number($0) }) }
    public static func optional(_ x: Double?) -> JSON { x.map { .number($0) } ?? .null }

    /// Compact when `indent` is nil, otherwise pretty-printed with that many spaces per level.
    public func serialized(indent: Int? = nil) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int?, level: Int) {
        func newline(_ l: Int) {
            if let i = indent { out += "\n" + String(repeating: " ", count: i * l) }
        }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let d): out += d.isFinite ? JSON.format(d) : "null"
        case .string(let s): JSON.escape(s, into: &out)
        case .array(let xs):
            // Arrays of scalars stay on one line even when pretty-printing.
            let scalar = xs.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
            out += "["
            for (k, x) in xs.enumerated() {
                if k > 0 { out += scalar || indent == nil ? (indent == nil ? "," : ", ") : "," }
                if !scalar { newline(level + 1) }
                x.write(into: &out, indent: indent, level: level + 1)
            }
            if !scalar && !xs.isEmpty { newline(level) }
            out += "]"
        case .object(let kv):
            out += "{"
            for (k, (key, value)) in kv.enumerated() {
                if k > 0 { out += "," }
                newline(level + 1)
                JSON.escape(key, into: &out)
                out += indent == nil ? ":" : ": "
                value.write(into: &out, indent: indent, level: level + 1)
            }
            if !kv.isEmpty { newline(level) }
            out += "}"
        }
    }

    static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    private static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
