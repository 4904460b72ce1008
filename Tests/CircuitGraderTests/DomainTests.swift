import Dispatch
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

/// A tiny exercise for brute-force comparisons: three tokens, BOS, n_ctx 6 (five student slots), the
/// current-token rule "after A predict B".
private let tinySpec = """
    {"id": "tiny/nopos", "exercise": "tiny", "variant": "nopos", "title": "tiny", "source": "test", "description": "test",
     "vocab": ["A", "B", "C"], "bos": "BOS", "n_ctx": 6, "positional": "learned", "causal": true, "attention_scale": 1,
     "limits": {"layers": 1, "heads": 1, "d_head": 4},
     "residual": ["tok:{vocab}", "tok:BOS", "pos:{0..5}", "s{0..3}", "out:{vocab}"], "scratch": ["s{0..3}"],
     "fixed": {"W_E": {"one_hot": "tok:"}, "W_pos": {"one_hot": "pos:"}, "W_U": {"read": "out:"}, "b_U": {"none": 0.5}},
     "rule": {"current_token": {"A": "B"}},
     "families": [{"id": "random", "generator": {"count": 16, "length": [1, 5]}}]}
    """

private func tinyModel(bosScore: Double, matchScore: Double, positionBias: Double) throws -> (ExerciseSpec, Transformer) {
    let spec = try SpecParser.parse(Array(tinySpec.utf8), file: "tiny.json")
    let text = """
        {"exercise": "tiny/nopos", "layers": [{"heads": [{
          "W_Q": {"tok:A": {"q:any": \(bosScore), "q:isA": \(matchScore)}, "tok:B": {"q:any": \(bosScore)}, "tok:C": {"q:any": \(bosScore)}, "pos:4": {"q:p": \(positionBias)}},
          "W_K": {"tok:BOS": {"q:any": 1}, "tok:A": {"q:isA": 1}, "tok:C": {"q:p": 1}},
          "W_V": {"tok:A": {"v": 1}}, "W_O": {"v": {"out:B": 1}}}]}]}
        """
    let submission = try JSONSubmission.parse(Array(text.utf8), file: "tiny-sub.json")
    return (spec, try ModelBuilder.build(submission, spec: spec))
}

/// The first wrong prediction over every sequence of `tokens` up to `maxLength`, in depth-first order
/// (a prefix before its extensions), found one sequence at a time with the plain forward pass and the rule.
private func bruteForce(_ spec: ExerciseSpec, _ model: Transformer, maxLength: Int) -> (count: Int, first: [String]?, worst: Double) {
    let rule = spec.defaultRule
    var count = 0, worst = Double.infinity
    var first: [String]? = nil
    func visit(_ s: [String]) {
        guard first == nil, let rule else { return }
        count += 1
        let logits = model.forward([spec.vocab.count] + s.compactMap { spec.vocab.firstIndex(of: $0) }).logits
        for (t, label) in rule.labels(s).enumerated() {
            guard let label, let y = spec.outputs.firstIndex(of: label) else { continue }
            let row = logits.values[((t + 1) * logits.columns)..<((t + 2) * logits.columns)]
            var best = -Double.infinity, lo = Double.infinity, hi = -Double.infinity
            for (j, l) in row.enumerated() {
                lo = min(lo, l)
                hi = max(hi, l)
                if j != y { best = max(best, l) }
            }
            let margin = hi > lo ? (row[row.startIndex + y] - best) / (hi - lo) : 0
            worst = min(worst, margin)
            if margin <= 0 { first = s; return }
        }
        if s.count < maxLength { for t in spec.vocab { visit(s + [t]); if first != nil { return } } }
    }
    for t in spec.vocab { visit([t]); if first != nil { break } }
    return (count, first, worst)
}

struct DomainTests {
    @Test func theDomainIsTheUnionOfTheFamiliesTokensLengthsAndPositions() throws {
        let spec = try repoCatalog().spec("induction-k/learned")
        let domains = PredictionDomain.domains(of: spec)
        #expect(domains.count == 1)
        let d = try #require(domains.first)
        #expect(d.tokens == ["A", "B", "C", "D", "E", "F"])
        #expect(d.lengths == 1...11)
        #expect(d.positions == [.all, .last])
        #expect(d.grades(3, count: 5, label: "none"))
        #expect(!d.grades(3, count: 12, label: "none"))
    }

