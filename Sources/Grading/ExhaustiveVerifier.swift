import Dispatch
import Foundation
import Numerics
import Model
import Formats
import Exercises

// Exhaustive verification: every sequence of an exercise's tokens with a length in minLength...maxLength,
// graded like the Grader grades a prediction target (a position is correct when Margin.logitGap > 0 for the
// rule's label; positions whose label is nil are skipped, and `positions` may grade fewer: only the last one,
// or only those where the rule fires).
//
// Enumeration order: depth-first, a prefix before its extensions, tokens in the order given (the spec's
// vocabulary by default): A, A A, A A A, ..., A A B, ..., B, B A, .... The first counterexample is the first
// sequence in that order with a failing position, and the first failing position in it.
//
// With a causal mask the tree of prefixes is walked (Grading/PrefixWalk.swift): each node costs one position's
// work, and its last position is the only one that needs grading when the rule reads only the prefix (every
// rule but a positive token offset): the earlier positions have the same logits and labels as in the node's
// parent, which was graded just before. Without a causal mask the same tree is walked, but each node is a whole
// sequence: every position is computed (each over all keys) and graded. `runNaive` runs every sequence alone
// through `forward(batch:)`; both ways give the same result, counts and margins included, bit for bit.

/// Verifies a model on every sequence of an exercise's tokens up to a length, or finds the first counterexample.
///
/// Sequences are over `tokens` (student tokens; BOS is prepended when the exercise has one) of lengths
/// `minLength...maxLength`; there are `sum_{k=minLength}^{maxLength} tokens.count^k` of them, at most `limit`.
public struct ExhaustiveVerifier: Sendable {
    public let spec: ExerciseSpec
    public let model: Transformer
    /// The rule that labels every sequence (`spec.defaultRule`).
    public let rule: PredictionRule
    /// The tokens enumerated, in enumeration order.
    public let tokens: [String]
    /// The shortest sequence in the domain (student tokens, BOS excluded).
    public let minLength: Int
    /// The longest sequence enumerated (student tokens, BOS excluded).
    public let maxLength: Int
    /// Which labelled positions are graded: a position is graded when any of these includes it.
    public let positions: Set<GradedPositions>
    /// The number of sequences that will be enumerated (those of lengths `minLength...maxLength`).
    public let sequenceCount: Int

    /// The default bound on the number of sequences.
    public static let defaultLimit = 2_000_000

    /// A verifier of `model` on `spec`. `maxLength` defaults to the longest length whose sequences fit in
    /// `limit` (at most the spec's longest sequence); `tokens` (a subset of the vocabulary) defaults to
    /// the whole vocabulary; only sequences of `minLength` tokens or more are in the domain, and in each only
    /// the positions `positions` includes are graded. Throws when the spec has no single prediction rule, the
    /// tokens or lengths are not the exercise's, or the sequences would exceed `limit`.
    public init(
        spec: ExerciseSpec, model: Transformer, maxLength: Int? = nil, limit: Int = ExhaustiveVerifier.defaultLimit,
        tokens: [String]? = nil, minLength: Int = 1, positions: Set<GradedPositions> = [.all]
    ) throws {
        guard let rule = spec.defaultRule else {
            throw GraderError(file: spec.file, "exercise \(spec.id) has no single prediction rule to verify exhaustively")
        }
        let alphabet = tokens ?? spec.vocab
        if let unknown = alphabet.first(where: { !spec.vocab.contains($0) }) {
            throw GraderError(file: spec.file, "token \"\(unknown)\" is not in the vocabulary of \(spec.id) (\(spec.vocab.joined(separator: " ")))")
        }
        guard !alphabet.isEmpty, Set(alphabet).count == alphabet.count else {
            throw GraderError(file: spec.file, "exhaustive verification needs distinct tokens, got [\(alphabet.joined(separator: " "))]")
        }
        guard limit >= 1 else { throw GraderError(file: "", "the sequence limit must be at least 1, got \(limit)") }
        let offset = spec.bos == nil ? 0 : 1
        let longest = min(spec.maxSequenceLength, model.nCtx == Int.max ? Int.max : model.nCtx - offset)
        guard model.dVocab >= spec.vocab.count + offset else {
            throw GraderError(file: spec.file, "the model has \(model.dVocab) token rows, \(spec.id) needs \(spec.vocab.count + offset)")
        }
        guard minLength >= 1, minLength <= longest else {
            throw GraderError(file: spec.file, "min length \(minLength) is outside 1...\(max(1, longest)) for \(spec.id)")
        }
        let length: Int
        if let maxLength {
            guard (minLength...max(minLength, longest)).contains(maxLength), longest >= 1 else {
                throw GraderError(file: spec.file, "max length \(maxLength) is outside \(minLength)...\(longest) for \(spec.id)")
            }
            length = maxLength
        } else {
            var l = minLength - 1
            while l < longest && Self.sequenceCount(alphabet: alphabet.count, minLength: minLength, maxLength: l + 1) <= limit { l += 1 }
            length = l
        }
        let count = Self.sequenceCount(alphabet: alphabet.count, minLength: minLength, maxLength: length)
        guard length >= minLength, count <= limit else {
            let shortest = max(length, minLength)
            let n = Self.sequenceCount(alphabet: alphabet.count, minLength: minLength, maxLength: shortest)
            let many = n == Int.max ? "more than \(Int.max)" : String(n)
            throw GraderError(
                file: spec.file,
                "\(many) sequences up to length \(shortest) exceed the limit of \(limit); "
                    + "lower the max length or raise the limit")
        }
        self.spec = spec
        self.model = model
        self.rule = rule
        self.tokens = alphabet
        self.minLength = minLength
        self.maxLength = length
        self.positions = positions
        self.sequenceCount = count
    }

