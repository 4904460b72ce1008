import Foundation
import Numerics

// The forward pass of the exhaustive walk (Grading/PrefixWalk.swift): one position at a time under a causal
// mask, or every position of the sequence pushed so far without one (`computeWithoutMask`), ForwardState's steps
// (ForwardState.swift) in the same order on the same numbers, with changes that leave every bit as it was:
//   - the first layer's inputs of a (token, position) pair (its residual row and every layer-0 head's q, k, v)
//     are rows of a table computed once by ForwardState's own `embed` and `project` (FirstLayerTables), and so
//     is every layer-0 score `(q · k) * scale` of two such pairs, by the dense dot of ForwardKernels;
//   - q · k skips the terms where q[c] is ±0 and the key is finite: such a term is ±0, and a sum that starts
//     at +0 is never changed by adding ±0 (ForwardKernels.swift); a key with a non-finite entry gets every term;
//   - pattern · v skips, for a finite weight, the entries where v[c] is ±0, for the same reason (a non-finite
//     weight gets every entry, as ForwardKernels.rowTimes does);
//   - exp of an argument seen before is read from a small cache, and e / total of an e just divided is reused
//     (the same inputs give the same bits); the quotients feed pattern · v as they are taken, in key order;
//   - z W_O and the unembedding W_U skip the rows of the weight without a non-zero entry when the input row is
//     all finite (PackedModel.timesFinite), instead of listing the input's non-zero entries first;
//   - a head output met before (the same q row over the same sequence of (k, v) rows) is copied from its memo,
//     and so are a later layer's projections of an input row met before (HeadMemo.swift);
//   - the work done is counted as it goes (WalkCost.swift), for a walk with a work limit;
//   - the children of a node may be computed together, one per SIMD lane (SiblingLanes.swift), and a position
//     whose logits nobody reads is not unembedded.
// Everything else (the softmax's order, the residual sums, b_O, the later layers' projections) calls the very
// kernels ForwardState calls. No allocation, reference counting or exclusivity check per position: every
// mutable state is a raw buffer. Tests: PrefixWalkTests.swift (bit for bit against `forward`).
//
// Storage for positions 0..<capacity (BOS included):
//   residual[l]  [capacity, dModel]                  l = 1...layers (layer 0's input is a table row)
//   q, k, v      [capacity, dHead], [capacity, dValue] per head of a layer >= 1 (layer 0's are table rows)
//   per head and position: pointers to the k and v rows, v's non-zero entries, whether k is all finite
//   logits       [capacity, nOutputs]   (an array, so that Margin.logitGap reads its rows in place)

