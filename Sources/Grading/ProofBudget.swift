import Numerics
import Model
import Formats
import Exercises

/// Decides, without timing anything, how much of a domain the exhaustive walk can enumerate within a time
/// budget, from the walk's cost model (`ExhaustiveVerifier.estimatedSeconds`, see ExhaustiveCost.swift), and,
/// when the whole domain fits only if the walk's memos remember enough, from the work the walk counts as it
/// goes (a work limit, WalkCost.swift). The same spec, model and budget always give the same decision on any
/// machine, so the verdict never depends on how busy the grading machine is (a slower one just takes longer).
public enum ProofBudget {
    /// `check`'s default budget in seconds (a spec's `proof_budget` or `--proof-budget` overrides it).
    public static let defaultSeconds = 1.0

    /// Whether the whole frame could fit `seconds` if the walk's memos remembered every head output it can
    /// (`ExhaustiveVerifier.leastSeconds`): only then is a walk with a work limit worth starting.
    public static func mayFit(spec: ExerciseSpec, model: Transformer, tokens: [String], maxLength: Int, seconds: Double) -> Bool {
        ExhaustiveVerifier.leastSeconds(spec: spec, model: model, maxLength: maxLength, tokens: tokens) <= seconds
    }

    /// The walk's work (WalkCost units) that `seconds` stand for at the nominal rate.
    public static func workLimit(seconds: Double) -> Double { seconds * ExhaustiveVerifier.nominalWalkRate }

    /// The longest length up to `domain`'s longest whose enumeration over its tokens fits `seconds` (0 when
    /// not even length 1 does).
    public static func longestLength(spec: ExerciseSpec, model: Transformer, tokens: [String], maxLength: Int, seconds: Double) -> Int {
        var l = 0
        while l < maxLength && ExhaustiveVerifier.estimatedSeconds(spec: spec, model: model, maxLength: l + 1, tokens: tokens) <= seconds { l += 1 }
        return l
    }
}
