import Numerics
import Model
import Formats

/// Parses a family's `generator`:
/// `{"count": 64, "length": [2, 11], "tokens": ["A", "C"], "plant": [{"pattern": "$x $y", "at": "random", "times": 2}],
///   "distinct": ["$x", "$y"], "variable_tokens": [...]}`. `length` may be one number.
package enum GeneratorParser {
    package static let keys = ["count", "length", "tokens", "variable_tokens", "plant", "distinct"]
    /// Most sequences one family may generate.
    package static let maxCount = 100_000

    package static func parse(_ f: JSONFields, frame: SpecParser.Frame) throws -> SequenceGenerator {
        let count = try f.integer("count", in: 1...maxCount)
        let length = try parseLength(f, max: frame.maxLength)
        let tokens = try f.optionalStrings("tokens") ?? frame.vocab
        for t in tokens where !frame.vocab.contains(t) { throw f.error("tokens", "\"\(t)\" is not in the vocabulary") }
        guard !tokens.isEmpty else { throw f.error("tokens", "needs at least one token") }
        let variableTokens = try f.optionalStrings("variable_tokens") ?? tokens
        for t in variableTokens where !frame.vocab.contains(t) { throw f.error("variable_tokens", "\"\(t)\" is not in the vocabulary") }
        guard !variableTokens.isEmpty else { throw f.error("variable_tokens", "needs at least one token for the $variables to take") }
        let plants = try (f.has("plant") ? try f.array("plant") : []).enumerated().map { i, p in
            try plant(
                JSONFields(p, file: f.file, path: f.path("plant[\(i)]"), allowed: ["pattern", "at", "times"]), frame: frame, maxLength: length.upperBound)
        }
        return SequenceGenerator(
            count: count, length: length, tokens: tokens, variableTokens: variableTokens,
            plants: plants, distinct: try f.optionalStrings("distinct") ?? [])
    }

    private static func parseLength(_ f: JSONFields, max: Int) throws -> ClosedRange<Int> {
        let v = try f.value("length")
        let bounds: [Int]
        if let n = v.integer {
            bounds = [n, n]
        } else if let a = v.array, a.count == 2, let lo = a[0].integer, let hi = a[1].integer {
            bounds = [lo, hi]
        } else {
            throw f.error("length", "expected a whole number or [min, max]")
        }
        guard bounds[0] >= 1, bounds[0] <= bounds[1], bounds[1] <= max else {
            throw f.error("length", "expected 1 <= min <= max <= \(max) (n_ctx minus BOS), found \(bounds[0])...\(bounds[1])")
        }
        return bounds[0]...bounds[1]
    }

    private static func plant(_ p: JSONFields, frame: SpecParser.Frame, maxLength: Int) throws -> SequenceGenerator.Plant {
        let value = try p.value("pattern")
        let pattern: [String]
        if let s = value.string { pattern = s.split(separator: " ").map(String.init) } else { pattern = try p.strings("pattern") }
        for t in pattern where !t.hasPrefix("$") && !frame.vocab.contains(t) {
            throw p.error("pattern", "\"\(t)\" is neither a vocabulary token nor a $variable")
        }
        guard !pattern.isEmpty, pattern.count <= maxLength else { throw p.error("pattern", "expected 1 to \(maxLength) tokens") }
        let placement: SequenceGenerator.Placement
        let at = p.has("at") ? try p.value("at") : .string("random")
        switch (at.string, at.integer) {
        case ("random", _): placement = .random
        case ("start", _): placement = .start
        case ("end", _): placement = .end
        case (nil, let i?) where i >= 0: placement = .index(i)
        default: throw p.error("at", "expected \"random\", \"start\", \"end\" or a position")
        }
        return .init(pattern: pattern, placement: placement, times: try p.optionalInteger("times", in: 1...64) ?? 1)
    }
}
