import Numerics
import Model
import Formats

/// Parses the declarative labelling rules of a spec (`rule`, `attention`).
///
/// Rule forms: `{"current_token": {"A": "B"}}`, `{"token_at_offset": -1, "map": {...}}`,
/// `{"seen_before": {...}}`, `{"bigram": {"A B": "C"}}`, `{"induction": "skip_if_conflicting" | "most_recent"}`.
package enum RuleParser {
    package static let keys = ["current_token", "token_at_offset", "map", "seen_before", "bigram", "induction"]
    package static let attentionKeys = ["head", "to", "min_mass", "argmax", "queries", "spread"]

    package static func parse(_ value: JSONValue, fields parent: JSONFields, frame: SpecParser.Frame) throws -> PredictionRule {
        let f = try JSONFields(value, file: parent.file, path: parent.path("rule"), allowed: keys)
        func map(_ key: String) throws -> [String: String] {
            var out: [String: String] = [:]
            for (from, to) in try f.stringMap(key) {
                guard frame.vocab.contains(from) else { throw f.error(key, "\"\(from)\" is not in the vocabulary") }
                guard frame.outputs.contains(to) else { throw f.error(key, "\"\(to)\" is not an output class") }
                out[from] = to
            }
            return out
        }
        if f.has("current_token") { return .currentToken(map: try map("current_token")) }
        if f.has("token_at_offset") {
            return .tokenAtOffset(offset: try f.integer("token_at_offset", in: -64...(-1)), map: try map("map"))
        }
        if f.has("seen_before") { return .seenBefore(map: try map("seen_before")) }
        if f.has("bigram") {
            var out: [[String]: String] = [:]
            for (pair, to) in try f.stringMap("bigram") {
                let tokens = pair.split(separator: " ").map(String.init)
                guard tokens.count == 2, tokens.allSatisfy(frame.vocab.contains), frame.outputs.contains(to) else {
                    throw f.error("bigram", "expected \"X Y\": output with vocabulary tokens X, Y, found \"\(pair)\": \"\(to)\"")
                }
                out[tokens] = to
            }
            return .bigram(map: out)
        }
        if f.has("induction") { return .induction(resolution: try f.choice("induction", default: .skipIfConflicting)) }
        throw f.error(nil, "expected one of: \(keys.filter { $0 != "map" }.joined(separator: ", "))")
    }

    package static func attention(_ f: JSONFields) throws -> AttentionRequirement {
        let headText = try f.string("head")
        guard let head = HeadRef(headText) else { throw f.error("head", "expected a head like \"L0H0\", found \"\(headText)\"") }
        let minMass = try f.optionalNumber("min_mass") ?? 0
        guard (0...1).contains(minMass) else { throw f.error("min_mass", "expected a number in 0...1, found \(minMass)") }
        _ = try f.string("to")
        return AttentionRequirement(
            head: head, rule: try f.choice("to", default: .self), minMass: minMass,
            argmax: try f.optionalBool("argmax") ?? true, spread: try spread(f), queries: try f.choice("queries", default: .all))
    }

    /// `spread`: a number in 0...1 (0, the default, requires nothing).
    package static func spread(_ f: JSONFields) throws -> Double {
        let x = try f.optionalNumber("spread") ?? 0
        guard (0...1).contains(x) else { throw f.error("spread", "expected a number in 0...1 (each key's least share of an equal split), found \(x)") }
        return x
    }
}
