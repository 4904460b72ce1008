/// The named dimensions of an exercise's residual stream, in order: `names[i]` labels dimension `i`.
///
/// Names are written with two shorthands that expand in place: `{a..b}` (an integer range, inclusive) and
/// `{vocab}` / `{outputs}` (every token / output class), e.g. `tok:{vocab}`, `pos:{0..11}`, `s{0..7}`.
public struct ResidualLayout: Equatable, Sendable {
    /// Dimension names; unique.
    public let names: [String]
    /// Dimensions the student may use for anything (documentation and templates).
    public let scratch: [String]
    private let indexByName: [String: Int]

    /// A layout over unique `names`.
    public init(names: [String], scratch: [String] = []) {
        self.names = names
        self.scratch = scratch
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }
        self.indexByName = index
    }

    /// `d_model`.
    public var dModel: Int { names.count }

    /// The index of dimension `name`.
    public func index(of name: String) -> Int? { indexByName[name] }

    /// Expands the shorthands in `patterns`, given the lists `{vocab}` and `{outputs}` stand for.
    public static func expand(_ patterns: [String], lists: [String: [String]]) throws(ExpansionError) -> [String] {
        var out: [String] = []
        for p in patterns { out += try expand(p, lists: lists) }
        return out
    }

    /// Expands one pattern.
    public static func expand(_ pattern: String, lists: [String: [String]]) throws(ExpansionError) -> [String] {
        guard let open = pattern.firstIndex(of: "{") else { return [pattern] }
        guard let close = pattern[open...].firstIndex(of: "}") else { throw ExpansionError(pattern: pattern, reason: "'{' without '}'") }
        let head = String(pattern[..<open])
        let tail = String(pattern[pattern.index(after: close)...])
        let inner = String(pattern[pattern.index(after: open)..<close])
        let items: [String]
        if let list = lists[inner] {
            items = list
        } else {
            let bounds = inner.components(separatedBy: "..")
            guard bounds.count == 2, let lo = Int(bounds[0]), let hi = Int(bounds[1]), lo <= hi, hi - lo < 100_000 else {
                throw ExpansionError(
                    pattern: pattern,
                    reason: "expected {a..b} with whole numbers a <= b, or one of \(lists.keys.sorted().map { "{\($0)}" }.joined(separator: ", "))")
            }
            items = (lo...hi).map(String.init)
        }
        var out: [String] = []
        for item in items { out += try expand(head + item + tail, lists: lists) }
        return out
    }
}

/// A name pattern that could not be expanded.
public struct ExpansionError: Error, Equatable {
    public var pattern: String
    public var reason: String
}

import Foundation
