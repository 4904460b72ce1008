import Numerics
import Model
import Formats
import Exercises

// A deterministic estimate of how long exhaustive verification takes, from the shapes alone (never by timing),
// so that a caller can decide whether a domain fits its time budget the same way on every run.
//
//   work = positions computed × work per position
//   positions: every prefix node of the walk under a causal mask (sum_{k=1}^{L} n^k, whatever minLength is:
//     shorter prefixes are walked too); without a mask, every position of every sequence of the domain.
//   work per position (in multiply-adds): per head, visible keys × (dHead + dValue + softmaxWork) for the scores,
//     the softmax and pattern · v, plus the non-zero weights of W_O; per head of a layer past the first, the
//     non-zero weights of W_Q, W_K, W_V (the first layer is a table); the non-zero weights of W_U; dModel per
//     residual row (copies and sums); and a fixed overhead per position (walk, labels, grading).
//   seconds = work / rate, with the rates below.

extension ExhaustiveVerifier {
    /// Work units (multiply-adds, see above) per second of the prefix-sharing walk on both cores. First
    /// calibrated with `circuit-grader-bench` on the 2-core machine on 2026-12-01 while other builds kept the
    /// load at 9 to 15 (0.50e9 to 0.94e9 units per second); then checked against `check --prove` on the
    /// current-token/nopos reference at a load of about 6: all 5,592,404 sequences in about 2.1 s, where 0.5e9
    /// estimated between 4 and 8 s. 1.2e9 keeps the estimate above what was measured under load, so that the
    /// default one-second budget is rarely overrun, and enumerates 4-token exercises to length 10.
    public static let nominalWalkRate = 1.2e9
    /// The same for whole sequences through `forward(batch:)` (models without a causal mask), which computes
    /// every layer of every position of every sequence, in batches: taken as half the walk's rate, a guess
    /// that errs long (not calibrated separately; the bench's naive timing is the closest measurement).
    public static let nominalWholeSequenceRate = 0.6e9
    /// Work per key and head besides its multiply-adds: the softmax (exp, mostly cached, a division) and the
    /// loops' bookkeeping.
    package static let softmaxWork = 12.0
    /// Fixed work per head and position (setting up its rows, W_O's entry list, the residual sum).
    package static let headOverhead = 60.0
    /// Fixed work per position: the walk's bookkeeping, the labels and the margin.
    package static let positionOverhead = 150.0

    /// The estimated wall time, in seconds, of `run()` on `model` for every sequence over `tokens` (the spec's
    /// vocabulary by default) of lengths up to `maxLength` (the spec's longest by default): deterministic,
    /// from the shapes and non-zero weights of the model (see ExhaustiveCost.swift).
    public static func estimatedSeconds(spec: ExerciseSpec, model: Transformer, maxLength: Int? = nil, tokens: [String]? = nil) -> Double {
        let n = Double((tokens ?? spec.vocab).count)
        let length = maxLength ?? spec.maxSequenceLength
        let offset = spec.bos == nil ? 0 : 1
        // positions, and the sum of their visible keys
        var positions = 0.0, keys = 0.0, power = 1.0
        for k in 1...max(1, length) {
            power *= n
            if model.causal {
                positions += power  // the node of each length-k prefix: one position seeing offset + k keys
                keys += power * Double(offset + k)
            } else {
                positions += power * Double(offset + k)
                keys += power * Double((offset + k) * (offset + k))
            }
        }
        guard positions > 0 else { return 0 }
        let visible = keys / positions
        func nonZeros(_ m: Matrix) -> Double { Double(m.values.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }) }
        var work = positionOverhead + nonZeros(model.wU) + Double(model.dModel * (model.layers.count + 1))
        for (l, layer) in model.layers.enumerated() {
            for head in layer.heads {
                work += visible * (Double(head.dHead + head.wV.columns) + softmaxWork) + nonZeros(head.wO) + headOverhead
                if l > 0 || !model.causal { work += nonZeros(head.wQ) + nonZeros(head.wK) + nonZeros(head.wV) }
            }
        }
        return positions * work / (model.causal ? nominalWalkRate : nominalWholeSequenceRate)
    }

    /// Multiply-adds of one position of the dense forward pass (what NumPy computes) when it sees `keys`
    /// positions: every head's projections, scores, pattern · v and W_O, and W_U.
    public static func multiplyAdds(model: Transformer, keys: Double) -> Double {
        var work = Double(model.dModel * model.wU.columns)
        for layer in model.layers {
            for head in layer.heads {
                let dValue = head.wV.columns
                work += Double(model.dModel * (2 * head.dHead + dValue) + dValue * model.dModel) + keys * Double(head.dHead + dValue)
            }
        }
        return work
    }
}
