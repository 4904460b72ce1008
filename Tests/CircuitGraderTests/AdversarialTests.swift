// Tests of the adversarial search (Scoring/AdversarialSearch.swift): it finds a planted weakness that random
// sampling with the same budget misses, stays within the family's constraints and budget, and is
// deterministic for a seed.

import Foundation
import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

/// current-token/pos with a single generated family of 7-11 random tokens over A B C D (rule A -> B), and
/// a model that fails only when the first six tokens are all A (probability 4^-6 = 1/4096 per sequence).
private func rareWeakness() throws -> (ExerciseSpec, Transformer) {
    let (planted, model) = try plantedLeadingABug(window: 6)
    var spec = planted
    let generator = SequenceGenerator(
        count: 64, length: 7...11, tokens: spec.vocab, variableTokens: spec.vocab,
        plants: [], distinct: [])
    let plan = LabelPlan(predict: .currentToken(map: ["A": "B"]), positions: .all, attention: [])
    spec.families = [
        ExerciseSpec.Family(
            id: "long", title: "7 to 11 random tokens", points: 1, visibility: .visible,
            passAccuracy: 1, minMargin: 0, source: .generated(generator, plan))
    ]
    return (spec, model)
}

@Suite("Adversarial search")
struct AdversarialTests {
    @Test("local search finds a weakness that random sampling with the same budget misses")
    func findsWhatSamplingMisses() throws {
        let (spec, model) = try rareWeakness()
        let search = try AdversarialSearch(spec: spec, model: model, seed: 7, budget: 300)
        let random = search.runRandom()
        let found = search.run()
        #expect(!random.foundFailure, "random sampling hit it: \(random.summary)")
        #expect(random.evaluations <= 300)
        #expect(found.foundFailure, "\(found.summary)")
        #expect(found.evaluations <= 300)
        let worst = try #require(found.worst)
        // The failure needs six leading A's and a later non-A, predicted B instead of none.
        #expect(Array(worst.sequence.prefix(6)) == Array(repeating: "A", count: 6))
        #expect(worst.position >= 6 && worst.sequence[worst.position] != "A")
        #expect(worst.expected == "none" && worst.found == "B")
        // Within the family's constraints.
        #expect((7...11).contains(worst.sequence.count))
        #expect(worst.sequence.allSatisfy { spec.vocab.contains($0) })
        // The Grader scores the same target the same way.
        let graded = Grader(spec: spec).evaluate(
            [
                GradingCase(
                    tokens: worst.sequence,
                    targets: [
                        .predict(position: worst.position, expected: worst.expected)
                    ])
            ], on: model)
        #expect(graded.first?.correct == false)
        #expect(graded.first?.margin == worst.margin)
    }

    @Test("the same seed gives the same search; the budget is a hard limit")
    func deterministic() throws {
        let (spec, model) = try rareWeakness()
        let a = try AdversarialSearch(spec: spec, model: model, seed: 11, budget: 120).run()
        let b = try AdversarialSearch(spec: spec, model: model, seed: 11, budget: 120).run()
        #expect(a == b)
        #expect(a.evaluations <= 120)
        let tiny = try AdversarialSearch(spec: spec, model: model, seed: 11, budget: 1).run()
        #expect(tiny.evaluations == 1)
    }

    @Test("a correct reference keeps a positive margin under search")
    func referenceHolds() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/current-token-pos.json"))
        let result = try AdversarialSearch(spec: spec, model: model, budget: 200).run()
        #expect(!result.foundFailure, "\(result.summary)")
        #expect((result.worst?.margin ?? 0) > 0)
    }

    @Test("a spec without a single prediction rule, or a zero budget, is refused")
    func refusals() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/current-token-pos.json"))
        #expect(throws: GraderError.self) { try AdversarialSearch(spec: spec, model: model, budget: 0) }
        var noRule = spec
        noRule.families = []
        #expect(throws: GraderError.self) { try AdversarialSearch(spec: noRule, model: model) }
    }
}
