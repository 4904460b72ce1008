import Foundation
import Numerics

// The exhaustive walk's siblings in SIMD lanes (WalkForward.pushSiblings / takeSibling): the children of a node
// differ only in the token of their last position, so their positions are computed together, child c in lane c
// of SIMD8<Double>, one pass of the loops for up to 8 of them. The walk then takes one lane at a time as that
// child's position (its keys for the deeper positions, its logits).
//
// Exact to the bit, by the same argument as ForwardKernels.swift: each lane runs forward's operations in
// forward's order (the products and sums of every row @ W in row order, q · k over every term, the softmax's
// max, exp(s - max) with 1 for s = max, the total in key order, e / total, pattern · v in key order, the residual
// sums in head order, b_O, W_U, b_U). The lanes skip nothing that forward computes and compute some products
// forward skips (a zero input or a zero weight); each such product is ±0 when both factors are finite, and a sum
// that starts at +0 never changes by adding ±0. So the lanes require every factor to be finite: the model's
// weights (checked once), and every row a lane computes (residuals, q, k, v, the scores, z), checked as it goes
// by accumulating `x * 0` (NaN exactly when x is ±inf or NaN), unless the model's magnitude bound proves every
// value finite (MagnitudeBound.swift: then no check can fail). A group with a non-finite value anywhere is
// dropped (`pushSiblings` returns false) and the walk pushes its children one by one. A key of an earlier
// position that is not finite (pushed that way) is met with forward's own rule: its q · k takes every term
// (as the lanes always do), and pattern · v adds no product of a zero weight (a select, as forward's skip).
//
// Storage for positions 0..<capacity, lane by lane: the table row of each lane, its logits, and the k and v of
// every head past layer 0 (layer 0's are table rows), copied into the walk's own rows when the lane is taken.

/// Eight siblings' values of one number.
package typealias Lanes = SIMD8<Double>

/// A zero-filled buffer of lanes owned by one walk; freed with its owner.
package final class LaneBuffer {
    let pointer: UnsafeMutablePointer<Lanes>

    init(count: Int) {
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: .zero, count: max(1, count))
    }

    deinit { pointer.deallocate() }
}

