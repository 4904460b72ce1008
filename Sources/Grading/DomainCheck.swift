import Foundation
import Numerics
import Model
import Formats
import Exercises

// The domain check: the part of the grade that makes a verdict a proof or a counterexample.
//
// For each prediction domain of the spec (PredictionDomain), in this order, stopping at the first wrong
// prediction (margin <= 0):
// 1. enumeration: every sequence of the domain's tokens up to the longest length whose walk fits the time
//    budget (ProofBudget; all of them with `prove`). When that is the whole domain the verdict is a proof.
// 2. stress sequences (StressSequences): every sequence over each pair of tokens, then sparse sequences;
// 3. the adversarial search (AdversarialSearch), seeded by the spec alone.
// Steps 2 and 3 run only when step 1 did not cover the whole domain. None of the steps depends on the run's
// seed, so the seed changes which samples the families show, never this verdict.
//
// The result is one graded family per domain (id `domain`), worth the spec's `domain_points`: it fails
// when a counterexample is found, whoever found it.

/// What the domain check found for one domain.
public struct DomainVerdict: Equatable, Sendable {
    /// The three verdicts a domain can get.
    public enum Status: String, Sendable {
        /// Every sequence of the domain was enumerated and every graded position is correct.
        case proved
        /// No counterexample among the sequences enumerated, stressed and searched; the domain is larger.
        case searched
        /// A sequence of the domain on which the submission is wrong.
        case counterexample
    }

    /// Which search found a counterexample.
    public enum Finder: String, Sendable {
        case enumeration
        case stress = "stress sequences"
        case adversarial = "adversarial search"
    }

    public var status: Status
    /// The domain's tokens and lengths, e.g. "A B C D, lengths 1 to 11".
    public var frame: String
    /// Sequences in the whole domain (`Int.max` when that overflows).
    public var domainSize: Int
    /// Sequences enumerated, and the longest length enumerated (0: none).
    public var enumerated: Int
    public var enumeratedLength: Int
    /// Stress sequences graded, adversarial sequences evaluated.
    public var stressed: Int
    public var searched: Int
    /// The smallest margin seen over every position graded (nil when none was graded).
    public var worstMargin: Double?
    public var foundBy: Finder?
    /// The generated family whose lengths and tokens admit the counterexample, if one does.
    public var family: String?
    public var counterexample: Counterexample?

    /// Lowers `worstMargin` to `margin` (nil leaves it).
    package mutating func lower(to margin: Double?) {
        guard let margin else { return }
        worstMargin = min(worstMargin ?? margin, margin)
    }

    /// One line: the verdict in words.
    public var summary: String {
        switch status {
        case .proved:
            return "proved on all \(domainSize) sequences of \(frame)" + (worstMargin.map { " (worst margin \(NumberText.rounded($0)))" } ?? "")
        case .searched:
            var parts: [String] = []
            if enumeratedLength > 0 { parts.append("all \(enumerated) sequences up to length \(enumeratedLength) enumerated") }
            parts.append("\(stressed) stress sequences")
            if searched > 0 { parts.append("\(searched) searched adversarially") }
            return "no counterexample in \(enumerated + stressed + searched) sequences of \(frame) (\(parts.joined(separator: ", ")))"
        case .counterexample:
            let within = family.map { ", within the lengths and tokens of family \($0)" } ?? ""
            return "counterexample found by \(foundBy?.rawValue ?? "search") among the sequences of \(frame)\(within)"
        }
    }
}

/// How far the domain check goes.
public struct DomainSettings: Equatable, Sendable {
    /// Seconds of enumeration allowed (estimated, see ProofBudget); nil: the spec's `proof_budget`, else 1 s.
    public var proofBudget: Double?
    /// Enumerate the whole domain whatever the estimate.
    public var prove: Bool
    /// Model evaluations for the adversarial search; 0 turns it off.
    public var adversarialBudget: Int
    /// Whether the domain check runs at all (`validate` grades its extra seeds without it: it does not
    /// depend on the seed).
    public var enabled: Bool = true

    public init(proofBudget: Double? = nil, prove: Bool = false, adversarialBudget: Int = AdversarialSearch.defaultBudget) {
        self.proofBudget = proofBudget
        self.prove = prove
        self.adversarialBudget = adversarialBudget
    }

    /// No domain check: the families alone (and the head probe).
    public static var familiesOnly: DomainSettings {
        var s = DomainSettings()
        s.enabled = false
        return s
    }

    /// What `check` and `grade` run by default.
    public static let standard = DomainSettings()
}

