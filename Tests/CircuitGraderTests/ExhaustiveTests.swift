// Tests of exhaustive verification (Scoring/ExhaustiveVerifier.swift) and the prefix-sharing forward pass
// it walks with (Model/PrefixForward.swift): prefix-shared logits equal whole-sequence logits bit for bit;
// the walk equals the batched forward pass and the Grader on every enumerated sequence; a correct model is
// verified on all N sequences and a planted bug is reported as the first counterexample in enumeration order.

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

// MARK: - Seeded random models

/// Random entries in [-2, 2]; with `sparse`, about a third are exactly 0 (the kernels skip zero inputs).
private func randomValues(_ n: Int, sparse: Bool, _ rng: inout SeededRandom) -> [Double] {
    (0..<n).map { _ in sparse && Int.random(in: 0..<3, using: &rng) == 0 ? 0 : Double.random(in: -2...2, using: &rng) }
}

private func randomMatrix(_ rows: Int, _ columns: Int, sparse: Bool, _ rng: inout SeededRandom) -> Matrix {
    Matrix(rows: rows, columns: columns, values: randomValues(rows * columns, sparse: sparse, &rng))
}

/// Two layers of two heads, `dModel` 7, `dHead` 3, 5 tokens, 6 outputs, `nCtx` 9; v is 3 wide for odd
/// seeds and 4 wide for even ones (`W_V` may have other columns than `W_Q`).
private func randomModel(
    seed: UInt64, positional: PositionalMode, biases: Bool, sparse: Bool,
    causal: Bool = true
) -> Transformer {
    var rng = SeededRandom(seed: seed)
    let dModel = 7, dHead = 3, dValue = seed % 2 == 0 ? 4 : 3
    let layers = (0..<2).map { _ in
        AttentionLayer(
            heads: (0..<2).map { _ in
                AttentionHead(
                    wQ: randomMatrix(dModel, dHead, sparse: sparse, &rng), wK: randomMatrix(dModel, dHead, sparse: sparse, &rng),
                    wV: randomMatrix(dModel, dValue, sparse: sparse, &rng), wO: randomMatrix(dValue, dModel, sparse: sparse, &rng),
                    bQ: biases ? randomValues(dHead, sparse: sparse, &rng) : nil,
                    bK: biases ? randomValues(dHead, sparse: sparse, &rng) : nil,
                    bV: biases ? randomValues(dValue, sparse: sparse, &rng) : nil)
            }, bO: biases ? randomValues(dModel, sparse: sparse, &rng) : Array(repeating: 0, count: dModel))
    }
    return Transformer(
        wE: randomMatrix(5, dModel, sparse: sparse, &rng),
        wPos: positional == .none ? nil : randomMatrix(9, dModel, sparse: sparse, &rng),
        wU: randomMatrix(dModel, 6, sparse: sparse, &rng), bU: randomValues(6, sparse: sparse, &rng),
        layers: layers, positional: positional, causal: causal, attentionScale: 0.8)
}

func bits(_ values: some Sequence<Double>) -> [UInt64] { values.map(\.bitPattern) }

/// Every sequence over `0..<alphabet` of lengths `1...maxLength`, in enumeration order (prefix first).
func preorder(alphabet: Int, maxLength: Int) -> [[Int]] {
    var out: [[Int]] = []
    func visit(_ prefix: [Int]) {
        for token in 0..<alphabet {
            out.append(prefix + [token])
            if prefix.count + 1 < maxLength { visit(prefix + [token]) }
        }
    }
    visit([])
    return out
}

/// `rounds` sequences over `0..<alphabet`, each keeping a random part of the last one (a cache of it stays
/// valid for `kept` tokens), then a random tail, up to `maxLength` tokens.
func forEachEdit(rounds: Int, maxLength: Int, alphabet: Int, _ rng: inout SeededRandom, _ body: (_ kept: Int, _ tokens: [Int]) -> Void) {
    var tokens: [Int] = []
    for _ in 0..<rounds {
        let kept = Int.random(in: 0...tokens.count, using: &rng)
        tokens = Array(tokens.prefix(kept))
        while tokens.isEmpty || (tokens.count < maxLength && Int.random(in: 0..<4, using: &rng) > 0) {
            tokens.append(Int.random(in: 0..<alphabet, using: &rng))
        }
        body(kept, tokens)
    }
}

/// An incremental forward pass (PrefixForward, WalkForward) as the edit tests drive it.
struct IncrementalPass {
    var count: () -> Int
    var truncate: (Int) -> Void
    var push: (Int) -> Void
    var logits: (Int) -> ArraySlice<Double>
}

/// Drives `pass` through `rounds` random edits (forEachEdit over 5 tokens) and lists, labelled by `label`, every
/// position whose logits differ from `model.forward`'s, bit for bit.
func editMismatches(_ pass: IncrementalPass, _ model: Transformer, rounds: Int, maxLength: Int, _ rng: inout SeededRandom, label: String) -> [String] {
    var mismatches: [String] = []
    forEachEdit(rounds: rounds, maxLength: maxLength, alphabet: 5, &rng) { kept, tokens in
        pass.truncate(min(kept, pass.count()))
        for token in tokens[pass.count()...] { pass.push(token) }
        let whole = model.forward(tokens).logits
        for p in tokens.indices where bits(pass.logits(p)) != bits(whole.row(p)) {
            mismatches.append("\(label) \(tokens) position \(p)")
        }
    }
    return mismatches
}

