import Dispatch
import Foundation

// Exhaustive verification: every sequence of an exercise's tokens up to a length, graded like the Grader
// grades a prediction target (a position is correct when Margin.logitGap > 0 for the rule's label; positions
// whose label is nil are skipped).
//
// Enumeration order: depth-first, a prefix before its extensions, tokens in the order given (the spec's
// vocabulary by default): A, A A, A A A, ..., A A B, ..., B, B A, .... The first counterexample is the first
// sequence in that order with a failing position, and the first failing position in it.
//
// With a causal mask the tree of prefixes is walked with PrefixForward: each node costs one position's work,
// and its last position is the only one that needs grading when the rule reads only the prefix (every rule
// but a positive token offset): the earlier positions have the same logits and labels as in the node's
// parent, which was graded just before. Without a causal mask, whole sequences run through
// `forward(batch:)` in enumeration order, each from its first token. Both ways give the same result, counts included.

/// Verifies a model on every sequence of an exercise's tokens up to a length, or finds the first counterexample.
///
/// Sequences are over `tokens` (student tokens; BOS is prepended when the exercise has one) of lengths
/// `1...maxLength`; there are `sum_{k=1}^{maxLength} tokens.count^k` of them, at most `limit`.
public struct ExhaustiveVerifier: Sendable {
    public let spec: ExerciseSpec
    public let model: Transformer
    /// The rule that labels every sequence (`spec.defaultRule`).
    public let rule: PredictionRule
    /// The tokens enumerated, in enumeration order.
    public let tokens: [String]
    /// The longest sequence enumerated (student tokens, BOS excluded).
    public let maxLength: Int
    /// The number of sequences that will be enumerated.
    public let sequenceCount: Int

    /// The default bound on the number of sequences.
    public static let defaultLimit = 2_000_000

    /// A verifier of `model` on `spec`. `maxLength` defaults to the longest length whose sequences fit in
    /// `limit` (at most the spec's longest sequence); `tokens` (a subset of the vocabulary) defaults to
    /// the whole vocabulary. Throws when the spec has no single prediction rule, the tokens or length are
    /// not the exercise's, or the sequences would exceed `limit`.
    public init(
        spec: ExerciseSpec, model: Transformer, maxLength: Int? = nil, limit: Int = ExhaustiveVerifier.defaultLimit,
        tokens: [String]? = nil
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
        let length: Int
        if let maxLength {
            guard (1...max(1, longest)).contains(maxLength), longest >= 1 else {
                throw GraderError(file: spec.file, "max length \(maxLength) is outside 1...\(longest) for \(spec.id)")
            }
            length = maxLength
        } else {
            var l = 0
            while l < longest && Self.sequenceCount(alphabet: alphabet.count, maxLength: l + 1) <= limit { l += 1 }
            length = l
        }
        let count = Self.sequenceCount(alphabet: alphabet.count, maxLength: length)
        guard length >= 1, count <= limit else {
            let n = Self.sequenceCount(alphabet: alphabet.count, maxLength: max(length, 1))
            let many = n == Int.max ? "more than \(Int.max)" : String(n)
            throw GraderError(
                file: spec.file,
                "\(many) sequences up to length \(max(length, 1)) exceed the limit of \(limit); "
                    + "lower the max length or raise the limit")
        }
        self.spec = spec
        self.model = model
        self.rule = rule
        self.tokens = alphabet
        self.maxLength = length
        self.sequenceCount = count
    }

    /// `sum_{k=1}^{maxLength} alphabet^k`, or `Int.max` when that overflows.
    public static func sequenceCount(alphabet: Int, maxLength: Int) -> Int {
        var total = 0, power = 1
        for _ in 0..<max(0, maxLength) {
            let (p, o1) = power.multipliedReportingOverflow(by: alphabet)
            let (t, o2) = total.addingReportingOverflow(p)
            if o1 || o2 { return Int.max }
            power = p
            total = t
        }
        return total
    }

    /// Verifies with prefix sharing (causal models; others fall back to `runNaive`).
    public func run() -> ExhaustiveResult {
        guard model.causal else { return runNaive() }
        let plan = TaskPlan(alphabet: tokens.count, maxLength: maxLength)
        let outcomes = UnsafeSendableBox<Tally>(count: plan.count)
        let failed = FirstFailure()
        DispatchQueue.concurrentPerform(iterations: plan.count) { task in
            outcomes.set(task, walk(task: task, plan: plan, failed: failed))
        }
        return combine(outcomes.values)
    }

