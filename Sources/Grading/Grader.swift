import Foundation
import Numerics
import Model
import Formats
import Exercises

/// Grades a model on an exercise: makes every family's cases (seeded), runs them, scores every target.
///
/// Deterministic: cases depend only on the seed, the spec and the family; the forward passes run in
/// parallel but every reduction runs in case order.
public struct Grader: Sendable {
    public let spec: ExerciseSpec
    public let seed: UInt64
    /// How far the domain check goes.
    public let domain: DomainSettings

    /// The seed used when none is given (public: students see the same cases every run).
    public static let publicSeed: UInt64 = 2024

    public init(spec: ExerciseSpec, seed: UInt64 = Grader.publicSeed, domain: DomainSettings = .standard) {
        self.spec = spec
        self.seed = seed
        self.domain = domain
    }

    /// The cases of a behavioural family (empty for circuit and question families).
    public func cases(of family: ExerciseSpec.Family) -> [GradingCase] {
        switch family.source {
        case .explicit(let cases): return cases
        case .generated(let generator, let plan):
            var random = SeededRandom(seed: seed, stream: "\(spec.id)/\(family.id)")
            return generator.sequences(using: &random).map {
                GradingCase(tokens: $0, targets: plan.targets(for: $0, hasBOS: spec.bos != nil))
            }
        case .circuits, .questions: return []
        }
    }

    /// Grades `model` (built from `submission`, whose answers the question families read).
    public func grade(_ model: Transformer, submission: Submission) -> GradeReport {
        grade(model, submission: submission, deadline: .distantFuture) ?? report([], [], model: model, submission: submission)
    }

    /// Grades like `grade`, but gives up (nil) once `deadline` has passed: checked between chunks of a
    /// family's cases, between families, and between the steps of the domain check (an enumeration, bounded by
    /// the proof budget, runs to its end).
    public func grade(_ model: Transformer, submission: Submission, deadline: Date) -> GradeReport? {
        guard let graded = families(model, submission: submission, deadline: deadline) else { return nil }
        let domains = domain.enabled ? PredictionDomain.domains(of: spec) : []
        var verdicts: [DomainVerdict] = []
        for d in domains {
            guard let v = DomainCheck(spec: spec, model: model, domain: d, settings: domain, deadline: deadline).run() else { return nil }
            verdicts.append(v)
        }
        if Date() > deadline { return nil }
        var r = report(graded + verdicts.enumerated().map { domainFamily($1, index: $0) }, verdicts, model: model, submission: submission)
        r.heads = HeadNecessity.probe(self, model: model, graded: graded)
        r.families += HeadNecessity.requiredFamily(spec, r.heads)
        return r
    }

    /// A domain verdict as a graded family: it fails when a counterexample was found.
    private func domainFamily(_ v: DomainVerdict, index: Int) -> FamilyResult {
        let passed = v.status != .counterexample
        let total = v.enumerated + v.stressed + v.searched
        return FamilyResult(
            id: DomainFamilyID.id(index: index), title: "every sequence of the domain: " + v.summary, visibility: .visible,
            points: spec.domainPoints, earned: passed ? spec.domainPoints : 0, passed: passed, total: total,
            correct: passed ? total : total - 1, accuracy: total == 0 ? 1 : Double(passed ? total : total - 1) / Double(total),
            worstMargin: v.worstMargin, medianMargin: nil, counterexample: v.counterexample)
    }

    private func families(_ model: Transformer, submission: Submission, deadline: Date?) -> [FamilyResult]? {
        var out: [FamilyResult] = []
        for family in spec.families {
            if let deadline, Date() > deadline { return nil }
            let familyCases = cases(of: family)  // generated once, used for scoring and the counterexample
            guard let result = self.result(of: family, cases: familyCases, on: model, answers: submission.answers, deadline: deadline) else {
                return nil
            }
            out.append(minimized(result, family: family, model: model))
        }
        return out
    }

    /// The results of behavioural `families` (each with its cases) on `model`, without shortened
    /// counterexamples (see `HeadNecessity`).
    package func behaviouralResults(_ families: [(family: ExerciseSpec.Family, cases: [GradingCase])], on model: Transformer) -> [FamilyResult] {
        families.compactMap { result(of: $0.family, cases: $0.cases, on: model, answers: [:], deadline: nil) }
    }

    private func result(
        of family: ExerciseSpec.Family, cases familyCases: [GradingCase], on model: Transformer, answers: [String: JSONValue], deadline: Date?
    ) -> FamilyResult? {
        let results: [TargetResult]
        switch family.source {
        case .explicit, .generated:
            guard let r = evaluate(familyCases, on: model, deadline: deadline) else { return nil }
            results = r
        case .circuits(let checks): results = checks.enumerated().map { CircuitEvaluator(spec: spec, model: model).evaluate($1, index: $0) }
        case .questions(let questions): results = questions.enumerated().map { QuestionEvaluator.evaluate($1, index: $0, answers: answers) }
        }
        return summarize(family, results, cases: familyCases)
    }