/// A walk's buffers for its sibling lanes (see SiblingLanes.swift); one per WalkForward.
package final class SiblingStore {
    package static let lanes = 8
    /// `[(layers + 1) * dModel]`: the layer-0 input, then the residual after each layer.
    let x: LaneBuffer
    /// Per head in turn: q, k, v, z `[maxHead]` each; the q/k input with W_pos `[dModel]`; W_O's output `[dModel]`;
    /// the scores, then the e_j `[capacity]`; the logits `[nOutputs]`.
    let q: LaneBuffer, k: LaneBuffer, v: LaneBuffer, z: LaneBuffer
    let qkInput: LaneBuffer, out: LaneBuffer, scores: LaneBuffer, logits: LaneBuffer
    /// `[capacity, lanes]`: each lane's table row.
    let cells: ScratchBuffer<Int>
    /// The scores and e_j as plain doubles, `[capacity, lanes]`, and the lanes' largest scores `[lanes]`.
    let flatScores: ScratchBuffer<Double>, maxima: ScratchBuffer<Double>
    /// `[capacity, nOutputs]` and `[capacity, keyWidth]` (each head past layer 0: k, then v), of lanes.
    let laneLogits: LaneBuffer, laneKeys: LaneBuffer
    let keyWidth: Int
    /// Per head: where its k starts in a lane's key row (-1 for a layer-0 head).
    let keyOffset: [Int]
    /// Whether every weight of the model (and of W_E, W_pos) is finite: else the lanes are never used.
    let weightsFinite: Bool
    /// Whether the lanes check the values they compute: not when the model's magnitude bound proves every one
    /// finite (MagnitudeBound.swift).
    let probing: Bool
    /// `live[l]`: the dims of the stream entering layer l (l = layers: the final one) that anything later reads, in
    /// increasing order (`liveCount[l]` of them, rows `l * dModel`): W_U's rows with a non-zero weight, and those
    /// of every later projection, W_Q, W_K, W_V (the first layer's come from the tables). The lanes compute only
    /// these, which is exact when every value is finite (the rest are never read, and a finite product with a
    /// zero weight leaves a sum as it is); with `probing`, every dim is live.
    let live: ScratchBuffer<Int32>, liveCount: ScratchBuffer<Int>

    init(_ m: PackedModel, capacity: Int, valueCount: Int) {
        let d = m.dModel, wide = max(1, m.maxHead), lanes = Self.lanes
        x = LaneBuffer(count: (m.layers.count + 1) * d)
        q = LaneBuffer(count: wide)
        k = LaneBuffer(count: wide)
        v = LaneBuffer(count: wide)
        z = LaneBuffer(count: wide)
        qkInput = LaneBuffer(count: d)
        out = LaneBuffer(count: d)
        scores = LaneBuffer(count: capacity)
        logits = LaneBuffer(count: m.nOutputs)
        cells = ScratchBuffer(count: capacity * lanes)
        flatScores = ScratchBuffer(count: max(capacity, d, wide) * lanes)
        maxima = ScratchBuffer(count: lanes)
        var offsets: [Int] = [], width = 0
        let firstLater = m.layers.first.map { $0.headCount } ?? 0
        for (h, head) in m.heads.enumerated() {
            offsets.append(h < firstLater ? -1 : width)
            if h >= firstLater { width += head.dHead + head.dValue }
        }
        keyOffset = offsets
        keyWidth = width
        laneLogits = LaneBuffer(count: capacity * m.nOutputs)
        laneKeys = LaneBuffer(count: capacity * width)
        weightsFinite = ForwardKernels.allFinite(m.base, valueCount)
        probing = !(m.magnitudeBound < PackedModel.finiteLimit)
        live = ScratchBuffer(count: (m.layers.count + 1) * d)
        liveCount = ScratchBuffer(count: m.layers.count + 1)
        var read = Self.rowsRead(m, m.wU, all: probing)
        for l in stride(from: m.layers.count, through: 0, by: -1) {
            if l < m.layers.count, l > 0 {
                for head in m.heads(of: m.layers[l]) {
                    for w in [head.wQ, head.wK, head.wV] { read.formUnion(Self.rowsRead(m, w, all: probing)) }
                }
            }
            let dims = read.sorted()
            for (e, dim) in dims.enumerated() { live.pointer[l * d + e] = Int32(dim) }
            liveCount.pointer[l] = dims.count
        }
    }

    /// The rows of `w` with a non-zero weight (every row when `all`, or when `w` is dense).
    private static func rowsRead(_ m: PackedModel, _ w: PackedModel.Weight, all: Bool) -> Set<Int> {
        guard !all, let activeRows = w.activeRows else { return Set(0..<w.rows) }
        return Set((0..<w.activeCount).map { Int(m.indexBase[activeRows + $0]) })
    }

    /// The lanes stored at `doubles[0..<8]`.
    @inline(__always)
    func load(_ doubles: UnsafePointer<Double>) -> Lanes { UnsafeRawPointer(doubles).loadUnaligned(as: Lanes.self) }

    /// Stores `lanes` at `doubles[0..<8]`.
    @inline(__always)
    func store(_ lanes: Lanes, to doubles: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(doubles).storeBytes(of: lanes, as: Lanes.self)
    }
}

extension WalkForward {
    /// Whether the lanes may be used for this model: a causal mask, and finite weights.
    package var siblingLanesAvailable: Bool { model.causal && siblings.weightsFinite }

