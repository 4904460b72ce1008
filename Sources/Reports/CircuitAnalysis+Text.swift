import Numerics
import Model
import Formats
import Exercises
import Grading

/// The terminal view of a `CircuitAnalysis`: labelled tables with all-zero rows and columns folded away.
extension CircuitAnalysis {
    /// The analysis as plain text (no colour).
    public var text: String { text(colour: false) }

    /// The analysis as text; ANSI colour (green positive, red negative) when `colour`.
    public func text(colour: Bool) -> String {
        var out = "circuits of \(exercise) (rows × columns; · is 0; all-zero rows and columns are folded away)\n"
        for h in heads { out += "\n" + headText(h, colour: colour) }
        if !compositions.isEmpty { out += "\n" + compositionText(colour: colour) }
        for v in virtualHeads { out += "\n" + virtualHeadText(v, colour: colour) }
        return out
    }

    private func headText(_ h: HeadCircuits, colour: Bool) -> String {
        var out = "\(h.head)\n"
        out += "  QK circuit W_Q W_K^T (rows: query dims, columns: key dims), \(Self.describe(h.qkSpectrum))\n"
        out += Self.table(h.qk, corner: "query \\ key", colour: colour)
        out += "  OV circuit W_V W_O (rows: dims read, columns: dims written), \(Self.describe(h.ovSpectrum))\n"
        out += Self.table(h.ov, corner: "read \\ written", colour: colour)
        out += "  full QK circuit through the embedding (direct path; rows: query, columns: key)\n"
        out += Self.table(h.fullQK, corner: "query \\ key", colour: colour)
        out += "  full OV circuit through the embedding and W_U (direct path; rows: attended, columns: logit)\n"
        out += Self.table(h.fullOV, corner: "attended \\ logit", colour: colour)
        return out
    }

    private func virtualHeadText(_ v: VirtualHead, colour: Bool) -> String {
        let title = "virtual head \(v.from) → \(v.to), W_OV^\(v.from) W_OV^\(v.to)"
        guard !v.ov.folded.rows.isEmpty else { return title + ": zero (\(v.to) moves nothing that \(v.from) writes)\n" }
        return title + " (rows: dims \(v.from) reads, columns: dims \(v.to) writes), \(Self.describe(v.spectrum))\n"
            + Self.table(v.ov, corner: "read \\ written", colour: colour)
    }

    private func compositionText(colour: Bool) -> String {
        let cells = compositions.map { c in
            [c.q, c.k, c.v].map { TextTable.Cell(text: $0.map(NumberText.rounded) ?? "–") }
        }
        let table = TextTable(
            header: [["Q", "K", "V"]], rowLabels: compositions.map { "\($0.from) → \($0.to)" },
            cells: cells, corner: ["earlier → later"], minWidth: 5)
        return "composition scores (0: the later head ignores what the earlier writes; 1: it reads exactly that; – : a factor is zero)\n"
            + table.render(colour: colour)
    }

    /// `rank r, singular values a, b, …` (at most 12 values).
    package static func describe(_ s: Spectrum) -> String {
        guard s.rank > 0 else { return "rank 0 (zero)" }
        let shown = s.singularValues.prefix(12).map(NumberText.rounded).joined(separator: ", ")
        return "rank \(s.rank), singular values \(shown)\(s.singularValues.count > 12 ? ", …" : "")"
    }

    /// The folded table, indented, or a note that the matrix is zero.
    package static func table(_ m: LabelledMatrix, corner: String, colour: Bool) -> String {
        let folded = m.folded
        guard !folded.rows.isEmpty else { return "    (all zero)\n" }
        var note = ""
        let hidden = (m.rows.count - folded.rows.count, m.columns.count - folded.columns.count)
        if hidden.0 > 0 || hidden.1 > 0 { note = "    (\(plural(hidden.0, "zero row")) and \(plural(hidden.1, "zero column")) folded)\n" }
        return note + TextTable(folded, corner: corner).render(colour: colour, indent: "    ")
    }
}
