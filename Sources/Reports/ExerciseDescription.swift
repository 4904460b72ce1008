import Numerics
import Model
import Formats
import Exercises
import Grading

/// Describes an exercise for `show`: its frame, layout and fixed matrices as labelled numbers.
public enum ExerciseDescription {
    /// A labelled matrix: `{"rows": [...], "columns": [...], "values": [[...]]}`.
    public static func labelled(_ m: Matrix, rows: [String], columns: [String]) -> JSONValue {
        .obj([("rows", .array(rows.map(JSONValue.string))), ("columns", .array(columns.map(JSONValue.string))), ("values", .matrix(m))])
    }

    public static func json(_ s: ExerciseSpec) -> JSONValue {
        let names = s.layout.names
        var fixed: [(String, JSONValue)] = [("W_E", labelled(s.wE, rows: s.inputTokens, columns: names))]
        if let wPos = s.wPos { fixed.append(("W_pos", labelled(wPos, rows: s.positionNames, columns: names))) }
        fixed.append(("W_U", labelled(s.wU, rows: names, columns: s.outputs)))
        fixed.append(("b_U", .obj(zip(s.outputs, s.bU).map { ($0, JSONValue.number($1)) })))
        return .obj([
            ("schema", .string("circuit-grader/exercise@1")),
            ("id", .string(s.id)), ("exercise", .string(s.exercise)), ("variant", .string(s.variant)), ("title", .string(s.title)),
            ("source", .string(s.origin)), ("description", .string(s.description)),
            ("status", .string(s.isExploratory ? "exploratory" : "graded")),
            ("vocab", .array(s.vocab.map(JSONValue.string))), ("bos", s.bos.map(JSONValue.string) ?? .null),
            ("outputs", .array(s.outputs.map(JSONValue.string))), ("n_ctx", .number(Double(s.nCtx))),
            ("positional", .string(s.positional.rawValue)), ("causal", .bool(s.causal)), ("attention_scale", .number(s.attentionScale)),
            (
                "limits",
                .obj([
                    ("layers", .number(Double(s.limits.layers))), ("heads", .number(Double(s.limits.headsPerLayer))),
                    ("d_head", s.limits.dHead.map { .number(Double($0)) } ?? .null),
                ])
            ),
            ("residual", .array(names.map(JSONValue.string))), ("scratch", .array(s.layout.scratch.map(JSONValue.string))),
            ("fixed", .obj(fixed)),
            (
                "families",
                .array(
                    s.families.map { f in
                        .obj([
                            ("id", .string(f.id)), ("title", .string(f.title)), ("kind", .string(kind(f.source))),
                            ("points", .number(f.points)), ("visibility", .string(f.visibility.rawValue)),
                        ])
                    })
            ),
        ])
    }

    package static func kind(_ source: ExerciseSpec.Source) -> String {
        switch source {
        case .explicit: "cases"
        case .generated: "generated"
        case .circuits: "circuits"
        case .questions: "questions"
        }
    }

    /// A short text description.
    public static func text(_ s: ExerciseSpec) -> String {
        var out = "\(s.id): \(s.title)\n  source: \(s.origin)\n"
        if case .exploratory(let reason) = s.status { out += "  exploratory: \(reason)\n" }
        out += "  \(s.description)\n"
        out += "  vocab: \(s.vocab.joined(separator: " "))\(s.bos.map { "  (BOS \($0) at position 0)" } ?? "")\n"
        out += "  outputs: \(s.outputs.joined(separator: " "))\n"
        out += "  n_ctx \(s.nCtx), positional \(s.positional.rawValue), causal \(s.causal), attention scale \(NumberText.exact(s.attentionScale))\n"
        out += "  limits: \(s.limits.layers) layer(s), \(s.limits.headsPerLayer) head(s) per layer\(s.limits.dHead.map { ", d_head <= \($0)" } ?? "")\n"
        out += "  residual (\(s.layout.dModel) dims): \(s.layout.names.joined(separator: " "))\n"
        for f in s.families {
            out += "  family \(f.id) [\(kind(f.source)), \(NumberText.exact(f.points)) pt\(f.partialCredit ? ", partial credit" : "")]: \(f.title)\n"
            if case .circuits(let checks) = f.source {
                for c in checks { out += "    check \(c.id): \(c.product.map(\.description).joined(separator: " · "))\(c.restriction)\n" }
            }
        }
        if !s.necessaryHeads.isEmpty { out += "  necessary heads: \(s.necessaryHeads.map(\.description).joined(separator: ", "))\n" }
        return out
    }
}