    /// `sum_{k=1}^{maxLength} alphabet^k`, or `Int.max` when that overflows.
    public static func sequenceCount(alphabet: Int, maxLength: Int) -> Int {
        sequenceCount(alphabet: alphabet, minLength: 1, maxLength: maxLength)
    }

    /// `sum_{k=minLength}^{maxLength} alphabet^k`, or `Int.max` when that overflows.
    public static func sequenceCount(alphabet: Int, minLength: Int, maxLength: Int) -> Int {
        var total = 0, power = 1
        for k in 1...max(1, maxLength) where maxLength >= 1 {
            let (p, o1) = power.multipliedReportingOverflow(by: alphabet)
            if o1 { return Int.max }
            power = p
            guard k >= minLength else { continue }
            let (t, o2) = total.addingReportingOverflow(p)
            if o2 { return Int.max }
            total = t
        }
        return total
    }

    /// Verifies by walking the tree of prefixes (Grading/PrefixWalk.swift): with a causal mask each node computes
    /// one new position; without one, each node is a whole sequence computed from the tables and memos.
    public func run() -> ExhaustiveResult {
        guard let result = PrefixWalk(self).run() else { preconditionFailure("a walk without a work limit always finishes") }
        return result
    }

    /// `run()` within `workLimit` units of the walk's work (WalkCost.swift, about a multiply-add each): nil
    /// when the walk would need more (decided the same way on every machine, see PrefixWalk.run).
    public func run(workLimit: Double) -> ExhaustiveResult? {
        PrefixWalk(self).run(workLimit: workLimit)
    }

    /// Verifies by running every sequence whole, from its first token, through `forward(batch:)` (logits
    /// only, no prefix shared between sequences), in enumeration order, labelling each with the rule itself:
    /// the reference that `run()` must equal, and the fallback without a causal mask.
    public func runNaive() -> ExhaustiveResult {
        let grading = ExhaustiveGrading(self)
        var tally = ExhaustiveTally()
        var walker = PreorderWalker(alphabet: tokens.count, maxLength: maxLength)
        let chunk = 2048
        while !walker.done {
            var batch: [[Int]] = []
            var names: [[String]] = []
            while batch.count < chunk, let sequence = walker.next() {
                guard sequence.count >= minLength else { continue }
                batch.append(grading.bos + sequence.map { grading.tokenRows[$0] })
                names.append(sequence.map { tokens[$0] })
            }
            let traces = model.forward(batch: batch, detail: .logits, sharingPrefixes: false)
            for (trace, sequence) in zip(traces, names) {
                tally.sequences += 1
                for t in sequence.indices {
                    guard let label = rule.label(sequence, at: t), grading.graded(t, count: sequence.count, label: label) else { continue }
                    tally.positions += 1
                    let row = trace.logits.values[((t + grading.offset) * trace.logits.columns)..<((t + grading.offset + 1) * trace.logits.columns)]
                    let margin = Margin.logitGap(row, expected: grading.outputIndex(label))
                    if margin > 0 {
                        tally.worstMargin = min(tally.worstMargin, margin)
                        continue
                    }
                    tally.counterexample = grading.counterexample(row, margin: margin, label: label, sequence: sequence, position: t)
                    return result(tally)
                }
            }
        }
        return result(tally)
    }

    /// The result of a tally: the worst margin is the counterexample's when there is one, else the smallest
    /// over every graded position (nil when none was graded).
    package func result(_ tally: ExhaustiveTally) -> ExhaustiveResult {
        ExhaustiveResult(
            exercise: spec.id, tokens: tokens, maxLength: maxLength, sequences: tally.sequences,
            positions: tally.positions, counterexample: tally.counterexample, minLength: minLength,
            worstMargin: tally.counterexample?.margin ?? (tally.positions > 0 ? tally.worstMargin : nil))
    }
}

/// The outcome of an exhaustive verification.
public struct ExhaustiveResult: Equatable, Sendable {
    public var exercise: String
    /// The tokens enumerated, in enumeration order.
    public var tokens: [String]
    public var maxLength: Int
    /// Sequences graded: all of them when verified, else those up to and including the counterexample.
    public var sequences: Int
    /// Positions graded (graded positions of the sequences graded; for a counterexample, up to its position).
    public var positions: Int
    /// The first failing sequence in enumeration order, if any.
    public var counterexample: ExhaustiveCounterexample?
    /// The shortest sequence in the domain.
    public var minLength: Int = 1
    /// When verified, the smallest `Margin.logitGap` over every graded position (the proof's minimum margin),
    /// nil when no position was graded; with a counterexample, its margin.
    public var worstMargin: Double? = nil