    /// Verifies by running every sequence whole, from its first token, through `forward(batch:)` (logits
    /// only, no prefix shared between sequences), in enumeration order: the reference that `run()` must
    /// equal, and the fallback without a causal mask.
    public func runNaive() -> ExhaustiveResult {
        let grading = Grading(self)
        var tally = Tally()
        var walker = PreorderWalker(alphabet: tokens.count, maxLength: maxLength)
        let chunk = 2048
        while !walker.done {
            var batch: [[Int]] = []
            var names: [[String]] = []
            while batch.count < chunk, let sequence = walker.next() {
                batch.append(grading.bos + sequence.map { grading.tokenRows[$0] })
                names.append(sequence.map { tokens[$0] })
            }
            let traces = model.forward(batch: batch, detail: .logits, sharingPrefixes: false)
            for (trace, sequence) in zip(traces, names) {
                tally.sequences += 1
                for t in sequence.indices {
                    guard let label = rule.label(sequence, at: t) else { continue }
                    tally.positions += 1
                    let row = trace.logits.values[((t + grading.offset) * trace.logits.columns)..<((t + grading.offset + 1) * trace.logits.columns)]
                    if let failure = grading.check(row, label: label, sequence: sequence, position: t) {
                        tally.counterexample = failure
                        return result(tally)
                    }
                }
            }
        }
        return result(tally)
    }

    // MARK: - Prefix-shared walk

    /// Walks task `task`'s part of the tree in enumeration order; stops at its first counterexample, or
    /// early (the partial tally is then discarded) once an earlier task has failed.
    private func walk(task: Int, plan: TaskPlan, failed: FirstFailure) -> Tally {
        let grading = Grading(self)
        let forward = PrefixForward(model: model, capacity: grading.offset + maxLength)
        for token in grading.bos { forward.push(token) }
        let prefix = plan.prefix(of: task)
        var path: [String] = []  // the node's student tokens
        var labelled = [0]  // labelled[L]: labelled positions among the first L (prefix rules)
        path.reserveCapacity(maxLength)
        labelled.reserveCapacity(maxLength + 1)
        var tally = Tally()
        let prefixRule = rule.readsOnlyPrefix

        /// Pushes `index` and grades the new node when `visit`; returns false at a counterexample.
        func descend(_ index: Int, visit: Bool) -> Bool {
            forward.push(grading.tokenRows[index])
            path.append(tokens[index])
            let t = path.count - 1
            if prefixRule {
                let label = rule.label(path, at: t)
                labelled.append(labelled[t] + (label == nil ? 0 : 1))
                guard visit else { return true }
                tally.sequences += 1
                tally.positions += labelled[t + 1]
                guard let label else { return true }
                tally.counterexample = grading.check(forward.logits(at: t + grading.offset), label: label, sequence: path, position: t)
                return tally.counterexample == nil
            }
            guard visit else { return true }
            tally.sequences += 1
            for s in path.indices {
                guard let label = rule.label(path, at: s) else { continue }
                tally.positions += 1
                tally.counterexample = grading.check(forward.logits(at: s + grading.offset), label: label, sequence: path, position: s)
                if tally.counterexample != nil { return false }
            }
            return true
        }
        func ascend(to length: Int) {
            forward.truncate(to: grading.offset + length)
            path.removeLast(path.count - length)
            if prefixRule { labelled.removeLast(labelled.count - length - 1) }
        }

        // The task's own prefix: a node on it belongs to this task when the rest of the prefix is all first tokens.
        for (depth, index) in prefix.enumerated() {
            let owned = prefix[(depth + 1)...].allSatisfy { $0 == 0 }
            if !descend(index, visit: owned) {
                failed.record(task)
                return tally
            }
        }
        // Depth-first below the prefix: next[d] is the next child index to try at depth d.
        var next = [0]
        var steps = 0
        while let child = next.last {
            steps += 1
            if steps & 1023 == 0, failed.isBefore(task) { return tally }
            if child == tokens.count || path.count == maxLength {
                next.removeLast()
                if next.isEmpty { break }
                ascend(to: path.count - 1)
                continue
            }
            next[next.count - 1] = child + 1
            if !descend(child, visit: true) {
                failed.record(task)
                return tally
            }
            next.append(0)
        }
        return tally
    }

    /// Adds the tasks' tallies in enumeration order, up to and including the first with a counterexample.
    private func combine(_ tallies: [Tally]) -> ExhaustiveResult {
        var total = Tally()
        for tally in tallies {
            total.sequences += tally.sequences
            total.positions += tally.positions
            if let c = tally.counterexample {
                total.counterexample = c
                break
            }
        }
        return result(total)
    }

