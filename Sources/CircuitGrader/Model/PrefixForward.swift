// Prefix-sharing forward pass for a causal model. Under a causal mask, position i's outputs depend only on
// tokens 0...i, so when sequences are enumerated depth-first, a new token costs one position's work:
//   cache per position p < count, per layer l, head h:   k[l][h][p] [dHead], v[l][h][p] [dValue]
//                                                       logits[p]                 [nOutputs]
//   push(token) at position p = count, per layer:
//     x        [dModel]   W_E[token] (+ W_pos[p]); then x + sum_h out_h + b_O after each layer
//     q, k, v  [dHead], [dHead], [dValue]: the new position's projections (k, v appended to the caches)
//     weights  [p + 1]    softmax over the cached keys 0...p
//     out      [dModel]   (weights v[0...p]) W_O
// Every number is computed by the kernels of ForwardKernels.swift in the order ForwardPass.swift uses, so
// `logits(at: p)` is bit for bit row p of `forward(tokens).logits`. (One exception that cannot matter: when a
// softmax row degenerates, its total 0 or NaN, both passes give NaN logits, not necessarily with the same
// NaN payload, since the whole-sequence pass also multiplies the NaN weights of masked keys.)

/// A causal forward pass that extends a cached prefix one token at a time.
///
/// Shapes: the cache holds, for positions `0..<count`, every head's key and value rows (`[dHead]`, `[dValue]`) and
/// the logits (`[nOutputs]`). `push` computes position `count`; `truncate(to:)` forgets later positions, so a
/// depth-first walk pushes a token when it goes down and truncates when it comes back up. Not thread-safe:
/// give each thread its own.
public final class PrefixForward {
    private let model: PackedModel
    /// Positions the cache can hold.
    public let capacity: Int
    /// Positions computed so far.
    public private(set) var count = 0
    /// Logits of every cached position, `[capacity, nOutputs]` row-major.
    private var logitRows: [Double]
    /// Keys and values: per head (layer by layer) a `[capacity, dHead]` block of keys, then `[capacity, dValue]` of values.
    private let cache: ScratchBuffer<Double>
    /// Offsets in `cache` of each head's keys and values (heads numbered across layers).
    private let keyOffsets: ScratchBuffer<Int>
    private let valueOffsets: ScratchBuffer<Int>
    private let x: ScratchBuffer<Double>  // [dModel]
    private let next: ScratchBuffer<Double>  // [dModel]
    private let qkInput: ScratchBuffer<Double>  // [dModel]
    private let q: ScratchBuffer<Double>  // [dHead]
    private let z: ScratchBuffer<Double>  // [dValue]
    private let weights: ScratchBuffer<Double>  // [capacity]
    private let out: ScratchBuffer<Double>  // [dModel]
    /// Non-zero entries of x, of the Q/K input, and of z.
    private let xEntries: ScratchBuffer<Int32>  // [dModel]
    private let qkEntries: ScratchBuffer<Int32>  // [dModel]
    private let zEntries: ScratchBuffer<Int32>  // [dValue]

    /// A pass over `model` for sequences of up to `capacity` tokens (BOS included); the model must be causal.
    public init(model: Transformer, capacity: Int) {
        precondition(model.causal, "prefix sharing needs a causal mask")
        precondition(capacity >= 0 && capacity <= model.nCtx, "capacity \(capacity) is outside 0...n_ctx (\(model.nCtx))")
        self.model = PackedModel(model)
        self.capacity = capacity
        let packed = self.model
        var offset = 0
        keyOffsets = ScratchBuffer(count: packed.heads.count)
        valueOffsets = ScratchBuffer(count: packed.heads.count)
        for (h, head) in packed.heads.enumerated() {
            keyOffsets.pointer[h] = offset
            offset += capacity * head.dHead
            valueOffsets.pointer[h] = offset
            offset += capacity * head.dValue
        }
        cache = ScratchBuffer(count: offset)
        logitRows = Array(repeating: 0, count: capacity * packed.nOutputs)
        x = ScratchBuffer(count: packed.dModel)
        next = ScratchBuffer(count: packed.dModel)
        qkInput = ScratchBuffer(count: packed.dModel)
        q = ScratchBuffer(count: packed.maxHead)
        z = ScratchBuffer(count: packed.maxHead)
        weights = ScratchBuffer(count: capacity)
        out = ScratchBuffer(count: packed.dModel)
        xEntries = ScratchBuffer(count: packed.dModel)
        qkEntries = ScratchBuffer(count: packed.dModel)
        zEntries = ScratchBuffer(count: packed.maxHead)
    }

