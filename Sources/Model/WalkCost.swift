import Numerics

// The exhaustive walk's work, in units of about one multiply-add, for two uses that must agree:
//   - an estimate from the shapes alone, before walking (Grading/ExhaustiveCost.swift): every head output
//     computed (the most the walk can do), or every one remembered (the least);
//   - a count kept while walking (WalkForward.work): what the walk did, miss by miss and hit by hit, so a
//     walk can stop when its share of a time budget is spent, the same way on every machine.
//
//   position: positionOverhead (the walk, the labels, the margin) + the non-zero weights of W_U + dModel per
//     residual row (copies and sums);
//   head output computed over `keys` keys: keys × (dHead + dValue + softmaxWork) + the non-zero weights of W_O
//     + headOverhead;
//   head output remembered (HeadMemo): a lookup and a copy, memoLookupWork + dModel, but never more than
//     computing it would have cost (so that remembering never makes the count exceed `most`);
//   projections of a layer past the first, computed: the non-zero weights of its heads' W_Q, W_K, W_V; copied
//     (ProjectionMemo): a hash of the input row and the copy of each head's q, k, v, again at most the former;
//   a position counted without computing (a one-layer walk without a mask, PrefixWalk): memoLookupWork;
//   a last position that is not graded (a leaf of the causal walk: nothing reads it): positionOverhead; an
//   inner position that is not graded skips the unembedding (`unembed`).

/// The walk's costs for one model (see WalkCost.swift): `[heads]` per head in PackedModel's order (layer by
/// layer), `[layers]` per layer.
package struct WalkCost: Sendable {
    /// Work per key and head besides its multiply-adds: the softmax (exp, mostly cached, a division) and the
    /// loops' bookkeeping.
    package static let softmaxWork = 12.0
    /// Fixed work per head output computed (setting up its rows, W_O's entry list, the residual sum).
    package static let headOverhead = 60.0
    /// Fixed work per position: the walk's bookkeeping, the labels and the margin.
    package static let positionOverhead = 150.0
    /// A hash-table lookup of the memos.
    package static let memoLookupWork = 30.0

    package let position: Double
    /// The part of `position` that is the unembedding (W_U's non-zero weights): not spent on a position whose
    /// logits nobody reads (an inner position that is not graded).
    package let unembed: Double
    /// Per head: work per key of a computed output, and the fixed work of one.
    package let perKey: [Double], perOutput: [Double]
    /// Work of a remembered output (charged at most what computing it costs: `output`).
    package let remembered: Double
    /// Per layer: work of its projections computed (0 for layer 0, a table), and copied.
    package let projections: [Double], recalled: [Double]
    /// The layer of each head.
    package let layerOf: [Int]

    package init(_ model: Transformer) {
        func nonZeros(_ m: Matrix) -> Double { Double(m.values.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }) }
        let d = Double(model.dModel)
        unembed = nonZeros(model.wU)
        position = Self.positionOverhead + unembed + d * Double(model.layers.count + 1)
        var perKey: [Double] = [], perOutput: [Double] = [], projections: [Double] = [], recalled: [Double] = [], layerOf: [Int] = []
        for (l, layer) in model.layers.enumerated() {
            var projection = 0.0, copy = l == 0 ? 0 : Self.memoLookupWork + d
            for head in layer.heads {
                perKey.append(Double(head.dHead + head.wV.columns) + Self.softmaxWork)
                perOutput.append(nonZeros(head.wO) + Self.headOverhead)
                layerOf.append(l)
                if l > 0 {
                    projection += nonZeros(head.wQ) + nonZeros(head.wK) + nonZeros(head.wV)
                    copy += Double(2 * head.dHead + head.wV.columns)
                }
            }
            projections.append(projection)
            recalled.append(min(copy, projection))
        }
        self.perKey = perKey
        self.perOutput = perOutput
        self.projections = projections
        self.recalled = recalled
        self.layerOf = layerOf
        remembered = Self.memoLookupWork + d
    }

    /// The most work of one position seeing `keys` keys: every head output and projection computed.
    package func most(keys: Double) -> Double {
        position + zip(perKey, perOutput).reduce(0) { $0 + Self.output(keys: keys, perKey: $1.0, perOutput: $1.1) } + projections.reduce(0, +)
    }

    /// The work of a head output over `keys` keys: computed (`perKey`, `perOutput` of the head), or, when
    /// `remembered` is given, the lookup and copy unless computing would have been cheaper.
    @inline(__always)
    package static func output(keys: Double, perKey: Double, perOutput: Double, remembered: Double? = nil) -> Double {
        let computed = keys * perKey + perOutput
        return remembered.map { min($0, computed) } ?? computed
    }

    /// The least work of one position: every head output remembered (over one key at least), every
    /// projection copied and, when `ungraded`, its logits not computed.
    package func least(ungraded: Bool = false) -> Double {
        let outputs = zip(perKey, perOutput).reduce(0) { $0 + Self.output(keys: 1, perKey: $1.0, perOutput: $1.1, remembered: remembered) }
        return position - (ungraded ? unembed : 0) + outputs
            + recalled.reduce(0, +)
    }
}
