/// A dense real matrix of shape `[rows, columns]`, stored row-major in one flat buffer.
///
/// Row vectors multiply on the right (`x @ W`), as in TransformerLens. The size invariant
/// `values.count == rows * columns` is checked when the matrix is made.
public struct Matrix: Equatable, Sendable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// Entries in row-major order: entry `(r, c)` is `values[r * columns + c]`.
    public private(set) var values: [Double]

    /// A matrix over `values` (row-major); `values.count` must equal `rows * columns`.
    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(rows >= 0 && columns >= 0, "Matrix shape must be non-negative, got [\(rows), \(columns)]")
        precondition(
            values.count == rows * columns,
            "Matrix [\(rows), \(columns)] needs \(rows * columns) values, got \(values.count)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A `[rows, columns]` matrix of zeros.
    public init(zeros rows: Int, _ columns: Int) {
        self.init(rows: rows, columns: columns, values: Array(repeating: 0, count: rows * columns))
    }

    /// The `[n, n]` identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(zeros: n, n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    /// A matrix from nested rows; every row must have the same length.
    public init(_ nested: [[Double]]) {
        let columns = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == columns }, "Ragged rows in Matrix literal")
        self.init(rows: nested.count, columns: columns, values: nested.flatMap { $0 })
    }

    /// The shape as `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }

    /// Entry `(row, column)`. The getter is inlinable: code in other modules that reads a matrix entry by
    /// entry (packing a model's weights for every forward call) would otherwise pay a call per entry.
    public subscript(row: Int, column: Int) -> Double {
        @inlinable get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// Row `r` as an array.
    public func row(_ r: Int) -> [Double] {
        Array(values[(r * columns)..<((r + 1) * columns)])
    }

    /// The rows as nested arrays.
    public var nested: [[Double]] { (0..<rows).map { row($0) } }

    /// The transpose, `[columns, rows]`.
    public var transposed: Matrix {
        var t = Matrix(zeros: columns, rows)
        for r in 0..<rows {
            for c in 0..<columns { t[c, r] = self[r, c] }
        }
        return t
    }

    /// The matrix product `self @ other`: `[rows, k] @ [k, other.columns]`, summed in index order.
    public func multiplied(by other: Matrix) -> Matrix {
        precondition(
            columns == other.rows,
            "Cannot multiply [\(rows), \(columns)] by [\(other.rows), \(other.columns)]")
        var out = Matrix(zeros: rows, other.columns)
        let n = other.columns
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                out.values.withUnsafeMutableBufferPointer { o in
                    for r in 0..<rows {
                        for k in 0..<columns {
                            let a_rk = a[r * columns + k]
                            if a_rk == 0 { continue }
                            for c in 0..<n { o[r * n + c] += a_rk * b[k * n + c] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Entry-wise sum; shapes must match.
    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.shape == rhs.shape, "Cannot add \(lhs.shape) and \(rhs.shape)")
        return Matrix(rows: lhs.rows, columns: lhs.columns, values: zip(lhs.values, rhs.values).map { $0 + $1 })
    }

    /// Every entry multiplied by `scalar`.
    public static func * (scalar: Double, matrix: Matrix) -> Matrix {
        Matrix(rows: matrix.rows, columns: matrix.columns, values: matrix.values.map { scalar * $0 })
    }

    /// The Frobenius norm `sqrt(sum of squared entries)`.
    public var frobeniusNorm: Double { values.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// The largest absolute entry (0 for an empty matrix).
    public var maxAbs: Double { values.reduce(0) { max($0, abs($1)) } }
}
