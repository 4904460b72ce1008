import Numerics
import Model
import Formats

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
    ///
    /// At most `limit` names are made (`InputLimits.maxResidualNames` by default): every range is checked
    /// against what is left of the limit *before* its names are built, so `{0..99999}{0..99999}` fails at once.
    public static func expand(
        _ patterns: [String], lists: [String: [String]], limit: Int = InputLimits.maxResidualNames
    ) throws(ExpansionError) -> [String] {
        var out: [String] = []
        for p in patterns { try expand(p, lists: lists, limit: limit, into: &out) }
        return out
    }

    /// Expands one pattern.
    public static func expand(
        _ pattern: String, lists: [String: [String]], limit: Int = InputLimits.maxResidualNames
    ) throws(ExpansionError) -> [String] {
        var out: [String] = []
        try expand(pattern, lists: lists, limit: limit, into: &out)
        return out
    }

    /// Appends the names `pattern` expands to, keeping `out` within `limit` names.
    private static func expand(
        _ pattern: String, lists: [String: [String]], limit: Int, into out: inout [String]
    ) throws(ExpansionError) {
        let tooMany = ExpansionError(pattern: pattern, reason: "expands to more than \(limit) names, the limit")
        guard let open = pattern.firstIndex(of: "{") else {
            guard out.count < limit else { throw tooMany }
            out.append(pattern)
            return
        }
        guard let close = pattern[open...].firstIndex(of: "}") else { throw ExpansionError(pattern: pattern, reason: "'{' without '}'") }
        let head = String(pattern[..<open])
        let tail = String(pattern[pattern.index(after: close)...])
        let inner = String(pattern[pattern.index(after: open)..<close])
        let items: [String]
        if let list = lists[inner] {
            items = list
        } else {
            let bounds = inner.components(separatedBy: "..")
            guard bounds.count == 2, let lo = Int(bounds[0]), let hi = Int(bounds[1]), lo <= hi else {
                throw ExpansionError(
                    pattern: pattern,
                    reason: "expected {a..b} with whole numbers a <= b, or one of \(lists.keys.sorted().map { "{\($0)}" }.joined(separator: ", "))")
            }
            // `hi - lo` may overflow (`{-9223372036854775808..1}`): compare without subtracting.
            let (span, overflow) = hi.subtractingReportingOverflow(lo)
            guard !overflow, span < limit - out.count else { throw tooMany }
            items = (lo...hi).map(String.init)
        }
        guard items.count <= limit - out.count else { throw tooMany }
        for item in items { try expand(head + item + tail, lists: lists, limit: limit, into: &out) }
    }
}

/// A name pattern that could not be expanded.
public struct ExpansionError: Error, Equatable {
    public var pattern: String
    public var reason: String
}

import Foundation
