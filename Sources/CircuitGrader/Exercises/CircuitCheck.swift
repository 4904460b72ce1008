/// A check on the weights themselves: a product of heads' circuits, optionally restricted to some
/// residual dims, must satisfy a predicate.
///
/// Products follow the right-multiplication convention: `["L0H0.OV", "L1H0.OV"]` is `W_OV^0 W_OV^1`,
/// what a vector written by the first head becomes after the second reads it (the seeds' `W_net^2 W_net^1`
/// in the column-vector convention). Every factor is `[dModel, dModel]`.
public struct CircuitCheck: Equatable, Sendable {
    /// One factor: a head and which of its circuits.
    public struct Factor: Equatable, Sendable, CustomStringConvertible {
        /// `QK^T` and `OV^T` are the transposes, e.g. for K-composition `W_QK^1 (W_OV^0)^T`: `["L1H0.QK", "L0H0.OV^T"]`.
        public enum Kind: String, Equatable, Sendable { case qk = "QK", ov = "OV", qkT = "QK^T", ovT = "OV^T" }
        public var head: HeadRef
        public var kind: Kind
        public var description: String { "\(head).\(kind.rawValue)" }
    }

    /// What must hold of the (restricted) product.
    public enum Predicate: Equatable, Sendable {
        case rankAtMost(Int)
        case rankEquals(Int)
        case rankAtLeast(Int)
        /// Row `from[i]` maps to column `to[i]` with one common positive gain, and to nothing else.
        case copies(from: [String], to: [String])
        /// Every entry of the restricted block is zero.
        case zero
        /// Some entry of the restricted block is non-zero.
        case nonzero
    }

    public var id: String
    public var title: String
    public var product: [Factor]
    /// Residual dims kept as rows (all when nil).
    public var rows: [String]?
    /// Residual dims kept as columns (all when nil).
    public var columns: [String]?
    public var predicate: Predicate
}

/// A conceptual question with a checkable answer.
public struct Question: Equatable, Sendable {
    /// The kinds of answer a question accepts.
    public enum Answer: Equatable, Sendable {
        /// Exactly this set of items, in any order.
        case set([String])
        /// One of these (equivalent) answers.
        case choice([String])
        /// A number within a tolerance.
        case number(Double, tolerance: Double)
    }

    public var id: String
    public var prompt: String
    public var answer: Answer

    /// Compares answer words loosely: case, spaces, `_`, `^` and `-` do not matter (`W_Q` = `wq`).
    public static func normalized(_ s: String) -> String {
        String(s.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "*" || $0 == "/" || $0 == "+" })
    }
}
