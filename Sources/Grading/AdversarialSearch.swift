import Foundation
import Numerics
import Model
import Formats
import Exercises

// Adversarial search: seeded local search for the sequence with the lowest prediction margin.
//
// 1. Sampling: a third of the budget draws random sequences from the exercise's generated families (those
//    with a prediction rule), shared equally, each family from its own stream of the seed.
// 2. Local search: the rest of the budget mutates the worst sequences found so far (a beam of 4), in rounds
//    of 16: substitute a token, insert one, or delete one, always within the family's generator constraints
//    (its length range and its token set). Under a causal mask, later tokens cannot change the worst
//    position's prediction, so most edits land at or before it. The beam is the 4 lowest margins of all
//    sequences evaluated; among equal margins the newest wins, so the search can cross plateaus.
// A sequence's score is its smallest margin over the rule's labelled positions (Margin.logitGap, as the
// Grader scores a prediction target). Every model evaluation counts against the budget; the same seed, spec
// and model give the same result.

/// Seeded local search for the sequence on which a model's prediction margin is smallest.
public struct AdversarialSearch: Sendable {
    public let spec: ExerciseSpec
    public let model: Transformer
    public let seed: UInt64
    /// The most sequences run through the model.
    public let budget: Int
    /// The rule that labels every sequence (`domain.rule`).
    public let rule: PredictionRule

    /// The default budget of model evaluations.
    public static let defaultBudget = 300
    /// Sequences kept as parents for mutation.
    package static let beamWidth = 4
    /// Mutants evaluated together.
    package static let roundSize = 16

    /// The domain whose graded positions are scored (the spec's single rule's domain by default).
    public let domain: PredictionDomain

    /// A search on the generated families of `domain`'s rule (the spec's single prediction rule when nil);
    /// throws when there is no such rule or no generated family that predicts by it.
    public init(
        spec: ExerciseSpec, model: Transformer, domain: PredictionDomain? = nil, seed: UInt64 = Grader.publicSeed,
        budget: Int = AdversarialSearch.defaultBudget
    ) throws {
        guard let domain = domain ?? PredictionDomain.domains(of: spec).first(where: { $0.rule == spec.defaultRule }) else {
            throw GraderError(file: spec.file, "exercise \(spec.id) has no single prediction rule to search against")
        }
        guard budget >= 1 else { throw GraderError(file: "", "the search budget must be at least 1, got \(budget)") }
        self.spec = spec
        self.model = model
        self.seed = seed
        self.budget = budget
        self.rule = domain.rule
        self.domain = domain
        guard !SearchFamily.all(in: spec, rule: domain.rule).isEmpty else {
            throw GraderError(file: spec.file, "exercise \(spec.id) has no generated family with a prediction rule")
        }
    }

    /// Samples a third of the budget, then searches locally with the rest.
    public func run() -> AdversarialResult { search(sampling: max(1, budget / 3)) }

    /// Random sampling only, the whole budget: the baseline the local search must beat.
    public func runRandom() -> AdversarialResult { search(sampling: budget) }

    private func search(sampling: Int) -> AdversarialResult {
        let families = SearchFamily.all(in: spec, rule: rule)
        let scorer = Scorer(search: self)
        var pool = Pool()
        // 1. Random cases from every family, in family order.
        var initial: [Candidate] = []
        let samples = min(sampling, budget)
        for (f, family) in families.enumerated() {
            var generator = family.generator
            generator.count = samples / families.count + (f < samples % families.count ? 1 : 0)
            var random = SeededRandom(seed: seed, stream: "adversarial/\(spec.id)/\(family.id)")
            for tokens in generator.sequences(using: &random) where pool.isNew(tokens) {
                initial.append(Candidate(tokens: tokens, family: f))
            }
        }
        pool.add(scorer.score(initial))
        // 2. Local search from the worst.
        var random = SeededRandom(seed: seed, stream: "adversarial-search/\(spec.id)")
        var stale = 0
        while pool.evaluations < budget, stale < 8 {
            let parents = pool.beam(Self.beamWidth)
            if parents.isEmpty { break }
            var mutants: [Candidate] = []
            let round = min(Self.roundSize, budget - pool.evaluations)
            var attempts = 0
            while mutants.count < round, attempts < 8 * round {
                attempts += 1
                let parent = parents[(mutants.count + attempts) % parents.count]
                let tokens = families[parent.candidate.family].mutate(
                    parent.candidate.tokens, worst: parent.position,
                    causal: model.causal, using: &random)
                if let tokens, pool.isNew(tokens) { mutants.append(Candidate(tokens: tokens, family: parent.candidate.family)) }
            }
            // A neighbourhood with nothing new left to try ends the search early.
            stale = mutants.isEmpty ? stale + 1 : 0
            pool.add(scorer.score(mutants))
        }
        let worst = pool.worst.map { s in
            AdversarialCase(
                family: families[s.candidate.family].id, sequence: s.candidate.tokens, position: s.position,
                expected: s.expected, found: s.found, margin: s.margin)
        }
        return AdversarialResult(exercise: spec.id, worst: worst, evaluations: pool.evaluations)
    }
}

/// The outcome of an adversarial search.
public struct AdversarialResult: Equatable, Sendable {
    public var exercise: String
    /// The sequence with the smallest margin (the earliest found among equal ones); nil when no sequence
    /// had a graded position.
    public var worst: AdversarialCase?
    /// Sequences run through the model (at most the budget).
    public var evaluations: Int