    /// Computes position `count` for each of `n` tokens (tabulated rows of `W_E`, 1 ≤ n ≤ 8) in lanes 0..<n,
    /// without appending any; `takeSibling(lane)` then appends one. Returns false (nothing to take) when a value
    /// met is not finite or the lanes are not available: the caller then pushes the tokens one by one.
    package func pushSiblings(_ tokens: UnsafePointer<Int>, _ n: Int) -> Bool {
        let p = count, s = siblings, m = model, d = m.dModel
        precondition(p < capacity && n >= 1 && n <= SiblingStore.lanes, "cannot compute \(n) siblings at position \(p)")
        guard siblingLanesAvailable else { return false }
        let cells = s.cells.pointer + p &* SiblingStore.lanes
        for lane in 0..<SiblingStore.lanes {
            let token = tokens[Swift.min(lane, n &- 1)]
            precondition(token >= 0 && token < m.dVocab && slotOf[token] >= 0, "token \(token) is not in the walk's tables")
            cells[lane] = slotOf[token] &* capacity &+ p
        }
        var probe = Lanes.zero
        let x0 = s.x.pointer
        // The live dims of the stream entering layer 1 (of the final one without layers), from the table rows.
        let level = Swift.min(1, layerCount)
        gatherTableRows(cells, column: 0, width: s.liveCount.pointer[level], dims: s.live.pointer + level &* d, into: x0)
        if s.probing { for c in 0..<d { probe += x0[c] * 0 } }
        for l in 0..<layerCount {
            laneLayer(l, at: p, cells: cells, lanes: n, probe: &probe)
        }
        let final = UnsafePointer(s.x.pointer + layerCount &* d)
        let logits = s.logits.pointer
        laneTimes(final, m.wU, into: logits)
        if let bU = m.bU { laneAdd(m.at(bU), m.nOutputs, to: logits) }
        guard probe == .zero else { return false }
        // The logits, lane-minor, for `takeSibling`.
        ForwardKernels.copy(s.logits.pointer, m.nOutputs, to: s.laneLogits.pointer + p &* m.nOutputs)
        return true
    }

    /// Appends lane `lane` of the last `pushSiblings` as position `count`: its logits when `logits` (else they
    /// are stale), its keys for later positions when `keys` (a leaf has none). Counts the work the scalar
    /// `push` would (WalkCost.swift), so that a walk's count does not depend on which path computed it.
    package func takeSibling(_ lane: Int, logits: Bool, keys: Bool) {
        let p = count, s = siblings, m = model, c = capacity
        _ = setFirstLayer(s.cells.pointer[p &* SiblingStore.lanes &+ lane], at: p)
        if keys {
            let row = UnsafePointer(s.laneKeys.pointer + p &* s.keyWidth)
            for h in firstLaterHead..<headCount {
                let head = m.heads[h], slot = h &* c &+ p, offset = s.keyOffset[h]
                let k = UnsafeMutablePointer(mutating: kRows[slot]), v = UnsafeMutablePointer(mutating: vRows[slot])
                for i in 0..<head.dHead { k[i] = row[offset &+ i][lane] }
                for i in 0..<head.dValue { v[i] = row[offset &+ head.dHead &+ i][lane] }
                kFinite.pointer[slot] = 1
                vCounts.pointer[slot] = ForwardKernels.nonZeros(v, head.dValue, into: UnsafeMutablePointer(mutating: vLists[slot]))
                pathNodes.pointer[slot] = -1  // its key class is not known: no memo below it
            }
        }
        if logits {
            let from = s.laneLogits.pointer + p &* m.nOutputs, to = logitRows.pointer + p &* m.nOutputs
            for i in 0..<m.nOutputs { to[i] = from[i][lane] }
        }
        counter.pointer[0] = p &+ 1
        workCounter.pointer[0] += computedWork.pointer[p &+ 1] - (logits ? 0 : unembedWork)
    }

