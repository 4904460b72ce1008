import Numerics
import Model
import Formats
import Exercises
import Grading

/// The terminal view of an `Explanation`: per head an attention heatmap and a table of what it wrote on the
/// named residual dims, then the logits and prediction at every position.
extension Explanation {
    /// The explanation as plain text (no colour).
    public var text: String { text(colour: false) }

    /// The explanation as text; ANSI colour when `colour`.
    public func text(colour: Bool) -> String {
        var out = "\(exercise): \(sequence.joined(separator: " "))\n"
        for h in heads {
            out += "\n\(h.head) attention (rows: query position, columns: key position\(causal ? "; · masked" : ""))\n"
            out += HeatmapText.render(
                h.pattern, positions: positions.map(\.label), tokens: positions.map(\.token),
                causal: causal, colour: colour)
            out += "\n" + writesText(h, colour: colour)
        }
        out += "\nlogits and prediction at each position\n" + logitsTable.render(colour: colour)
        return out
    }

    /// `"pos token"` for every position (just `BOS` where the two agree).
    package var positionLabels: [String] { positions.map { $0.label == $0.token ? $0.label : "\($0.label) \($0.token)" } }

    /// What one head wrote: a table over the dims it changed somewhere, rows = positions.
    package func writesText(_ h: HeadTrace, colour: Bool) -> String {
        let written = LabelledMatrix(h.output, rows: positionLabels, columns: residualNames)
        let dims = written.nonZeroColumns
        guard !dims.isEmpty else { return "\(h.head) wrote nothing to the residual stream\n" }
        let table = TextTable(
            header: [dims.map { residualNames[$0] }], rowLabels: positionLabels,
            cells: (0..<h.output.rows).map { p in dims.map { TextTable.number(h.output[p, $0]) } },
            corner: ["position"], minWidth: 5)
        return "\(h.head) wrote (residual dims it changed; · is 0)\n" + table.render(colour: colour)
    }

    /// Logits per output class, then the prediction (green when it is what the rule expects, red when not).
    package var logitsTable: TextTable {
        let outputs = positions.first?.logits.map(\.0) ?? []
        let cells = positions.map { p -> [TextTable.Cell] in
            let verdict: String? = p.expected.map { $0 == p.prediction ? "32" : "31" }
            return p.logits.map { TextTable.Cell(text: NumberText.rounded($0.1)) }
                + [TextTable.Cell(text: p.prediction, colour: verdict), TextTable.Cell(text: p.expected ?? "–")]
        }
        return TextTable(header: [outputs + ["predicts", "expected"]], rowLabels: positionLabels, cells: cells, corner: ["position"], minWidth: 5)
    }
}