    @Test(arguments: [(8.0, 16.0, 0.0), (1.0, 16.0, 0.0), (8.0, 8.5, 0.0), (8.0, 16.0, 30.0), (1.2, 3.0, 2.0)])
    func aProofOrCounterexampleEqualsBruteForceOnASmallFrame(_ scores: (Double, Double, Double)) throws {
        let (spec, model) = try tinyModel(bosScore: scores.0, matchScore: scores.1, positionBias: scores.2)
        let domain = try #require(PredictionDomain.domains(of: spec).first)
        let verdict = try #require(DomainCheck(spec: spec, model: model, domain: domain, settings: DomainSettings(prove: true, adversarialBudget: 0)).run())
        let brute = bruteForce(spec, model, maxLength: 5)
        if let first = brute.first {
            #expect(verdict.status == .counterexample)
            #expect(verdict.foundBy == .enumeration)
            #expect(verdict.counterexample?.sequence == first, "domain check \(verdict.counterexample?.sequence ?? []) vs brute force \(first)")
        } else {
            #expect(verdict.status == .proved)
            // 3 + 9 + 27 + 81 + 243 sequences.
            #expect(verdict.domainSize == 363 && brute.count == 363)
        }
    }

    @Test func someOfTheBruteForceCasesFailAndSomePass() throws {
        // The table above is only a test if it holds both outcomes.
        let good = try tinyModel(bosScore: 8, matchScore: 16, positionBias: 0)
        let weak = try tinyModel(bosScore: 1, matchScore: 16, positionBias: 0)
        #expect(bruteForce(good.0, good.1, maxLength: 5).first == nil)
        #expect(bruteForce(weak.0, weak.1, maxLength: 5).first != nil)
    }