/// Runs the domain check of one domain on one model.
package struct DomainCheck {
    package let spec: ExerciseSpec
    package let model: Transformer
    package let domain: PredictionDomain
    package let settings: DomainSettings
    /// Checked between steps, pairs and chunks: past it, `run` gives up (nil).
    package var deadline: Date = .distantFuture

    private var late: Bool { Date() > deadline }

    package func run() -> DomainVerdict? {
        let size = ExhaustiveVerifier.sequenceCount(
            alphabet: domain.tokens.count, minLength: domain.lengths.lowerBound, maxLength: domain.lengths.upperBound)
        var verdict = DomainVerdict(
            status: .searched, frame: domain.frame, domainSize: max(0, size), enumerated: 0, enumeratedLength: 0, stressed: 0, searched: 0,
            worstMargin: nil, foundBy: nil, family: nil, counterexample: nil)
        let grading = DomainGrading(spec: spec, model: model, domain: domain)

        // 1. Enumeration.
        if grading.canEnumerate {
            let budget = settings.proofBudget ?? spec.proofBudget ?? ProofBudget.defaultSeconds
            let longest = domain.lengths.upperBound
            var length =
                settings.prove
                ? longest
                : ProofBudget.longestLength(spec: spec, model: model, tokens: domain.tokens, maxLength: longest, seconds: budget)
            var walked: DomainGrading.Tally?
            // The whole domain may still fit when the walk's memos remember enough: walked with a work limit.
            if length < longest && ProofBudget.mayFit(spec: spec, model: model, tokens: domain.tokens, maxLength: longest, seconds: budget) {
                walked = grading.enumerate(domain.tokens, maxLength: longest, workLimit: ProofBudget.workLimit(seconds: budget))
                if walked != nil { length = longest }
            }
            if length >= 1, let result = walked ?? grading.enumerate(domain.tokens, maxLength: length) {
                verdict.enumerated = result.sequences
                verdict.enumeratedLength = length
                verdict.worstMargin = result.worstMargin
                if let c = result.failure { return fail(verdict, c, by: .enumeration, grading: grading) }
                if length == domain.lengths.upperBound {
                    verdict.status = .proved
                    return verdict
                }
            }
        }
        // 2. Stress sequences: every sequence over each pair, then the sparse ones.
        for pair in StressSequences.pairs(domain.tokens) {
            if late { return nil }
            let result: DomainGrading.Tally
            if grading.canEnumerate, let r = grading.enumerate(pair, maxLength: domain.lengths.upperBound) {
                result = r
            } else {
                result = grading.grade(grading.lengthsToStress.flatMap { StressSequences.everySequence(over: pair, length: $0) })
            }
            verdict.stressed += result.sequences
            verdict.lower(to: result.worstMargin)
            if let c = result.failure { return fail(verdict, c, by: .stress, grading: grading) }
        }
        if late { return nil }
        let sparse = grading.grade(grading.lengthsToStress.flatMap { StressSequences.sparse(tokens: domain.tokens, length: $0) })
        verdict.stressed += sparse.sequences
        verdict.lower(to: sparse.worstMargin)
        if let c = sparse.failure { return fail(verdict, c, by: .stress, grading: grading) }
        // 3. The adversarial search, seeded by the spec alone.
        if late { return nil }
        if settings.adversarialBudget > 0,
            let search = try? AdversarialSearch(spec: spec, model: model, domain: domain, budget: settings.adversarialBudget)
        {
            let result = search.run()
            verdict.searched = result.evaluations
            if let worst = result.worst {
                verdict.lower(to: worst.margin)
                if worst.margin <= 0 {
                    let c = Counterexample.prediction(worst.sequence, at: worst.position, expected: worst.expected, found: worst.found, margin: worst.margin)
                    return fail(verdict, c, by: .adversarial, grading: grading)
                }
            }
        }
        return verdict
    }

    private func fail(_ v: DomainVerdict, _ c: Counterexample, by finder: DomainVerdict.Finder, grading: DomainGrading) -> DomainVerdict {
        var v = v
        v.status = .counterexample
        v.foundBy = finder
        v.family = domain.family(admitting: c.sequence, in: spec)
        v.counterexample = grading.minimized(c)
        return v
    }
}

