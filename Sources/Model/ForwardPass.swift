import Dispatch
import Foundation
import Numerics

// Shapes for one sequence of T tokens (BOS included when the exercise prepends one):
//   x        [T, dModel]   residual stream
//   q, k, v  [T, dHead]    per head
//   scores   [T, T]        q k^T * attentionScale, masked entries -inf
//   pattern  [T, T]        softmax of scores over keys (row = query position)
//   out      [T, dModel]   (pattern v) W_O, one head's write into the residual stream
//   logits   [T, nOutputs] x W_U + b_U (nOutputs may exceed dVocab, e.g. a `none` class)
//
// The math in a few plain lines is `referenceForward` (ReferenceForward.swift), the tests' oracle for this
// engine. Every position is computed by the steps of ForwardState.swift with the kernels of ForwardKernels.swift,
// in the order written there; PrefixForward.swift runs the same steps, so all of them give the same bits.

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
    /// Runs one sequence of token indices (`tokens.count <= nCtx`): the fast engine, which agrees with the
    /// plain `referenceForward` to rounding (ReferenceForwardTests).
    public func forward(_ tokens: [Int]) -> ForwardTrace {
        checkInput(tokens)
        let state = ForwardState(PackedModel(self), capacity: tokens.count, keepsTrace: true)
        state.run(tokens, sharing: 0)
        return state.trace(tokens)
    }

    /// Runs many sequences, spread over all cores; the result is in input order.
    ///
    /// With a causal mask a position's numbers depend only on the tokens up to it, so sequences are run in
    /// lexicographic order and each one starts where it stops agreeing with the previous one (its shared
    /// prefix is not recomputed); `sharingPrefixes: false` runs every sequence from its first token. Either
    /// way, and however the work is split between cores, every number is the same bits: each position is
    /// computed by the same steps in the same order (ForwardState.swift).
    public func forward(batch: [[Int]], detail: TraceDetail = .full, sharingPrefixes: Bool = true) -> [ForwardTrace] {
        if batch.isEmpty { return [] }
        for tokens in batch { checkInput(tokens) }
        let longest = batch.reduce(0) { max($0, $1.count) }
        let sharing = causal && sharingPrefixes
        let order = sharing ? prefixOrder(batch, longest: longest) : Array(batch.indices)
        // Contiguous chunks of that order: up to 4 per core so that uneven lengths still balance, a whole
        // number per core, none with fewer than `minimumChunk` positions on average (each chunk sets up its
        // own state), and never more chunks than sequences.
        let packed = PackedModel(self)
        let positions = batch.reduce(0) { $0 + $1.count }
        let perCore = min(4, positions / (Self.minimumChunk * Cores.active))
        let chunks = min(batch.count, perCore > 0 ? perCore * Cores.active : max(1, positions / Self.minimumChunk))
        return [ForwardTrace](unsafeUninitializedCapacity: batch.count) { buffer, initialized in
            guard let base = buffer.baseAddress else { initialized = 0; return }
            let slots = DisjointSlots(base)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let state = ForwardState(packed, capacity: longest, keepsTrace: detail == .full)
                var previous: [Int] = []
                for i in order[(chunk * batch.count / chunks)..<((chunk + 1) * batch.count / chunks)] {
                    let tokens = batch[i]
                    state.run(tokens, sharing: sharing ? commonPrefixLength(previous, tokens) : 0)
                    slots.initialize(i, to: state.trace(tokens))
                    previous = tokens
                }
            }
            initialized = batch.count
        }
    }

    /// The fewest positions (tokens over all sequences) a chunk of `forward(batch:)` is given, on average.
    package static let minimumChunk = 256

    private func checkInput(_ tokens: [Int]) {
        precondition(tokens.count <= nCtx, "Sequence of \(tokens.count) tokens is longer than n_ctx = \(nCtx)")
        precondition(tokens.allSatisfy { (0..<dVocab).contains($0) }, "Token index out of range 0..<\(dVocab)")
    }

    /// The indices of `batch` in lexicographic order of their first tokens, a sequence before its extensions,
    /// ties in input order. Each sequence becomes one integer, its first tokens as digits 1...dVocab (0 past
    /// its end) above its index, so the sort is of plain integers; as many tokens as fit are used (all of
    /// them for exercise-sized vocabularies and lengths), and any order gives the same results.
    private func prefixOrder(_ batch: [[Int]], longest: Int) -> [Int] {
        let indexBits = Int.bitWidth - (batch.count - 1).leadingZeroBitCount
        let digitBits = Int.bitWidth - dVocab.leadingZeroBitCount
        guard digitBits > 0 else { return Array(batch.indices) }  // no tokens at all: only empty sequences
        let depth = min(longest, (UInt64.bitWidth - indexBits) / digitBits)
        guard depth > 0 else { return Array(batch.indices) }
        var keys = batch.indices.map { i -> UInt64 in
            let tokens = batch[i]
            var key: UInt64 = 0
            for p in 0..<depth { key = key << digitBits | (p < tokens.count ? UInt64(tokens[p] + 1) : 0) }
            return key << indexBits | UInt64(i)
        }
        // The sort is stable and starts from input order, so the index bits need no pass of their own.
        Self.radixSort(&keys, bits: depth * digitBits + indexBits, from: indexBits)
        let indexMask = (UInt64(1) << indexBits) &- 1
        return keys.map { Int($0 & indexMask) }
    }

    /// Sorts `keys` (each below `2^bits`) stably by their bits `low..<bits`: a counting pass per 8 bits,
    /// least significant first. With `low` 0 and distinct keys this is plain increasing order. Linear in the
    /// batch, where a comparison sort of a few thousand sequences costs several percent of their forward passes.
    package static func radixSort(_ keys: inout [UInt64], bits: Int, from low: Int = 0) {
        var other = keys
        var counts = [Int](repeating: 0, count: 257)
        var shift = UInt64(max(0, low))
        while shift < UInt64(bits) {
            for b in counts.indices { counts[b] = 0 }
            for key in keys { counts[Int((key >> shift) & 0xFF) + 1] += 1 }
            for b in 1...256 { counts[b] += counts[b - 1] }
            for key in keys {
                let b = Int((key >> shift) & 0xFF)
                other[counts[b]] = key
                counts[b] += 1
            }
            swap(&keys, &other)
            shift += 8
        }
    }

    /// How many leading tokens `a` and `b` have in common.
    private func commonPrefixLength(_ a: [Int], _ b: [Int]) -> Int {
        var n = 0
        while n < a.count && n < b.count && a[n] == b[n] { n += 1 }
        return n
    }
}
