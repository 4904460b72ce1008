import Numerics
import Model

/// A parsed JSON document that keeps object keys in file order and the line of every value.
///
/// Our own parser (no Foundation) so that errors carry line numbers, duplicate keys are rejected,
/// nesting depth and the number of values are bounded and numbers stay exact `Double`s. Not `indirect`:
/// arrays and objects already store their items out of line, so a number costs no allocation of its own.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The object, if this is one.
    public var object: JSONObject? { if case .object(let o) = self { o } else { nil } }
    /// The array, if this is one.
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    /// The string, if this is one.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The number, if this is one.
    public var number: Double? { if case .number(let n) = self { n } else { nil } }
    /// The boolean, if this is one.
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The number as an exact integer, if it is one.
    public var integer: Int? {
        guard let n = number, n.rounded() == n, abs(n) < 1e15 else { return nil }
        return Int(n)
    }
}

/// A JSON object: keys in file order, each with its value and the line it starts on.
public struct JSONObject: Equatable, Sendable {
    /// The members in file order.
    public var members: [(key: String, value: JSONValue, line: Int)]

    /// An object from members in order.
    public init(_ members: [(key: String, value: JSONValue, line: Int)] = []) { self.members = members }

    /// The value for `key`, if present.
    public subscript(key: String) -> JSONValue? { members.first { $0.key == key }?.value }

    /// The line `key` is on, if present.
    public func line(of key: String) -> Int? { members.first { $0.key == key }?.line }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// Parses JSON text into `JSONValue`, with line numbers in its errors.
public struct JSONParser {
    /// Deepest nesting accepted.
    public static let maxDepth = 64

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var values = 0
    private let maxValues: Int
    private let file: String
    /// Whether Python's `NaN`, `Infinity` and `-Infinity` (as `json.dump` writes them) are read as numbers.
    private var pythonNonFinite = false

    /// Parses `text`; errors name `file`. At most `maxValues` values are read. With `pythonNonFinite`,
    /// Python's non-finite tokens become numbers for the caller to skip (TransformerLens's `attn.IGNORE`) or
    /// refuse with the key that holds them.
    public static func parse(
        _ text: [UInt8], file: String, pythonNonFinite: Bool = false, maxValues: Int = InputLimits.maxJSONValues
    ) throws(GraderError) -> JSONValue {
        var parser = JSONParser(bytes: text, file: file, maxValues: maxValues)
        parser.pythonNonFinite = pythonNonFinite
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index < parser.bytes.count {
            throw parser.error("unexpected text after the JSON value")
        }
        return value
    }

    private init(bytes: [UInt8], file: String, maxValues: Int) {
        self.bytes = bytes
        self.file = file
        self.maxValues = maxValues
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    private func error(_ message: String) -> GraderError {
        GraderError(file: file, line: line, "invalid JSON: \(message)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x0A: line += 1; index += 1
            case 0x20, 0x09, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(GraderError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
        guard index < bytes.count else { throw error("the file ends where a value was expected (truncated?)") }
        values += 1
        guard values <= maxValues else {
            throw error("the document holds more than \(maxValues) values, the limit per file")
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-") where pythonNonFinite && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "I"):
            index += 1
            try expectWord("Infinity")
            return .number(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "N") where pythonNonFinite: try expectWord("NaN"); return .number(.nan)
        case UInt8(ascii: "I") where pythonNonFinite: try expectWord("Infinity"); return .number(.infinity)
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw error("NaN and Infinity are not valid numbers; every weight must be finite")
        default:
            throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    private mutating func expectWord(_ word: String) throws(GraderError) {
        let w = Array(word.utf8)
        guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else {
            throw error("expected '\(word)'")
        }
        index += w.count
    }

    private mutating func parseObject(depth: Int) throws(GraderError) -> JSONValue {
        index += 1
        var members: [(key: String, value: JSONValue, line: Int)] = []
        var seen = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject(members)) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error(index < bytes.count ? "expected a quoted key" : "the file ends inside an object (truncated?)")
            }
            let keyLine = line
            let key = try parseString()
            guard seen.insert(key).inserted else { throw error("duplicate key \"\(key)\"") }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append((key, value, keyLine))
            skipWhitespace()
            guard index < bytes.count else { throw error("the file ends inside an object (truncated?)") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject(members)) }
            throw error("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray(depth: Int) throws(GraderError) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("the file ends inside an array (truncated?)") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error("expected ',' or ']' in an array")
        }
    }

    private mutating func parseString() throws(GraderError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() {
            if !raw.isEmpty { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
        }
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                flush()
                return String(scalars)
            }
            if b < 0x20 { throw error("control character inside a string") }
            if b == UInt8(ascii: "\\") {
                flush()
                index += 1
                guard index < bytes.count else { break }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    scalars.append(try parseEscapedScalar())
                default: throw error("invalid escape in a string")
                }
                continue
            }
            raw.append(b)
            index += 1
        }
        throw error("the file ends inside a string (truncated?)")
    }

    /// The scalar of a `\\u` escape (its `u` already read): a surrogate pair joined, a lone surrogate (or a
    /// high one followed by an escape that is not a low surrogate) replaced by U+FFFD, as `JSONDecoder` does.
    private mutating func parseEscapedScalar() throws(GraderError) -> Unicode.Scalar {
        let code = try parseHex4()
        guard (0xD800..<0xDC00).contains(code), index + 1 < bytes.count,
            bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
        else { return Unicode.Scalar(code) ?? "\u{FFFD}" }
        let save = index
        index += 2
        let low = try parseHex4()
        guard (0xDC00..<0xE000).contains(low) else {
            index = save  // the second escape stands on its own
            return "\u{FFFD}"
        }
        return Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
    }

    private mutating func parseHex4() throws(GraderError) -> UInt32 {
        guard index + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
            throw error("invalid \\u escape")
        }
        index += 4
        return v
    }

    private mutating func parseNumber() throws(GraderError) -> Double {
        let start = index
        while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text) else { throw error("'\(text)' is not a number") }
        guard value.isFinite else { throw error("'\(text)' overflows a 64-bit float; every weight must be finite") }
        return value
    }
}