    /// Layer `l` at position `p` in every lane: its heads' projections (past layer 0), scores, softmax, z W_O
    /// and the residual after it, as `attend` and `project` do for one position.
    private func laneLayer(_ l: Int, at p: Int, cells: UnsafePointer<Int>, lanes n: Int, probe: inout Lanes) {
        let s = siblings, m = model, d = m.dModel, c = capacity
        let layer = m.layers[l]
        let x = UnsafePointer(s.x.pointer + l &* d), next = s.x.pointer + (l &+ 1) &* d
        let live = UnsafePointer(s.live.pointer + (l &+ 1) &* d), liveCount = s.liveCount.pointer[l &+ 1]
        if layer.headCount == 0 {
            for e in 0..<liveCount {
                let i = Int(live[e])
                next[i] = x[i] + 0  // x + 0, as forward
            }
        }
        var qkIn = x
        if l > 0, m.positionsInQK, let wPos = m.wPos {
            let row = m.at(wPos + p &* d)
            for i in 0..<d { s.qkInput.pointer[i] = x[i] + Lanes(repeating: row[i]) }
            qkIn = UnsafePointer(s.qkInput.pointer)
        }
        let q = s.q.pointer, k = s.k.pointer, v = s.v.pointer, z = s.z.pointer, out = s.out.pointer
        let scores = s.scores.pointer
        for h in layer.firstHead..<(layer.firstHead &+ layer.headCount) {
            let head = m.heads[h], dHead = head.dHead, dValue = head.dValue, base = h &* c
            if l == 0 {
                // With a score table only v is read: q and k enter through the scores, which are probed below.
                let columns = firstHeads[h]
                if tableScores == nil {
                    gatherTableRows(cells, column: columns.q, width: dHead, into: q)
                    gatherTableRows(cells, column: columns.k, width: dHead, into: k)
                    if s.probing { for i in 0..<dHead { probe += q[i] * 0 + k[i] * 0 } }
                }
                gatherTableRows(cells, column: columns.v, width: dValue, into: v)
            } else {
                laneTimes(qkIn, head.wQ, into: q)
                if let b = head.bQ { laneAdd(m.at(b), dHead, to: q) }
                laneTimes(qkIn, head.wK, into: k)
                if let b = head.bK { laneAdd(m.at(b), dHead, to: k) }
                laneTimes(x, head.wV, into: v)
                if let b = head.bV { laneAdd(m.at(b), dValue, to: v) }
                // k then v, lane-minor (`takeSibling` reads one lane of them).
                let row = s.laneKeys.pointer + (p &* s.keyWidth &+ s.keyOffset[h])
                for i in 0..<dHead { row[i] = k[i] }
                for i in 0..<dValue { row[dHead &+ i] = v[i] }
                if s.probing { for i in 0..<dHead { probe += q[i] * 0 + k[i] * 0 } }
            }
            if s.probing { for i in 0..<dValue { probe += v[i] * 0 } }
            // Scores of the keys before p (shared by the lanes) and of each lane's own key, and their maximum.
            var maxScore = Lanes(repeating: -.infinity)
            if l == 0, let table = tableScores {
                // Lane by lane into plain doubles (writing single lanes of a vector in memory would stall its loads).
                let flat = s.flatScores.pointer
                for lane in 0..<SiblingStore.lanes {
                    let row = table + (h &* tableCells &+ cells[lane]) &* tableCells
                    for j in 0..<p { flat[j &* SiblingStore.lanes &+ lane] = row[cellOf.pointer[j]] }
                    flat[p &* SiblingStore.lanes &+ lane] = row[cells[lane]]
                }
                for j in 0...p { scores[j] = s.load(flat + j &* SiblingStore.lanes) }
            } else {
                for j in 0..<p {
                    let key = kRows[base &+ j]
                    var dot = Lanes.zero
                    for i in 0..<dHead { dot += q[i] * Lanes(repeating: key[i]) }
                    scores[j] = dot * m.scale
                }
                var dot = Lanes.zero
                for i in 0..<dHead { dot += q[i] * k[i] }
                scores[p] = dot * m.scale
            }
            if s.probing { for j in 0...p { probe += scores[j] * 0 } }
            for j in 0...p { maxScore.replace(with: scores[j], where: scores[j] .> maxScore) }
            // The softmax: e_j in key order (exp lane by lane, from the cache) and their total.
            let flat = s.flatScores.pointer, maxima = s.maxima.pointer
            s.store(maxScore, to: maxima)
            for j in 0...p { s.store(scores[j], to: flat + j &* SiblingStore.lanes) }
            // Key by key, lane by lane, reusing the exp of the argument just computed (siblings often share
            // their scores); the lanes past `n` repeat lane n - 1 (their token is its).
            var lastArgument = Double.nan, lastExp = Double.nan
            for j in 0...p {
                let row = flat + j &* SiblingStore.lanes
                for lane in 0..<n {
                    let score = row[lane], top = maxima[lane]
                    if score == top {
                        row[lane] = 1
                        continue
                    }
                    let argument = score - top
                    if argument != lastArgument {
                        lastArgument = argument
                        lastExp = cachedExp(argument)
                    }
                    row[lane] = lastExp
                }
                for lane in n..<SiblingStore.lanes { row[lane] = row[n &- 1] }
            }
            var total = Lanes.zero
            for j in 0...p {
                scores[j] = s.load(flat + j &* SiblingStore.lanes)
                total += scores[j]
            }
            // z = pattern v in key order; a zero weight adds nothing, as forward skips it.
            for i in 0..<dValue { z[i] = .zero }
            for j in 0..<p {
                let a = scores[j] / total, row = vRows[base &+ j], list = vLists[base &+ j]
                let zeroWeight = a .== 0
                for e in 0..<vCounts.pointer[base &+ j] {
                    let i = Int(list[e])
                    z[i] += (a * Lanes(repeating: row[i])).replacing(with: 0, where: zeroWeight)
                }
            }
            let a = scores[p] / total
            for i in 0..<dValue { z[i] += a * v[i] }
            if s.probing { for i in 0..<dValue { probe += z[i] * 0 } }
            laneTimes(UnsafePointer(z), head.wO, into: out)
            let from = h == layer.firstHead ? x : UnsafePointer(next)
            for e in 0..<liveCount {
                let i = Int(live[e])
                next[i] = from[i] + out[i]
            }
        }
        if let bO = layer.bO {
            let bias = m.at(bO)
            for e in 0..<liveCount {
                let i = Int(live[e])
                next[i] += Lanes(repeating: bias[i])
            }
        }
        if s.probing { for i in 0..<d { probe += next[i] * 0 } }
    }