/// The first layer's inputs of every (token, position) pair a walk uses, and the first layer's scores of every
/// two pairs: computed once, then only read (from any number of threads).
package final class FirstLayerTables: @unchecked Sendable {
    /// Where one layer-0 head's q, k, v start in a row.
    package struct HeadColumns {
        package let q: Int, k: Int, v: Int
        package let dHead: Int, dValue: Int
    }

    package let model: PackedModel
    package let capacity: Int
    /// Doubles per row: the residual row, then q, k, v of each layer-0 head.
    package let width: Int
    /// Rows: `slots * capacity`, row `slot * capacity + p`.
    package let cells: Int
    /// `slotOf[token]`: the token's slot, or -1 when it is not tabulated.
    package let slotOf: [Int]
    package let heads: [HeadColumns]
    /// The largest `dValue` (and `dHead`) of a layer-0 head: the stride of the entry lists.
    package let stride: Int
    package let rows: ScratchBuffer<Double>
    /// Per layer-0 head and row: whether k is all finite; v's and q's non-zero entries (`stride` slots each).
    package let kFinite: ScratchBuffer<UInt8>
    package let vList: ScratchBuffer<Int32>, vCount: ScratchBuffer<Int32>
    package let qList: ScratchBuffer<Int32>, qCount: ScratchBuffer<Int32>
    /// Per layer-0 head and row (`h * cells + cell`): the class of the row's (k, v) and of its q among the
    /// head's rows (HeadMemo.swift), numbered from 0 in order of first sight.
    package let keyClass: ScratchBuffer<Int32>, queryClass: ScratchBuffer<Int32>
    /// `[heads, cells, cells]`: `scores[h][a][b] = (q_a · k_b) * scale`; nil when it would be large.
    package let scores: ScratchBuffer<Double>?
    /// The most doubles the score table may hold (8 MiB).
    package static let scoreLimit = 1 << 20

    /// Tables for `tokens` (rows of `W_E`) at positions `0..<capacity`; the score table only when
    /// `tabulatingScores` (and small enough).
    package init(_ model: PackedModel, capacity: Int, tokens: [Int], tabulatingScores: Bool = true) {
        self.model = model
        self.capacity = capacity
        var slotOf = [Int](repeating: -1, count: model.dVocab)
        var slots = 0
        for token in tokens where slotOf[token] < 0 {
            slotOf[token] = slots
            slots += 1
        }
        self.slotOf = slotOf
        cells = slots * capacity
        width = ForwardState.firstLayerWidth(model)
        var columns: [HeadColumns] = []
        var offset = model.dModel
        if let layer = model.layers.first {
            for head in model.heads(of: layer) {
                columns.append(HeadColumns(q: offset, k: offset + head.dHead, v: offset + 2 * head.dHead, dHead: head.dHead, dValue: head.dValue))
                offset += 2 * head.dHead + head.dValue
            }
        }
        heads = columns
        stride = max(1, columns.reduce(0) { max($0, $1.dHead, $1.dValue) })
        rows = ScratchBuffer(count: cells * width)
        kFinite = ScratchBuffer(count: columns.count * cells)
        vList = ScratchBuffer(count: columns.count * cells * stride)
        vCount = ScratchBuffer(count: columns.count * cells)
        qList = ScratchBuffer(count: columns.count * cells * stride)
        qCount = ScratchBuffer(count: columns.count * cells)
        keyClass = ScratchBuffer(count: columns.count * cells)
        queryClass = ScratchBuffer(count: columns.count * cells)
        let state = ForwardState(model, capacity: max(1, capacity), keepsTrace: false)
        for token in 0..<model.dVocab where slotOf[token] >= 0 {
            for p in 0..<capacity {
                let cell = slotOf[token] * capacity + p
                let row = rows.pointer + cell * width
                state.firstLayerRow(token, at: p, into: row)
                for (h, head) in columns.enumerated() {
                    let i = h * cells + cell
                    kFinite.pointer[i] = Self.allFinite(row + head.k, head.dHead) ? 1 : 0
                    vCount.pointer[i] = Int32(ForwardKernels.nonZeros(row + head.v, head.dValue, into: vList.pointer + i * stride))
                    qCount.pointer[i] = Int32(ForwardKernels.nonZeros(row + head.q, head.dHead, into: qList.pointer + i * stride))
                }
            }
        }
        for (h, head) in columns.enumerated() {
            let keys = RowClasses(width: head.dHead + head.dValue, limit: max(1, cells))
            let queries = RowClasses(width: head.dHead, limit: max(1, cells))
            for cell in 0..<cells {
                let row = UnsafePointer(rows.pointer + cell * width)
                // k and v are adjacent in the row
                keyClass.pointer[h * cells + cell] = keys.id(row + head.k, head.dHead + head.dValue, row)
                queryClass.pointer[h * cells + cell] = queries.id(row + head.q, head.dHead, row)
            }
            keys.deallocate()
            queries.deallocate()
        }
        if tabulatingScores, !columns.isEmpty, columns.count * cells * cells <= Self.scoreLimit {
            let table = ScratchBuffer<Double>(count: columns.count * cells * cells)
            for (h, head) in columns.enumerated() {
                for a in 0..<cells {
                    let query = rows.pointer + a * width + head.q
                    let out = table.pointer + (h * cells + a) * cells
                    for b in 0..<cells {
                        // ForwardKernels.attentionRow's dot, term for term.
                        let key = rows.pointer + b * width + head.k
                        var dot = 0.0
                        for c in 0..<head.dHead { dot += query[c] * key[c] }
                        out[b] = dot * model.scale
                    }
                }
            }
            scores = table
        } else {
            scores = nil
        }
    }

    /// Whether `row[0..<n]` holds no infinity or NaN.
    @inline(__always)
    package static func allFinite(_ row: UnsafePointer<Double>, _ n: Int) -> Bool {
        var finite = true
        for c in 0..<n { finite = finite && row[c].isFinite }
        return finite
    }
}

