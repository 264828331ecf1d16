import Foundation

/// A minimal JSON value with ordered keys and exact, locale-free number formatting (Swift's
/// shortest round-trip representation), used for every machine-readable output. Non-finite
/// numbers are written as `null` (JSON has no NaN or infinity).
public indirect enum JSON: Sendable, Equatable {
    /// JSON null (also what a non-finite number is written as).
    case null
    /// true or false.
    case bool(Bool)
    /// An integer.
    case int(Int)
    /// A number, written in Swift's shortest round-trip form.
    case number(Double)
    /// A string (escaped on output).
    case string(String)
    /// An array.
    case array([JSON])
    /// An object with its keys in this order.
    case object([(String, JSON)])

    /// Equal when they serialise to the same text.
    public static func == (a: JSON, b: JSON) -> Bool { a.serialized() == b.serialized() }

    /// An array of numbers.
    public static func numbers(_ xs: [Double]) -> JSON { .array(xs.map { .number($0) }) }

    /// Parses JSON text (objects' keys come back sorted; integers as `.int`, other numbers
    /// exactly as `.number`).
    /// - Throws: `GameFlowError.invalidInput` for malformed text.
    public static func parse(_ data: Data) throws -> JSON {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw GameFlowError.invalidInput("malformed JSON")
        }
        return from(object)
    }

    static func from(_ any: Any) -> JSON {
        switch any {
        case is NSNull: return .null
        case let s as String: return .string(s)
        case let n as NSNumber:
            if type(of: n) == type(of: NSNumber(value: true)) { return .bool(n.boolValue) }
            let text = n.stringValue
            if let i = Int(text) { return .int(i) }
            return .number(Double(text) ?? n.doubleValue)
        case let a as [Any]: return .array(a.map(from))
        case let d as [String: Any]: return .object(d.keys.sorted().map { ($0, from(d[$0]!)) })
        default: return .null
        }
    }

    /// This object without the field `key` (other values are returned unchanged).
    public func removing(_ key: String) -> JSON {
        guard case .object(let own) = self else { return self }
        return .object(own.filter { $0.0 != key })
    }

    /// The value under `key` of an object (nil for other values or a missing key).
    public subscript(key: String) -> JSON? {
        guard case .object(let own) = self else { return nil }
        return own.first { $0.0 == key }?.1
    }

    /// This object with `fields` appended (other values are returned unchanged).
    public func adding(_ fields: [(String, JSON)]) -> JSON {
        guard case .object(let own) = self else { return self }
        return .object(own + fields)
    }
    /// A number, or null for nil.
    public static func optional(_ x: Double?) -> JSON { x.map { .number($0) } ?? .null }

    /// A number's value, integral or not (JSON writes 0.0 as 0, which parses back as an
    /// integer); nil for anything else.
    public var numberValue: Double? {
        switch self {
        case .number(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

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

/// The first key that appears twice in one object of the JSON text `data` (JSONSerialization
/// keeps the last silently), or nil. Only strings, objects and arrays are tracked; the text is
/// assumed to parse (call this after JSONSerialization accepted it).
package func firstDuplicateJSONKey(in data: Data) -> String? {
    var stack: [Set<String>?] = []      // a key set per open object, nil per open array
    var expectingKey = false
    var i = data.startIndex
    func readString() -> String {
        var bytes: [UInt8] = []
        i = data.index(after: i)
        while i < data.endIndex, data[i] != UInt8(ascii: "\"") {
            if data[i] == UInt8(ascii: "\\") { bytes.append(data[i]); i = data.index(after: i) }
            if i < data.endIndex { bytes.append(data[i]); i = data.index(after: i) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    while i < data.endIndex {
        switch data[i] {
        case UInt8(ascii: "{"): stack.append([]); expectingKey = true
        case UInt8(ascii: "["): stack.append(nil); expectingKey = false
        case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast(); expectingKey = false
        case UInt8(ascii: ","): expectingKey = stack.last.map { $0 != nil } ?? false
        case UInt8(ascii: "\""):
            let s = readString()
            if expectingKey, var keys = stack.last ?? nil {
                if keys.contains(s) { return s }
                keys.insert(s)
                stack[stack.count - 1] = keys
                expectingKey = false
            }
        default: break
        }
        i = data.index(after: i)
    }
    return nil
}
