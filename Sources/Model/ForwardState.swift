import Numerics

// The forward pass as four steps on one position, and the storage they read and write. Every way the model
// is run (a whole sequence, a batch, the prefix-sharing walk of exhaustive verification) is an order of these
// steps, so a position's numbers are the same bits whichever way computed them.
//
// Storage for positions 0..<capacity (row-major blocks):
//   residual[l]  [capacity, dModel]     l = 0...layers: the stream entering layer l; the last is the final one
//   q, k         [capacity, dHead]      per head
//   v            [capacity, dValue]     per head
//   pattern      [capacity, capacity]   per head, row p = query p (full traces; otherwise one shared row)
//   out          [capacity, dModel]     per head: what it writes (full traces; otherwise one shared row)
//   logits       [capacity, nOutputs]
//
// Steps, for position p and layer l:
//   embed(token, p)   residual[0][p] = W_E[token] (+ W_pos[p] when positions are in the residual stream)
//   project(l, p)     q[p], k[p] from residual[l][p] (+ W_pos[p] in shortformer mode), v[p] from residual[l][p],
//                     for every head of layer l
//   attend(l, p, n)   pattern[p] = softmax over keys 0..<n of scale (q[p] · k[j]); out[p] = (pattern[p] v) W_O;
//                     residual[l + 1][p] = ((residual[l][p] + out_0[p]) + out_1[p] + ...) + b_O
//   unembed(p)        logits[p] = residual[layers][p] W_U + b_U
//
// With a causal mask, position p needs only the keys and values of positions 0...p, so positions are run one at a
// time through every layer (`push`), and a cached prefix can be kept while its continuations change. Without a
// mask every query sees every key, so the sequence is run layer by layer (`runWhole`): every position's
// projections, then every position's attention.
//
// Masked keys (j >= n) have weight exactly 0, so the value sum skips them; a full trace stores 0 / total there
// (NaN when the row degenerated: total 0 or NaN, and then every logit of the position is NaN anyway).