    @Test func theBudgetDecidesTheEnumeratedLengthWithoutTiming() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/current-token-nopos.json"))
        let lengths = [0.0, 0.0001, 0.01, 1, 100].map {
            ProofBudget.longestLength(spec: spec, model: model, tokens: spec.vocab, maxLength: spec.maxSequenceLength, seconds: $0)
        }
        #expect(lengths == lengths.sorted())
        #expect(lengths.first == 0 && lengths.last == 11)
        #expect(Set(lengths).count >= 3, "\(lengths)")
        // Deterministic: the same inputs give the same length on every call.
        #expect(
            lengths
                == [0.0, 0.0001, 0.01, 1, 100].map {
                    ProofBudget.longestLength(spec: spec, model: model, tokens: spec.vocab, maxLength: spec.maxSequenceLength, seconds: $0)
                })
    }

    @Test func sparseStressSequencesByHand() {
        // Background A at length 3: A A A, one B anywhere (3), two B's anywhere (3), three with the last in
        // the last slot (B B B): all 8 sequences over A and B; background B adds nothing new.
        let s = StressSequences.sparse(tokens: ["A", "B"], length: 3)
        #expect(s.count == 8 && Set(s).count == 8)
        #expect(s.first == ["A", "A", "A"] && s.contains(["B", "A", "B"]) && s.contains(["B", "B", "B"]))
        // Over three tokens at length 6, against a brute-force filter of all 729 sequences: some token fills
        // every slot but at most two, or all but three with the last of those three in the last slot.
        let t = StressSequences.sparse(tokens: ["A", "B", "C"], length: 6)
        var every: [[String]] = [[]]
        for _ in 0..<6 { every = every.flatMap { p in ["A", "B", "C"].map { p + [$0] } } }
        let expected = every.filter { seq in
            ["A", "B", "C"].contains { c in
                let others = seq.indices.filter { seq[$0] != c }
                return others.count <= 2 || (others.count == 3 && others.last == 5)
            }
        }
        #expect(Set(t) == Set(expected))
        #expect(t.count == expected.count)
        #expect(StressSequences.pairs(["A", "B", "C"]) == [["A", "B"], ["A", "C"], ["B", "C"]])
    }

    /// Issue 12: every 4-token exercise (at most 5,592,404 sequences to 11 slots) is proved whole by the default
    /// check; its bundled reference shows it (the exploratory previous-token/nopos-nomask has none: no circuit
    /// can solve it).
    @Test func everyFourTokenReferenceIsProvedWholeByDefault() throws {
        let catalog = try repoCatalog()
        let fourToken = catalog.specs.filter { $0.vocab.count == 4 && $0.maxSequenceLength <= 11 && $0.defaultRule != nil && $0.reference != nil }
        #expect(fourToken.count == 14, "\(fourToken.map(\.id))")
        for spec in fourToken {
            let path = repoPath("submissions/reference/\(spec.id.replacingOccurrences(of: "/", with: "-")).json")
            let report = try #require(BundledGrades.reports[path], "\(path)")
            let verdict = try #require(report.verdicts.first, "\(spec.id)")
            #expect(verdict.status == .proved, "\(spec.id): \(verdict.status)")
            #expect(verdict.enumerated == 5_592_404 && verdict.domainSize == 5_592_404, "\(spec.id)")
        }
    }

    /// A verdict never depends on the seed: every bundled reference and known-bad, over 20 seeds.
    @Test func theVerdictOfEveryBundledSubmissionIsTheSameOver20Seeds() throws {
        let paths = BundledGrades.paths
        let failures = ResultsLog()
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            let path = paths[i]
            guard let base = BundledGrades.reports[path], let (submission, spec, model) = try? loadModel(path) else {
                failures.add("\(path): could not be graded")
                return
            }
            let domainPassed = base.families.filter { $0.id.hasPrefix("domain") }.allSatisfy(\.passed)
            for seed in (0..<20).map({ UInt64($0) * 7919 + 3 }) {
                let families = Grader(spec: spec, seed: seed, domain: .familiesOnly).grade(model, submission: submission).families
                let passed = families.allSatisfy(\.passed) && domainPassed
                if passed != base.passed {
                    failures.add("\(path): seed \(seed) gives \(passed ? "pass" : "fail"), the public seed \(base.passed ? "pass" : "fail")")
                }
            }
        }
        #expect(failures.lines.isEmpty, "\(failures.lines.joined(separator: "\n"))")
    }

    @Test func theDomainCheckItselfIgnoresTheSeed() throws {
        for name in ["examples/current-token-nopos-crowded-default", "examples/induction-pos-weak-query", "reference/cycle-pos"] {
            let (submission, spec, model) = try loadModel(repoPath("submissions/\(name).json"))
            let a = Grader(spec: spec, seed: 1).grade(model, submission: submission)
            let b = Grader(spec: spec, seed: 987_654_321).grade(model, submission: submission)
            #expect(a.verdicts == b.verdicts, "\(name)")
            #expect(!a.verdicts.isEmpty)
        }
    }

    @Test func subtleMistakesFailForTheRightReason() throws {
        func domainCounterexample(_ name: String) throws -> (DomainVerdict, Counterexample) {
            let report = try #require(BundledGrades.reports[repoPath("submissions/examples/\(name).json")])
            let v = try #require(report.verdicts.first)
            return (v, try #require(v.counterexample))
        }
        // The BOS default gives way only when ten A's crowd the context: at the last slot.
        let (crowded, c1) = try domainCounterexample("current-token-nopos-crowded-default")
        #expect(crowded.status == .counterexample)
        #expect(c1.sequence == Array(repeating: "A", count: 10) + ["B"] && c1.expected == "none" && c1.found == "B")
        // The same flaw in the induction head: ten A's, then a token seen for the first time.
        let (_, c2) = try domainCounterexample("induction-pos-crowded-default")
        #expect(c2.expected == "none" && c2.found == "A")
        #expect(c2.sequence.filter { $0 == "A" }.count >= 9)
        // The last-slot typo is wrong exactly at position 10 (the 12th model slot).
        let (_, c3) = try domainCounterexample("previous-token-pos-last-slot-weak")
        #expect(c3.position == 10 && c3.expected == "B" && c3.found == "none")
        // The weak query is wrong by a small margin.
        let (_, c4) = try domainCounterexample("induction-pos-weak-query")
        #expect((c4.margin ?? 0) < 0 && (c4.margin ?? -1) > -0.1)
    }

    @Test func exploratoryExercisesExitOneWhenAFamilyFails() throws {
        let template = runCLI(["init", "induction/nopos"])
        #expect(template.status == 0)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cg-explore-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(template.out.utf8).write(to: URL(fileURLWithPath: path))
        let r = runCLI(["check", path, "--budget", "0", "--proof-budget", "0"])
        #expect(r.status == 1)
        #expect(r.out.contains("failing is expected here (exploratory)"))
    }
}