    /// Number of output classes (columns of the logits).
    public var nOutputs: Int { model.nOutputs }

    /// Forgets positions `n...`; later pushes recompute them.
    public func truncate(to n: Int) {
        precondition(n >= 0 && n <= count, "cannot truncate \(count) positions to \(n)")
        count = n
    }

    /// Computes position `count` for `token` (a row of `W_E`) and appends it.
    public func push(_ token: Int) {
        let p = count
        precondition(p < capacity, "the prefix already holds \(capacity) positions")
        precondition((0..<model.dVocab).contains(token), "Token index \(token) out of range 0..<\(model.dVocab)")
        let m = model
        let d = m.dModel
        let x = x.pointer, next = next.pointer, q = q.pointer, z = z.pointer, out = out.pointer
        let weights = weights.pointer, cache = cache.pointer
        x.update(from: m.at(m.wE + token * d), count: d)
        if m.positionsInResidual, let wPos = m.wPos { ForwardKernels.sum(x, m.at(wPos + p * d), d, into: x) }
        let xEntries = xEntries.pointer, zEntries = zEntries.pointer
        for layer in m.layers {
            let xCount = ForwardKernels.nonZeros(x, d, into: xEntries)
            var qkInput = UnsafePointer(x), qkEntries = UnsafePointer(xEntries), qkCount = xCount
            if m.positionsInQK, let wPos = m.wPos {
                ForwardKernels.sum(x, m.at(wPos + p * d), d, into: self.qkInput.pointer)
                qkCount = ForwardKernels.nonZeros(self.qkInput.pointer, d, into: self.qkEntries.pointer)
                qkInput = UnsafePointer(self.qkInput.pointer)
                qkEntries = UnsafePointer(self.qkEntries.pointer)
            }
            next.update(from: x, count: d)
            for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
                let head = m.heads[h]
                let dh = head.dHead, dv = head.dValue
                let keys = cache + keyOffsets.pointer[h], values = cache + valueOffsets.pointer[h]
                m.project(qkInput, entries: qkEntries, qkCount, head.wQ, head.bQ, into: q)  // q     [dHead]
                m.project(qkInput, entries: qkEntries, qkCount, head.wK, head.bK, into: keys + p * dh)  // k[p]  [dHead]
                m.project(x, entries: xEntries, xCount, head.wV, head.bV, into: values + p * dv)  // v[p]  [dValue]
                _ = ForwardKernels.attentionRow(
                    query: q, keys: keys, visible: p + 1, d: dh, scale: m.scale,
                    weights: weights)  // [p + 1]
                ForwardKernels.rowTimes(weights, p + 1, values, dv, into: z)  // z     [dValue]
                m.times(z, head.wO, entries: zEntries, into: out)  // out   [dModel]
                ForwardKernels.sum(next, out, d, into: next)
            }
            ForwardKernels.add(m.at(layer.bO), d, to: next)
            x.update(from: next, count: d)
        }
        let n = m.nOutputs
        logitRows.withUnsafeMutableBufferPointer { rows in
            guard let row = rows.baseAddress.map({ $0 + p * n }) else { return }
            m.times(x, m.wU, entries: xEntries, into: row)
            ForwardKernels.add(m.at(m.bU), n, to: row)
        }
        count = p + 1
    }

    /// The logits of cached position `p`, `[nOutputs]`.
    public func logits(at p: Int) -> ArraySlice<Double> {
        precondition(p >= 0 && p < count, "position \(p) is not cached (count \(count))")
        return logitRows[(p * nOutputs)..<((p + 1) * nOutputs)]
    }
}
