import Numerics
import Model

/// Typed access to the members of a JSON object, with errors that name the file, the JSON path and line.
///
/// Every key read is remembered, so `rejectUnknownKeys()` can report keys the reader did not expect.
public struct JSONFields {
    public let object: JSONObject
    public let file: String
    /// The JSON path of this object, e.g. `families[2].generator`.
    public let path: String
    private let allowed: Set<String>

    /// Fields of `value`, which must be an object; `allowed` lists every key the caller understands.
    public init(_ value: JSONValue, file: String, path: String, allowed: [String]) throws {
        guard let object = value.object else {
            throw GraderError(file: file, location: path.isEmpty ? nil : path, "expected an object, found \(value.typeName)")
        }
        self.object = object
        self.file = file
        self.path = path
        self.allowed = Set(allowed)
        try rejectUnknownKeys()
    }

    /// The path of a member.
    public func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// An error at `key`.
    public func error(_ key: String?, _ message: String) -> GraderError {
        GraderError(
            file: file, location: key.map(path) ?? (path.isEmpty ? nil : path),
            line: key.flatMap(object.line(of:)), message)
    }

    private func rejectUnknownKeys() throws {
        for member in object.members where !allowed.contains(member.key) {
            let known = allowed.sorted().joined(separator: ", ")
            throw GraderError(
                file: file, location: path.isEmpty ? nil : path, line: member.line,
                "unknown key \"\(member.key)\" (expected one of: \(known))")
        }
    }

    /// Whether `key` is present.
    public func has(_ key: String) -> Bool { object[key] != nil }

    /// The raw value at `key`, required.
    public func value(_ key: String) throws -> JSONValue {
        guard let v = object[key] else { throw error(nil, "missing required key \"\(key)\"") }
        return v
    }

    public func string(_ key: String) throws -> String {
        let v = try value(key)
        guard let s = v.string else { throw error(key, "expected a string, found \(v.typeName)") }
        return s
    }

    public func optionalString(_ key: String) throws -> String? {
        has(key) ? try string(key) : nil
    }

    public func number(_ key: String) throws -> Double {
        let v = try value(key)
        guard let n = v.number else { throw error(key, "expected a number, found \(v.typeName)") }
        return n
    }

    public func optionalNumber(_ key: String) throws -> Double? {
        has(key) ? try number(key) : nil
    }

    public func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
        let v = try value(key)
        guard let n = v.integer else { throw error(key, "expected a whole number, found \(v.typeName == "a number" ? "\(v.number ?? 0)" : v.typeName)") }
        guard range.contains(n) else { throw error(key, "expected a whole number in \(range.lowerBound)...\(range.upperBound), found \(n)") }
        return n
    }

    public func optionalInteger(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        has(key) ? try integer(key, in: range) : nil
    }

    public func bool(_ key: String) throws -> Bool {
        let v = try value(key)
        guard let b = v.bool else { throw error(key, "expected true or false, found \(v.typeName)") }
        return b
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        has(key) ? try bool(key) : nil
    }

    public func array(_ key: String) throws -> [JSONValue] {
        let v = try value(key)
        guard let a = v.array else { throw error(key, "expected an array, found \(v.typeName)") }
        return a
    }

    public func strings(_ key: String) throws -> [String] {
        try array(key).enumerated().map { i, item in
            guard let s = item.string else { throw error(key, "item \(i): expected a string, found \(item.typeName)") }
            return s
        }
    }

    public func optionalStrings(_ key: String) throws -> [String]? {
        has(key) ? try strings(key) : nil
    }

    /// Nested fields at `key`.
    public func fields(_ key: String, allowed: [String]) throws -> JSONFields {
        try JSONFields(try value(key), file: file, path: path(key), allowed: allowed)
    }

    /// A string-to-string map at `key`.
    public func stringMap(_ key: String) throws -> [(String, String)] {
        let v = try value(key)
        guard let o = v.object else { throw error(key, "expected an object of strings, found \(v.typeName)") }
        return try o.members.map { m in
            guard let s = m.value.string else { throw error(key, "\"\(m.key)\": expected a string, found \(m.value.typeName)") }
            return (m.key, s)
        }
    }

    /// The value at `key` as one of the raw values of `T`.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws -> T where T.RawValue == String {
        guard has(key) else { return fallback }
        let s = try string(key)
        guard let v = T(rawValue: s) else {
            throw error(key, "expected one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), found \"\(s)\"")
        }
        return v
    }
}
