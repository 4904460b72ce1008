import Numerics
import Model

/// Writes `JSONValue` trees as text, deterministically: keys in the order given, numbers in Swift's
/// shortest round-trip form, non-finite numbers as `null`.
public enum JSONWriter {
    /// The value as text, indented by two spaces per level when `pretty`, with a final newline.
    public static func write(_ value: JSONValue, pretty: Bool = true) -> String {
        var out = ""
        append(value, to: &out, indent: pretty ? 0 : nil)
        return out + (pretty ? "\n" : "")
    }

    /// A number as JSON text (integers without a fraction).
    public static func number(_ x: Double) -> String {
        x.isFinite ? NumberText.exact(x) : "null"
    }

    /// A string as a quoted, escaped JSON string.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // C0, DEL, C1 and the line separators JavaScript treats as newlines: escaped, never raw.
                if u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    private static func append(_ value: JSONValue, to out: inout String, indent: Int?) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += number(n)
        case .string(let s): out += quoted(s)
        case .array(let items):
            if items.allSatisfy({ if case .number = $0 { true } else { false } }) || items.isEmpty {
                out += "[" + items.map { write($0, pretty: false) }.joined(separator: ", ") + "]"
                return
            }
            appendContainer(items.map { (nil, $0) }, open: "[", close: "]", to: &out, indent: indent)
        case .object(let o):
            if o.members.isEmpty { out += "{}"; return }
            appendContainer(o.members.map { ($0.key, $0.value) }, open: "{", close: "}", to: &out, indent: indent)
        }
    }

    private static func appendContainer(
        _ items: [(String?, JSONValue)], open: String, close: String,
        to out: inout String, indent: Int?
    ) {
        out += open
        let inner = indent.map { $0 + 2 }
        for (i, (key, value)) in items.enumerated() {
            if i > 0 { out += "," }
            if let inner { out += "\n" + String(repeating: " ", count: inner) }
            if let key { out += quoted(key) + (indent == nil ? ":" : ": ") }
            append(value, to: &out, indent: inner)
        }
        if let indent { out += "\n" + String(repeating: " ", count: indent) }
        out += close
    }
}

extension JSONValue {
    /// An object from key-value pairs in order.
    public static func obj(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(pairs.map { (key: $0.0, value: $0.1, line: 0) }))
    }

    /// A matrix as nested arrays of numbers.
    public static func matrix(_ m: Matrix) -> JSONValue {
        .array(m.nested.map { .array($0.map(JSONValue.number)) })
    }

    /// An array of numbers.
    public static func numbers(_ xs: [Double]) -> JSONValue { .array(xs.map(JSONValue.number)) }
}
