import Numerics
import Model
import Formats
import Exercises
import Grading

/// A matrix with a name for every row and column, as the feedback views show it: `values [rows.count,
/// columns.count]`, e.g. a head's `W_QK` over the residual dims, or a full circuit over tokens × outputs.
public struct LabelledMatrix: Equatable, Sendable {
    /// One name per row of `values`.
    public var rows: [String]
    /// One name per column of `values`.
    public var columns: [String]
    /// The numbers, `[rows.count, columns.count]`.
    public var values: Matrix

    /// A labelled matrix; the label counts must match the shape.
    public init(_ values: Matrix, rows: [String], columns: [String]) {
        precondition(
            rows.count == values.rows && columns.count == values.columns,
            "\(rows.count) row and \(columns.count) column labels for a matrix of shape \(values.shape)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// Indices of the rows with a non-zero entry.
    public var nonZeroRows: [Int] {
        (0..<values.rows).filter { r in (0..<values.columns).contains { values[r, $0] != 0 } }
    }

    /// Indices of the columns with a non-zero entry.
    public var nonZeroColumns: [Int] {
        (0..<values.columns).filter { c in (0..<values.rows).contains { values[$0, c] != 0 } }
    }

    /// The block without its all-zero rows and columns (empty when the matrix is zero).
    public var folded: LabelledMatrix {
        let keptRows = nonZeroRows
        let keptColumns = nonZeroColumns
        return LabelledMatrix(
            values.submatrix(rows: keptRows, columns: keptColumns),
            rows: keptRows.map { rows[$0] }, columns: keptColumns.map { columns[$0] })
    }

    /// `{"rows": [...], "columns": [...], "values": [[...]]}`, as `show` writes fixed matrices.
    public var json: JSONValue { json(adding: []) }

    /// The JSON form followed by `extra` members.
    public func json(adding extra: [(String, JSONValue)]) -> JSONValue {
        .obj(
            [
                ("rows", .array(rows.map(JSONValue.string))), ("columns", .array(columns.map(JSONValue.string))),
                ("values", .matrix(values)),
            ] + extra)
    }
}
