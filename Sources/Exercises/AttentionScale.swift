import Numerics
import Model
import Formats

/// `attention_scale: "1/sqrt(d_head)"` follows the graded model's own `d_head`, as TransformerLens's
/// `attn_scale = sqrt(d_head)` does, not the exercise's bound on it.
///
/// `SpecParser` turns the rule into a number from `limits.d_head` and marks the spec
/// (`attentionScaleFollowsDHead`) so
/// `ModelBuilder` can use the model's width instead (the number stays for heads given as circuits, which
/// have no `d_head`).
package enum AttentionScale {
    /// The text of the rule in a spec.
    package static let inverseSqrtDHead = "1/sqrt(d_head)"

    /// The scale for `heads`: `1/sqrt(d_head)` of their shared width when the spec follows `d_head` and every
    /// head is factored, else the spec's number. Heads of different widths are refused (TransformerLens
    /// gives every head one `d_head`).
    package static func scale(_ spec: ExerciseSpec, heads: [(location: String, dHead: Int?)], file: String) throws -> Double {
        guard spec.attentionScaleFollowsDHead else { return spec.attentionScale }
        let widths = heads.compactMap(\.dHead)
        guard let first = widths.first, widths.count == heads.count else { return spec.attentionScale }
        if let other = heads.first(where: { $0.dHead != first }) {
            throw GraderError(
                file: file, location: other.location,
                "has d_head = \(other.dHead ?? 0) but \(heads[0].location) has \(first); with attention_scale \"\(inverseSqrtDHead)\" every head must have the same d_head"
            )
        }
        return 1 / Double(max(first, 1)).squareRoot()
    }
}
