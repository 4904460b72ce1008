import Numerics
import Model
import Formats
import Exercises
import Grading

// How much a later head `b` reads what an earlier head `a` writes, from the weights alone.
//
// The framework paper (column vectors, `W_QK = W_Q^T W_K` so that a score is `x_q^T W_QK x_k`, and a head
// writes `W_OV x` with `W_OV = W_O W_V`) scores composition as
//     C(M, W_OV^a) = ||M W_OV^a||_F / (||M||_F ||W_OV^a||_F)
// with M = W_QK^b^T for Q-composition, M = W_QK^b for K-composition and M = W_OV^b for V-composition.
//
// Here vectors are rows: a score is `x_q W_QK x_k^T` with `W_QK = W_Q W_K^T`, and a head adds `y W_OV`
// with `W_OV = W_V W_O`. The two conventions share W_QK (`W_Q^T W_K` over column-form matrices is
// `W_Q W_K^T` over ours) while the column-form W_OV is the transpose of ours. Deriving each score directly:
//   - K (a writes into the key): x_k = ... + y W_OV^a, so the score gains
//     x_q W_QK^b (y W_OV^a)^T = x_q (W_QK^b W_OV^a^T) y^T. The coupling is W_QK^b W_OV^a^T, and since
//     ||X||_F = ||X^T||_F,   K = ||W_OV^a W_QK^b^T||_F / (||W_OV^a||_F ||W_QK^b||_F).
//     (Paper: ||W_QK W_OV^col||, W_OV^col = W_OV^a^T: the same matrix.)
//   - Q (a writes into the query): x_q = ... + y W_OV^a, so the score gains
//     (y W_OV^a) W_QK^b x_k^T = y (W_OV^a W_QK^b) x_k^T,   Q = ||W_OV^a W_QK^b||_F / (...).
//     (Paper: ||W_QK^T W_OV^col|| = ||(W_OV^a W_QK^b)^T||: the same.)
//   - V (a writes into the value): b adds (y W_OV^a) W_OV^b = y (W_OV^a W_OV^b),
//     V = ||W_OV^a W_OV^b||_F / (||W_OV^a||_F ||W_OV^b||_F), the norm of the virtual head.
//     (Paper: ||W_OV^2 W_OV^1|| in column form = ||(W_OV^a W_OV^b)^T||: the same.)
// Each score lies in [0, 1] (sub-multiplicativity of the Frobenius norm): 0 when `b` reads a subspace
// orthogonal to everything `a` writes, 1 when both are rank one and `b` reads exactly what `a` writes.
// Biases are not part of the circuits and so not of the scores. A score with a zero factor is undefined (nil).

/// Q-, K- and V-composition scores of an earlier head `from` (its OV circuit) into a later head `to`.
public struct CompositionScore: Equatable, Sendable {
    /// The earlier head, whose output is read.
    public var from: HeadRef
    /// The later head, which reads it.
    public var to: HeadRef
    /// `||W_OV^a W_QK^b||_F / (||W_OV^a||_F ||W_QK^b||_F)`; nil when a factor is zero.
    public var q: Double?
    /// `||W_OV^a W_QK^b^T||_F / (||W_OV^a||_F ||W_QK^b||_F)`; nil when a factor is zero.
    public var k: Double?
    /// `||W_OV^a W_OV^b||_F / (||W_OV^a||_F ||W_OV^b||_F)`; nil when a factor is zero.
    public var v: Double?

    /// The scores for `from` (OV circuit `wOVa`, `[dModel, dModel]`) into `to` (circuits `wQKb`, `wOVb`).
    public init(from: HeadRef, to: HeadRef, wOVa: Matrix, wQKb: Matrix, wOVb: Matrix) {
        self.from = from
        self.to = to
        q = Self.ratio(wOVa, wQKb)
        k = Self.ratio(wOVa, wQKb.transposed)
        v = Self.ratio(wOVa, wOVb)
    }

    /// `||a b||_F / (||a||_F ||b||_F)`, nil when either factor is zero.
    public static func ratio(_ a: Matrix, _ b: Matrix) -> Double? {
        let scale = a.frobeniusNorm * b.frobeniusNorm
        guard scale > 0, scale.isFinite else { return nil }
        return a.multiplied(by: b).frobeniusNorm / scale
    }

    /// Scores for every pair of heads `a`, `b` with `a` in an earlier layer than `b`, in (a, b) order.
    public static func all(_ model: Transformer) -> [CompositionScore] {
        HeadPair.all(model).map { pair in
            CompositionScore(from: pair.from, to: pair.to, wOVa: pair.earlier.wOV, wQKb: pair.later.wQK, wOVb: pair.later.wOV)
        }
    }
}

/// Two heads where `from` sits in an earlier layer than `to`, so `to` can read what `from` writes.
package struct HeadPair {
    package var from: HeadRef
    package var to: HeadRef
    package var earlier: AttentionHead
    package var later: AttentionHead

    /// Every such pair of `model`, ordered by `from`, then `to`.
    package static func all(_ model: Transformer) -> [HeadPair] {
        let heads = model.layers.enumerated().flatMap { l, layer in
            layer.heads.enumerated().map { h, head in (HeadRef(layer: l, head: h), head) }
        }
        return heads.flatMap { a in
            heads.filter { $0.0.layer > a.0.layer }.map { b in HeadPair(from: a.0, to: b.0, earlier: a.1, later: b.1) }
        }
    }
}
