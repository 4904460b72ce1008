import Numerics
import Model

/// An n-dimensional array of reals as read from a state-dict file: `shape` and row-major `values`.
///
/// `values.count` equals the product of `shape` (1 for a scalar, `shape == []`).
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var values: [Double]
    /// The machine epsilon of the float dtype the values were stored in (2⁻²³ for float32); nil for float64,
    /// integers and text, whose values are taken as exact.
    public var precision: Double?

    /// A tensor of `shape` over row-major `values`; the count must match.
    public init(shape: [Int], values: [Double], precision: Double? = nil) {
        precondition(values.count == shape.reduce(1, *), "Tensor \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        self.shape = shape
        self.values = values
        self.precision = precision
    }

    /// The tensor as a matrix when it has two dimensions.
    public var matrix: Matrix? {
        shape.count == 2 ? Matrix(rows: shape[0], columns: shape[1], values: values) : nil
    }

    /// Equal shapes and values; `precision` says how they were stored, not what they are.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool { lhs.shape == rhs.shape && lhs.values == rhs.values }

    /// Slice `i` along the first dimension, e.g. head `i` of `[n_heads, d_model, d_head]`.
    public func slice(_ i: Int) -> Tensor {
        precondition(!shape.isEmpty && (0..<shape[0]).contains(i), "slice \(i) out of range for \(shape)")
        let inner = Array(shape.dropFirst())
        let n = inner.reduce(1, *)
        return Tensor(shape: inner, values: Array(values[(i * n)..<((i + 1) * n)]), precision: precision)
    }
}