    private func report(_ families: [FamilyResult], _ verdicts: [DomainVerdict], model: Transformer, submission: Submission) -> GradeReport {
        var exploratory: String? = nil
        if case .exploratory(let reason) = spec.status { exploratory = reason }
        return GradeReport(
            file: submission.file, exercise: spec.id, title: spec.title, exploratory: exploratory, seed: seed,
            specHash: spec.specHash, graderVersion: graderVersion, families: families, verdicts: verdicts,
            subject: GradedSubject(spec: spec, model: model))
    }

    /// Runs `cases` and scores each of their targets, in case order.
    public func evaluate(_ cases: [GradingCase], on model: Transformer) -> [TargetResult] {
        evaluate(cases, on: model, deadline: nil) ?? []
    }

    /// Cases run per forward batch: bounds the traces held at once, and how long a family runs past a deadline.
    package static let chunk = 1024

    /// `evaluate`, in chunks of `chunk` cases; nil once `deadline` has passed (checked between chunks). A
    /// sequence's trace does not depend on its batch, so chunking changes no result.
    package func evaluate(_ cases: [GradingCase], on model: Transformer, deadline: Date?) -> [TargetResult]? {
        let onlyPredictions = cases.allSatisfy { $0.targets.allSatisfy { if case .predict = $0 { true } else { false } } }
        var out: [TargetResult] = []
        var start = 0
        while start < cases.count {
            if let deadline, Date() > deadline { return nil }
            let end = min(start + Self.chunk, cases.count)
            let batch = cases[start..<end].map { spec.modelInput($0.tokens) }
            let traces = model.forward(batch: batch, detail: onlyPredictions ? .logits : .full)
            for i in start..<end {
                for target in cases[i].targets {
                    out.append(TargetEvaluator(spec: spec, trace: traces[i - start], offset: spec.bosPrefix.count).evaluate(target, caseIndex: i))
                }
            }
            start = end
        }
        return out
    }

    /// A failing family's prediction counterexample, shortened when the family has a labelling rule.
    private func minimized(_ result: FamilyResult, family: ExerciseSpec.Family, model: Transformer) -> FamilyResult {
        switch family.source {
        case .explicit, .generated: break
        case .circuits, .questions: return result
        }
        guard !result.passed, let c = result.counterexample, let p = c.position, c.sequence.indices.contains(p),
            c.what.hasPrefix("prediction"), let rule = family.rule ?? spec.defaultRule
        else { return result }
        guard let m = CounterexampleMinimizer(grader: self, model: model, rule: rule).minimize(c.sequence, position: p),
            m.tokens.count < c.sequence.count
        else { return result }
        var out = result
        out.counterexample?.minimized = .prediction(m.tokens, at: m.position, expected: m.result.expected, found: m.result.found, margin: m.result.margin)
        return out
    }

    private func summarize(_ family: ExerciseSpec.Family, _ results: [TargetResult], cases: [GradingCase]) -> FamilyResult {
        let scored = results.map { r -> TargetResult in
            var r = r
            if family.minMargin > 0, let m = r.margin, m < family.minMargin { r.correct = false }
            return r
        }
        let correct = scored.filter(\.correct).count
        let accuracy = scored.isEmpty ? 1 : Double(correct) / Double(scored.count)
        let margins = scored.compactMap(\.margin).sorted()
        let passed = accuracy >= family.passAccuracy
        let worst = scored.enumerated().min { a, b in
            if a.element.correct != b.element.correct { return !a.element.correct }
            return (a.element.margin ?? 2, a.offset) < (b.element.margin ?? 2, b.offset)
        }?.element
        return FamilyResult(
            id: family.id, title: family.title, visibility: family.visibility, points: family.points,
            earned: passed ? family.points : (family.partialCredit ? family.points * accuracy : 0), passed: passed, total: scored.count, correct: correct,
            accuracy: accuracy,
            worstMargin: margins.first, medianMargin: margins.isEmpty ? nil : margins[(margins.count - 1) / 2],
            counterexample: worst.map { counterexample($0, cases: cases) },
            failures: family.isCheck ? scored.filter { !$0.correct }.map { counterexample($0, cases: cases) } : [])
    }

    private func counterexample(_ r: TargetResult, cases: [GradingCase]) -> Counterexample {
        let sequence = cases.indices.contains(r.caseIndex) ? cases[r.caseIndex].tokens : []
        let target: Target
        switch r.item {
        case .check(let id), .question(let id):
            // Circuit checks and questions carry no sequence.
            return Counterexample(sequence: [], position: nil, what: "check \(id)", expected: r.expected, found: r.found, margin: r.margin)
        case .target(let t): target = t
        }
        switch target {
        case .predict(let p, _):
            return .prediction(sequence, at: p, expected: r.expected, found: r.found, margin: r.margin)
        case .attention(let head, let q, _, _, _, _):
            return Counterexample(
                sequence: sequence, position: q, what: "\(head) attention from position \(q)", expected: r.expected, found: r.found, margin: r.margin)
        case .residual(let p, let dims, _, _, _):
            return Counterexample(
                sequence: sequence, position: p, what: "residual \(dims.joined(separator: ",")) at position \(p)", expected: r.expected, found: r.found,
                margin: r.margin)
        }
    }
}
