import Numerics
import Model

/// Reads one matrix (or vector) from CSV text: comma-separated numbers, one row per line, with an
/// optional header row of column names and an optional first column of row names (detected when the
/// cells are not numbers). Blank lines and lines starting with `#` are skipped. Spreadsheet and pandas
/// variants (BOM, `;` with decimal commas, position header and index) are read as `CSVDialect` says.
public enum CSVMatrix {
    /// The matrix in `text` from `file`.
    public static func parse(_ text: String, file: String, location: String) throws -> RawMatrix {
        let text = CSVDialect.strippingByteOrderMark(text)
        try CSVLimits.check(text, file: file, location: location)
        var data: [(number: Int, text: String)] = []
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            data.append((i + 1, trimmed))
        }
        let dialect = CSVDialect(lines: data.map(\.text))
        var lines = data.map { (number: $0.number, cells: dialect.cells($0.text)) }
        let pandas = CSVDialect.pandasPositions(lines.map(\.cells))
        if pandas.header { lines.removeFirst() }
        if pandas.index { lines = lines.map { ($0.number, Array($0.cells.dropFirst())) } }
        guard let first = lines.first else { throw GraderError(file: file, location: location, "the CSV file has no rows") }
        guard lines.count <= InputLimits.maxDimension + 1, first.cells.count <= InputLimits.maxDimension + 1 else {
            throw GraderError(file: file, location: location, "the CSV table is larger than \(InputLimits.maxDimension) rows or columns")
        }
        let hasHeader = first.cells.dropFirst().contains { Double($0) == nil } || (first.cells.count == 1 && Double(first.cells[0]) == nil)
        let body = hasHeader ? Array(lines.dropFirst()) : lines
        guard !body.isEmpty else { throw GraderError(file: file, location: location, "the CSV file has a header but no values") }
        let hasRowLabels = body.contains { Double($0.cells[0]) == nil }
        let width = body[0].cells.count - (hasRowLabels ? 1 : 0)
        var values: [Double] = []
        var rowLabels: [String] = []
        for row in body {
            guard row.cells.count - (hasRowLabels ? 1 : 0) == width else {
                throw GraderError(
                    file: file, location: location, line: row.number,
                    "row has \(plural(row.cells.count - (hasRowLabels ? 1 : 0), "value")) but the first row has \(width)")
            }
            if hasRowLabels { rowLabels.append(row.cells[0]) }
            for (c, cell) in row.cells.dropFirst(hasRowLabels ? 1 : 0).enumerated() {
                guard let x = Double(cell) else {
                    throw GraderError(file: file, location: location, line: row.number, "column \(c + 1): \"\(cell)\" is not a number")
                }
                try checkWeight(x, file: file, location: "\(location) line \(row.number) column \(c + 1)")
                values.append(x)
            }
        }
        var columnLabels: [String]? = nil
        if hasHeader {
            let names = Array(first.cells.dropFirst(hasRowLabels ? 1 : 0))
            guard names.count == width else {
                throw GraderError(
                    file: file, location: location, line: first.number, "the header has \(plural(names.count, "name")) but rows have \(plural(width, "value"))")
            }
            columnLabels = names
        }
        for (labels, axis) in [(hasRowLabels ? rowLabels : [], "row"), (columnLabels ?? [], "column")] {
            var seen = Set<String>()
            for label in labels where !seen.insert(label).inserted {
                throw GraderError(file: file, location: location, "the \(axis) name \"\(label)\" appears twice")
            }
        }
        return .dense(
            Matrix(rows: body.count, columns: width, values: values),
            rowLabels: hasRowLabels ? rowLabels : nil, columnLabels: columnLabels)
    }
}

import Foundation
