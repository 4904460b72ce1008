import Numerics
import Model
import Formats

/// Parses circuit checks and conceptual questions.
///
/// Circuit: `{"id": "copy", "product": ["L0H0.OV"], "rows": ["d{0..3}"], "columns": ["d{8..11}"],
/// "copies": {"from": [...], "to": [...]}}`, or one of `"rank_at_most"`, `"rank_equals"`, `"rank_at_least"`,
/// `"zero": true`, `"nonzero": true`, `"reads_only"`, `"writes_only"`; optionally `"min_gain": g` (0 < g ≤ 1) and
/// `"unbiased": true` (see `CircuitCheck`).
/// Question: `{"id": "...", "prompt": "...", "set": [...]}` or `"choice": [...]` or `"number": 4, "tolerance": 0`.
package enum CircuitParser {
    package static let keys = [
        "id", "title", "product", "rows", "columns", "copies", "rank_at_most", "rank_equals",
        "rank_at_least", "zero", "nonzero", "reads_only", "writes_only", "min_gain", "unbiased",
    ]
    package static let questionKeys = ["id", "prompt", "set", "choice", "number", "tolerance"]

    package static func parse(_ f: JSONFields, frame: SpecParser.Frame) throws -> CircuitCheck {
        let lists = ["vocab": frame.vocab, "outputs": frame.outputs]
        let product = try f.strings("product").map { text -> CircuitCheck.Factor in
            let parts = text.split(separator: ".")
            guard parts.count == 2, let head = HeadRef(String(parts[0])), let kind = CircuitCheck.Factor.Kind(rawValue: String(parts[1])) else {
                throw f.error("product", "expected factors like \"L0H0.OV\", \"L1H0.QK\" or \"L0H0.OV^T\", found \"\(text)\"")
            }
            return .init(head: head, kind: kind)
        }
        guard !product.isEmpty else { throw f.error("product", "needs at least one factor") }
        func dims(_ key: String) throws -> [String]? {
            guard f.has(key) else { return nil }
            let names = try SpecParser.expand(try f.strings(key), lists: lists, f, key)
            for n in names where frame.layout.index(of: n) == nil { throw f.error(key, "unknown residual dim \"\(n)\"") }
            return names
        }
        let predicate: CircuitCheck.Predicate
        if f.has("copies") {
            let c = try f.fields("copies", allowed: ["from", "to"])
            let from = try SpecParser.expand(try c.strings("from"), lists: lists, c, "from")
            let to = try SpecParser.expand(try c.strings("to"), lists: lists, c, "to")
            guard from.count == to.count, !from.isEmpty else { throw c.error(nil, "\"from\" and \"to\" need the same, non-zero number of dims") }
            for n in from + to where frame.layout.index(of: n) == nil { throw c.error(nil, "unknown residual dim \"\(n)\"") }
            predicate = .copies(from: from, to: to)
        } else if f.has("rank_at_most") {
            predicate = .rankAtMost(try f.integer("rank_at_most", in: 0...InputLimits.maxDimension))
        } else if f.has("rank_equals") {
            predicate = .rankEquals(try f.integer("rank_equals", in: 0...InputLimits.maxDimension))
        } else if f.has("rank_at_least") {
            predicate = .rankAtLeast(try f.integer("rank_at_least", in: 0...InputLimits.maxDimension))
        } else if try f.optionalBool("zero") == true {
            predicate = .zero
        } else if try f.optionalBool("nonzero") == true {
            predicate = .nonzero
        } else if let only = try dims("reads_only") {
            predicate = .readsOnly(only)
        } else if let only = try dims("writes_only") {
            guard product.last?.kind == .ov || product.first?.kind == .ovT else {
                throw f.error("writes_only", "the product has no writing side: it needs to end in an OV factor (or start with OV^T)")
            }
            predicate = .writesOnly(only)
        } else {
            throw f.error(
                nil, "a circuit check needs one of copies, rank_at_most, rank_equals, rank_at_least, zero, nonzero, reads_only, writes_only")
        }
        let id = try f.string("id")
        var check = CircuitCheck(
            id: id, title: try f.optionalString("title") ?? id, product: product, rows: try dims("rows"),
            columns: try dims("columns"), predicate: predicate)
        if f.has("min_gain") {
            let g = try f.number("min_gain")
            guard g > 0, g <= 1 else { throw f.error("min_gain", "expected a share of the largest gain, in (0, 1], found \(NumberText.exact(g))") }
            switch predicate {
            case .rankAtMost, .rankEquals, .rankAtLeast, .nonzero, .copies: break
            case .zero, .readsOnly, .writesOnly:
                throw f.error("min_gain", "applies to rank, nonzero and copies checks; a zero, reads_only or writes_only check counts every entry")
            }
            check.minGain = g
        }
        check.unbiased = try f.optionalBool("unbiased") ?? false
        return check
    }

    package static func question(_ f: JSONFields) throws -> Question {
        let answer: Question.Answer
        if f.has("set") {
            answer = .set(try f.strings("set"))
        } else if f.has("choice") {
            answer = .choice(try f.strings("choice"))
        } else if f.has("number") {
            answer = .number(try f.number("number"), tolerance: try f.optionalNumber("tolerance") ?? 0)
        } else {
            throw f.error(nil, "a question needs one of set, choice, number")
        }
        return Question(id: try f.string("id"), prompt: try f.string("prompt"), answer: answer)
    }
}