/// Which heads the verdict needs.
struct HeadNecessityTests {
    @Test func bothHeadsOfTheInductionReferenceAreNeeded() throws {
        let report = try #require(BundledGrades.reports[repoPath("submissions/reference/induction-k-learned.json")])
        #expect(report.heads.map(\.head.description) == ["L0H0", "L1H0"])
        #expect(report.heads.allSatisfy { $0.needed })
        #expect(report.families.contains { $0.id == "necessary-heads" && $0.passed })
    }

    @Test func aHeadThatDoesNoVisibleWorkIsNeverNeededAndANecessaryHeadRequirementFails() throws {
        // current-token/nopos's reference plus a second layer whose head only adds a little to a scratch dim.
        var (submission, spec, model) = try loadModel(repoPath("submissions/reference/current-token-nopos.json"))
        spec.limits = .init(layers: 2, headsPerLayer: 1, dHead: 4)
        let extra = AttentionHead(
            wQ: Matrix(zeros: model.dModel, 1), wK: Matrix(zeros: model.dModel, 1),
            wV: Matrix(rows: model.dModel, columns: 1, values: (0..<model.dModel).map { $0 == 0 ? 1 : 0 }),
            wO: Matrix(rows: 1, columns: model.dModel, values: (0..<model.dModel).map { spec.layout.names[$0] == "s0" ? 0.1 : 0 }))
        model = model.replacing(layers: model.layers + [AttentionLayer(heads: [extra], bO: Array(repeating: 0, count: model.dModel))])
        spec.necessaryHeads = [HeadRef(layer: 1, head: 0)]
        let report = Grader(spec: spec, domain: .familiesOnly).grade(model, submission: submission)
        #expect(report.heads.first { $0.head.description == "L1H0" }?.summary == "L1H0 is never needed")
        #expect(report.heads.first { $0.head.description == "L0H0" }?.needed == true)
        let required = try #require(report.families.first { $0.id == "necessary-heads" })
        #expect(!required.passed)
        #expect(required.counterexample?.found == "L1H0 is never needed")
        submission.answers = [:]
    }
}

/// The spec language's targets that mean what a part means, by hand.
struct MeaningfulTargetTests {
    @Test func spreadRequiresEveryKeyToGetAShare() {
        let demand = AttentionDemand(minMass: 0.8, argmax: false, spread: 0.5)
        // All the mass on one of two allowed keys: least weight 0 against 0.5 · 1 / 2.
        #expect(Margin.attention(row: [0, 1, 0][...], allowed: [0, 1], demand: demand) == -0.25)
        // Spread evenly: 0.45 ≥ 0.5 · 0.9 / 2 = 0.225; mass 0.9 − 0.8 = 0.1 is the smaller margin.
        let even = Margin.attention(row: [0.45, 0.45, 0.1][...], allowed: [0, 1], demand: demand)
        #expect(abs(even - 0.1) < 1e-12)
        // No spread asked: one key is enough.
        #expect(Margin.attention(row: [0, 1, 0][...], allowed: [0, 1], demand: AttentionDemand(minMass: 0.8, argmax: false)) > 0)
    }