    /// Whether every position of every sequence was correct.
    public var verified: Bool { counterexample == nil }

    /// One line: "verified on all N sequences ..." or the counterexample.
    public var summary: String {
        let lengths = minLength > 1 ? "of lengths \(minLength)-\(maxLength)" : "up to length \(maxLength)"
        let frame = "of \(tokens.joined(separator: " ")) \(lengths)"
        guard let c = counterexample else {
            return "\(exercise): verified on all \(sequences) sequences \(frame) (\(positions) positions)"
        }
        return "\(exercise): counterexample at sequence \(sequences) \(frame): \(c.sequence.joined(separator: " ")), "
            + "position \(c.position): expected \(c.expected), found \(c.found), margin \(NumberText.rounded(c.margin))"
    }
}

extension ExhaustiveResult {
    /// Whether `other` is the same result with the same margins bit for bit (`==` compares margins as numbers:
    /// NaN is not equal to itself, and -0 equals +0).
    package func isIdentical(to other: ExhaustiveResult) -> Bool {
        var x = self, y = other
        let marginsAgree =
            x.worstMargin?.bitPattern == y.worstMargin?.bitPattern && x.counterexample?.margin.bitPattern == y.counterexample?.margin.bitPattern
        x.worstMargin = nil
        y.worstMargin = nil
        x.counterexample?.margin = 0
        y.counterexample?.margin = 0
        return marginsAgree && x == y
    }
}

/// A sequence on which the model's prediction is wrong (margin ≤ 0).
public struct ExhaustiveCounterexample: Equatable, Sendable {
    /// Student tokens (BOS excluded).
    public var sequence: [String]
    /// 0-based position over `sequence`.
    public var position: Int
    public var expected: String
    public var found: String
    /// `Margin.logitGap` for the expected class, ≤ 0.
    public var margin: Double
}

// MARK: - Pieces shared by both ways

/// Counts so far, the smallest margin, and the counterexample that stopped them.
package struct ExhaustiveTally: Sendable {
    package var sequences = 0
    package var positions = 0
    /// The smallest margin of a correct graded position (+infinity before the first).
    package var worstMargin = Double.infinity
    package var counterexample: ExhaustiveCounterexample?
    /// The task stopped because it spent its share of a work limit.
    package var overBudget = false
    /// The work counted (WalkCost units).
    package var work = 0.0
}

/// How a logit row is graded: the Grader's prediction target (TargetEvaluator), without building a trace.
package struct ExhaustiveGrading {
    package let outputs: [String]
    /// The columns of the output classes.
    package let scorer: PredictionScorer
    /// `W_E` row of each enumerated token.
    package let tokenRows: [Int]
    /// BOS row, when the exercise prepends one.
    package let bos: [Int]
    package let all: Bool, last: Bool, fired: Bool
    package var offset: Int { bos.count }

    package init(_ verifier: ExhaustiveVerifier) {
        outputs = verifier.spec.outputs
        scorer = PredictionScorer(outputs: verifier.spec.outputs)
        tokenRows = verifier.spec.tokenRows(verifier.tokens)
        bos = verifier.spec.bosPrefix
        all = verifier.positions.contains(.all)
        last = verifier.positions.contains(.last)
        fired = verifier.positions.contains(.fired)
    }

    /// The column of the class `label` names; `label` must be an output class (the spec parser guarantees that
    /// every label a rule gives is one), else this stops with a message naming it.
    package func outputIndex(_ label: String) -> Int { scorer.column(of: label) }

    /// Whether labelled position `t` of a sequence of `count` tokens is graded.
    package func graded(_ t: Int, count: Int, label: String) -> Bool {
        all || (last && t == count - 1) || (fired && label != PredictionRule.none)
    }

    /// The counterexample for a failing row.
    package func counterexample(_ row: ArraySlice<Double>, margin: Double, label: String, sequence: [String], position: Int) -> ExhaustiveCounterexample {
        ExhaustiveCounterexample(
            sequence: sequence, position: position, expected: label,
            found: TargetEvaluator.prediction(row, outputs: outputs), margin: margin)
    }
}

/// Every sequence of token indices in enumeration order (preorder), one at a time.
package struct PreorderWalker {
    package let alphabet: Int
    package let maxLength: Int
    private var current: [Int] = []
    package private(set) var done: Bool

    package init(alphabet: Int, maxLength: Int) {
        self.alphabet = alphabet
        self.maxLength = maxLength
        done = alphabet == 0 || maxLength == 0
    }

    package mutating func next() -> [Int]? {
        if done { return nil }
        if current.count < maxLength {
            current.append(0)
            return current
        }
        while let last = current.last, last == alphabet - 1 { current.removeLast() }
        guard !current.isEmpty else { done = true; return nil }
        current[current.count - 1] += 1
        return current
    }
}