/// The first failing prediction in enumeration order, found by the Grader itself (one case per sequence,
/// a `.predict` target per labelled position), with the counts the verifier reports.
private func graderReference(_ spec: ExerciseSpec, _ model: Transformer, maxLength: Int) throws -> ExhaustiveResult {
    let rule = try #require(spec.defaultRule)
    let sequences = preorder(alphabet: spec.vocab.count, maxLength: maxLength).map { $0.map { spec.vocab[$0] } }
    let cases = sequences.map { tokens in
        GradingCase(
            tokens: tokens,
            targets: rule.labels(tokens).enumerated().compactMap { t, label in
                label.map { Target.predict(position: t, expected: $0) }
            })
    }
    let results = Grader(spec: spec).evaluate(cases, on: model)
    var positions = 0
    var worst = Double.infinity
    for r in results {
        positions += 1
        guard !r.correct, case .target(.predict(let p, let expected)) = r.item else {
            worst = min(worst, r.margin ?? .nan)
            continue
        }
        let counterexample = ExhaustiveCounterexample(
            sequence: sequences[r.caseIndex], position: p, expected: expected,
            found: r.found, margin: r.margin ?? .nan)
        return ExhaustiveResult(
            exercise: spec.id, tokens: spec.vocab, maxLength: maxLength, sequences: r.caseIndex + 1,
            positions: positions, counterexample: counterexample, worstMargin: counterexample.margin)
    }
    return ExhaustiveResult(
        exercise: spec.id, tokens: spec.vocab, maxLength: maxLength, sequences: sequences.count,
        positions: positions, counterexample: nil, worstMargin: positions > 0 ? worst : nil)
}

