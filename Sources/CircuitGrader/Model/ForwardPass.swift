import Dispatch
import Foundation

// Shapes for one sequence of T tokens (BOS included when the exercise prepends one):
//   x        [T, dModel]   residual stream
//   q, k, v  [T, dHead]    per head
//   scores   [T, T]        q k^T * attentionScale, masked entries -inf
//   pattern  [T, T]        softmax of scores over keys (row = query position)
//   out      [T, dModel]   (pattern v) W_O, one head's write into the residual stream
//   logits   [T, nOutputs] x W_U + b_U (nOutputs may exceed dVocab, e.g. a `none` class)

/// Everything one forward pass computed for one sequence.
public struct ForwardTrace: Equatable, Sendable {
    /// The tokens run (vocabulary indices).
    public var tokens: [Int]
    /// `[T, nOutputs]`.
    public var logits: Matrix
    /// `patterns[layer][head]`, `[T, T]`, row `i` is query position `i`.
    public var patterns: [[Matrix]]
    /// `headOutputs[layer][head]`, `[T, dModel]`: what the head added to the residual stream.
    public var headOutputs: [[Matrix]]
    /// `residuals[l]`, `[T, dModel]`: the stream entering layer `l`; the last is the final stream.
    public var residuals: [Matrix]
}

extension Transformer {
    /// Runs one sequence of token indices (`tokens.count <= nCtx`).
    public func forward(_ tokens: [Int]) -> ForwardTrace {
        let t = tokens.count
        precondition(t <= nCtx, "Sequence of \(t) tokens is longer than n_ctx = \(nCtx)")
        precondition(tokens.allSatisfy { (0..<dVocab).contains($0) }, "Token index out of range 0..<\(dVocab)")
        var x = Matrix(zeros: t, dModel)
        for (i, token) in tokens.enumerated() {
            for c in 0..<dModel { x[i, c] = wE[token, c] }
        }
        var positionalForQK: Matrix? = nil
        if let wPos, positional != .none {
            let pos = wPos.rows(0..<t)
            if positional.addsToResidual { x = x + pos } else { positionalForQK = pos }
        }
        var residuals = [x]
        var patterns: [[Matrix]] = []
        var outputs: [[Matrix]] = []
        for layer in layers {
            let qkInput = positionalForQK.map { x + $0 } ?? x
            var layerPatterns: [Matrix] = []
            var layerOutputs: [Matrix] = []
            var next = x
            for head in layer.heads {
                let (pattern, out) = runHead(head, qkInput: qkInput, vInput: x)
                next = next + out
                layerPatterns.append(pattern)
                layerOutputs.append(out)
            }
            for i in 0..<t {
                for c in 0..<dModel { next[i, c] += layer.bO[c] }
            }
            x = next
            residuals.append(x)
            patterns.append(layerPatterns)
            outputs.append(layerOutputs)
        }
        var logits = x.multiplied(by: wU)
        for i in 0..<t {
            for c in 0..<bU.count { logits[i, c] += bU[c] }
        }
        return ForwardTrace(tokens: tokens, logits: logits, patterns: patterns, headOutputs: outputs, residuals: residuals)
    }

    /// Runs many sequences, spread over all cores; the result is in input order and does not depend
    /// on how the work was split.
    public func forward(batch: [[Int]]) -> [ForwardTrace] {
        let results = UnsafeSendableBox<ForwardTrace>(count: batch.count)
        DispatchQueue.concurrentPerform(iterations: batch.count) { i in
            results.set(i, forward(batch[i]))
        }
        return results.values
    }

    /// One head: returns its attention pattern `[T, T]` and its write `[T, dModel]`.
    func runHead(_ head: AttentionHead, qkInput: Matrix, vInput: Matrix) -> (pattern: Matrix, out: Matrix) {
        let q = addingBias(qkInput.multiplied(by: head.wQ), head.bQ)   // [T, dHead]
        let k = addingBias(qkInput.multiplied(by: head.wK), head.bK)   // [T, dHead]
        let v = addingBias(vInput.multiplied(by: head.wV), head.bV)    // [T, dHead]
        let pattern = attentionPattern(q: q, k: k)                     // [T, T]
        let z = pattern.multiplied(by: v)                              // [T, dHead]
        return (pattern, z.multiplied(by: head.wO))                    // [T, dModel]
    }

    /// Softmax over keys of `q k^T * attentionScale`, with `-inf` on masked entries.
    func attentionPattern(q: Matrix, k: Matrix) -> Matrix {
        let t = q.rows
        let d = q.columns
        var pattern = Matrix(zeros: t, t)
        var scores = [Double](repeating: 0, count: t)
        q.values.withUnsafeBufferPointer { qb in
            k.values.withUnsafeBufferPointer { kb in
                for i in 0..<t {
                    var maxScore = -Double.infinity
                    for j in 0..<t {
                        if causal && j > i { scores[j] = -.infinity; continue }
                        var dot = 0.0
                        for c in 0..<d { dot += qb[i * d + c] * kb[j * d + c] }
                        let s = dot * attentionScale
                        scores[j] = s
                        if s > maxScore { maxScore = s }
                    }
                    var total = 0.0
                    for j in 0..<t {
                        // An overflowing score (+inf) takes the whole row, shared with any equal ones.
                        let e: Double
                        if maxScore == .infinity { e = scores[j] == .infinity ? 1 : 0 } else {
                            e = scores[j] == -.infinity ? 0 : exp(scores[j] - maxScore)
                        }
                        scores[j] = e
                        total += e
                    }
                    for j in 0..<t { pattern[i, j] = scores[j] / total }
                }
            }
        }
        return pattern
    }

    private func addingBias(_ m: Matrix, _ bias: [Double]) -> Matrix {
        if bias.allSatisfy({ $0 == 0 }) { return m }
        var out = m
        for r in 0..<m.rows {
            for c in 0..<m.columns { out[r, c] += bias[c] }
        }
        return out
    }
}

/// A fixed-size array that concurrent workers fill at distinct indices.
final class UnsafeSendableBox<Element>: @unchecked Sendable {
    private var storage: [Element?]
    private let lock = NSLock()

    init(count: Int) { storage = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: Element) {
        lock.withLock { storage[i] = value }
    }

    var values: [Element] {
        storage.map { value in
            guard let value else { preconditionFailure("a batch slot was never filled") }
            return value
        }
    }
}
