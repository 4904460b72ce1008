import Numerics
import Model

/// The CSV variants spreadsheets and pandas write, read into the plain form `CSVMatrix` parses.
///
/// - a byte-order mark before the first line (Excel's "CSV UTF-8"), dropped, so a `#` comment line after it
///   is still a comment;
/// - the separator: `,`, or `;` (Excel in locales whose decimal mark is a comma, with `0,5` cells read as
///   0.5), or a tab when a line has neither; cells in double quotes are unquoted;
/// - pandas `DataFrame.to_csv`: a header of column positions `,0,1,2` (or `0,1,2` with `index=False`) and an
///   index column `0, 1, 2, …` are positions, not names, and are dropped.
package struct CSVDialect: Equatable {
    /// The cell separator.
    package let separator: Character
    /// Whether numbers use a decimal comma (only with `;`).
    package let decimalComma: Bool

    /// `text` without a leading byte-order mark.
    package static func strippingByteOrderMark(_ text: String) -> String {
        text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    /// The dialect of the data `lines` (comments and blank lines already left out).
    package init(lines: [String]) {
        if lines.contains(where: { $0.contains(";") }) {
            separator = ";"
            decimalComma = lines.contains { line in
                line.split(separator: ";").contains { cell in cell.contains(",") && Double(cell.replacingOccurrences(of: ",", with: ".")) != nil }
            }
        } else if lines.contains(where: { $0.contains("\t") }) && !lines.contains(where: { $0.contains(",") }) {
            separator = "\t"
            decimalComma = false
        } else {
            separator = ","
            decimalComma = false
        }
    }

    /// The cells of one line: split, trimmed, unquoted, decimal commas turned into points.
    package func cells(_ line: String) -> [String] {
        line.split(separator: separator, omittingEmptySubsequences: false).map { raw in
            var cell = raw.trimmingCharacters(in: .whitespaces)
            if cell.count >= 2, cell.hasPrefix("\""), cell.hasSuffix("\"") {
                cell = String(cell.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
            }
            if decimalComma, cell.contains(","), Double(cell.replacingOccurrences(of: ",", with: ".")) != nil {
                cell = cell.replacingOccurrences(of: ",", with: ".")
            }
            return cell
        }
    }

    /// Which of the first row and first column of `rows` are pandas positions, to be dropped.
    ///
    /// A header is positional when its cells after an empty corner (or all its cells, at least two, when it
    /// has no corner and the rows below are written as floats) are `0, 1, …`. An index column is positional
    /// when the body's first cells are `0, 1, …` and either the header has an empty corner or, with at least
    /// two rows, every other cell is written as a float (`1.0`), as pandas writes them.
    package static func pandasPositions(_ rows: [[String]]) -> (header: Bool, index: Bool) {
        guard let first = rows.first else { return (false, false) }
        let corner = first.count >= 2 && first[0].isEmpty
        let floatsBelow = rows.count > 1 && rows.dropFirst().allSatisfy { $0.allSatisfy(isFloatText) }
        let header = corner ? isPositions(first.dropFirst()) : (first.count >= 2 && isPositions(first[...]) && floatsBelow)
        let body = (header || corner) ? rows.dropFirst() : rows[...]
        let firstColumn = body.map { $0.first ?? "" }
        let restAreFloats = body.allSatisfy { $0.count >= 2 && $0.dropFirst().allSatisfy(isFloatText) }
        let index = !body.isEmpty && isPositions(firstColumn[...]) && (corner || (body.count >= 2 && restAreFloats))
        return (header, index)
    }

    /// Whether `cells` are exactly `0`, `1`, `2`, … written as integers.
    private static func isPositions(_ cells: ArraySlice<String>) -> Bool {
        !cells.isEmpty && cells.enumerated().allSatisfy { $1 == String($0) }
    }

    /// Whether `cell` is a number written with a decimal point or exponent, as pandas writes floats.
    private static func isFloatText(_ cell: String) -> Bool {
        (cell.contains(".") || cell.contains("e") || cell.contains("E")) && Double(cell) != nil
    }
}