    @Test func readsOnlyLooksAtBothSidesOfQKAndWritesOnlyAtTheOutputsOfOV() throws {
        let spec = try SpecParser.parse(Array(tinySpec.utf8), file: "tiny.json")
        let n = spec.layout.names.count
        func index(_ name: String) -> Int { spec.layout.names.firstIndex(of: name) ?? -1 }
        func unit(_ r: String, _ c: String) -> Matrix {
            Matrix(rows: n, columns: n, values: (0..<(n * n)).map { $0 == index(r) * n + index(c) ? 1 : 0 })
        }
        func evaluate(_ predicate: CircuitCheck.Predicate, kind: CircuitCheck.Factor.Kind, qk: Matrix, ov: Matrix) -> Bool {
            let model = Transformer(
                wE: spec.wE, wPos: spec.wPos, wU: spec.wU, bU: spec.bU,
                layers: [AttentionLayer(heads: [AttentionHead(wQK: qk, wOV: ov)], bO: Array(repeating: 0, count: n))],
                positional: .learned, causal: true, attentionScale: 1)
            let check = CircuitCheck(
                id: "c", title: "c", product: [.init(head: HeadRef(layer: 0, head: 0), kind: kind)], rows: nil, columns: nil, predicate: predicate)
            return CircuitEvaluator(spec: spec, model: model).evaluate(check, index: 0).correct
        }
        let positions = (0..<6).map { "pos:\($0)" }
        let zero = Matrix(zeros: n, n)
        #expect(evaluate(.readsOnly(positions), kind: .qk, qk: unit("pos:2", "pos:1"), ov: zero))
        // A key column reading a token fails (the loophole of the old rows-only check).
        #expect(!evaluate(.readsOnly(positions), kind: .qk, qk: unit("pos:2", "tok:A"), ov: zero))
        #expect(!evaluate(.readsOnly(positions), kind: .qk, qk: unit("tok:A", "pos:1"), ov: zero))
        // OV: rows are what is read, columns what is written.
        #expect(evaluate(.readsOnly(["tok:A"]), kind: .ov, qk: zero, ov: unit("tok:A", "out:B")))
        #expect(!evaluate(.readsOnly(["tok:A"]), kind: .ov, qk: zero, ov: unit("tok:B", "out:B")))
        #expect(evaluate(.writesOnly(["out:B"]), kind: .ov, qk: zero, ov: unit("tok:A", "out:B")))
        #expect(!evaluate(.writesOnly(["out:B"]), kind: .ov, qk: zero, ov: unit("tok:A", "s0")))
    }

    @Test(arguments: ["W_QK", "w_qk", "W_Q W_K^T", "W_Q @ W_K.T", "W_Q·W_Kᵀ", "W_Q^T W_K", "W Q K", " wqk "])
    func equivalentNotationsOfTheQKCircuitAreEqual(_ answer: String) {
        #expect(Question.normalized(answer) == Question.normalized("W_QK"), "\(answer)")
    }

    @Test func distinctCircuitsStayDistinct() {
        #expect(Question.normalized("W_V W_O") == Question.normalized("W_OV"))
        #expect(Question.normalized("W_K W_Q^T") != Question.normalized("W_QK"))
        #expect(Question.normalized("W_OV") != Question.normalized("W_QK"))
    }

    @Test func aQuestionFamilyShowsEveryWrongAnswer() throws {
        var (submission, spec, model) = try loadModel(repoPath("submissions/examples/concepts-framework-mixed-up.json"))
        submission.answers["reads"] = .string("W_K")  // a second wrong answer in head-anatomy
        let report = Grader(spec: spec, domain: .familiesOnly).grade(model, submission: submission)
        let family = try #require(report.families.first { $0.id == "head-anatomy" })
        #expect(family.total - family.correct == 2)
        #expect(family.failures.map(\.what) == ["check where-to-attend", "check reads"])
        #expect(TextReport.render(report, colour: false).contains("expected reads: W_V, found \"W_K\""))
    }
}

