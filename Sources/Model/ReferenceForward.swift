import Foundation
import Numerics

/// What `Transformer.referenceForward` computes for one sequence of `T` tokens.
public struct ReferenceTrace: Equatable, Sendable {
    /// `[T, nOutputs]`: the final stream times `W_U`, plus `b_U`.
    public let logits: Matrix
    /// `patterns[layer][head]`, `[T, T]`: row `i` is query position `i`'s softmax over the keys.
    public let patterns: [[Matrix]]
    /// `residuals[l]`, `[T, dModel]`: the stream entering layer `l`; the last one is the final stream.
    public let residuals: [Matrix]
}

extension Transformer {
    /// The forward pass as the math, in plain matrix products: no tables, no packed storage, no skipped
    /// zeros, no shared prefixes. It is the oracle the engine (`forward`, `forward(batch:)`, the prefix walk)
    /// is tested against on random models, and the place to read what the grader computes. Row vectors and
    /// right multiplication, as in TransformerLens (`x @ W`); `T = tokens.count`.
    public func referenceForward(_ tokens: [Int]) -> ReferenceTrace {
        let t = tokens.count
        precondition(tokens.allSatisfy { (0..<dVocab).contains($0) } && t <= nCtx, "tokens outside the model")
        // The stream before the first layer, [T, dModel]: W_E[token] (+ W_pos[position] in the residual).
        let wPosRows = wPos.map { Matrix(rows: t, columns: dModel, values: Array($0.values.prefix(t * dModel))) }
        var x = Matrix(rows: t, columns: dModel, values: tokens.flatMap { wE.row($0) })
        if positional.addsToResidual, let wPosRows { x = x + wPosRows }
        var residuals = [x]
        var patterns: [[Matrix]] = []
        for layer in layers {
            // Shortformer adds W_pos to the inputs of Q and K only, [T, dModel].
            let xQK = positional == .shortformer ? x + (wPosRows ?? Matrix(zeros: t, dModel)) : x
            var next = x
            var layerPatterns: [Matrix] = []
            for head in layer.heads {
                let q = Self.plusRow(xQK.multiplied(by: head.wQ), head.bQ)  // [T, dHead]
                let k = Self.plusRow(xQK.multiplied(by: head.wK), head.bK)  // [T, dHead]
                let v = Self.plusRow(x.multiplied(by: head.wV), head.bV)  // [T, dValue]
                let scores = attentionScale * q.multiplied(by: k.transposed)  // [T, T]
                let pattern = Self.softmaxRows(scores, causal: causal)  // [T, T]
                next = next + pattern.multiplied(by: v).multiplied(by: head.wO)  // [T, dModel]
                layerPatterns.append(pattern)
            }
            x = Self.plusRow(next, layer.bO)
            residuals.append(x)
            patterns.append(layerPatterns)
        }
        let logits = Self.plusRow(x.multiplied(by: wU), bU)  // [T, nOutputs]
        return ReferenceTrace(logits: logits, patterns: patterns, residuals: residuals)
    }

    /// `m` with `bias` (`[m.columns]`) added to every row.
    private static func plusRow(_ m: Matrix, _ bias: [Double]) -> Matrix {
        Matrix(rows: m.rows, columns: m.columns, values: m.values.enumerated().map { i, x in x + bias[i % m.columns] })
    }

    /// Each row's softmax over the keys it may see (`j <= i` when causal): `exp(s - max) / Σ exp(s - max)`.
    private static func softmaxRows(_ scores: Matrix, causal: Bool) -> Matrix {
        var out: [Double] = []
        for i in 0..<scores.rows {
            let visible = causal ? i + 1 : scores.columns
            let row = scores.row(i).prefix(visible)
            let top = row.max() ?? 0
            let e = row.map { exp($0 - top) }
            let total = e.reduce(0, +)
            out += e.map { $0 / total } + Array(repeating: 0, count: scores.columns - visible)
        }
        return Matrix(rows: scores.rows, columns: scores.columns, values: out)
    }
}
