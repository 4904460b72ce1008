import Numerics

// A transformer's weights in one contiguous buffer, for the kernels of ForwardKernels.swift.
// Every matrix keeps its row-major layout; the offsets below say where each one starts.
//   wE   [dVocab, dModel]      wPos [nCtx, dModel] (when positions are used)
//   per head: wQ, wK [dModel, dHead], wV [dModel, dValue], wO [dValue, dModel], bQ, bK [dHead], bV [dValue]
//             (biases only when not all zero; dValue = dHead except in hand-made heads)
//   per layer: bO [dModel]     wU [dModel, nOutputs], bU [nOutputs]   (biases only when not all zero)
// Hand-written weights are mostly zeros (one-hot copies, position lookups), so each matrix that right-
// multiplies a row also gets, per row, the list of its non-zero columns (an index buffer): the kernels
// then skip products with a zero weight, which leave every sum unchanged (see ForwardKernels.swift).

/// The weights of a `Transformer`, packed once and then only read (from any number of threads).
package final class PackedModel: @unchecked Sendable {
    /// A `[rows, columns]` weight matrix in `base`, with its non-zero columns per row in `indexBase`.
    package struct Weight {
        package let offset: Int
        package let rows: Int
        package let columns: Int
        /// Offset in `indexBase` of this matrix's block: `rows + 1` row starts (relative to the block)
        /// followed by the column lists; nil when the
        /// matrix is dense enough that the plain loop is faster.
        package let nonZero: Int?
        /// Offset in `indexBase` of the rows with a non-zero weight, in increasing order (`activeCount` of
        /// them); nil when `nonZero` is.
        package let activeRows: Int?
        package let activeCount: Int
    }

    /// One head's matrices.
    package struct Head {
        /// Width of q and k (`W_Q`, `W_K` columns).
        package let dHead: Int
        /// Width of v (`W_V` columns, `W_O` rows); may differ from `dHead`.
        package let dValue: Int
        package let wQ: Weight, wK: Weight, wV: Weight, wO: Weight
        /// nil when the bias is all zero: then it is not added at all, as in `Matrix` arithmetic.
        package let bQ: Int?, bK: Int?, bV: Int?
    }

    /// One layer: its heads (a range of `heads`) and its `b_O` (nil when all zero: not added at all).
    package struct Layer {
        package let firstHead: Int
        package let headCount: Int
        package let bO: Int?
    }

    /// The packed values; immutable after `init`.
    package let base: UnsafeMutablePointer<Double>
    /// How many values `base` holds.
    package let valueCount: Int
    /// The packed non-zero column lists; immutable after `init`.
    package let indexBase: UnsafeMutablePointer<Int32>
    package let dModel: Int
    package let dVocab: Int
    package let nOutputs: Int
    /// Positions the table covers (`Int.max` without one).
    package let nCtx: Int
    /// The largest `dHead` or `dValue` of any head (0 without heads).
    package let maxHead: Int
    package let wE: Int
    /// Offset of `W_pos` when positions are used at all.
    package let wPos: Int?
    /// `W_pos[t]` is added to the residual stream (learned, sinusoidal).
    package let positionsInResidual: Bool
    /// `W_pos[t]` is added to the inputs of Q and K only (shortformer).
    package let positionsInQK: Bool
    package let wU: Weight
    /// nil when all zero: not added at all.
    package let bU: Int?
    /// Every layer, and every head layer by layer. Plain values in raw buffers: threads that share the
    /// model never touch a reference count in the hot loop.
    package let layers: UnsafeMutableBufferPointer<Layer>
    package let heads: UnsafeMutableBufferPointer<Head>
    package let causal: Bool
    package let scale: Double
    /// The walk's costs (WalkCost.swift).
    package let cost: WalkCost
    /// `Transformer.magnitudeBound`: a bound on every number a forward pass computes (MagnitudeBound.swift).
    package let magnitudeBound: Double

    package init(_ model: Transformer) {
        cost = WalkCost(model)
        magnitudeBound = model.magnitudeBound
        var values: [Double] = []
        var index: [Int32] = []
        func append(_ v: [Double]) -> Int {
            let offset = values.count
            values.append(contentsOf: v)
            return offset
        }
        func appendBias(_ b: [Double]) -> Int? { b.allSatisfy { $0 == 0 } ? nil : append(b) }
        func appendWeight(_ m: Matrix) -> Weight {
            let offset = append(m.values)
            let nonZeros = m.values.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }
            // Indirection costs about as much as a multiply-add: worth it below half density.
            guard 2 * nonZeros < m.values.count, m.values.count < Int(Int32.max) else {
                return Weight(offset: offset, rows: m.rows, columns: m.columns, nonZero: nil, activeRows: nil, activeCount: 0)
            }
            let start = index.count
            var columns: [Int32] = []
            var starts: [Int32] = []
            let listBase = m.rows + 1  // relative to this matrix's block
            for r in 0..<m.rows {
                starts.append(Int32(listBase + columns.count))
                for c in 0..<m.columns where m[r, c] != 0 { columns.append(Int32(c)) }
            }
            starts.append(Int32(listBase + columns.count))
            index += starts + columns
            let active = (0..<m.rows).filter { r in starts[r + 1] > starts[r] }.map { Int32($0) }
            let activeStart = index.count
            index += active
            return Weight(offset: offset, rows: m.rows, columns: m.columns, nonZero: start, activeRows: activeStart, activeCount: active.count)
        }
        wE = append(model.wE.values)
        if let table = model.wPos, model.positional != .none {
            wPos = append(table.values)
            positionsInResidual = model.positional.addsToResidual
            positionsInQK = !model.positional.addsToResidual
        } else {
            wPos = nil
            positionsInResidual = false
            positionsInQK = false
        }
        var layers: [Layer] = []
        var heads: [Head] = []
        var maxHead = 0
        for layer in model.layers {
            let firstHead = heads.count
            for head in layer.heads {
                maxHead = max(maxHead, head.dHead, head.wV.columns)
                heads.append(
                    Head(
                        dHead: head.dHead, dValue: head.wV.columns, wQ: appendWeight(head.wQ), wK: appendWeight(head.wK),
                        wV: appendWeight(head.wV), wO: appendWeight(head.wO),
                        bQ: appendBias(head.bQ), bK: appendBias(head.bK), bV: appendBias(head.bV)))
            }
            layers.append(Layer(firstHead: firstHead, headCount: layer.heads.count, bO: appendBias(layer.bO)))
        }
        wU = appendWeight(model.wU)
        bU = appendBias(model.bU)
        self.layers = .allocate(capacity: layers.count)
        _ = self.layers.initialize(from: layers)
        self.heads = .allocate(capacity: heads.count)
        _ = self.heads.initialize(from: heads)
        self.maxHead = maxHead
        dModel = model.dModel
        dVocab = model.dVocab
        nOutputs = model.bU.count
        nCtx = model.nCtx
        causal = model.causal
        scale = model.attentionScale
        valueCount = values.count
        base = UnsafeMutablePointer<Double>.allocate(capacity: max(1, values.count))
        base.initialize(repeating: 0, count: max(1, values.count))
        for (i, v) in values.enumerated() { base[i] = v }
        indexBase = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, index.count))
        indexBase.initialize(repeating: 0, count: max(1, index.count))
        for (i, v) in index.enumerated() { indexBase[i] = v }
    }

    deinit {
        base.deallocate()
        indexBase.deallocate()
        layers.deallocate()
        heads.deallocate()
    }

    /// The heads of `layer`.
    @inline(__always)
    package func heads(of layer: Layer) -> Slice<UnsafeMutableBufferPointer<Head>> {
        heads[layer.firstHead..<(layer.firstHead + layer.headCount)]
    }

    /// The values at `offset`.
    @inline(__always)
    package func at(_ offset: Int) -> UnsafePointer<Double> { UnsafePointer(base + offset) }

    /// `out = row @ w` for one row (`row [w.rows]`, `out [w.columns]`) whose non-zero entries are listed
    /// in `entries` (`count` of them, from `ForwardKernels.nonZeros`), in the kernels' order.
    @inline(__always)
    package func times(
        _ row: UnsafePointer<Double>, entries: UnsafePointer<Int32>, _ count: Int, _ w: Weight,
        into out: UnsafeMutablePointer<Double>
    ) {
        ForwardKernels.rowTimes(
            row, entries: entries, count, at(w.offset), w.columns,
            nonZero: w.nonZero.map { UnsafePointer(indexBase + $0) }, into: out)
    }

    /// `out = row @ w` for one row, listing its non-zero entries in `entries` (`w.rows` slots) first.
    @inline(__always)
    package func times(
        _ row: UnsafePointer<Double>, _ w: Weight, entries: UnsafeMutablePointer<Int32>,
        into out: UnsafeMutablePointer<Double>
    ) {
        let count = ForwardKernels.nonZeros(row, w.rows, into: entries)
        times(row, entries: entries, count, w, into: out)
    }

    /// `out = row @ w` for one row (`row [w.rows]`, `out [w.columns]`), the same bits as `times(_:_:entries:into:)`
    /// without listing the row's non-zero entries when every entry is finite: then a row of `w` without a
    /// non-zero weight adds only ±0 (skipped), as does a zero weight, and a zero entry is skipped in both.
    /// A row with ±inf or NaN takes the listing path (its products with zero weights are NaN).
    @inline(__always)
    package func timesFinite(
        _ row: UnsafePointer<Double>, _ w: Weight, entries: UnsafeMutablePointer<Int32>,
        into out: UnsafeMutablePointer<Double>
    ) {
        guard ForwardKernels.allFinite(row, w.rows) else { return times(row, w, entries: entries, into: out) }
        let n = w.columns, values = at(w.offset)
        for c in 0..<n { out[c] = 0 }
        if let nonZero = w.nonZero, let activeRows = w.activeRows {
            let lists = UnsafePointer(indexBase + nonZero), active = UnsafePointer(indexBase + activeRows)
            for e in 0..<w.activeCount {
                let r = Int(active[e])
                let a = row[r]
                if a == 0 { continue }
                let wr = values + r &* n
                for p in Int(lists[r])..<Int(lists[r &+ 1]) {
                    let c = Int(lists[p])
                    out[c] += a * wr[c]
                }
            }
        } else {
            for r in 0..<w.rows {
                let a = row[r]
                if a == 0 { continue }
                let wr = values + r &* n
                for c in 0..<n { out[c] += a * wr[c] }
            }
        }
    }

    /// `out = input @ W (+ b)` for one row: `input [dModel]` with its non-zero entries listed, `W [dModel, width]`.
    @inline(__always)
    package func project(
        _ input: UnsafePointer<Double>, entries: UnsafePointer<Int32>, _ count: Int, _ w: Weight, _ bias: Int?,
        into out: UnsafeMutablePointer<Double>
    ) {
        times(input, entries: entries, count, w, into: out)
        if let bias { ForwardKernels.add(at(bias), w.columns, to: out) }
    }
}