/// The spec validator's refusals: each an input error (exit 2) naming what is wrong.
struct SpecRefusalTests {
    struct Refusal: Sendable, CustomStringConvertible {
        var description: String
        var edit: @Sendable (String) -> String
        var message: String
    }

    static let refusals: [Refusal] = [
        Refusal(
            description: "a rule that can label a slot none when none is not an output",
            edit: {
                $0.replacingOccurrences(of: "\"vocab\": [\"A\", \"B\", \"C\"],", with: "\"vocab\": [\"A\", \"B\", \"C\"], \"outputs\": [\"A\", \"B\", \"C\"],")
                    .replacingOccurrences(of: ", \"b_U\": {\"none\": 0.5}", with: "")
            },
            message: "the rule can label a slot none, which is not among the outputs"),
        Refusal(
            description: "a family named like the grader's own",
            edit: { $0.replacingOccurrences(of: "{\"id\": \"random\"", with: "{\"id\": \"domain\"") },
            message: "\"domain\" is reserved"),
        Refusal(
            description: "a min_margin of 1 or more",
            edit: { $0.replacingOccurrences(of: "[1, 5]}}", with: "[1, 5]}, \"min_margin\": 1}") },
            message: "expected a margin in [0, 1)"),
        Refusal(
            description: "a pass_accuracy of 0",
            edit: { $0.replacingOccurrences(of: "[1, 5]}}", with: "[1, 5]}, \"pass_accuracy\": 0}") },
            message: "expected a fraction in (0, 1]"),
        Refusal(
            description: "a spread above 1",
            edit: { $0.replacingOccurrences(of: "[1, 5]}}", with: "[1, 5]}, \"attention\": [{\"head\": \"L0H0\", \"to\": \"self\", \"spread\": 2}]}") },
            message: "expected a number in 0...1"),
        Refusal(
            description: "a necessary head beyond the limits",
            edit: { $0.replacingOccurrences(of: "\"rule\":", with: "\"necessary_heads\": [\"L1H0\"], \"rule\":") },
            message: "\"L1H0\" is not a head within the limits"),
        Refusal(
            description: "a negative proof budget",
            edit: { $0.replacingOccurrences(of: "\"rule\":", with: "\"proof_budget\": -1, \"rule\":") },
            message: "expected seconds from 0 to 3600"),
        Refusal(
            description: "writes_only on a QK circuit",
            edit: {
                $0.replacingOccurrences(
                    of: "{\"id\": \"random\", \"generator\": {\"count\": 16, \"length\": [1, 5]}}",
                    with:
                        "{\"id\": \"random\", \"generator\": {\"count\": 16, \"length\": [1, 5]}}, {\"id\": \"c\", \"circuits\": [{\"id\": \"w\", \"product\": [\"L0H0.QK\"], \"writes_only\": [\"s0\"]}]}"
                )
            },
            message: "the product has no writing side"),
    ]

    @Test(arguments: refusals)
    func aSpecThatCannotMeanWhatItSaysIsRefused(_ r: Refusal) {
        let edited = r.edit(tinySpec)
        #expect(edited != tinySpec, "the edit did not apply")
        #expect(throws: GraderError.self) { try SpecParser.parse(Array(edited.utf8), file: "tiny.json") }
        do {
            _ = try SpecParser.parse(Array(edited.utf8), file: "tiny.json")
        } catch let e as GraderError {
            #expect(e.description.contains(r.message), "\(e.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aGeneratedFamilyWithoutTargetsIsRefusedByValidate() throws {
        let edited = tinySpec.replacingOccurrences(of: "[1, 5]}}", with: "[1, 5], \"tokens\": [\"C\"]}, \"positions\": \"fired\"}")
        let spec = try SpecParser.parse(Array(edited.utf8), file: "tiny.json")
        #expect(throws: GraderError.self) { try SpecValidator.validate(spec, root: repoRoot) }
    }

    @Test func theTinySpecItselfParses() throws {
        #expect(try SpecParser.parse(Array(tinySpec.utf8), file: "tiny.json").id == "tiny/nopos")
    }
}

/// Messages collected from concurrent iterations.
final class ResultsLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var lines: [String] { lock.withLock { items } }
}

