/// Decides, without timing anything, how much of a domain the exhaustive walk can enumerate within a time
/// budget: the estimate is the walk's nodes times the multiply-adds one node needs for this model, over a
/// nominal rate. The same spec, model and budget always give the same decision, on any machine, so the
/// verdict never depends on how busy the grading machine is (a slower machine just takes longer).
public enum ProofBudget {
    /// `check`'s default budget in seconds (a spec's `proof_budget` or `--proof-budget` overrides it).
    public static let defaultSeconds = 1.0

    /// Multiply-adds per second the walk sustains on the 2-core reference machine.
    /// Calibrated with `bench` (see README, Performance): the current-token/nopos reference proved over
    /// 4 tokens up to length 9, and the induction-k/learned reference over 6 tokens up to length 7.
    static let nominalRate = 4.0e8

    /// Fixed work per node beyond the multiply-adds (bookkeeping, grading the position), in multiply-adds.
    static let overheadPerNode = 60.0

    /// Walk nodes for `alphabet` tokens up to `maxLength`: one per prefix under a causal mask, else one
    /// per position of every whole sequence. `Double` so that huge domains do not overflow.
    static func nodes(alphabet: Int, maxLength: Int, causal: Bool) -> Double {
        var total = 0.0, power = 1.0
        for l in 0..<max(0, maxLength) {
            power *= Double(alphabet)
            total += causal ? power : power * Double(l + 1)
        }
        return total
    }

    /// Multiply-adds one node costs on `model` (non-zero weights only: the kernels skip zeros), with
    /// prefixes about `length` long.
    static func workPerNode(_ model: Transformer, length: Int) -> Double {
        var work = overheadPerNode + Double(model.wU.nonZeroCount + model.dModel)
        for layer in model.layers {
            for head in layer.heads {
                work += Double(head.wQ.nonZeroCount + head.wK.nonZeroCount + head.wV.nonZeroCount + head.wO.nonZeroCount)
                work += 2 * Double(length * head.dHead) + Double(length)
            }
        }
        return work
    }

    /// Estimated seconds to enumerate every sequence of `alphabet` tokens up to `maxLength` on `model`.
    public static func estimatedSeconds(model: Transformer, alphabet: Int, maxLength: Int) -> Double {
        let average = max(1, maxLength / 2 + 1)
        return nodes(alphabet: alphabet, maxLength: maxLength, causal: model.causal) * workPerNode(model, length: average) / nominalRate
    }

    /// The longest length up to `maxLength` whose enumeration fits `seconds` (0 when not even length 1 does).
    public static func longestLength(model: Transformer, alphabet: Int, maxLength: Int, seconds: Double) -> Int {
        var l = 0
        while l < maxLength && estimatedSeconds(model: model, alphabet: alphabet, maxLength: l + 1) <= seconds { l += 1 }
        return l
    }
}

extension Matrix {
    /// Entries that are not zero.
    var nonZeroCount: Int { values.reduce(0) { $0 + ($1 == 0 ? 0 : 1) } }
}