    /// `out[0..<width]`, lane by lane: columns `column..<column + width` of each lane's table row; with `dims`,
    /// only the columns `column + dims[e]` for `e < width`, into `out[dims[e]]`.
    @inline(__always)
    private func gatherTableRows(
        _ cells: UnsafePointer<Int>, column: Int, width: Int, dims: UnsafePointer<Int32>? = nil, into out: UnsafeMutablePointer<Lanes>
    ) {
        let flat = siblings.flatScores.pointer  // scratch here: the scores are not yet in use
        precondition(width * SiblingStore.lanes <= siblings.flatScores.count, "a table row wider than the lanes' scratch")
        for lane in 0..<SiblingStore.lanes {
            let row = tableRows + (cells[lane] &* tableWidth &+ column)
            for e in 0..<width { flat[e &* SiblingStore.lanes &+ lane] = row[dims.map { Int($0[e]) } ?? e] }
        }
        for e in 0..<width { out[dims.map { Int($0[e]) } ?? e] = siblings.load(flat + e &* SiblingStore.lanes) }
    }

    /// `out = input @ w` in every lane, over w's non-zero weights in row order (exact for finite inputs: see
    /// the top of SiblingLanes.swift).
    @inline(__always)
    private func laneTimes(_ input: UnsafePointer<Lanes>, _ w: PackedModel.Weight, into out: UnsafeMutablePointer<Lanes>) {
        let m = model, n = w.columns, values = m.at(w.offset)
        for c in 0..<n { out[c] = .zero }
        if let nonZero = w.nonZero, let activeRows = w.activeRows {
            let lists = UnsafePointer(m.indexBase + nonZero), active = UnsafePointer(m.indexBase + activeRows)
            for e in 0..<w.activeCount {
                let r = Int(active[e])
                let a = input[r], wr = values + r &* n
                for p in Int(lists[r])..<Int(lists[r &+ 1]) {
                    let c = Int(lists[p])
                    out[c] += a * Lanes(repeating: wr[c])
                }
            }
        } else {
            for r in 0..<w.rows {
                let a = input[r], wr = values + r &* n
                for c in 0..<n { out[c] += a * Lanes(repeating: wr[c]) }
            }
        }
    }

    /// `out[c] += bias[c]` in every lane.
    @inline(__always)
    private func laneAdd(_ bias: UnsafePointer<Double>, _ n: Int, to out: UnsafeMutablePointer<Lanes>) {
        for c in 0..<n { out[c] += Lanes(repeating: bias[c]) }
    }
}
