import Numerics
import Model
import Formats

/// Parses one explicit case: a sequence and its targets, or a sequence labelled by the family's rule.
///
/// `{"sequence": "A C A", "predict": ["B", "none", "B"]}`; `predict` may also be `{"2": "B"}`;
/// `"attention": [{"head": "L0H0", "query": 2, "keys": [1], "min_mass": 0.5, "argmax": true}]`;
/// `"residual": [{"position": 2, "dims": ["s0"], "value": [1], "tolerance": 0.1, "after_layer": 1}]`.
package enum CaseParser {
    package static let keys = ["sequence", "predict", "attention", "residual", "note"]

    package static func parse(_ f: JSONFields, frame: SpecParser.Frame, plan: LabelPlan?) throws -> GradingCase {
        let tokens = try tokensOf(try f.string("sequence"), frame: frame, f, "sequence")
        var targets: [Target] = []
        if f.has("predict") { targets += try predictions(f, tokens: tokens, frame: frame) }
        if f.has("attention") { targets += try attention(f, tokens: tokens, frame: frame) }
        if f.has("residual") { targets += try residual(f, tokens: tokens, frame: frame) }
        if targets.isEmpty {
            guard let plan else { throw f.error(nil, "no targets: give \"predict\", \"attention\" or \"residual\", or a rule to label the sequence") }
            targets = plan.targets(for: tokens, hasBOS: frame.bos != nil)
        }
        return GradingCase(tokens: tokens, targets: targets)
    }

    /// Splits a sequence on spaces and checks every token and the length.
    package static func tokensOf(_ text: String, frame: SpecParser.Frame, _ f: JSONFields, _ key: String) throws -> [String] {
        let tokens = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !tokens.isEmpty else { throw f.error(key, "the sequence is empty") }
        for t in tokens where !frame.vocab.contains(t) {
            throw f.error(key, "\"\(t)\" is not in the vocabulary (\(frame.vocab.joined(separator: " ")))")
        }
        guard tokens.count <= frame.maxLength else {
            throw f.error(key, "\(plural(tokens.count, "token")) is longer than the \(frame.maxLength) that n_ctx allows")
        }
        return tokens
    }

    private static func predictions(_ f: JSONFields, tokens: [String], frame: SpecParser.Frame) throws -> [Target] {
        let value = try f.value("predict")
        var pairs: [(Int, String)] = []
        if let list = value.array {
            guard list.count == tokens.count else { throw f.error("predict", "expected one label per token (\(tokens.count)), found \(list.count)") }
            pairs = try list.enumerated().compactMap { i, item in
                if item == .null { return nil }
                guard let s = item.string else { throw f.error("predict", "item \(i): expected an output name or null") }
                return (i, s)
            }
        } else if let object = value.object {
            pairs = try object.members.map { m in
                guard let i = Int(m.key), tokens.indices.contains(i), let s = m.value.string else {
                    throw f.error("predict", "expected {\"position\": \"output\"} with positions 0..<\(tokens.count), found \"\(m.key)\"")
                }
                return (i, s)
            }
        } else {
            throw f.error("predict", "expected an array or an object, found \(value.typeName)")
        }
        for (_, s) in pairs where !frame.outputs.contains(s) {
            throw f.error("predict", "\"\(s)\" is not an output class (\(frame.outputs.joined(separator: " ")))")
        }
        return pairs.map { .predict(position: $0.0, expected: $0.1) }
    }

    private static func attention(_ f: JSONFields, tokens: [String], frame: SpecParser.Frame) throws -> [Target] {
        try f.array("attention").enumerated().map { i, item in
            let a = try JSONFields(item, file: f.file, path: f.path("attention[\(i)]"), allowed: ["head", "query", "keys", "min_mass", "argmax", "spread"])
            let headText = try a.string("head")
            guard let head = HeadRef(headText) else { throw a.error("head", "expected a head like \"L0H0\"") }
            let query = try a.integer("query", in: 0...(tokens.count - 1))
            let low = frame.bos == nil ? 0 : -1
            let keys = try a.array("keys").map { k in
                guard let j = k.integer, (low..<tokens.count).contains(j) else {
                    throw a.error("keys", "expected key positions in \(low)...\(tokens.count - 1) (−1 is BOS)")
                }
                return j
            }
            return .attention(
                head: head, query: query, keys: keys, minMass: try a.optionalNumber("min_mass") ?? 0,
                argmax: try a.optionalBool("argmax") ?? true, spread: try RuleParser.spread(a))
        }
    }

    private static func residual(_ f: JSONFields, tokens: [String], frame: SpecParser.Frame) throws -> [Target] {
        try f.array("residual").enumerated().map { i, item in
            let r = try JSONFields(
                item, file: f.file, path: f.path("residual[\(i)]"),
                allowed: ["position", "dims", "value", "tolerance", "after_layer"])
            let dims = try r.strings("dims")
            for d in dims where frame.layout.index(of: d) == nil { throw r.error("dims", "unknown residual dim \"\(d)\"") }
            let values = try r.array("value").map { v in
                guard let x = v.number else { throw r.error("value", "expected numbers") }
                return x
            }
            guard values.count == dims.count else { throw r.error("value", "expected \(dims.count) values, one per dim") }
            return .residual(
                position: try r.integer("position", in: 0...(tokens.count - 1)), dims: dims, expected: values,
                tolerance: try r.optionalNumber("tolerance") ?? 1e-6,
                afterLayer: try r.optionalInteger("after_layer", in: 0...16))
        }
    }
}
