import Dispatch
import Foundation

// Shapes for one sequence of T tokens (BOS included when the exercise prepends one):
//   x        [T, dModel]   residual stream
//   q, k, v  [T, dHead]    per head
//   scores   [T, T]        q k^T * attentionScale, masked entries -inf
//   pattern  [T, T]        softmax of scores over keys (row = query position)
//   out      [T, dModel]   (pattern v) W_O, one head's write into the residual stream
//   logits   [T, nOutputs] x W_U + b_U (nOutputs may exceed dVocab, e.g. a `none` class)
//
// The arithmetic is done row by row by the kernels of ForwardKernels.swift, in the order written there;
// PrefixForward.swift uses the same kernels, so both give the same bits for the same position.

/// How much of a forward pass to keep.
public enum TraceDetail: Sendable {
    /// Logits, patterns, head outputs and residual streams.
    case full
    /// Logits only (patterns, head outputs and residuals are left empty): what prediction targets need.
    case logits
}

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
        checkInput(tokens)
        let packed = PackedModel(self)
        return packed.trace(tokens, scratch: WholeSequenceScratch(packed, length: tokens.count))
    }

    /// Runs many sequences, spread over all cores; the result is in input order and does not depend
    /// on how the work was split (each sequence is computed alone, in the same order of operations).
    public func forward(batch: [[Int]], detail: TraceDetail = .full) -> [ForwardTrace] {
        if batch.isEmpty { return [] }
        for tokens in batch { checkInput(tokens) }
        let longest = batch.reduce(0) { max($0, $1.count) }
        // Contiguous chunks, several per core so that uneven lengths still balance.
        let packed = PackedModel(self)
        let chunks = min(batch.count, max(1, ProcessInfo.processInfo.activeProcessorCount * 4))
        return [ForwardTrace](unsafeUninitializedCapacity: batch.count) { buffer, initialized in
            guard let base = buffer.baseAddress else { initialized = 0; return }
            let slots = DisjointSlots(base)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let scratch = WholeSequenceScratch(packed, length: longest)
                let range = (chunk * batch.count / chunks)..<((chunk + 1) * batch.count / chunks)
                for i in range { slots.initialize(i, to: packed.trace(batch[i], scratch: scratch, detail: detail)) }
            }
            initialized = batch.count
        }
    }

    private func checkInput(_ tokens: [Int]) {
        precondition(tokens.count <= nCtx, "Sequence of \(tokens.count) tokens is longer than n_ctx = \(nCtx)")
        precondition(tokens.allSatisfy { (0..<dVocab).contains($0) }, "Token index out of range 0..<\(dVocab)")
    }
}

/// Scratch memory for whole sequences of up to `length` tokens, reused from one sequence to the next.
final class WholeSequenceScratch {
    let x: ScratchBuffer<Double>  // [T, dModel]
    let next: ScratchBuffer<Double>  // [T, dModel]
    let qkInput: ScratchBuffer<Double>  // [T, dModel] (shortformer only)
    let q: ScratchBuffer<Double>  // [T, dHead]
    let k: ScratchBuffer<Double>  // [T, dHead]
    let v: ScratchBuffer<Double>  // [T, dValue]
    let z: ScratchBuffer<Double>  // [dValue]
    let pattern: ScratchBuffer<Double>  // [T, T]
    let out: ScratchBuffer<Double>  // [T, dModel]
    let logits: ScratchBuffer<Double>  // [T, nOutputs]
    /// Non-zero entries of each row of x, of the Q/K input (shortformer), and of z.
    let xEntries: ScratchBuffer<Int32>  // [T, dModel]
    let xCounts: ScratchBuffer<Int>  // [T]
    let qkEntries: ScratchBuffer<Int32>  // [T, dModel] (shortformer only)
    let qkCounts: ScratchBuffer<Int>  // [T] (shortformer only)
    let zEntries: ScratchBuffer<Int32>  // [dValue]

    init(_ model: PackedModel, length t: Int) {
        let d = model.dModel
        let shortformer = model.positionsInQK ? t : 0
        x = ScratchBuffer(count: t * d)
        next = ScratchBuffer(count: t * d)
        qkInput = ScratchBuffer(count: shortformer * d)
        q = ScratchBuffer(count: t * model.maxHead)
        k = ScratchBuffer(count: t * model.maxHead)
        v = ScratchBuffer(count: t * model.maxHead)
        z = ScratchBuffer(count: model.maxHead)
        pattern = ScratchBuffer(count: t * t)
        out = ScratchBuffer(count: t * d)
        logits = ScratchBuffer(count: t * model.nOutputs)
        xEntries = ScratchBuffer(count: t * d)
        xCounts = ScratchBuffer(count: t)
        qkEntries = ScratchBuffer(count: shortformer * d)
        qkCounts = ScratchBuffer(count: shortformer)
        zEntries = ScratchBuffer(count: model.maxHead)
    }
}

