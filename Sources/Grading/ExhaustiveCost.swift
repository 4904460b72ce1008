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
    /// Work units (multiply-adds, see above) per second of the prefix-sharing walk on both cores, as measured on
    /// the quiet 2-core machine: the one-second budget is meant as a second of wall time there (a busier
    /// machine just takes longer; the verdict does not change).
    ///
    /// History: first set to 1.2e9 on 2026-12-01 from runs under a load of 6 to 15 (0.50e9 to 0.94e9 units per
    /// second measured), i.e. about half the quiet speed (`check --prove` on a 4-token exercise took about
    /// 1.8 s when quieter, for 2.3e9 units). Recalibrated on 2026-12-01 after the walk lost its per-node
    /// reference counting, exclusivity checks and entry lists, with `circuit-grader-bench four` (lengths 1-11,
    /// 5,592,404 nodes, best of 3) at a load of 2 to 3.5: current-token/nopos 0.62 s (3.75e9 units/s),
    /// previous-token/pos 0.88 s (3.46e9), bigram/pos 1.06 s (2.94e9); the code before, in the same minutes,
    /// 1.07 s, 1.15 s, 1.46 s (2.2e9, 2.7e9, 2.1e9). Under a load of about 4.5 the same frames run at 1.0e9
    /// (cycle/nopos, the slowest per unit) to 1.5e9. 2.6e9 lies below every rate measured when quiet, with
    /// room for the frames whose quiet rate was not caught (cycle runs about 30% below current-token per unit
    /// under load): the 4-token 1-layer exercises current-token, cycle and seen-before are estimated at
    /// 0.90 s to 0.98 s for all 5,592,404 sequences and are proved by default; previous-token/pos and
    /// bigram/pos (1.17 s, 1.20 s) and the 2-layer ones are not.
    public static let nominalWalkRate = 2.6e9
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