/// Smaller promises of issue 14 kept in the grader's own files.
struct MessageTests {
    @Test func partialCreditEarnsTheShareOfTargetsMet() throws {
        let edited = tinySpec.replacingOccurrences(of: "[1, 5]}}", with: "[1, 5]}, \"partial_credit\": true, \"points\": 2}")
        let spec = try SpecParser.parse(Array(edited.utf8), file: "tiny.json")
        // No BOS default: a non-A query spreads evenly, so two A's before it tie B with none.
        let (_, weak) = try tinyModel(bosScore: 0, matchScore: 16, positionBias: 0)
        let family = try #require(Grader(spec: spec, domain: .familiesOnly).grade(weak, submission: Submission(file: "s")).families.first)
        #expect(!family.passed)
        #expect(family.accuracy > 0 && family.accuracy < 1)
        #expect(abs(family.earned - 2 * family.accuracy) < 1e-12)
    }

    @Test func showListsTheCircuitChecksWithTheirRowsAndColumns() {
        let r = runCLI(["show", "induction-k/learned"])
        #expect(r.out.contains("    check key-reads-prev: L1H0.QK rows [tok:A, tok:B"))
        #expect(r.out.contains("  necessary heads: L0H0, L1H0"))
    }

    @Test func validateSaysWhenAReferenceIsRightButBelowMinMargin() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cg-minmargin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reference = """
            {"exercise": "tiny/nopos", "layers": [{"heads": [{
              "W_Q": {"tok:A": {"q:any": 8, "q:isA": 16}, "tok:B": {"q:any": 8}, "tok:C": {"q:any": 8}},
              "W_K": {"tok:BOS": {"q:any": 1}, "tok:A": {"q:isA": 1}}, "W_V": {"tok:A": {"v": 1}}, "W_O": {"v": {"out:B": 1}}}]}]}
            """
        try Data(reference.utf8).write(to: URL(fileURLWithPath: folder + "/ref.json"))
        // Every correct A slot has margin (1 − 0.5) / 1 = 0.5, below 0.6.
        let edited = tinySpec.replacingOccurrences(of: "[1, 5]}}", with: "[1, 5]}, \"min_margin\": 0.6}")
            .replacingOccurrences(of: "\"rule\":", with: "\"reference\": \"ref.json\", \"rule\":")
        let spec = try SpecParser.parse(Array(edited.utf8), file: "tiny.json")
        do {
            _ = try SpecValidator.validate(spec, root: folder)
            Issue.record("validate accepted a reference below min_margin")
        } catch let e as GraderError {
            #expect(e.description.contains("correct, but below the family's min_margin of 0.6"), "\(e.description)")
        }
    }
}

/// The per-submission time limit stops a family while it runs, and chunking it changes no result.
struct DeadlineTests {
    @Test func aFamilyRunsInChunksThatChangeNothingAndStopAtTheDeadline() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/induction-k-learned.json"))
        let grader = Grader(spec: spec)
        let family = try #require(spec.families.first { $0.id == "layer0-head" })
        // Three chunks' worth of the family's cases (attention targets: full traces).
        let one = grader.cases(of: family)
        let cases = Array(repeating: one, count: 3 * Grader.chunk / max(1, one.count) + 1).flatMap { $0 }
        #expect(cases.count > 2 * Grader.chunk)
        let chunked = try #require(grader.evaluate(cases, on: model, deadline: .distantFuture))
        let traces = model.forward(batch: cases.map { spec.modelInput($0.tokens) })
        var whole: [TargetResult] = []
        for (i, c) in cases.enumerated() {
            for t in c.targets { whole.append(TargetEvaluator(spec: spec, trace: traces[i], offset: spec.bosPrefix.count).evaluate(t, caseIndex: i)) }
        }
        #expect(chunked == whole)
        #expect(grader.evaluate(cases, on: model, deadline: .distantPast) == nil)
        #expect(grader.grade(model, submission: Submission(file: "x"), deadline: .distantPast) == nil)
    }
}
