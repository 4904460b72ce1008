import Numerics
import Model
import Formats

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
        /// Every side of the product that reads the residual stream reads only these dims: for a QK
        /// circuit both the query rows and the key columns, for an OV circuit the input rows. Every entry
        /// outside them on a reading side is zero.
        case readsOnly([String])
        /// The writing side of an OV product (its output columns) writes only these dims.
        case writesOnly([String])
    }

    /// ` rows [...] columns [...]` when the check is restricted to some dims (empty otherwise).
    public var restriction: String {
        (rows.map { " rows [\(DimList.compact($0))]" } ?? "") + (columns.map { " columns [\(DimList.compact($0))]" } ?? "")
    }

    /// Whether the product's rows read the residual stream (else they are what an OV^T writes).
    public var rowsRead: Bool { product.first?.kind != .ovT }
    /// Whether the product's columns read the residual stream (else they are what an OV writes).
    public var columnsRead: Bool { product.last?.kind != .ov }

    public var id: String
    public var title: String
    public var product: [Factor]
    /// Residual dims kept as rows (all when nil).
    public var rows: [String]?
    /// Residual dims kept as columns (all when nil).
    public var columns: [String]?
    public var predicate: Predicate
    /// With `min_gain`, a direction counts (toward a rank, a non-zero block or a copy) only when its gain is at
    /// least this share of the product of the factors' largest gains (`Π σ_max(factor)`): a path of gain 1e-7
    /// next to paths of gain 1 is not a path. Nil: any gain above rounding counts.
    public var minGain: Double? = nil
    /// With `unbiased`, the factors' heads must have zero biases on the circuits checked (`b_Q`, `b_K` for QK,
    /// `b_V` for OV): the products ignore biases, so a bias could do what the check says the weights do not.
    public var unbiased = false
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

    /// Compares answer words loosely: case, spaces, `_`, `^`, `-`, braces and product signs do not matter
    /// (`W_Q` = `wq`), transposes may be written `^T`, `.T` or `ᵀ`, and a circuit equals the product that
    /// defines it in either convention: `W_QK` = `W_Q W_K^T` = `W_Q @ W_K.T` = `W_Q·W_Kᵀ` = `W_Q^T W_K`,
    /// `W_OV` = `W_V W_O` = `W_O W_V`.
    public static func normalized(_ s: String) -> String {
        var text = s.replacingOccurrences(of: "ᵀ", with: "^T")
        for transpose in [".T", ".t", "'"] { text = text.replacingOccurrences(of: transpose, with: "^T") }
        let letters = String(text.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "/" || $0 == "+" })
        return circuitNames[letters] ?? letters
    }

    /// Products that name a circuit, after `normalized`'s filtering.
    private static let circuitNames = ["wqwkt": "wqk", "wqtwk": "wqk", "wvwo": "wov", "wowv": "wov"]
}

/// Short names for long dim lists in messages.
package enum DimList {
    /// The dims, cut after eight (`tok:A, tok:B, … (12 dims)`).
    package static func compact(_ dims: [String]) -> String {
        dims.count <= 8 ? dims.joined(separator: ", ") : dims.prefix(8).joined(separator: ", ") + ", … (\(dims.count) dims)"
    }
}