/// A forward pass that extends a cached prefix one token at a time, for the exhaustive walk: the numbers of
/// PrefixForward (and of `forward`) bit for bit, faster; without a causal mask, `push` only records the token
/// and `computeWithoutMask` computes the whole sequence. Not thread-safe: one per thread.
package final class WalkForward {
    package let model: PackedModel
    package let tables: FirstLayerTables
    package let capacity: Int
    /// Positions computed so far (kept in a buffer: a stored `var` of a class costs a dynamic exclusivity check
    /// on every write).
    @inline(__always)
    package var count: Int { counter.pointer[0] }
    let counter: ScratchBuffer<Int>
    let layerCount: Int
    let headCount: Int
    /// The first head of layer 1 (the heads of layer 0 are `0..<firstLaterHead`).
    let firstLaterHead: Int
    private let doubles: ScratchBuffer<Double>
    /// Logits of every position, `[capacity, nOutputs]`.
    let logitRows: ScratchBuffer<Double>
    private let ints: ScratchBuffer<Int32>
    // Offsets in `doubles`.
    private let residualBase: Int, laterHeadBase: Int, weightsBase: Int, zBase: Int, outBase: Int,
        qkInputBase: Int, zerosBase: Int
    // Offsets in `ints`.
    private let entriesBase: Int, qkEntriesBase: Int, zEntriesBase: Int, laterListBase: Int, queryListBase: Int
    /// Per head and position (`h * capacity + p`): the k row, the v row, v's non-zero entries and their count,
    /// whether k is all finite.
    let kRows: UnsafeMutablePointer<UnsafePointer<Double>>
    let vRows: UnsafeMutablePointer<UnsafePointer<Double>>
    let vLists: UnsafeMutablePointer<UnsafePointer<Int32>>
    let vCounts: ScratchBuffer<Int>
    let kFinite: ScratchBuffer<UInt8>
    /// Per head: the current query's q row, its non-zero entries and their count.
    private let qRows: UnsafeMutablePointer<UnsafePointer<Double>>
    private let qLists: UnsafeMutablePointer<UnsafePointer<Int32>>
    private let qCounts: ScratchBuffer<Int>
    /// Table row of each position's (token, position) pair.
    let cellOf: ScratchBuffer<Int>
    /// The tables' buffers, read without touching a reference count in the hot loop.
    let firstHeads: UnsafeMutablePointer<FirstLayerTables.HeadColumns>
    let firstHeadCount: Int
    let slotOf: UnsafeMutablePointer<Int>
    let tableRows: UnsafePointer<Double>, tableWidth: Int, tableCells: Int, tableStride: Int
    private let tableKFinite: UnsafePointer<UInt8>
    private let tableVList: UnsafePointer<Int32>, tableVCount: UnsafePointer<Int32>
    private let tableQList: UnsafePointer<Int32>, tableQCount: UnsafePointer<Int32>
    let tableScores: UnsafePointer<Double>?
    private let tableKeyClass: UnsafePointer<Int32>, tableQueryClass: UnsafePointer<Int32>
    /// Per head: its memo (HeadMemo.swift); per head and position (`h * capacity + p`), the memo's node of the
    /// key sequence `0...p` (-1: none).
    private let memos: UnsafeMutablePointer<HeadMemo>
    let pathNodes: ScratchBuffer<Int32>
    /// Per head, the class of the current position's (k, v); per head and position, the class of its q (-1: none).
    private let keyClassOf: ScratchBuffer<Int32>
    private let queryClasses: ScratchBuffer<Int32>
    /// Per layer (layer 0's unused): its projections by input row.
    private let projectionMemos: UnsafeMutablePointer<ProjectionMemo>
    /// Classes of whole sequences of a one-layer model without a mask (`sequenceClass`): a trie over the
    /// heads' memo nodes, in head order; `sequenceNodes[0]` counts its nodes.
    private let sequenceTrie: PairMap
    private let sequenceNodes: ScratchBuffer<Int>
    /// The work done so far (WalkCost.swift), and the costs it adds up: per position; per head, per key and
    /// per output computed; a remembered output; per layer, projections computed and copied.
    let workCounter: ScratchBuffer<Double>
    private let positionWork: Double, rememberedWork: Double
    let unembedWork: Double
    /// `computedWork[k]`: the work of a position seeing k keys with every head output and projection computed,
    /// `WalkCost.most(keys: k)` (what `push` counts when no memo remembers anything: whole units, so the order
    /// of the sums does not matter).
    let computedWork: ScratchBuffer<Double>
    private let perKeyWork: ScratchBuffer<Double>, perOutputWork: ScratchBuffer<Double>
    private let projectionWork: ScratchBuffer<Double>, recalledWork: ScratchBuffer<Double>
    private static let sequenceClassLimit = 1 << 16
    /// The sibling lanes' buffers (SiblingLanes.swift).
    let siblings: SiblingStore
    /// exp of recent arguments: `expKeys[i]` is an argument's bit pattern (a NaN pattern when empty).
    private let expKeys: ScratchBuffer<UInt64>
    private let expValues: ScratchBuffer<Double>
    private static let expSlots = 1 << 12
    private static let emptyKey: UInt64 = 0x7FF8_0000_0000_0001

    /// A pass over the model of `tables` for up to `tables.capacity` positions.
    package init(_ tables: FirstLayerTables) {
        let m = tables.model
        model = m
        self.tables = tables
        capacity = tables.capacity
        layerCount = m.layers.count
        headCount = m.heads.count
        firstLaterHead = m.layers.first.map { $0.headCount } ?? 0
        let c = capacity, d = m.dModel
        var doubleCount = 0, intCount = 0
        func takeDoubles(_ n: Int) -> Int { defer { doubleCount += n }; return doubleCount }
        func takeInts(_ n: Int) -> Int { defer { intCount += n }; return intCount }
        residualBase = takeDoubles(max(0, layerCount) * c * d)  // residual[l] at (l - 1) * c * d
        var laterWidth = 0, laterValues = 0
        for h in firstLaterHead..<m.heads.count {
            laterWidth += 2 * m.heads[h].dHead + m.heads[h].dValue
            laterValues += m.heads[h].dValue
        }
        laterHeadBase = takeDoubles(c * laterWidth)
        weightsBase = takeDoubles(c)
        zBase = takeDoubles(max(1, m.maxHead))
        outBase = takeDoubles(d)
        qkInputBase = takeDoubles(d)
        zerosBase = takeDoubles(d)
        logitRows = ScratchBuffer(count: c * m.nOutputs)
        counter = ScratchBuffer(count: 1)
        entriesBase = takeInts(d)
        qkEntriesBase = takeInts(d)
        zEntriesBase = takeInts(max(1, m.maxHead))
        laterListBase = takeInts(c * laterValues)
        queryListBase = takeInts(m.heads.count * max(1, m.maxHead))
        doubles = ScratchBuffer(count: doubleCount)
        ints = ScratchBuffer(count: intCount)
        let slots = max(1, m.heads.count * c)
        kRows = .allocate(capacity: slots)
        vRows = .allocate(capacity: slots)
        vLists = .allocate(capacity: slots)
        qRows = .allocate(capacity: max(1, m.heads.count))
        qLists = .allocate(capacity: max(1, m.heads.count))
        vCounts = ScratchBuffer(count: slots)
        kFinite = ScratchBuffer(count: slots)
        qCounts = ScratchBuffer(count: max(1, m.heads.count))
        cellOf = ScratchBuffer(count: c)
        expKeys = ScratchBuffer(count: Self.expSlots)
        expValues = ScratchBuffer(count: Self.expSlots)
        expKeys.pointer.update(repeating: Self.emptyKey, count: Self.expSlots)
        firstHeadCount = tables.heads.count
        firstHeads = .allocate(capacity: max(1, tables.heads.count))
        _ = UnsafeMutableBufferPointer(start: firstHeads, count: tables.heads.count).initialize(from: tables.heads)
        slotOf = .allocate(capacity: max(1, tables.slotOf.count))
        _ = UnsafeMutableBufferPointer(start: slotOf, count: tables.slotOf.count).initialize(from: tables.slotOf)
        tableRows = UnsafePointer(tables.rows.pointer)
        tableWidth = tables.width
        tableCells = tables.cells
        tableStride = tables.stride
        tableKFinite = UnsafePointer(tables.kFinite.pointer)
        tableVList = UnsafePointer(tables.vList.pointer)
        tableVCount = UnsafePointer(tables.vCount.pointer)
        tableQList = UnsafePointer(tables.qList.pointer)
        tableQCount = UnsafePointer(tables.qCount.pointer)
        tableScores = tables.scores.map { UnsafePointer($0.pointer) }
        tableKeyClass = UnsafePointer(tables.keyClass.pointer)
        tableQueryClass = UnsafePointer(tables.queryClass.pointer)
        memos = .allocate(capacity: max(1, m.heads.count))
        for (h, head) in m.heads.enumerated() { (memos + h).initialize(to: HeadMemo(dModel: d, dHead: head.dHead, dValue: head.dValue)) }
        pathNodes = ScratchBuffer(count: slots)
        keyClassOf = ScratchBuffer(count: max(1, m.heads.count))
        queryClasses = ScratchBuffer(count: slots)
        workCounter = ScratchBuffer(count: 1)
        positionWork = m.cost.position
        unembedWork = m.cost.unembed
        computedWork = ScratchBuffer(count: c + 1)
        for keys in 0...c { computedWork.pointer[keys] = m.cost.most(keys: Double(keys)) }
        rememberedWork = m.cost.remembered
        perKeyWork = ScratchBuffer(count: max(1, m.heads.count))
        perOutputWork = ScratchBuffer(count: max(1, m.heads.count))
        for h in 0..<m.heads.count {
            perKeyWork.pointer[h] = m.cost.perKey[h]
            perOutputWork.pointer[h] = m.cost.perOutput[h]
        }
        projectionWork = ScratchBuffer(count: max(1, layerCount))
        recalledWork = ScratchBuffer(count: max(1, layerCount))
        for l in 0..<layerCount {
            projectionWork.pointer[l] = m.cost.projections[l]
            recalledWork.pointer[l] = m.cost.recalled[l]
        }
        siblings = SiblingStore(m, capacity: c, valueCount: m.valueCount)
        sequenceTrie = PairMap(capacity: m.causal || layerCount != 1 ? 1 : Self.sequenceClassLimit)
        sequenceNodes = ScratchBuffer(count: 1)
        sequenceNodes.pointer[0] = 1
        projectionMemos = .allocate(capacity: max(1, layerCount))
        for (l, layer) in m.layers.enumerated() {
            let shapes = m.heads(of: layer).map { (dHead: $0.dHead, dValue: $0.dValue) }
            (projectionMemos + l).initialize(to: ProjectionMemo(inputWidth: m.positionsInQK ? 2 * d : d, heads: l == 0 ? [] : shapes))
        }
        // Later heads' rows never move: point at them once.
        let base = UnsafePointer(doubles.pointer)
        let intBase = UnsafePointer(ints.pointer)
        var offset = laterHeadBase, listOffset = laterListBase
        for h in 0..<m.heads.count {
            qLists[h] = intBase + queryListBase + h * max(1, m.maxHead)
            for p in 0..<c {
                kRows[h * c + p] = base
                vRows[h * c + p] = base
                vLists[h * c + p] = intBase
            }
            qRows[h] = base
            guard h >= firstLaterHead else { continue }
            let head = m.heads[h]
            for p in 0..<c {
                kRows[h * c + p] = base + offset + c * head.dHead + p * head.dHead
                vRows[h * c + p] = base + offset + 2 * c * head.dHead + p * head.dValue
                vLists[h * c + p] = intBase + listOffset + p * head.dValue
            }
            qRows[h] = base + offset  // moved to the current position by `project`
            offset += c * (2 * head.dHead + head.dValue)
            listOffset += c * head.dValue
        }
    }

    deinit {
        kRows.deallocate()
        vRows.deallocate()
        vLists.deallocate()
        qRows.deallocate()
        qLists.deallocate()
        firstHeads.deallocate()
        slotOf.deallocate()
        for h in 0..<headCount { memos[h].deallocate() }
        memos.deinitialize(count: headCount)
        memos.deallocate()
        for l in 0..<layerCount { projectionMemos[l].deallocate() }
        projectionMemos.deinitialize(count: layerCount)
        projectionMemos.deallocate()
        sequenceTrie.deallocate()
    }

    /// The work done since this pass was made (WalkCost.swift): deterministic, whatever the machine.
    package var work: Double { workCounter.pointer[0] }

    /// Adds `units` of work the caller did (a position counted without computing).
    @inline(__always)
    package func addWork(_ units: Double) { workCounter.pointer[0] += units }

    /// Whether every memo has stopped (HeadMemo.swift): the sibling lanes then lose nothing by skipping them.
    package var memosOff: Bool {
        for h in 0..<headCount where memos[h].isOn { return false }
        for l in 1..<max(1, layerCount) where model.layers[l].headCount > 0 && projectionMemos[l].isOn { return false }
        return true
    }

    /// Per head: remembered outputs used, lookups, and whether the memo is still on (HeadMemo.swift).
    package var memoCounts: [(hits: Int, lookups: Int, on: Bool)] { (0..<headCount).map { (memos[$0].hits, memos[$0].lookups, memos[$0].isOn) } }

    /// Forgets positions `n...`; later pushes recompute them.
    @inline(__always)
    package func truncate(to n: Int) {
        precondition(n >= 0 && n <= count, "cannot truncate \(count) positions to \(n)")
        counter.pointer[0] = n
    }

    /// The logits of computed position `p`, `[nOutputs]` (a copy; the walk reads them in place with `logitRow`).
    package func logits(at p: Int) -> ArraySlice<Double> {
        precondition(p >= 0 && p < count, "position \(p) is not computed (count \(count))")
        return ArraySlice(UnsafeBufferPointer(start: logitRow(at: p), count: model.nOutputs))
    }

    /// The logits of computed position `p` in place, `[nOutputs]`: valid until the position is recomputed.
    @inline(__always)
    package func logitRow(at p: Int) -> UnsafePointer<Double> {
        UnsafePointer(logitRows.pointer + p &* model.nOutputs)
    }

    /// Counts a last position that is not graded, left uncomputed by the walk (WalkCost.swift).
    @inline(__always)
    package func skip() { workCounter.pointer[0] += WalkCost.positionOverhead }

    /// Computes position `count` for `token` (a tabulated row of `W_E`) through every layer and appends it;
    /// its logits only when `logits` (else `logitRow(at:)` of it is stale until it is pushed again).
    package func push(_ token: Int, logits: Bool = true) {
        let p = count
        precondition(p < capacity, "the walk already holds \(capacity) positions")
        precondition(token >= 0 && token < model.dVocab && slotOf[token] >= 0, "token \(token) is not in the walk's tables")
        let cell = slotOf[token] &* capacity &+ p
        let x0 = setFirstLayer(cell, at: p)
        for h in 0..<firstHeadCount {
            let head = firstHeads[h]
            let i = h &* tableCells &+ cell
            qRows[h] = x0 + head.q
            qLists[h] = tableQList + i &* tableStride
            qCounts.pointer[h] = Int(tableQCount[i])
            queryClasses.pointer[h &* capacity &+ p] = tableQueryClass[i]
        }
        counter.pointer[0] = p + 1
        // Without a mask every position waits for the whole sequence (`computeWithoutMask`).
        guard model.causal else { return }
        workCounter.pointer[0] += logits ? positionWork : positionWork - unembedWork
        for l in 0..<layerCount {
            let x = l == 0 ? x0 : UnsafePointer(residual(l, p))
            if l > 0 { project(layer: l, at: p, x) }
            attend(layer: l, at: p, x, keys: p + 1)
        }
        if logits { unembed(p) }
    }

    /// Makes table row `cell` position `p`'s: its cell, and every layer-0 head's key and value rows, their entry
    /// lists and finiteness, and the memos' key-sequence nodes; returns the row. Its queries are the caller's.
    @inline(__always)
    func setFirstLayer(_ cell: Int, at p: Int) -> UnsafePointer<Double> {
        cellOf.pointer[p] = cell
        let x0 = tableRows + cell &* tableWidth
        for h in 0..<firstHeadCount {
            let head = firstHeads[h]
            let i = h &* tableCells &+ cell, slot = h &* capacity &+ p
            kRows[slot] = x0 + head.k
            vRows[slot] = x0 + head.v
            vLists[slot] = tableVList + i &* tableStride
            vCounts.pointer[slot] = Int(tableVCount[i])
            kFinite.pointer[slot] = tableKFinite[i]
            pathNodes.pointer[slot] = memos[h].child(of: p == 0 ? 0 : pathNodes.pointer[slot &- 1], tableKeyClass[i])
        }
        return x0
    }

    /// Without a causal mask: every position of the `count` pushed, each attending to all of them, through every
    /// layer, as ForwardState's `runWhole` (layer by layer: every position's projections, then every query).
    package func computeWithoutMask() {
        precondition(!model.causal, "computeWithoutMask is for models without a causal mask")
        let n = count, cells = cellOf.pointer
        workCounter.pointer[0] += Double(n) * positionWork
        for l in 0..<layerCount {
            if l > 0 { for p in 0..<n { project(layer: l, at: p, UnsafePointer(residual(l, p))) } }
            for p in 0..<n {
                let x = l == 0 ? tableRows + cells[p] &* tableWidth : UnsafePointer(residual(l, p))
                setQuery(layer: l, at: p)
                attend(layer: l, at: p, x, keys: n)
            }
        }
        for p in 0..<n { unembed(p) }
    }

    /// For a model of one layer without a mask: a class of the `count` positions pushed such that two sequences
    /// of one class give equal logits, bit for bit, at every two positions of equal table row (`cell(at:)`); -1
    /// when the memos cannot tell (a memo stopped or full). Why: a position's only layer's head outputs are the
    /// memo's outputs of (its heads' key-sequence nodes, its query class), its query class and its residual row are
    /// functions of its table row, and its logits of its residual after the heads.
    package func sequenceClass() -> Int32 {
        guard !model.causal, layerCount == 1, count > 0 else { return -1 }
        var node: Int32 = 0
        for h in 0..<headCount {
            let head = pathNodes.pointer[h &* capacity &+ count &- 1]
            guard head >= 0 else { return -1 }
            let found = sequenceTrie.value(node, head)
            if found >= 0 {
                node = found
                continue
            }
            let next = sequenceNodes.pointer[0]
            guard next < Self.sequenceClassLimit else { return -1 }
            sequenceNodes.pointer[0] = next + 1
            sequenceTrie.insert(node, head, Int32(next))
            node = Int32(next)
        }
        return node
    }

    /// The table row of position `p`'s (token, position) pair.
    @inline(__always)
    package func cell(at p: Int) -> Int { cellOf.pointer[p] }

    /// Points every head of layer `l` at position `p`'s q row, its non-zero entries and their count (the walk
    /// with a mask sets them as it pushes or projects `p`).
    private func setQuery(layer l: Int, at p: Int) {
        let layer = model.layers[l]
        for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
            if l == 0 {
                let i = h &* tableCells &+ cellOf.pointer[p]
                qRows[h] = tableRows + cellOf.pointer[p] &* tableWidth + firstHeads[h].q
                qLists[h] = tableQList + i &* tableStride
                qCounts.pointer[h] = Int(tableQCount[i])
            } else {
                let dHead = model.heads[h].dHead
                let q = kRows[h &* capacity &+ p] - capacity &* dHead  // the q block sits just before the k block
                qRows[h] = q
                qCounts.pointer[h] = ForwardKernels.nonZeros(q, dHead, into: UnsafeMutablePointer(mutating: qLists[h]))
            }
        }
    }

    /// `logits[p] = residual[layers][p] W_U + b_U`.
    private func unembed(_ p: Int) {
        let m = model
        let final = layerCount == 0 ? tableRows + cellOf.pointer[p] &* tableWidth : UnsafePointer(residual(layerCount, p))
        let row = logitRows.pointer + p &* m.nOutputs
        m.timesFinite(final, m.wU, entries: ints.pointer + entriesBase, into: row)
        if let bU = m.bU { ForwardKernels.add(m.at(bU), m.nOutputs, to: row) }
    }

    @inline(__always)
    private func residual(_ l: Int, _ p: Int) -> UnsafeMutablePointer<Double> {
        doubles.pointer + residualBase + ((l - 1) * capacity + p) * model.dModel
    }

    /// q, k and v of position `p` for every head of layer `l` (> 0), as ForwardState's `project`; also k's
    /// finiteness, v's non-zero entries and q's, and the head memos' classes: copied when the layer met the
    /// same input before (ProjectionMemo), else computed and remembered.
    private func project(layer l: Int, at p: Int, _ x: UnsafePointer<Double>) {
        let m = model, d = m.dModel
        guard m.layers[l].headCount > 0 else { return }  // nothing to project
        var qk = x
        if m.positionsInQK, let wPos = m.wPos {
            let input = doubles.pointer + qkInputBase
            ForwardKernels.sum(x, m.at(wPos + p * d), d, into: input)
            qk = UnsafePointer(input)
        }
        let memo = projectionMemos[l]
        let known = memo.inputs.count
        var id: Int32 = -1
        if memo.isOn {
            id = memo.inputs.id(x, d, qk)
            memo.count(found: id >= 0 && Int(id) < known)
        }
        if id >= 0 && Int(id) < known {
            recall(layer: l, at: p, memo.record(id))
            workCounter.pointer[0] += recalledWork.pointer[l]
        } else {
            computeProjections(layer: l, at: p, x, qk)
            workCounter.pointer[0] += projectionWork.pointer[l]
            if id >= 0 { remember(layer: l, at: p, memo.record(id)) }
        }
        for h in m.layers[l].firstHead..<(m.layers[l].firstHead + m.layers[l].headCount) {
            let slot = h &* capacity &+ p
            pathNodes.pointer[slot] = memos[h].child(of: p == 0 ? 0 : pathNodes.pointer[slot &- 1], keyClassOf.pointer[h])
        }
    }

    /// The projections of `project`, computed (`qk` is `x`, or `x` plus the position's row of W_pos).
    private func computeProjections(layer l: Int, at p: Int, _ x: UnsafePointer<Double>, _ qk: UnsafePointer<Double>) {
        let m = model, d = m.dModel, c = capacity
        let layer = m.layers[l]
        let entries = ints.pointer + entriesBase
        let count = ForwardKernels.nonZeros(x, d, into: entries)
        var qkList = UnsafePointer(entries), qkCount = count
        if qk != x {
            let list = ints.pointer + qkEntriesBase
            qkCount = ForwardKernels.nonZeros(qk, d, into: list)
            qkList = UnsafePointer(list)
        }
        for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
            let head = m.heads[h], slot = h * c + p
            let k = UnsafeMutablePointer(mutating: kRows[slot]), v = UnsafeMutablePointer(mutating: vRows[slot])
            let qRow = k - c * head.dHead  // the q block sits just before the k block
            m.project(qk, entries: qkList, qkCount, head.wQ, head.bQ, into: qRow)
            m.project(qk, entries: qkList, qkCount, head.wK, head.bK, into: k)
            m.project(x, entries: entries, count, head.wV, head.bV, into: v)
            kFinite.pointer[slot] = FirstLayerTables.allFinite(k, head.dHead) ? 1 : 0
            vCounts.pointer[slot] = ForwardKernels.nonZeros(v, head.dValue, into: UnsafeMutablePointer(mutating: vLists[slot]))
            qRows[h] = UnsafePointer(qRow)
            qCounts.pointer[h] = ForwardKernels.nonZeros(qRow, head.dHead, into: UnsafeMutablePointer(mutating: qLists[h]))
            let memo = memos[h]
            keyClassOf.pointer[h] = memo.isOn ? memo.keyClasses.id(k, head.dHead, v) : -1
            queryClasses.pointer[slot] = memo.isOn ? memo.queryClasses.id(qRow, head.dHead, qRow) : -1
        }
    }

    /// Copies position `p`'s projections, computed by `computeProjections`, into a ProjectionMemo record.
    private func remember(layer l: Int, at p: Int, _ record: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Int32>)) {
        var (reals, ints) = record
        let c = capacity, layer = model.layers[l]
        for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
            let head = model.heads[h], slot = h &* c &+ p, dHead = head.dHead, dValue = head.dValue
            ForwardKernels.copy(qRows[h], dHead, to: reals)
            ForwardKernels.copy(kRows[slot], dHead, to: reals + dHead)
            ForwardKernels.copy(vRows[slot], dValue, to: reals + 2 &* dHead)
            reals += 2 &* dHead &+ dValue
            ints[0] = Int32(kFinite.pointer[slot])
            ints[1] = Int32(vCounts.pointer[slot])
            ints[2] = Int32(qCounts.pointer[h])
            ints[3] = keyClassOf.pointer[h]
            ints[4] = queryClasses.pointer[slot]
            ForwardKernels.copy(vLists[slot], dValue, to: ints + 5)
            ForwardKernels.copy(qLists[h], dHead, to: ints + (5 + dValue))
            ints += 5 + dValue + dHead
        }
    }

    /// Position `p`'s projections from a ProjectionMemo record (the inverse of `remember`).
    private func recall(layer l: Int, at p: Int, _ record: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Int32>)) {
        var (reals, ints) = record
        let c = capacity, layer = model.layers[l]
        for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
            let head = model.heads[h], slot = h &* c &+ p, dHead = head.dHead, dValue = head.dValue
            let k = UnsafeMutablePointer(mutating: kRows[slot]), qRow = k - c &* dHead
            ForwardKernels.copy(reals, dHead, to: qRow)
            ForwardKernels.copy(reals + dHead, dHead, to: k)
            ForwardKernels.copy(reals + 2 &* dHead, dValue, to: UnsafeMutablePointer(mutating: vRows[slot]))
            reals += 2 &* dHead &+ dValue
            kFinite.pointer[slot] = UInt8(ints[0])
            vCounts.pointer[slot] = Int(ints[1])
            qCounts.pointer[h] = Int(ints[2])
            keyClassOf.pointer[h] = ints[3]
            queryClasses.pointer[slot] = ints[4]
            ForwardKernels.copy(ints + 5, dValue, to: UnsafeMutablePointer(mutating: vLists[slot]))
            ForwardKernels.copy(ints + (5 + dValue), dHead, to: UnsafeMutablePointer(mutating: qLists[h]))
            qRows[h] = UnsafePointer(qRow)
            ints += 5 + dValue + dHead
        }
    }

    /// Position `p`'s attention to keys `0..<visible` in every head of layer `l`, and the stream after it, as
    /// ForwardState's `attend`.
    private func attend(layer l: Int, at p: Int, _ x: UnsafePointer<Double>, keys visible: Int) {
        let m = model, d = m.dModel, c = capacity
        let layer = m.layers[l]
        let next = residual(l + 1, p)
        if layer.headCount == 0 { ForwardKernels.sum(x, doubles.pointer + zerosBase, d, into: next) }
        let out = doubles.pointer + outBase
        for h in layer.firstHead..<(layer.firstHead + layer.headCount) {
            // The head's output z W_O into `out`: remembered, or computed (and remembered).
            let node = pathNodes.pointer[h &* c &+ visible &- 1], queryClass = queryClasses.pointer[h &* c &+ p]
            let known = node >= 0 && queryClass >= 0
            let stored = known ? memos[h].output(node, queryClass) : nil
            if let stored {
                ForwardKernels.copy(stored, d, to: out)
            } else {
                headOutput(h, layer: l, at: p, keys: visible, into: out)
                if known { memos[h].remember(node, queryClass, out) }
            }
            workCounter.pointer[0] += WalkCost.output(
                keys: Double(visible), perKey: perKeyWork.pointer[h], perOutput: perOutputWork.pointer[h],
                remembered: stored == nil ? nil : rememberedWork)
            ForwardKernels.sum(h == layer.firstHead ? x : UnsafePointer(next), out, d, into: next)
        }
        if let bO = layer.bO { ForwardKernels.add(m.at(bO), d, to: next) }
    }

    /// Head `h` (of layer `l`) at position `p` over keys `0..<visible`: its output z W_O into `out` `[dModel]`.
    private func headOutput(_ h: Int, layer l: Int, at p: Int, keys visible: Int, into out: UnsafeMutablePointer<Double>) {
        let m = model, c = capacity
        let weights = doubles.pointer + weightsBase, z = doubles.pointer + zBase
        let zEntries = ints.pointer + zEntriesBase
        let scale = m.scale
        // The buffers, in locals: stores through pointers would otherwise make the compiler reload them.
        let kRows = kRows, vRows = vRows, vLists = vLists, vCounts = vCounts.pointer, kFinite = kFinite.pointer
        let cells = cellOf.pointer
        do {
            let head = m.heads[h], base = h &* c
            // Scores, and their maximum (attentionRow's first loop).
            var maxScore = -Double.infinity
            if l == 0, let table = tableScores {
                let row = table + (h &* tableCells &+ cells[p]) &* tableCells
                for j in 0..<visible {
                    let s = row[cells[j]]
                    weights[j] = s
                    if s > maxScore { maxScore = s }
                }
            } else {
                let q = qRows[h], list = qLists[h], n = qCounts.pointer[h], dHead = head.dHead
                for j in 0..<visible {
                    let key = kRows[base &+ j]
                    var dot = 0.0
                    if kFinite[base &+ j] != 0 {
                        for e in 0..<n {
                            let i = Int(list[e])
                            dot += q[i] * key[i]
                        }
                    } else {
                        for i in 0..<dHead { dot += q[i] * key[i] }
                    }
                    let s = dot * scale
                    weights[j] = s
                    if s > maxScore { maxScore = s }
                }
            }
            // Softmax (ForwardKernels.softmax's steps), exp from the cache: the e_j and their total first.
            let total = ForwardKernels.exponentials(weights, visible, maxScore: maxScore, exp: cachedExp)
            // Then each weight e_j / total (the quotient of an equal e reused: the same bits), and at once
            // z = pattern v  [dValue], skipping the ±0 products of a finite weight.
            let dValue = head.dValue
            for i in 0..<dValue { z[i] = 0 }
            // (Equal bits in, equal bits out, NaN included: no special case once the first quotient is taken.)
            var lastE = weights[0].bitPattern, lastWeight = weights[0] / total
            for j in 0..<visible {
                let e = weights[j]
                if e.bitPattern != lastE {
                    lastE = e.bitPattern
                    lastWeight = e / total
                }
                let a = lastWeight
                if a == 0 { continue }
                let v = vRows[base &+ j]
                if a.isFinite {
                    let list = vLists[base &+ j]
                    for e in 0..<vCounts[base &+ j] {
                        let i = Int(list[e])
                        z[i] += a * v[i]
                    }
                } else {
                    for i in 0..<dValue { z[i] += a * v[i] }
                }
            }
            m.timesFinite(z, head.wO, entries: zEntries, into: out)
        }
    }

    /// `exp(argument)`, from the cache when the argument was seen (NaN is never cached).
    @inline(__always)
    func cachedExp(_ argument: Double) -> Double {
        if argument.isNaN { return exp(argument) }
        let key = argument.bitPattern
        let i = Int(truncatingIfNeeded: (key ^ (key >> 29) ^ (key >> 41)) & UInt64(Self.expSlots - 1))
        if expKeys.pointer[i] == key { return expValues.pointer[i] }
        let value = exp(argument)
        expKeys.pointer[i] = key
        expValues.pointer[i] = value
        return value
    }
}
