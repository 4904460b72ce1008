import Numerics
import Model
import Formats
import Exercises

// A deterministic estimate of how long exhaustive verification takes, from the shapes alone (never by timing),
// so that a caller can decide whether a domain fits its time budget the same way on every run.
//
//   work = positions computed × work per position (Model/WalkCost.swift)
//   positions: every prefix node of the walk under a causal mask (sum_{k=1}^{L} n^k, whatever minLength is:
//     shorter prefixes are walked too); without a mask, every position of every node, each seeing them all.
//     Under a token symmetry (TokenSymmetry.swift) the nodes are the prefixes first in their orbits.
//   work per position: at most, every head output and projection computed (`estimatedSeconds`); at least,
//     every one remembered by the walk's memos and no logits computed (under a mask a leaf that is not
//     graded costs only its bookkeeping), or, for a one-layer model without a mask, every position counted
//     without computing (`leastSeconds`). Between the two only walking tells: a walk given a work
//     limit (PrefixWalk) counts the work it does and stops when its share is spent.
//   seconds = work / nominalWalkRate.

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

    /// The estimated wall time, in seconds, of `run()` on `model` for every sequence over `tokens` (the spec's
    /// vocabulary by default) of lengths up to `maxLength` (the spec's longest by default), when every head
    /// output is computed (the most the walk does): deterministic, from the shapes and non-zero weights of the
    /// model (see ExhaustiveCost.swift).
    public static func estimatedSeconds(spec: ExerciseSpec, model: Transformer, maxLength: Int? = nil, tokens: [String]? = nil) -> Double {
        let (positions, keys, _) = frame(spec: spec, model: model, maxLength: maxLength, tokens: tokens)
        guard positions > 0 else { return 0 }
        return positions * WalkCost(model).most(keys: keys / positions) / nominalWalkRate
    }

    /// The least wall time `run()` could take on the same frame: every head output remembered, and under a mask
    /// no position graded (a leaf that is not graded is not computed, an inner one not unembedded; see above).
    public static func leastSeconds(spec: ExerciseSpec, model: Transformer, maxLength: Int? = nil, tokens: [String]? = nil) -> Double {
        let (positions, _, leaves) = frame(spec: spec, model: model, maxLength: maxLength, tokens: tokens)
        guard model.causal else {
            let perPosition = model.layers.count == 1 ? WalkCost.memoLookupWork : WalkCost(model).least()
            return positions * perPosition / nominalWalkRate
        }
        return ((positions - leaves) * WalkCost(model).least(ungraded: true) + leaves * WalkCost.positionOverhead) / nominalWalkRate
    }

    /// The positions the walk computes on a frame, the sum of the keys they see, and the leaves (the sequences of
    /// the longest length).
    private static func frame(spec: ExerciseSpec, model: Transformer, maxLength: Int?, tokens: [String]?) -> (positions: Double, keys: Double, leaves: Double) {
        let n = Double((tokens ?? spec.vocab).count)
        let length = maxLength ?? spec.maxSequenceLength
        let offset = spec.bos == nil ? 0 : 1
        // Under a token symmetry the walk visits one sequence per orbit (TokenSymmetry.swift).
        let verifier = try? ExhaustiveVerifier(spec: spec, model: model, maxLength: length, limit: Int.max, tokens: tokens)
        let visited = verifier.flatMap(TokenSymmetry.init)?.representatives(maxLength: length)
        var positions = 0.0, keys = 0.0, power = 1.0, nodes = 1.0
        for k in 1...max(1, length) {
            power *= n
            nodes = visited.map { $0[k - 1] } ?? power
            if model.causal {
                positions += nodes  // the node of each length-k prefix: one position seeing offset + k keys
                keys += nodes * Double(offset + k)
            } else {
                positions += nodes * Double(offset + k)
                keys += nodes * Double((offset + k) * (offset + k))
            }
        }
        return (positions, keys, nodes)
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