extension PackedModel {
    /// The forward pass of one sequence (already checked against `nCtx` and `dVocab`).
    func trace(_ tokens: [Int], scratch s: WholeSequenceScratch, detail: TraceDetail = .full) -> ForwardTrace {
        let keep = detail == .full
        let t = tokens.count
        let d = dModel
        let x = s.x.pointer, next = s.next.pointer, out = s.out.pointer, pattern = s.pattern.pointer
        let q = s.q.pointer, k = s.k.pointer, v = s.v.pointer, z = s.z.pointer
        let xEntries = s.xEntries.pointer, xCounts = s.xCounts.pointer
        // x[i] = W_E[token_i] (+ W_pos[i])
        for (i, token) in tokens.enumerated() {
            (x + i * d).update(from: at(wE + token * d), count: d)
            if positionsInResidual, let wPos { ForwardKernels.sum(x + i * d, at(wPos + i * d), d, into: x + i * d) }
        }
        var residuals = keep ? [matrix(x, t, d)] : []
        var patterns: [[Matrix]] = []
        var outputs: [[Matrix]] = []
        if keep {
            residuals.reserveCapacity(layers.count + 1)  // sized once: no regrowth per trace
            patterns.reserveCapacity(layers.count)
            outputs.reserveCapacity(layers.count)
        }
        for layer in layers {
            // Q and K read x (+ W_pos in shortformer mode); V reads x. Each row's non-zero entries are
            // listed once and used by every head.
            for i in 0..<t { xCounts[i] = ForwardKernels.nonZeros(x + i * d, d, into: xEntries + i * d) }
            var qkInput = UnsafePointer(x), qkEntries = UnsafePointer(xEntries), qkCounts = UnsafePointer(xCounts)
            if positionsInQK, let wPos {
                for i in 0..<t {
                    ForwardKernels.sum(x + i * d, at(wPos + i * d), d, into: s.qkInput.pointer + i * d)
                    s.qkCounts.pointer[i] = ForwardKernels.nonZeros(s.qkInput.pointer + i * d, d, into: s.qkEntries.pointer + i * d)
                }
                qkInput = UnsafePointer(s.qkInput.pointer)
                qkEntries = UnsafePointer(s.qkEntries.pointer)
                qkCounts = UnsafePointer(s.qkCounts.pointer)
            }
            next.update(from: x, count: t * d)
            var layerPatterns: [Matrix] = []
            var layerOutputs: [Matrix] = []
            if keep {
                layerPatterns.reserveCapacity(layer.headCount)
                layerOutputs.reserveCapacity(layer.headCount)
            }
            for head in heads(of: layer) {
                let dh = head.dHead, dv = head.dValue
                for i in 0..<t {
                    let qk = qkInput + i * d, qkList = qkEntries + i * d
                    project(qk, entries: qkList, qkCounts[i], head.wQ, head.bQ, into: q + i * dh)  // q[i]  [dHead]
                    project(qk, entries: qkList, qkCounts[i], head.wK, head.bK, into: k + i * dh)  // k[i]  [dHead]
                    project(x + i * d, entries: xEntries + i * d, xCounts[i], head.wV, head.bV, into: v + i * dv)  // v[i]  [dValue]
                }
                for i in 0..<t {
                    let row = pattern + i * t  // pattern[i]  [T]
                    let visible = causal ? i + 1 : t
                    let total = ForwardKernels.attentionRow(
                        query: q + i * dh, keys: k, visible: visible, d: dh,
                        scale: scale, weights: row)
                    for j in visible..<t { row[j] = 0 / total }
                    // Masked weights are exactly 0 (skipped) unless total is 0 or NaN, when they are NaN.
                    ForwardKernels.rowTimes(row, total > 0 ? visible : t, v, dv, into: z)  // z = pattern[i] v  [dValue]
                    times(z, head.wO, entries: s.zEntries.pointer, into: out + i * d)  // z W_O  [dModel]
                    ForwardKernels.sum(next + i * d, out + i * d, d, into: next + i * d)
                }
                if keep {
                    layerPatterns.append(matrix(pattern, t, t))
                    layerOutputs.append(matrix(out, t, d))
                }
            }
            for i in 0..<t { ForwardKernels.add(at(layer.bO), d, to: next + i * d) }
            x.update(from: next, count: t * d)
            if keep {
                residuals.append(matrix(x, t, d))
                patterns.append(layerPatterns)
                outputs.append(layerOutputs)
            }
        }
        let logits = s.logits.pointer
        for i in 0..<t {
            times(x + i * d, wU, entries: xEntries, into: logits + i * nOutputs)
            ForwardKernels.add(at(bU), nOutputs, to: logits + i * nOutputs)
        }
        return ForwardTrace(
            tokens: tokens, logits: matrix(logits, t, nOutputs), patterns: patterns,
            headOutputs: outputs, residuals: residuals)
    }

    /// A copy of `rows * columns` values at `pointer` as a matrix.
    private func matrix(_ pointer: UnsafeMutablePointer<Double>, _ rows: Int, _ columns: Int) -> Matrix {
        Matrix(rows: rows, columns: columns, values: Array(UnsafeBufferPointer(start: pointer, count: rows * columns)))
    }
}

/// Uninitialized slots that concurrent workers initialize, each at indices no other worker touches.
struct DisjointSlots<Element>: @unchecked Sendable {
    private let base: UnsafeMutablePointer<Element>

    init(_ base: UnsafeMutablePointer<Element>) { self.base = base }

    /// Initializes slot `i`; every slot exactly once, by one worker.
    func initialize(_ i: Int, to value: Element) { (base + i).initialize(to: value) }
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
