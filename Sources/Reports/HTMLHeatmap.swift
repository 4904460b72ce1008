import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading

/// Heatmap tables for the HTML report. Every cell carries its exact value in `data-v` (shortest round-trip
/// form, as in the JSON reports) and a readable one in its `title`, shown on hover; its shade is one of the
/// report stylesheet's classes `a0`…`a10` (attention, 0 to 1) or `p1`…`p10` / `n1`…`n10` (positive / negative,
/// relative to the largest magnitude in the table).
public enum HTMLHeatmap {
    /// An attention pattern `[T, T]` (row = query position), labelled per position; keys after the query are
    /// masked when `causal`. `focus` names the query row to highlight (the graded position), if any.
    public static func attention(
        _ pattern: Matrix, head: HeadRef, positions: [String], tokens: [String], causal: Bool,
        sequence: [String], focus: String?
    ) -> String {
        let labels = zip(positions, tokens).map { $0 == $1 ? $0 : "\($0) \($1)" }
        var out =
            "<table class=\"heatmap\" data-kind=\"attention\" data-head=\"\(head)\" data-sequence=\"\(MarkupText.escape(sequence.joined(separator: " ")))\">"
        out += "<caption>\(head) attention</caption>"
        out += "<tr><th class=\"corner\">query \\ key</th>" + labels.map { "<th class=\"col\">\(MarkupText.escape($0))</th>" }.joined() + "</tr>"
        for q in 0..<pattern.rows {
            let rowClass = labels[q] == focus || positions[q] == focus ? " class=\"focus\"" : ""
            out += "<tr\(rowClass)><th>\(MarkupText.escape(labels[q]))</th>"
            for k in 0..<pattern.columns {
                let cellName = "\(head) query \(labels[q]) → key \(labels[k])"
                if causal && k > q {
                    out += "<td class=\"masked\" title=\"\(MarkupText.escape(cellName)): masked\" data-v=\"0\"></td>"
                } else {
                    out += attentionCell(pattern[q, k], title: cellName)
                }
            }
            out += "</tr>"
        }
        return out + "</table>\n"
    }

    /// A signed matrix (a circuit), with all-zero rows and columns folded away; `kind` and `head` label the table.
    public static func signed(_ m: LabelledMatrix, kind: String, head: String, caption: String) -> String {
        let folded = m.folded
        guard !folded.rows.isEmpty else { return "<p class=\"zero\">\(MarkupText.escape(caption)): all zero</p>\n" }
        let scale = folded.values.maxAbs
        var out = "<table class=\"heatmap\" data-kind=\"\(kind)\" data-head=\"\(MarkupText.escape(head))\">"
        out += "<caption>\(MarkupText.escape(caption))</caption>"
        out += "<tr><th class=\"corner\"></th>" + folded.columns.map { "<th class=\"col\">\(MarkupText.escape($0))</th>" }.joined() + "</tr>"
        for (r, row) in folded.rows.enumerated() {
            out += "<tr><th>\(MarkupText.escape(row))</th>"
            for (c, column) in folded.columns.enumerated() {
                out += signedCell(folded.values[r, c], scale: scale, title: "\(head) \(row) → \(column)")
            }
            out += "</tr>"
        }
        return out + "</table>\n"
    }

    /// One attention weight: shade class by tenths, two decimals shown (`1` for a full weight).
    package static func attentionCell(_ w: Double, title: String) -> String {
        let bucket = Int((min(max(w, 0), 1) * 10).rounded())
        let shown = w >= 0.995 ? "1" : String(format: "%.2f", w).replacingOccurrences(of: "0.", with: ".")
        return "<td class=\"a\(bucket)\" title=\"\(MarkupText.escape(title)): \(NumberText.rounded(w))\" data-v=\"\(NumberText.exact(w))\">\(shown)</td>"
    }

    /// One circuit entry: shade by its size relative to `scale`, blank when zero.
    package static func signedCell(_ x: Double, scale: Double, title: String) -> String {
        let bucket = scale > 0 ? Int((min(abs(x) / scale, 1) * 10).rounded()) : 0
        let shade = x == 0 || bucket == 0 ? "" : " class=\"\(x > 0 ? "p" : "n")\(bucket)\""
        let shown = x == 0 ? "" : NumberText.rounded(x)
        return "<td\(shade) title=\"\(MarkupText.escape(title)): \(NumberText.rounded(x))\" data-v=\"\(NumberText.exact(x))\">\(shown)</td>"
    }
}