/// current-token/pos's reference plus a planted head that attends to the first `window` student positions
/// and writes `0.55 × (fraction of A there)` to out:B: a non-A token after `window` A's predicts B, and each
/// A among the first `window` tokens lowers the margin of the later non-A positions. (Also used by
/// AdversarialTests.)
func plantedLeadingABug(window: Int) throws -> (ExerciseSpec, Transformer) {
    let (_, spec, reference) = try loadModel(repoPath("submissions/reference/current-token-pos.json"))
    let d = spec.layout.dModel
    func dim(_ name: String) throws -> Int { try #require(spec.layout.index(of: name), "no dim \(name)") }
    var wQ = Matrix(zeros: d, 1), wK = Matrix(zeros: d, 1), wV = Matrix(zeros: d, 1), wO = Matrix(zeros: 1, d)
    for token in spec.inputTokens { wQ[try dim("tok:\(token)"), 0] = 1 }
    for p in 1...window { wK[try dim("pos:\(p)"), 0] = 20 }  // model position p = student position p - 1
    wV[try dim("tok:A"), 0] = 1
    wO[0, try dim("out:B")] = 0.55
    var model = reference
    let first = AttentionLayer(heads: model.layers[0].heads + [AttentionHead(wQ: wQ, wK: wK, wV: wV, wO: wO)], bO: model.layers[0].bO)
    model = model.replacing(layers: [first] + model.layers.dropFirst())
    return (spec, model)
}

@Suite("Exhaustive verification")
struct ExhaustiveTests {
    // MARK: prefix sharing is exact

    @Test(
        "prefix-shared logits equal whole-sequence logits bit for bit",
        arguments: [PositionalMode.none, .learned, .sinusoidal, .shortformer])
    func prefixMatchesWholeSequence(positional: PositionalMode) {
        var rng = SeededRandom(seed: 77)
        var mismatches: [String] = []
        for seed in UInt64(1)...6 {
            for biases in [false, true] {
                let model = randomModel(seed: seed, positional: positional, biases: biases, sparse: seed % 2 == 0)
                let prefix = PrefixForward(model: model, capacity: 9)
                let pass = IncrementalPass(
                    count: { prefix.count }, truncate: { prefix.truncate(to: $0) }, push: { prefix.push($0) }, logits: { prefix.logits(at: $0) })
                mismatches += editMismatches(pass, model, rounds: 8, maxLength: 9, &rng, label: "seed \(seed) biases \(biases)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("a depth-first walk with truncation gives the batched forward pass's logits on every sequence")
    func walkMatchesBatchedForward() {
        for positional in [PositionalMode.learned, .shortformer] {
            let model = randomModel(seed: 9, positional: positional, biases: true, sparse: true)
            let sequences = preorder(alphabet: 3, maxLength: 5)  // 363 sequences
            let traces = model.forward(batch: sequences)
            let prefix = PrefixForward(model: model, capacity: 5)
            var mismatches: [[Int]] = []
            for (sequence, trace) in zip(sequences, traces) {
                // In preorder the previous sequence extends this one's parent, whose positions stay cached.
                prefix.truncate(to: sequence.count - 1)
                prefix.push(sequence[sequence.count - 1])
                for p in sequence.indices where bits(prefix.logits(at: p)) != bits(trace.logits.row(p)) {
                    mismatches.append(sequence)
                }
            }
            #expect(mismatches.isEmpty, "\(positional): \(mismatches.prefix(5))")
        }
    }

    // MARK: verified and counterexample

    @Test("a correct model is verified on all N sequences, every position graded")
    func correctModelIsVerified() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/current-token-nopos.json"))
        let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 6)
        let result = verifier.run()
        // 4 + 16 + ... + 4^6 sequences; every position is labelled (B or none): sum of L 4^L positions.
        #expect(verifier.sequenceCount == 5460)
        #expect(result.verified)
        #expect(result.sequences == 5460)
        #expect(result.positions == 4 + 2 * 16 + 3 * 64 + 4 * 256 + 5 * 1024 + 6 * 4096)
        #expect(result == verifier.runNaive())
        #expect(result.summary.contains("verified on all 5460 sequences"))
        let smaller = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 4)
        #expect(try smaller.run() == graderReference(spec, model, maxLength: 4))
    }

    @Test("a planted bug is reported as the first counterexample in enumeration order")
    func plantedBugIsFirstCounterexample() throws {
        let (spec, model) = try plantedLeadingABug(window: 2)
        let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 5)
        let result = verifier.run()
        // Preorder: A, A A, A A A, A A A A, A A A A A, A A A A B: the first non-A after two A's.
        let c = try #require(result.counterexample)
        #expect(c.sequence == ["A", "A", "A", "A", "B"])
        #expect(c.position == 4)
        #expect(c.expected == "none")
        #expect(c.found == "B")
        #expect(c.margin < 0)
        #expect(result.sequences == 6)
        #expect(result.positions == 1 + 2 + 3 + 4 + 5 + 5)
        #expect(result == verifier.runNaive())
        #expect(result == (try graderReference(spec, model, maxLength: 5)))
        // Later first tokens: the first counterexample over B C D starts with ... nothing (no A): verified.
        let noA = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 4, tokens: ["B", "C", "D"]).run()
        #expect(noA.verified && noA.sequences == 3 + 9 + 27 + 81)
        // Over D C B A the bug is reached late in the order: both ways agree on where.
        let late = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 4, tokens: ["D", "C", "B", "A"])
        let lateResult = late.run()
        #expect(lateResult.counterexample?.sequence == ["A", "A", "D"])
        #expect(lateResult == late.runNaive())
    }

    @Test("a rule that reads ahead (token offset +1) is graded on every position of every sequence")
    func readAheadRule() throws {
        let (planted, model) = try plantedLeadingABug(window: 2)
        var spec = planted
        let plan = LabelPlan(predict: .tokenAtOffset(offset: 1, map: ["A": "B"]), positions: .all, attention: [])
        let generator = SequenceGenerator(
            count: 1, length: 1...3, tokens: spec.vocab, variableTokens: spec.vocab,
            plants: [], distinct: [])
        spec.families = [
            ExerciseSpec.Family(
                id: "ahead", title: "ahead", points: 1, visibility: .visible, passAccuracy: 1,
                minMargin: 0, source: .generated(generator, plan))
        ]
        let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 4)
        let result = verifier.run()
        #expect(!result.verified)
        #expect(result == verifier.runNaive())
        #expect(result == (try graderReference(spec, model, maxLength: 4)))
    }

    @Test("without a causal mask whole sequences are run, with the same result as the Grader")
    func noMaskFallsBack() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/current-token-nopos-nomask.json"))
        #expect(!model.causal)
        let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 4)
        let result = verifier.run()
        #expect(result == (try graderReference(spec, model, maxLength: 4)))
        #expect(result.verified && result.sequences == 4 + 16 + 64 + 256)
    }

    // MARK: limits

    @Test("the default length is the longest that fits the limit; too many sequences is an error")
    func limits() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/current-token-nopos.json"))
        #expect(try ExhaustiveVerifier(spec: spec, model: model, limit: 100).maxLength == 3)  // 4 + 16 + 64 = 84
        #expect(try ExhaustiveVerifier(spec: spec, model: model, limit: 84).maxLength == 3)
        #expect(try ExhaustiveVerifier(spec: spec, model: model).maxLength == 10)  // 1,398,100 sequences
        #expect(throws: GraderError.self) { try ExhaustiveVerifier(spec: spec, model: model, maxLength: 4, limit: 100) }
        #expect(throws: GraderError.self) { try ExhaustiveVerifier(spec: spec, model: model, limit: 3) }
        #expect(throws: GraderError.self) { try ExhaustiveVerifier(spec: spec, model: model, maxLength: 12) }
        #expect(throws: GraderError.self) { try ExhaustiveVerifier(spec: spec, model: model, maxLength: 2, tokens: ["A", "Z"]) }
        #expect(ExhaustiveVerifier.sequenceCount(alphabet: 5, maxLength: 8) == 488_280)
        #expect(ExhaustiveVerifier.sequenceCount(alphabet: 1000, maxLength: 40) == Int.max)
    }
}
