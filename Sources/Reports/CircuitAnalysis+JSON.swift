import Numerics
import Model
import Formats
import Exercises
import Grading

/// The machine-readable view of a `CircuitAnalysis`, schema `circuit-grader/circuits@1`:
/// `{"schema", "exercise", "heads": [{"head", "qk", "ov", "full_qk", "full_ov"}], "composition": [{"from", "to",
/// "q", "k", "v"}], "virtual_heads": [{"from", "to", "ov"}]}`. Every matrix is `{"rows", "columns", "values"}`
/// in full (nothing folded); `qk`, `ov` and the virtual heads add `"rank"` and `"singular_values"`.
extension CircuitAnalysis {
    /// The schema identifier.
    public static let schema = "circuit-grader/circuits@1"

    /// The analysis as a JSON document.
    public var json: JSONValue {
        .obj([
            ("schema", .string(Self.schema)), ("exercise", .string(exercise)),
            (
                "heads",
                .array(
                    heads.map { h in
                        .obj([
                            ("head", .string(h.head.description)),
                            ("qk", Self.json(h.qk, h.qkSpectrum)), ("ov", Self.json(h.ov, h.ovSpectrum)),
                            ("full_qk", h.fullQK.json), ("full_ov", h.fullOV.json),
                        ])
                    })
            ),
            (
                "composition",
                .array(
                    compositions.map { c in
                        .obj([
                            ("from", .string(c.from.description)), ("to", .string(c.to.description)),
                            ("q", c.q.map(JSONValue.number) ?? .null), ("k", c.k.map(JSONValue.number) ?? .null),
                            ("v", c.v.map(JSONValue.number) ?? .null),
                        ])
                    })
            ),
            (
                "virtual_heads",
                .array(
                    virtualHeads.map { v in
                        .obj([("from", .string(v.from.description)), ("to", .string(v.to.description)), ("ov", Self.json(v.ov, v.spectrum))])
                    })
            ),
        ])
    }

    /// A labelled matrix with its rank and singular values.
    package static func json(_ m: LabelledMatrix, _ s: Spectrum) -> JSONValue {
        m.json(adding: [("rank", .number(Double(s.rank))), ("singular_values", .numbers(s.singularValues))])
    }
}
