import Numerics

// A bound on the size of every number a forward pass computes, from the weights alone, whatever the tokens.
//
// With |x| ≤ X for every entry of a row x and C(W) = max over columns c of Σ_r |W[r, c]| (the largest column
// sum of |W|), every entry of x W + b is at most X C(W) + max |b|. Along the forward pass:
//   residual entering layer 0   X_0 = max |W_E| (+ max |W_pos| when positions are in the residual stream)
//   q, k (input X, + max |W_pos| in shortformer mode), v      X_in C(W) + max |b|
//   score q · k * scale         dHead Q K |scale|; the softmax's s - max is at most twice that
//   e = exp(s - max) ≤ 1, their total ≥ 1 (the largest score's e is 1) and ≤ T, each weight e / total ≤ 1
//   z = pattern v               at most V (the weights sum to 1)
//   head output z W_O           Z C(W_O);   residual after the layer   X + Σ outputs + max |b_O|
//   logits                      X_L C(W_U) + max |b_U|
// Rounding: a computed sum or product of n terms is within a factor (1 + 2^-53)^n of the exact one, and so is this
// bound's own arithmetic; every step's bound is raised by the factor `slack` = 1 + 1e-6 to cover both (for
// sums of up to about a billion terms). And the limit is far below the largest double: a model whose bound is
// under `finiteLimit` computes only finite numbers: no inf or
// NaN, and no score of -inf (the walk computes no masked key). The walk's sibling lanes then need not check the
// values they compute (SiblingLanes.swift). A weight that is not finite makes the bound +inf.

/// Bounds on the absolute values a forward pass computes (see the top of MagnitudeBound.swift), stage by stage.
package struct MagnitudeBounds: Sendable {
    /// `residuals[l]`: every entry of the stream entering layer l (the last: the final stream).
    package var residuals: [Double] = []
    /// `headOutputs[l][h]`: every entry of head h's write into the stream.
    package var headOutputs: [[Double]] = []
    /// Every logit.
    package var logits = 0.0
    /// Every number computed, q, k, v, scores, the softmax's arguments and totals, and z included.
    package var all = 0.0
}

extension Transformer {
    /// Bounds on every number a forward pass of this model computes, stage by stage (see the top of
    /// MagnitudeBound.swift); +inf when a weight is not finite.
    package var magnitudeBounds: MagnitudeBounds {
        // A NaN compares false everywhere (and `max` would drop it): it counts as +inf.
        func guarded(_ x: Double) -> Double { x.isNaN ? .infinity : abs(x) }
        func largest(_ values: [Double]) -> Double { values.reduce(0) { max($0, guarded($1)) } }
        func columnSum(_ w: Matrix) -> Double {
            var sums = [Double](repeating: 0, count: w.columns)
            for r in 0..<w.rows { for c in 0..<w.columns { sums[c] += guarded(w[r, c]) } }
            return largest(sums)
        }
        let positions = positional == .none ? 0 : wPos.map { largest($0.values) } ?? 0
        let slack = 1 + 1e-6
        var x = (largest(wE.values) + (positional.addsToResidual ? positions : 0)) * slack
        var bounds = MagnitudeBounds(residuals: [x], all: max(x, Double(nCtx)))
        for layer in layers {
            let qkInput = (x + (positional == .shortformer ? positions : 0)) * slack
            var next = x + largest(layer.bO), outputs: [Double] = []
            for head in layer.heads {
                let q = (qkInput * columnSum(head.wQ) + largest(head.bQ)) * slack
                let k = (qkInput * columnSum(head.wK) + largest(head.bK)) * slack
                let v = (x * columnSum(head.wV) + largest(head.bV)) * slack
                let score = Double(head.wQ.columns) * q * k * abs(attentionScale) * slack
                let z = v * slack, out = guarded(z * columnSum(head.wO) * slack)
                next += out
                outputs.append(out)
                bounds.all = max(bounds.all, guarded(qkInput), guarded(q), guarded(k), guarded(v), guarded(2 * score), guarded(z), out)
            }
            x = guarded(next * slack)
            bounds.residuals.append(x)
            bounds.headOutputs.append(outputs)
            bounds.all = max(bounds.all, x)
        }
        bounds.logits = guarded((x * columnSum(wU) + largest(bU)) * slack)
        bounds.all = max(bounds.all, bounds.logits)
        return bounds
    }

    /// A bound on the absolute value of every number a forward pass of this model computes
    /// (`magnitudeBounds.all`); +inf when a weight is not finite.
    package var magnitudeBound: Double { magnitudeBounds.all }
}

extension PackedModel {
    /// Bounds below this leave every computed number finite (see the top of MagnitudeBound.swift).
    package static let finiteLimit = 1e250
}