/// The per-position state of a forward pass over up to `capacity` positions. Not thread-safe: one per thread.
package final class ForwardState {
    /// Offsets (in `storage`) of one head's blocks.
    private struct HeadSlots {
        let q: Int, k: Int, v: Int
        /// `[capacity, capacity]` when full traces are kept, else the shared `[capacity]` row.
        let pattern: Int
        /// `[capacity, dModel]` when full traces are kept, else the shared `[dModel]` row.
        let out: Int
    }

    package let model: PackedModel
    /// Positions the storage holds.
    package let capacity: Int
    /// Whether patterns and head outputs are stored for every position (full traces).
    package let keepsTrace: Bool
    /// Positions computed so far.
    package private(set) var count = 0
    private let storage: ScratchBuffer<Double>
    private let slots: UnsafeMutableBufferPointer<HeadSlots>
    /// Logits of every position, `[capacity, nOutputs]`.
    private var logitRows: [Double]
    /// Scratch rows: the Q/K input in shortformer mode `[dModel]`, z `[dValue]`, and non-zero entry lists.
    private let qkInput: ScratchBuffer<Double>
    private let z: ScratchBuffer<Double>
    private let entries: ScratchBuffer<Int32>  // [dModel]
    private let qkEntries: ScratchBuffer<Int32>  // [dModel]
    private let zEntries: ScratchBuffer<Int32>  // [dValue]
    /// `[dModel]` zeros: what a layer without heads adds to the stream (x + 0 turns -0 into +0, as TransformerLens does).
    private let zeros: ScratchBuffer<Double>
    /// The first layer's inputs depend on (token, position) alone: `residual[0][p]` and every layer-0 head's
    /// q, k, v rows. Each pair is computed once per state and copied afterwards (the same bits: the same
    /// steps on the same inputs). Row `token * capacity + p`, `memoWidth` wide: the residual row, then q, k,
    /// v of each layer-0 head; `memoKnown` marks the rows computed. Off (`memoWidth` 0) when it would be large.
    private let memo: ScratchBuffer<Double>
    private let memoKnown: ScratchBuffer<UInt8>
    private let memoWidth: Int
    /// The most doubles a memo may hold (256 KiB): every chunk of a batch fills its own, so a larger one
    /// would cost more to set up than a family-sized chunk saves.
    private static let memoLimit = 1 << 15

    package init(_ model: PackedModel, capacity: Int, keepsTrace: Bool) {
        self.model = model
        self.capacity = capacity
        self.keepsTrace = keepsTrace
        let d = model.dModel
        var offset = (model.layers.count + 1) * capacity * d  // residual streams first
        var slots: [HeadSlots] = []
        for head in model.heads {
            func take(_ n: Int) -> Int {
                defer { offset += n }
                return offset
            }
            slots.append(
                HeadSlots(
                    q: take(capacity * head.dHead), k: take(capacity * head.dHead), v: take(capacity * head.dValue),
                    pattern: take(keepsTrace ? capacity * capacity : 0), out: take(keepsTrace ? capacity * d : 0)))
        }
        let sharedRows = offset
        if !keepsTrace {
            // One pattern row and one output row shared by every head.
            slots = slots.map { HeadSlots(q: $0.q, k: $0.k, v: $0.v, pattern: sharedRows, out: sharedRows + capacity) }
            offset += capacity + d
        }
        storage = ScratchBuffer(count: offset)
        self.slots = .allocate(capacity: slots.count)
        _ = self.slots.initialize(from: slots)
        logitRows = Array(repeating: 0, count: capacity * model.nOutputs)
        qkInput = ScratchBuffer(count: d)
        z = ScratchBuffer(count: model.maxHead)
        entries = ScratchBuffer(count: d)
        qkEntries = ScratchBuffer(count: d)
        zEntries = ScratchBuffer(count: model.maxHead)
        zeros = ScratchBuffer(count: d)
        let width = Self.firstLayerWidth(model)
        memoWidth = model.dVocab * capacity * width <= Self.memoLimit ? width : 0
        memo = ScratchBuffer(unfilled: memoWidth == 0 ? 0 : model.dVocab * capacity * width)  // read only where memoKnown
        memoKnown = ScratchBuffer(count: memoWidth == 0 ? 0 : model.dVocab * capacity)
    }

    deinit { slots.deallocate() }

    /// Width of a first-layer row: the residual row (`dModel`), then q, k, v of each layer-0 head.
    package static func firstLayerWidth(_ model: PackedModel) -> Int {
        model.dModel + (model.layers.first.map { layer in model.heads(of: layer).reduce(0) { $0 + 2 * $1.dHead + $1.dValue } } ?? 0)
    }

    /// Writes to `row` (`firstLayerWidth` wide) the first layer's inputs of `token` at position `p`, computed
    /// by `embed` and the first layer's `project` (the rows the memo holds); position `p` is scratch here.
    package func firstLayerRow(_ token: Int, at p: Int, into row: UnsafeMutablePointer<Double>) {
        precondition(p < capacity, "position \(p) is outside the state's \(capacity) positions")
        embed(token, at: p)
        if !model.layers.isEmpty { project(layer: 0, at: p) }
        copyFirstLayer(p, row, toMemo: true)
    }

    // MARK: - Orders of the steps

    /// Forgets positions `n...`; later pushes recompute them.
    package func truncate(to n: Int) {
        precondition(n >= 0 && n <= count, "cannot truncate \(count) positions to \(n)")
        count = n
    }

    /// Computes position `count` for `token` through every layer and appends it (causal models only).
    package func push(_ token: Int) {
        let p = count
        precondition(p < capacity, "the state already holds \(capacity) positions")
        enter(token, at: p)
        for l in 0..<model.layers.count {
            if l > 0 { project(layer: l, at: p) }
            attend(layer: l, at: p, visible: p + 1)
        }
        unembed(at: p)
        count = p + 1
    }

    /// Runs `tokens`, keeping the first `shared` computed positions (which must be those of `tokens`'
    /// first `shared` tokens; ignored without a causal mask, where every position depends on every token).
    package func run(_ tokens: [Int], sharing shared: Int) {
        guard model.causal else { return runWhole(tokens) }
        truncate(to: min(shared, count))
        for token in tokens[count...] { push(token) }
    }

    /// Computes every position of `tokens` layer by layer, every query seeing every key (no mask).
    package func runWhole(_ tokens: [Int]) {
        let t = tokens.count
        precondition(t <= capacity, "\(t) tokens do not fit in \(capacity) positions")
        for (p, token) in tokens.enumerated() { enter(token, at: p) }
        for l in 0..<model.layers.count {
            if l > 0 { for p in 0..<t { project(layer: l, at: p) } }
            for p in 0..<t { attend(layer: l, at: p, visible: t) }
        }
        for p in 0..<t { unembed(at: p) }
        count = t
    }

    // MARK: - The steps

    @inline(__always)
    private func residual(_ l: Int, _ p: Int) -> UnsafeMutablePointer<Double> {
        storage.pointer + (l * capacity + p) * model.dModel
    }

    @inline(__always)
    private func block(_ offset: Int) -> UnsafeMutablePointer<Double> { storage.pointer + offset }

    /// `embed` and the first layer's `project` for `token` at `p`, copied from the memo when the pair was seen.
    private func enter(_ token: Int, at p: Int) {
        guard memoWidth > 0 else {
            embed(token, at: p)
            if !model.layers.isEmpty { project(layer: 0, at: p) }
            return
        }
        let slot = token * capacity + p
        let row = memo.pointer + slot * memoWidth
        if memoKnown.pointer[slot] != 0 {
            copyFirstLayer(p, row, toMemo: false)
            return
        }
        embed(token, at: p)
        if !model.layers.isEmpty { project(layer: 0, at: p) }
        copyFirstLayer(p, row, toMemo: true)
        memoKnown.pointer[slot] = 1
    }

    /// Copies position `p`'s residual row and layer-0 q, k, v rows to the memo row, or back from it.
    private func copyFirstLayer(_ p: Int, _ row: UnsafeMutablePointer<Double>, toMemo: Bool) {
        var offset = 0
        func copy(_ position: UnsafeMutablePointer<Double>, _ n: Int) {
            if toMemo { (row + offset).update(from: position, count: n) } else { position.update(from: row + offset, count: n) }
            offset += n
        }
        copy(residual(0, p), model.dModel)
        guard let layer = model.layers.first else { return }
        for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
            let head = model.heads[h], slot = slots[h]
            copy(block(slot.q) + p * head.dHead, head.dHead)
            copy(block(slot.k) + p * head.dHead, head.dHead)
            copy(block(slot.v) + p * head.dValue, head.dValue)
        }
    }

    /// `residual[0][p] = W_E[token] (+ W_pos[p])`.
    private func embed(_ token: Int, at p: Int) {
        let m = model, d = m.dModel
        let x = residual(0, p)
        x.update(from: m.at(m.wE + token * d), count: d)
        if m.positionsInResidual, let wPos = m.wPos { ForwardKernels.sum(x, m.at(wPos + p * d), d, into: x) }
    }

    /// q, k and v of position `p` for every head of layer `l`.
    private func project(layer l: Int, at p: Int) {
        let m = model, d = m.dModel
        let layer = m.layers[l]
        let x = UnsafePointer(residual(l, p))
        let count = ForwardKernels.nonZeros(x, d, into: entries.pointer)
        var qk = x, qkList = UnsafePointer(entries.pointer), qkCount = count
        if m.positionsInQK, let wPos = m.wPos {
            ForwardKernels.sum(x, m.at(wPos + p * d), d, into: qkInput.pointer)
            qkCount = ForwardKernels.nonZeros(qkInput.pointer, d, into: qkEntries.pointer)
            qk = UnsafePointer(qkInput.pointer)
            qkList = UnsafePointer(qkEntries.pointer)
        }
        for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
            let head = m.heads[h], slot = slots[h]
            m.project(qk, entries: qkList, qkCount, head.wQ, head.bQ, into: block(slot.q) + p * head.dHead)
            m.project(qk, entries: qkList, qkCount, head.wK, head.bK, into: block(slot.k) + p * head.dHead)
            m.project(x, entries: entries.pointer, count, head.wV, head.bV, into: block(slot.v) + p * head.dValue)
        }
    }

    /// Position `p`'s attention to keys `0..<visible` in every head of layer `l`, and the stream after it.
    private func attend(layer l: Int, at p: Int, visible: Int) {
        let m = model, d = m.dModel
        let layer = m.layers[l]
        let x = residual(l, p), next = residual(l + 1, p)
        if layer.headCount == 0 { ForwardKernels.sum(x, zeros.pointer, d, into: next) }  // x + 0: no head writes anything
        for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
            let head = m.heads[h], slot = slots[h]
            let row = block(slot.pattern) + (keepsTrace ? p * capacity : 0)  // [capacity]
            let total = ForwardKernels.attentionRow(
                query: block(slot.q) + p * head.dHead, keys: block(slot.k), visible: visible, d: head.dHead,
                scale: m.scale, weights: row)
            if keepsTrace { for j in visible..<capacity { row[j] = 0 / total } }
            ForwardKernels.rowTimes(row, visible, block(slot.v), head.dValue, into: z.pointer)  // z  [dValue]
            let out = block(slot.out) + (keepsTrace ? p * d : 0)  // [dModel]
            m.times(z.pointer, head.wO, entries: zEntries.pointer, into: out)
            ForwardKernels.sum(h == layer.firstHead ? x : next, out, d, into: next)
        }
        if let bO = layer.bO { ForwardKernels.add(m.at(bO), d, to: next) }
    }

    /// `logits[p] = residual[layers][p] W_U + b_U`.
    private func unembed(at p: Int) {
        let m = model, n = m.nOutputs
        let x = residual(m.layers.count, p)
        logitRows.withUnsafeMutableBufferPointer { rows in
            guard let row = rows.baseAddress.map({ $0 + p * n }) else { return }
            m.times(x, m.wU, entries: entries.pointer, into: row)
            if let bU = m.bU { ForwardKernels.add(m.at(bU), n, to: row) }
        }
    }

    // MARK: - Reading the results

    /// The logits of computed position `p`, `[nOutputs]`.
    package func logits(at p: Int) -> ArraySlice<Double> {
        precondition(p >= 0 && p < count, "position \(p) is not computed (count \(count))")
        let n = model.nOutputs
        return logitRows[(p * n)..<((p + 1) * n)]
    }

    /// The trace of `tokens`, whose positions are the first `tokens.count` computed ones.
    package func trace(_ tokens: [Int]) -> ForwardTrace {
        let t = tokens.count
        precondition(t <= count, "\(t) tokens but only \(count) positions computed")
        let m = model, d = m.dModel
        let logits = Matrix(rows: t, columns: m.nOutputs, values: Array(logitRows[0..<(t * m.nOutputs)]))
        guard keepsTrace else { return ForwardTrace(tokens: tokens, logits: logits, patterns: [], headOutputs: [], residuals: []) }
        let residuals = (0...m.layers.count).map { l in matrix(residual(l, 0), t, d) }
        var patterns: [[Matrix]] = []
        var outputs: [[Matrix]] = []
        for layer in m.layers {
            let heads = layer.firstHead..<(layer.firstHead + layer.headCount)
            patterns.append(
                heads.map { h in
                    let rows = block(slots[h].pattern)  // [capacity, capacity]: the top-left t x t block
                    let values = [Double](unsafeUninitializedCapacity: t * t) { buffer, initialized in
                        if let base = buffer.baseAddress {
                            for i in 0..<t { (base + i * t).initialize(from: rows + i * capacity, count: t) }
                        }
                        initialized = t * t
                    }
                    return Matrix(rows: t, columns: t, values: values)
                })
            outputs.append(heads.map { h in matrix(block(slots[h].out), t, d) })
        }
        return ForwardTrace(tokens: tokens, logits: logits, patterns: patterns, headOutputs: outputs, residuals: residuals)
    }

    /// A copy of the first `rows` rows (`columns` wide) at `pointer` as a matrix.
    private func matrix(_ pointer: UnsafeMutablePointer<Double>, _ rows: Int, _ columns: Int) -> Matrix {
        Matrix(rows: rows, columns: columns, values: Array(UnsafeBufferPointer(start: pointer, count: rows * columns)))
    }
}