/// Grades sequences of one domain: the positions it grades, by its rule, scored as prediction targets.
package struct DomainGrading {
    package let spec: ExerciseSpec
    package let model: Transformer
    package let domain: PredictionDomain
    package let scorer: PredictionScorer
    package let grader: Grader

    package init(spec: ExerciseSpec, model: Transformer, domain: PredictionDomain) {
        self.spec = spec
        self.model = model
        self.domain = domain
        scorer = PredictionScorer(outputs: spec.outputs)
        grader = Grader(spec: spec)
    }

    /// Counts, the smallest margin, and the first failure in order.
    package struct Tally {
        package var sequences = 0
        package var worstMargin: Double?
        package var failure: Counterexample?
    }

    /// Whether the exhaustive walk can grade this domain: the walk labels by the spec's single rule.
    package var canEnumerate: Bool { spec.defaultRule == domain.rule }

    /// The exhaustive walk over `tokens` from the domain's shortest length up to `maxLength`, grading the
    /// domain's positions (nil when it cannot be set up, e.g. `maxLength` below the shortest length).
    /// Enumerates every sequence over `tokens` up to `maxLength`; with a `workLimit` (WalkCost units), nil
    /// when the walk would need more than that (see PrefixWalk.run).
    package func enumerate(_ tokens: [String], maxLength: Int, workLimit: Double? = nil) -> Tally? {
        guard maxLength >= domain.lengths.lowerBound,
            let verifier = try? ExhaustiveVerifier(
                spec: spec, model: model, maxLength: maxLength, limit: Int.max, tokens: tokens, minLength: domain.lengths.lowerBound,
                positions: domain.positions)
        else { return nil }
        let walked = workLimit.map { verifier.run(workLimit: $0) } ?? verifier.run()
        guard let result = walked else { return nil }
        var tally = Tally(sequences: result.sequences, worstMargin: result.worstMargin, failure: nil)
        if let c = result.counterexample {
            tally.failure = .prediction(c.sequence, at: c.position, expected: c.expected, found: c.found, margin: c.margin)
        }
        return tally
    }

    /// Lengths the stress sequences are made at: the longest only when a causal mask makes every shorter
    /// sequence a prefix of a longest one (and every position is graded); else the shortest, the middle
    /// and the longest.
    package var lengthsToStress: [Int] {
        let l = domain.lengths
        if model.causal && domain.gradesEveryPosition { return [l.upperBound] }
        return Array(Set([l.lowerBound, (l.lowerBound + l.upperBound) / 2, l.upperBound])).sorted()
    }

    /// Grades `sequences` in order; stops at the first wrong prediction.
    package func grade(_ sequences: [[String]]) -> Tally {
        var tally = Tally()
        let chunk = 4096
        var start = 0
        while start < sequences.count {
            let part = Array(sequences[start..<min(start + chunk, sequences.count)])
            let traces = model.forward(batch: part.map(spec.modelInput), detail: .logits)
            for (tokens, trace) in zip(part, traces) {
                tally.sequences += 1
                if let failure = check(tokens, logits: trace.logits, worst: &tally.worstMargin) {
                    tally.failure = failure
                    return tally
                }
            }
            start += chunk
        }
        return tally
    }

    /// One graded position of a sequence, scored.
    package struct Scored {
        package var position: Int
        package var expected: String
        package var margin: Double
        package var found: String
    }

    /// Every graded position of `tokens`, in order, given the model's logits `[T, nOutputs]`.
    package func scored(_ tokens: [String], logits: Matrix) -> [Scored] {
        let offset = spec.bosPrefix.count
        var out: [Scored] = []
        for (t, label) in domain.rule.labels(tokens).enumerated() {
            guard let label, domain.grades(t, count: tokens.count, label: label) else { continue }
            let row = logits.values[((t + offset) * logits.columns)..<((t + offset + 1) * logits.columns)]
            let (margin, found) = scorer.score(row, expected: label)
            out.append(Scored(position: t, expected: label, margin: margin, found: found))
        }
        return out
    }

    /// The graded position with the smallest margin (the earliest among equal ones).
    package func worst(_ tokens: [String], logits: Matrix) -> Scored? {
        scored(tokens, logits: logits).min { $0.margin < $1.margin }
    }

    /// The first wrong graded position of `tokens`; lowers `worst` to the smallest margin seen.
    package func check(_ tokens: [String], logits: Matrix, worst: inout Double?) -> Counterexample? {
        for s in scored(tokens, logits: logits) {
            worst = min(worst ?? s.margin, s.margin)
            if s.margin <= 0 { return .prediction(tokens, at: s.position, expected: s.expected, found: s.found, margin: s.margin) }
        }
        return nil
    }

    /// `c` with its shortest failing form attached, when that form is still in the domain.
    package func minimized(_ c: Counterexample) -> Counterexample {
        guard let p = c.position,
            let m = CounterexampleMinimizer(grader: grader, model: model, rule: domain.rule).minimize(c.sequence, position: p),
            m.tokens.count < c.sequence.count, domain.grades(m.position, count: m.tokens.count, label: m.result.expected)
        else { return c }
        var out = c
        out.minimized = .prediction(m.tokens, at: m.position, expected: m.result.expected, found: m.result.found, margin: m.result.margin)
        return out
    }
}
