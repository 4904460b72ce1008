import Numerics
import Model
import Formats
import Exercises
import Grading

/// A labelled table for the terminal: header lines over the columns, a label before every row, cells
/// right-aligned. Tables wider than `maxWidth` are split into blocks of columns, each repeating the row labels.
/// Colour (an ANSI SGR code per cell) is applied after alignment, so it never shifts a column.
package struct TextTable {
    /// One cell: its text and an optional ANSI colour code such as `"32"` or `"38;5;39"`.
    package struct Cell {
        package var text: String
        package var colour: String? = nil
    }

    /// Header lines; `header[i]` has one entry per column.
    package var header: [[String]]
    /// One label per row.
    package var rowLabels: [String]
    /// `cells[row][column]`.
    package var cells: [[Cell]]
    /// Text above the row labels, one entry per header line (may be shorter than `header`).
    package var corner: [String] = []
    /// The narrowest a column may be, so short numbers still line up in readable columns.
    package var minWidth = 0

    /// The table as lines, each starting with `indent`.
    package func render(colour: Bool, indent: String = "  ", maxWidth: Int = 120) -> String {
        let columns = header.first?.count ?? cells.first?.count ?? 0
        let labelWidth = (rowLabels + corner).map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in
            (header.map { $0[c].count } + cells.map { $0[c].text.count } + [minWidth]).max() ?? 0
        }
        var out = ""
        for block in blocks(widths, available: maxWidth - indent.count - labelWidth) {
            for (i, line) in header.enumerated() {
                let label = i < corner.count ? corner[i] : ""
                out +=
                    indent + pad(label, labelWidth, left: true)
                    + block.map { " " + pad(line[$0], widths[$0], left: false) }.joined() + "\n"
            }
            for (r, row) in cells.enumerated() {
                out +=
                    indent + pad(rowLabels[r], labelWidth, left: true)
                    + block.map { " " + paint(pad(row[$0].text, widths[$0], left: false), row[$0].colour, colour) }.joined() + "\n"
            }
        }
        return out
    }

    /// Consecutive column ranges whose cells (plus one space each) fit in `available` characters.
    private func blocks(_ widths: [Int], available: Int) -> [[Int]] {
        var out: [[Int]] = []
        var current: [Int] = []
        var used = 0
        for (c, w) in widths.enumerated() {
            if !current.isEmpty && used + w + 1 > available {
                out.append(current)
                current = []
                used = 0
            }
            current.append(c)
            used += w + 1
        }
        if !current.isEmpty || out.isEmpty { out.append(current) }
        return out
    }

    private func pad(_ s: String, _ width: Int, left: Bool) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return left ? s + fill : fill + s
    }

    private func paint(_ s: String, _ code: String?, _ colour: Bool) -> String {
        guard colour, let code else { return s }
        return "\u{1B}[\(code)m\(s)\u{1B}[0m"
    }
}

extension TextTable {
    /// A table of signed numbers (zeros shown as `·`), positive entries green and negative red in colour.
    package init(_ m: LabelledMatrix, corner: String = "") {
        self.init(
            header: [m.columns], rowLabels: m.rows,
            cells: (0..<m.values.rows).map { r in
                (0..<m.values.columns).map { c in TextTable.number(m.values[r, c]) }
            }, corner: [corner], minWidth: 5)
    }

    /// A signed number as a cell: three decimals, `·` for zero, green when positive and red when negative.
    package static func number(_ x: Double) -> Cell {
        if x == 0 { return Cell(text: "·") }
        return Cell(text: NumberText.rounded(x), colour: x > 0 ? "32" : "31")
    }
}