    private func result(_ tally: Tally) -> ExhaustiveResult {
        ExhaustiveResult(
            exercise: spec.id, tokens: tokens, maxLength: maxLength, sequences: tally.sequences,
            positions: tally.positions, counterexample: tally.counterexample)
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
    /// Positions graded (labelled positions of the sequences graded; for a counterexample, up to its position).
    public var positions: Int
    /// The first failing sequence in enumeration order, if any.
    public var counterexample: ExhaustiveCounterexample?

    /// Whether every position of every sequence was correct.
    public var verified: Bool { counterexample == nil }

    /// One line: "verified on all N sequences ..." or the counterexample.
    public var summary: String {
        let frame = "of \(tokens.joined(separator: " ")) up to length \(maxLength)"
        guard let c = counterexample else {
            return "\(exercise): verified on all \(sequences) sequences \(frame) (\(positions) positions)"
        }
        return "\(exercise): counterexample at sequence \(sequences) \(frame): \(c.sequence.joined(separator: " ")), "
            + "position \(c.position): expected \(c.expected), found \(c.found), margin \(TargetEvaluator.format(c.margin))"
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

// MARK: - Pieces of the walk

/// Counts so far, and the counterexample that stopped them.
private struct Tally: Sendable {
    var sequences = 0
    var positions = 0
    var counterexample: ExhaustiveCounterexample?
}

/// How a logit row is graded: the Grader's prediction target (TargetEvaluator), without building a trace.
private struct Grading {
    let outputs: [String]
    /// `W_E` row of each enumerated token.
    let tokenRows: [Int]
    /// BOS row, when the exercise prepends one.
    let bos: [Int]
    var offset: Int { bos.count }

    init(_ verifier: ExhaustiveVerifier) {
        let grader = Grader(spec: verifier.spec)
        outputs = verifier.spec.outputs
        tokenRows = verifier.tokens.compactMap(grader.tokenIndex)
        bos = grader.bosPrefix
    }

    /// The counterexample at `position`, or nil when the prediction is correct.
    func check(_ row: ArraySlice<Double>, label: String, sequence: [String], position: Int) -> ExhaustiveCounterexample? {
        let margin = Margin.logitGap(row, expected: outputs.firstIndex(of: label) ?? 0)
        if margin > 0 { return nil }
        return ExhaustiveCounterexample(
            sequence: sequence, position: position, expected: label,
            found: TargetEvaluator.prediction(row, outputs: outputs), margin: margin)
    }
}

/// The split of the tree into tasks: task `i` owns the subtree of the `depth`-token prefix number `i`
/// (in enumeration order), and the shorter prefixes on its path that end in first tokens only.
private struct TaskPlan {
    let alphabet: Int
    let depth: Int
    let count: Int

    init(alphabet: Int, maxLength: Int) {
        let wanted = 8 * Cores.active
        var depth = 1, count = alphabet
        while depth < maxLength && count < wanted && alphabet > 1 {
            depth += 1
            count *= alphabet
        }
        self.alphabet = alphabet
        self.depth = depth
        self.count = count
    }

    /// Token indices of task `i`'s prefix.
    func prefix(of i: Int) -> [Int] {
        var digits = [Int](repeating: 0, count: depth)
        var rest = i
        for d in stride(from: depth - 1, through: 0, by: -1) {
            digits[d] = rest % alphabet
            rest /= alphabet
        }
        return digits
    }
}

/// The lowest task index that found a counterexample; later tasks may stop.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var task = Int.max

    func record(_ i: Int) { lock.withLock { task = min(task, i) } }
    func isBefore(_ i: Int) -> Bool { lock.withLock { task < i } }
}

/// Every sequence of token indices in enumeration order (preorder), one at a time.
private struct PreorderWalker {
    let alphabet: Int
    let maxLength: Int
    private var current: [Int] = []
    private(set) var done: Bool

    init(alphabet: Int, maxLength: Int) {
        self.alphabet = alphabet
        self.maxLength = maxLength
        done = alphabet == 0 || maxLength == 0
    }

    mutating func next() -> [Int]? {
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

extension PredictionRule {
    /// Whether the label at `t` depends only on tokens `0...t` (then a prefix's labels never change).
    var readsOnlyPrefix: Bool {
        if case .tokenAtOffset(let offset, _) = self { return offset <= 0 }
        return true
    }
}