    /// Whether the search found a wrong prediction (margin ≤ 0).
    public var foundFailure: Bool { (worst?.margin ?? 1) <= 0 }

    /// One line naming the worst case.
    public var summary: String {
        guard let w = worst else { return "\(exercise): no graded position in \(evaluations) sequences" }
        return "\(exercise): worst of \(evaluations) sequences (family \(w.family)): \(w.sequence.joined(separator: " ")), "
            + "position \(w.position): expected \(w.expected), found \(w.found), margin \(NumberText.rounded(w.margin))"
    }
}

/// One sequence and its worst graded position.
public struct AdversarialCase: Equatable, Sendable {
    /// The family whose generator constraints the sequence satisfies.
    public var family: String
    /// Student tokens (BOS excluded).
    public var sequence: [String]
    /// 0-based position over `sequence` with the smallest margin.
    public var position: Int
    public var expected: String
    public var found: String
    /// `Margin.logitGap` for the expected class at `position`.
    public var margin: Double
}

// MARK: - Pieces of the search

/// A generated family's constraints: the token set and the length range its sequences keep.
private struct SearchFamily {
    let id: String
    let generator: SequenceGenerator
    /// The generator's fill tokens and variable tokens, without repeats, in order.
    let tokens: [String]
    let lengths: ClosedRange<Int>

    /// The generated families that predict, in spec order.
    static func all(in spec: ExerciseSpec, rule: PredictionRule) -> [SearchFamily] {
        spec.families.compactMap { family in
            guard case .generated(let generator, let plan) = family.source, plan.predict == rule else { return nil }
            let tokens = generator.alphabet
            let upper = min(generator.length.upperBound, spec.maxSequenceLength)
            let lower = min(max(1, generator.length.lowerBound), upper)
            guard upper >= 1, !tokens.isEmpty else { return nil }
            return SearchFamily(id: family.id, generator: generator, tokens: tokens, lengths: lower...upper)
        }
    }

    /// One random edit of `tokens` within the constraints, or nil when none applies. With a causal mask,
    /// three edits in four land at or before `worst` (the position being driven down).
    func mutate(_ tokens: [String], worst: Int, causal: Bool, using random: inout SeededRandom) -> [String]? {
        enum Edit { case substitute, insert, delete }
        var edits: [Edit] = []
        if tokens.count > 0 && self.tokens.count > 1 { edits += [.substitute, .substitute] }
        if tokens.count < lengths.upperBound { edits.append(.insert) }
        if tokens.count > lengths.lowerBound { edits.append(.delete) }
        guard !edits.isEmpty else { return nil }
        let edit = random.element(of: edits)
        let focused = causal && random.int(in: 0...3) > 0
        func position(upTo last: Int) -> Int { random.int(in: 0...(focused ? min(worst, last) : last)) }
        var out = tokens
        switch edit {
        case .substitute:
            let p = position(upTo: tokens.count - 1)
            out[p] = random.element(of: self.tokens.filter { $0 != tokens[p] })
        case .insert:
            out.insert(random.element(of: self.tokens), at: position(upTo: tokens.count))
        case .delete:
            out.remove(at: position(upTo: tokens.count - 1))
        }
        return out
    }
}

/// A sequence of one family.
private struct Candidate {
    var tokens: [String]
    var family: Int
}

/// A candidate with its worst graded position.
private struct Scored {
    var candidate: Candidate
    var position: Int
    var margin: Double
    var expected: String
    var found: String
    /// Evaluation order, for ties.
    var order: Int
}

/// Runs candidates through the model and scores the domain's graded positions (`DomainGrading`).
private struct Scorer {
    let search: AdversarialSearch
    let grading: DomainGrading

    init(search: AdversarialSearch) {
        self.search = search
        grading = DomainGrading(spec: search.spec, model: search.model, domain: search.domain)
    }

    /// Scores, in input order; candidates without a graded position get nil.
    func score(_ candidates: [Candidate]) -> [(Candidate, Scored?)] {
        let traces = search.model.forward(batch: candidates.map { search.spec.modelInput($0.tokens) }, detail: .logits)
        return zip(candidates, traces).map { candidate, trace in
            guard let w = grading.worst(candidate.tokens, logits: trace.logits) else { return (candidate, nil) }
            return (candidate, Scored(candidate: candidate, position: w.position, margin: w.margin, expected: w.expected, found: w.found, order: 0))
        }
    }
}

/// Every sequence evaluated, and the worst ones.
private struct Pool {
    private var seen = Set<[String]>()
    private var scored: [Scored] = []
    private(set) var evaluations = 0

    /// Whether `tokens` has not been queued before (and queues it).
    mutating func isNew(_ tokens: [String]) -> Bool { seen.insert(tokens).inserted }

    mutating func add(_ results: [(Candidate, Scored?)]) {
        for (_, s) in results {
            evaluations += 1
            if var s {
                s.order = evaluations
                scored.append(s)
            }
        }
    }

    /// The `k` lowest margins, the newest first among equal ones (so that the search drifts along plateaus).
    func beam(_ k: Int) -> [Scored] {
        Array(scored.sorted { ($0.margin, -$0.order) < ($1.margin, -$1.order) }.prefix(k))
    }

    /// The lowest margin, the earliest found among equal ones.
    var worst: Scored? { scored.min { ($0.margin, $0.order) < ($1.margin, $1.order) } }
}
