// Tests of the exhaustive walk's own pieces against the plain ones they replace: WalkForward (Model/WalkForward.swift)
// against `Transformer.forward` bit for bit, PrefixLabels against `PredictionRule.label` on every sequence, the
// and `ExhaustiveVerifier.run()` against a plain enumeration written
// here (every sequence of the domain through `forward`, labelled by the rule, graded by `Margin.logitGap`), in
// every positional mode, with and without the mask, biases, several layers and heads, special values, and every
// choice of minimum length and graded positions.

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

// MARK: - Random models

/// Random entries: in [-2, 2]; with `sparse`, about half exactly ±0; with `special`, now and then ±0, ±inf, NaN, 1e300.
private func values(_ n: Int, sparse: Bool, special: Bool, _ rng: inout SeededRandom) -> [Double] {
    (0..<n).map { _ in
        if special {
            switch Int.random(in: 0..<40, using: &rng) {
            case 0: return .infinity
            case 1: return -.infinity
            case 2: return .nan
            case 3: return 1e300
            case 4, 5, 6, 7: return -0.0
            default: break
            }
        }
        if sparse && Int.random(in: 0..<2, using: &rng) == 0 { return Int.random(in: 0..<2, using: &rng) == 0 ? 0 : -0.0 }
        return Double.random(in: -2...2, using: &rng)
    }
}

private func matrix(_ rows: Int, _ columns: Int, sparse: Bool, special: Bool = false, _ rng: inout SeededRandom) -> Matrix {
    Matrix(rows: rows, columns: columns, values: values(rows * columns, sparse: sparse, special: special, &rng))
}

/// A model over 5 token rows (4 student tokens and BOS) and `outputs` classes, `nCtx` 8, with `heads[l]`
/// heads in layer l (0 allowed); `dValue` differs from `dHead` in every other head.
private func randomModel(
    seed: UInt64, positional: PositionalMode, heads: [Int], biases: Bool, sparse: Bool, special: Bool = false,
    causal: Bool = true, outputs: Int = 6, dModel: Int = 7
) -> Transformer {
    var rng = SeededRandom(seed: seed)
    let dHead = 3
    var index = 0
    let layers = heads.map { count in
        AttentionLayer(
            heads: (0..<count).map { _ in
                index += 1
                let dValue = index % 2 == 0 ? 2 : dHead
                return AttentionHead(
                    wQ: matrix(dModel, dHead, sparse: sparse, special: special, &rng), wK: matrix(dModel, dHead, sparse: sparse, &rng),
                    wV: matrix(dModel, dValue, sparse: sparse, special: special, &rng), wO: matrix(dValue, dModel, sparse: sparse, &rng),
                    bQ: biases ? values(dHead, sparse: sparse, special: false, &rng) : nil,
                    bK: biases ? values(dHead, sparse: sparse, special: false, &rng) : nil,
                    bV: biases ? values(dValue, sparse: sparse, special: false, &rng) : nil)
            }, bO: biases ? values(dModel, sparse: sparse, special: false, &rng) : Array(repeating: 0, count: dModel))
    }
    return Transformer(
        wE: matrix(5, dModel, sparse: sparse, special: special, &rng),
        wPos: positional == .none ? nil : matrix(8, dModel, sparse: sparse, &rng),
        wU: matrix(dModel, outputs, sparse: sparse, &rng), bU: values(outputs, sparse: sparse, special: false, &rng),
        layers: layers, positional: positional, causal: causal, attentionScale: 0.7)
}

/// A model whose heads' keys and values read only dims 0 and 1, where tokens 1, 2 and 3 have equal rows (and W_pos
/// is zero): its keys fall into few classes, so the walk's memos (Model/HeadMemo.swift) remember most head outputs,
/// while queries also read dim 2 (so equal key sequences meet different queries) and the other dims keep every
/// token's logits apart. Layers `heads`; W_O writes every dim, so a later layer's
/// heads see what the earlier ones found.
private func coarseModel(seed: UInt64, positional: PositionalMode, heads: [Int], biases: Bool, outputs: Int = 6, causal: Bool = true) -> Transformer {
    var rng = SeededRandom(seed: seed)
    let dModel = 7, dHead = 3
    func reading(_ columns: Int, dims: Int = 2) -> Matrix {
        let m = matrix(dModel, columns, sparse: seed % 2 == 0, &rng)
        return Matrix(rows: dModel, columns: columns, values: m.values.enumerated().map { i, v in i / columns < dims ? v : 0 })
    }
    var wE = matrix(5, dModel, sparse: false, &rng)
    for token in 2...3 { for c in 0..<2 { wE[token, c] = wE[1, c] } }
    var wPos = matrix(8, dModel, sparse: false, &rng)
    for p in 0..<8 { for c in 0..<2 { wPos[p, c] = 0 } }
    let layers = heads.map { count in
        AttentionLayer(
            heads: (0..<count).map { h in
                AttentionHead(
                    wQ: reading(dHead, dims: 3), wK: reading(dHead), wV: reading(h % 2 == 0 ? 2 : dHead),
                    wO: matrix(h % 2 == 0 ? 2 : dHead, dModel, sparse: false, &rng),
                    bQ: biases ? values(dHead, sparse: false, special: false, &rng) : nil, bK: nil, bV: nil)
            }, bO: biases ? values(dModel, sparse: false, special: false, &rng) : Array(repeating: 0, count: dModel))
    }
    return Transformer(
        wE: wE, wPos: positional == .none ? nil : wPos, wU: matrix(dModel, outputs, sparse: false, &rng),
        bU: values(outputs, sparse: false, special: false, &rng), layers: layers, positional: positional, causal: causal, attentionScale: 0.7)
}

/// A WalkForward as the edit tests drive it.
private func walkPass(_ walk: WalkForward) -> IncrementalPass {
    IncrementalPass(count: { walk.count }, truncate: { walk.truncate(to: $0) }, push: { walk.push($0) }, logits: { walk.logits(at: $0) })
}

/// A WalkForward driven through its sibling lanes (Model/SiblingLanes.swift): each push computes the positions of
/// all five tokens in lanes and takes the pushed one, or pushes it alone when the lanes decline; `taken` counts
/// the positions that came from lanes.
private final class LanePass {
    let walk: WalkForward
    var taken = 0, declined = 0

    init(_ walk: WalkForward) { self.walk = walk }

    var pass: IncrementalPass {
        IncrementalPass(
            count: { self.walk.count }, truncate: { self.walk.truncate(to: $0) },
            push: { token in
                let tokens = [0, 1, 2, 3, 4]
                if tokens.withUnsafeBufferPointer({ $0.baseAddress.map { self.walk.pushSiblings($0, 5) } ?? false }) {
                    self.walk.takeSibling(token, logits: true, keys: true)
                    self.taken += 1
                } else {
                    self.walk.push(token)
                    self.declined += 1
                }
            }, logits: { self.walk.logits(at: $0) })
    }
}

/// `model` with its first head's W_V scaled by `factor` (1e308: its v rows overflow to ±inf).
private func scalingFirstValue(_ model: Transformer, by factor: Double) -> Transformer {
    var layers = model.layers
    guard let l = layers.firstIndex(where: { !$0.heads.isEmpty }) else { return model }
    var heads = layers[l].heads
    let wV = heads[0].wV
    heads[0] = heads[0].replacing(wV: Matrix(rows: wV.rows, columns: wV.columns, values: wV.values.map { $0 * factor }))
    layers[l] = AttentionLayer(heads: heads, bO: layers[l].bO)
    return model.replacing(layers: layers)
}

/// `model` with every weight and bias replaced by its absolute value (the biases times `biasScale`): every sum then
/// adds up, so the numbers of a forward pass come close to the magnitude bound (Model/MagnitudeBound.swift), which
/// a loose test would miss; with large biases, a bound that left out a bias would show.
private func absolute(_ model: Transformer, biasScale: Double = 1) -> Transformer {
    func abs(_ m: Matrix) -> Matrix { Matrix(rows: m.rows, columns: m.columns, values: m.values.map(Swift.abs)) }
    func abs(_ b: [Double]) -> [Double] { b.map { Swift.abs($0) * biasScale } }
    let layers = model.layers.map { layer in
        AttentionLayer(
            heads: layer.heads.map { h in
                AttentionHead(
                    wQ: abs(h.wQ), wK: abs(h.wK), wV: abs(h.wV), wO: abs(h.wO), bQ: abs(h.bQ), bK: abs(h.bK), bV: abs(h.bV))
            }, bO: abs(layer.bO))
    }
    return Transformer(
        wE: abs(model.wE), wPos: model.wPos.map(abs), wU: abs(model.wU), bU: abs(model.bU), layers: layers,
        positional: model.positional, causal: model.causal, attentionScale: model.attentionScale)
}

/// `model` with the last dim of the stream read, past the first layer, only by W_V (W_Q, W_K and W_U rows of it
/// zeroed): the sibling lanes compute only the dims something later reads (Model/SiblingLanes.swift), and must
/// count that one among them.
private func readOnlyByValues(_ model: Transformer) -> Transformer {
    func zeroingLastRow(_ m: Matrix) -> Matrix {
        Matrix(rows: m.rows, columns: m.columns, values: m.values.enumerated().map { i, v in i / m.columns == m.rows - 1 ? 0 : v })
    }
    let layers = model.layers.enumerated().map { l, layer in
        AttentionLayer(
            heads: layer.heads.map { h in
                l == 0
                    ? h
                    : AttentionHead(wQ: zeroingLastRow(h.wQ), wK: zeroingLastRow(h.wK), wV: h.wV, wO: h.wO, bQ: h.bQ, bK: h.bK, bV: h.bV)
            }, bO: layer.bO)
    }
    return Transformer(
        wE: model.wE, wPos: model.wPos, wU: zeroingLastRow(model.wU), bU: model.bU, layers: layers, positional: model.positional,
        causal: model.causal, attentionScale: model.attentionScale)
}

/// `model` with `by` added to the `none` class's b_U: most positions then predict none correctly, so walks get
/// deep before they fail.
private func raisingNone(_ model: Transformer, _ spec: ExerciseSpec, by extra: Double) -> Transformer {
    guard let none = spec.outputs.firstIndex(of: PredictionRule.none) else { return model }
    return model.replacing(bU: model.bU.enumerated().map { i, b in i == none ? b + extra : b })
}

/// `spec` with `rule` as its only rule.
func withRule(_ spec: ExerciseSpec, _ rule: PredictionRule) -> ExerciseSpec {
    var spec = spec
    let generator = SequenceGenerator(count: 1, length: 1...3, tokens: spec.vocab, variableTokens: spec.vocab, plants: [], distinct: [])
    spec.families = [
        ExerciseSpec.Family(
            id: "rule", title: "rule", points: 1, visibility: .visible, passAccuracy: 1, minMargin: 0,
            source: .generated(generator, LabelPlan(predict: rule, positions: .all, attention: [])))
    ]
    return spec
}

/// The plain enumeration: every sequence of the domain in preorder, run alone through `forward`, labelled by
/// the rule, its graded positions checked in order with `Margin.logitGap`; stops at the first failure.
/// `logits` may hold the logits of sequences already run (by their student tokens).
private func plainEnumeration(_ v: ExhaustiveVerifier, logits known: [[String]: Matrix] = [:]) -> ExhaustiveResult {
    let outputs = v.spec.outputs
    let bos = v.spec.bos == nil ? [Int]() : [v.spec.vocab.count]
    var sequences = 0, positions = 0, worst = Double.infinity
    for indices in preorder(alphabet: v.tokens.count, maxLength: v.maxLength) where indices.count >= v.minLength {
        let names = indices.map { v.tokens[$0] }
        let logits = known[names] ?? v.model.forward(bos + names.compactMap { v.spec.vocab.firstIndex(of: $0) }).logits
        sequences += 1
        for (t, label) in v.rule.labels(names).enumerated() {
            guard let label else { continue }
            let graded =
                v.positions.contains(.all) || (v.positions.contains(.last) && t == names.count - 1)
                || (v.positions.contains(.fired) && label != PredictionRule.none)
            guard graded else { continue }
            positions += 1
            let row = logits.values[((t + bos.count) * logits.columns)..<((t + bos.count + 1) * logits.columns)]
            let margin = Margin.logitGap(row, expected: outputs.firstIndex(of: label) ?? 0)
            if margin > 0 {
                worst = min(worst, margin)
                continue
            }
            let c = ExhaustiveCounterexample(
                sequence: names, position: t, expected: label, found: TargetEvaluator.prediction(row, outputs: outputs), margin: margin)
            return ExhaustiveResult(
                exercise: v.spec.id, tokens: v.tokens, maxLength: v.maxLength, sequences: sequences, positions: positions,
                counterexample: c, minLength: v.minLength, worstMargin: margin)
        }
    }
    return ExhaustiveResult(
        exercise: v.spec.id, tokens: v.tokens, maxLength: v.maxLength, sequences: sequences, positions: positions,
        counterexample: nil, minLength: v.minLength, worstMargin: positions > 0 ? worst : nil)
}

/// Results equal, margins bit for bit (NaN included).
private func same(_ a: ExhaustiveResult, _ b: ExhaustiveResult) -> Bool { a.isIdentical(to: b) }

private let positionChoices: [Set<GradedPositions>] = [[.all], [.last], [.fired], [.last, .fired], []]

@Suite("Prefix walk")
struct PrefixWalkTests {
    // MARK: the walk's forward pass

    @Test("the walk's forward pass gives forward's logits bit for bit", arguments: PositionalMode.allCases)
    func walkForwardMatchesForward(positional: PositionalMode) {
        var rng = SeededRandom(seed: 2024)
        var mismatches: [String] = []
        let shapes: [[Int]] = [[1], [2, 2], [1, 0, 3], [3, 1], [], [0, 2]]
        for seed in UInt64(1)...8 {
            for biases in [false, true] {
                for tabulating in [true, false] {
                    let heads = shapes[Int(seed) % shapes.count]
                    let model = randomModel(
                        seed: seed, positional: positional, heads: heads, biases: biases, sparse: seed % 2 == 0, special: seed % 4 == 3)
                    let tables = FirstLayerTables(PackedModel(model), capacity: 8, tokens: [0, 1, 2, 3, 4], tabulatingScores: tabulating)
                    let walk = WalkForward(tables)
                    mismatches += editMismatches(
                        walkPass(walk), model, rounds: 12, maxLength: 8, &rng, label: "seed \(seed) heads \(heads) biases \(biases) table \(tabulating)")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(3))")
    }

    @Test(
        "the magnitude bound holds every number of a forward pass, and is +inf or past the limit for weights that overflow", arguments: PositionalMode.allCases)
    func magnitudeBoundHolds(positional: PositionalMode) {
        var rng = SeededRandom(seed: 808)
        var violations: [String] = [], closest = 0.0
        let shapes: [[Int]] = [[1], [2, 2], [1, 0, 3], [3, 1], [], [0, 2]]
        for seed in UInt64(1)...12 {
            let heads = shapes[Int(seed) % shapes.count]
            let random = randomModel(seed: seed, positional: positional, heads: heads, biases: seed % 3 != 0, sparse: seed % 2 == 0, causal: seed % 4 != 1)
            for model in [random, absolute(random), absolute(random, biasScale: 1e4)] {
                let bounds = model.magnitudeBounds
                let batch = (0..<60).map { _ in (0..<Int.random(in: 1...8, using: &rng)).map { _ in Int.random(in: 0..<5, using: &rng) } }
                for trace in model.forward(batch: batch) {
                    // Each stage against its own bound (patterns are weights in [0, 1]), and everything against the total.
                    var stages: [(String, [Double], Double)] = [("logits", trace.logits.values, bounds.logits)]
                    for (l, residual) in trace.residuals.enumerated() { stages.append(("residual \(l)", residual.values, bounds.residuals[l])) }
                    for (l, outputs) in trace.headOutputs.enumerated() {
                        for (h, out) in outputs.enumerated() { stages.append(("head \(l).\(h)", out.values, bounds.headOutputs[l][h])) }
                    }
                    stages.append(("patterns", trace.patterns.flatMap { $0.flatMap(\.values) }, 1))
                    for (stage, values, bound) in stages {
                        for value in values where !(abs(value) <= bound && bound <= bounds.all) {
                            violations.append("seed \(seed) heads \(heads) \(stage): \(value) > \(bound)")
                        }
                        if stage != "patterns" && bound > 0 { closest = max(closest, values.reduce(0) { max($0, abs($1)) } / bound) }
                    }
                }
            }
        }
        #expect(violations.isEmpty, "\(violations.count) values past the bound, first: \(violations.prefix(3))")
        // The absolute-valued models come within a factor of 10 of it: a bound missing a term would show.
        #expect(closest > 0.1, "the largest value was only \(closest) of the bound")
        let model = randomModel(seed: 3, positional: positional, heads: [2, 1], biases: true, sparse: false)
        #expect(model.magnitudeBound < PackedModel.finiteLimit)
        #expect(!(scalingFirstValue(model, by: 1e300).magnitudeBound < PackedModel.finiteLimit))
        #expect(randomModel(seed: 3, positional: positional, heads: [2, 1], biases: true, sparse: false, special: true).magnitudeBound == .infinity)
    }

    @Test("sibling lanes give forward's logits bit for bit, and decline a group with a value that is not finite", arguments: PositionalMode.allCases)
    func siblingLanesMatchForward(positional: PositionalMode) {
        var rng = SeededRandom(seed: 4049)
        var mismatches: [String] = []
        var taken = 0, declined = 0, declinedWhenOverflowing = 0
        let shapes: [[Int]] = [[1], [2, 2], [1, 0, 3], [3, 1], [], [0, 2]]
        for seed in UInt64(1)...8 {
            for biases in [false, true] {
                for tabulating in [true, false] {
                    let heads = shapes[Int(seed) % shapes.count]
                    let base = randomModel(seed: seed, positional: positional, heads: heads, biases: biases, sparse: seed % 2 == 0)
                    for (model, overflowing) in [(base, false), (scalingFirstValue(base, by: 1e308), true), (readOnlyByValues(base), false)] {
                        let tables = FirstLayerTables(PackedModel(model), capacity: 8, tokens: [0, 1, 2, 3, 4], tabulatingScores: tabulating)
                        let lanes = LanePass(WalkForward(tables))
                        mismatches += editMismatches(
                            lanes.pass, model, rounds: 12, maxLength: 8, &rng,
                            label: "seed \(seed) heads \(heads) biases \(biases) table \(tabulating) overflowing \(overflowing)")
                        taken += lanes.taken
                        declined += lanes.declined
                        if overflowing && !heads.allSatisfy({ $0 == 0 }) { declinedWhenOverflowing += lanes.declined }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(3))")
        // Both paths were taken: lanes for the finite models, single pushes once a v row overflows.
        #expect(taken > 1_000 && declinedWhenOverflowing > 100, "\(taken) taken, \(declined) declined (\(declinedWhenOverflowing) overflowing)")
    }

    // MARK: labels

    @Test("incremental labels equal PredictionRule.label on every sequence up to length 6")
    func labelsMatchRule() {
        let tokens = ["A", "B", "C", "D"]
        let rules: [PredictionRule] = [
            .currentToken(map: ["A": "B", "C": "none", "Z": "A"]),
            .tokenAtOffset(offset: -1, map: ["A": "B", "B": "B"]),
            .tokenAtOffset(offset: -2, map: ["D": "C"]),
            .tokenAtOffset(offset: 0, map: ["B": "A"]),
            .seenBefore(map: ["A": "B", "C": "D", "D": "B"]),
            .seenBefore(map: ["B": "none"]),
            .bigram(map: [["A", "B"]: "C", ["B", "B"]: "A", ["C", "A"]: "none"]),
            .induction(resolution: .mostRecent),
            .induction(resolution: .skipIfConflicting),
        ]
        for rule in rules {
            for alphabet in [tokens, ["C", "A", "D"]] {
                guard let labels = PrefixLabels(rule, tokens: alphabet, maxLength: 6) else {
                    Issue.record("\(rule) reads only the prefix")
                    continue
                }
                var path: [Int] = []
                var mismatches: [String] = []
                for sequence in preorder(alphabet: alphabet.count, maxLength: 6) {
                    while path.count >= sequence.count { labels.pop(); path.removeLast() }
                    let id = labels.push(sequence[sequence.count - 1])
                    path.append(sequence[sequence.count - 1])
                    let names = sequence.map { alphabet[$0] }
                    let expected = rule.label(names, at: names.count - 1)
                    let found = id == PrefixLabels.ungraded ? nil : labels.labels[id]
                    if found != expected { mismatches.append("\(names): \(found ?? "nil") vs \(expected ?? "nil")") }
                }
                #expect(mismatches.isEmpty, "\(rule) over \(alphabet): \(mismatches.prefix(3))")
            }
        }
        #expect(PrefixLabels(.tokenAtOffset(offset: 1, map: [:]), tokens: tokens, maxLength: 3) == nil)
    }

    // MARK: the walk against plain enumeration

    @Test("every causal reference: the walk equals plain enumeration for every min length and graded positions")
    func referencesMatchPlainEnumeration() throws {
        var checked = 0
        for file in repoFiles("submissions/reference", suffix: ".json") {
            let (_, spec, model) = try loadModel(file)
            guard spec.defaultRule != nil, model.causal else { continue }
            let maxLength = spec.vocab.count > 4 ? 4 : 5
            // Each sequence through `forward` once, for every choice below.
            let bos = spec.bos == nil ? [Int]() : [spec.vocab.count]
            let sequences = preorder(alphabet: spec.vocab.count, maxLength: maxLength).map { $0.map { spec.vocab[$0] } }
            let traces = sequences.map { model.forward(bos + $0.compactMap { spec.vocab.firstIndex(of: $0) }).logits }
            let logits = Dictionary(uniqueKeysWithValues: zip(sequences, traces))
            for minLength in [1, 2, 4] {
                for positions in positionChoices {
                    let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: maxLength, minLength: minLength, positions: positions)
                    let walked = verifier.run(), plain = plainEnumeration(verifier, logits: logits)
                    #expect(same(walked, plain), "\(spec.id) min \(minLength) \(positions): \(walked) vs \(plain)")
                    if minLength == 2 && positions == [.last, .fired] { #expect(same(verifier.runNaive(), plain), "\(spec.id) naive") }
                    if minLength == 1 {
                        let lanes = try #require(PrefixWalk(verifier, lanes: .always).run())
                        #expect(same(lanes, plain), "\(spec.id) \(positions) in sibling lanes: \(lanes) vs \(plain)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked >= 50)
    }

    @Test(
        "random models, every positional mode, mask on and off: the walk equals plain enumeration",
        arguments: PositionalMode.allCases)
    func randomModelsMatchPlainEnumeration(positional: PositionalMode) throws {
        let base = try repoCatalog().spec("current-token/pos")
        let rules: [PredictionRule] = [
            .currentToken(map: ["A": "B"]), .tokenAtOffset(offset: -1, map: ["A": "B"]), .tokenAtOffset(offset: 1, map: ["B": "A"]),
            .seenBefore(map: ["A": "B"]), .bigram(map: [["A", "B"]: "C"]), .induction(resolution: .skipIfConflicting),
        ]
        for (r, rule) in rules.enumerated() {
            let spec = withRule(base, rule)
            for causal in [true, false] {
                for seed in UInt64(1)...3 {
                    // A large b_U on `none` makes most positions right, so the walks get deep before they fail.
                    var model = randomModel(
                        seed: seed * 31 + UInt64(r), positional: positional, heads: seed == 2 ? [2, 1] : [1, 2], biases: seed != 1,
                        sparse: seed == 3, causal: causal, outputs: spec.outputs.count)
                    model = raisingNone(model, spec, by: Double(seed) * 3)
                    for (minLength, positions) in [(1, [GradedPositions.all]), (3, [.last]), (2, [.fired]), (1, [.last, .fired])] {
                        let verifier = try ExhaustiveVerifier(
                            spec: spec, model: model, maxLength: 5, tokens: seed == 2 ? ["C", "A", "D"] : nil, minLength: minLength,
                            positions: Set(positions))
                        let walked = verifier.run(), plain = plainEnumeration(verifier)
                        #expect(same(walked, plain), "\(rule) causal \(causal) seed \(seed) min \(minLength) \(positions): \(walked) vs \(plain)")
                        // The walk computing every group of siblings in lanes, and none.
                        for lanes in [SiblingLanePolicy.always, .never] {
                            let other = try #require(PrefixWalk(verifier, lanes: lanes).run())
                            #expect(same(other, plain), "\(lanes): \(rule) causal \(causal) seed \(seed) min \(minLength) \(positions): \(other) vs \(plain)")
                        }
                    }
                }
            }
        }
    }

    @Test(
        "remembered head outputs: a model whose heads read coarse dims gives forward's logits bit for bit, and the walk equals plain enumeration",
        arguments: PositionalMode.allCases)
    func memoisedHeadsMatchForward(positional: PositionalMode) throws {
        var rng = SeededRandom(seed: 77)
        var mismatches: [String] = []
        var hits = 0, lookups = 0
        for seed in UInt64(1)...4 {
            let heads = seed % 2 == 0 ? [2, 1] : [1, 2, 1]
            let model = coarseModel(seed: seed, positional: positional, heads: heads, biases: seed > 2)
            let walk = WalkForward(FirstLayerTables(PackedModel(model), capacity: 8, tokens: [0, 1, 2, 3, 4], tabulatingScores: seed != 3))
            mismatches += editMismatches(walkPass(walk), model, rounds: 400, maxLength: 8, &rng, label: "seed \(seed) heads \(heads)")
            for counts in walk.memoCounts {
                hits += counts.hits
                lookups += counts.lookups
            }
        }
        #expect(mismatches.count == 0, "\(mismatches.count) mismatches, first: \(mismatches.prefix(3))")
        // The memos were used: many lookups found a remembered output (so the comparison above tested them).
        #expect(hits > 1_000, "\(hits) hits in \(lookups) lookups")
        // And the whole walk, with its subtrees on every core, equals the plain enumeration, with the mask and
        // without (where one-layer models skip the positions whose sequence class, row and label passed before).
        // A rule that labels every position `none`, and a b_U that makes every one of them right: the walks go
        // through the whole domain, and the smallest margin over it must agree bit for bit.
        let spec = withRule(try repoCatalog().spec("current-token/pos"), .currentToken(map: [:]))
        for seed in UInt64(1)...4 {
            let causal = seed <= 2
            let heads = causal ? [2, 1] : seed == 3 ? [2] : [1]
            let model = raisingNone(
                coarseModel(seed: seed, positional: positional, heads: heads, biases: true, outputs: spec.outputs.count, causal: causal), spec, by: 1e4)
            let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 6)
            let walked = verifier.run(), plain = plainEnumeration(verifier)
            #expect(walked.verified && walked.sequences == verifier.sequenceCount, "seed \(seed) causal \(causal): \(walked)")
            #expect(same(walked, plain), "seed \(seed) causal \(causal): \(walked) vs \(plain)")
        }
    }

    @Test("a memo that stops after its trial leaves the walk's logits equal to forward's, bit for bit")
    func memoTrialStopsCleanly() {
        // A dense random model: its heads' rows are all distinct, so most lookups miss and every memo stops at
        // lookup 4096 (HeadMemo.trialLookups), in the middle of the edits; the logits before and after must agree.
        var rng = SeededRandom(seed: 5)
        let model = randomModel(seed: 41, positional: .learned, heads: [2, 1], biases: true, sparse: false)
        let walk = WalkForward(FirstLayerTables(PackedModel(model), capacity: 8, tokens: [0, 1, 2, 3, 4]))
        let mismatches = editMismatches(walkPass(walk), model, rounds: 3000, maxLength: 8, &rng, label: "dense")
        #expect(mismatches.count == 0, "\(mismatches.count) mismatches, first: \(mismatches.prefix(3))")
        let counts = walk.memoCounts
        #expect(counts.count == 3 && counts.allSatisfy { !$0.on && $0.lookups == HeadMemo.trialLookups }, "\(counts)")
    }

    @Test("a work limit: the same answer on every run, nil exactly when the counted work exceeds it, a counterexample found early always reported")
    func workLimitIsDeterministic() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/current-token-pos-nomask.json"))
        let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 7)
        let walk = PrefixWalk(verifier)
        let (full, work) = walk.counting()
        let plain = try #require(full)
        #expect(plain.verified && work > 0)
        // The same work is counted on every run, and a limit at or above it gives the unlimited result.
        #expect(walk.counting().work == work)
        #expect(walk.run(workLimit: work).map { same($0, plain) } == true)
        #expect(walk.run(workLimit: 10 * work).map { same($0, plain) } == true)
        // Just below it, or far below it, the walk gives up, every time.
        for _ in 0..<3 {
            #expect(walk.run(workLimit: work * 0.999) == nil)
            #expect(walk.run(workLimit: work / 1000) == nil)
        }
        // A counterexample in the first sequences is found before any task looks at its share.
        let broken = model.replacing(bU: model.bU.map { -$0 })
        let failing = PrefixWalk(try ExhaustiveVerifier(spec: spec, model: broken, maxLength: 7))
        let unlimited = try #require(failing.run())
        #expect(!unlimited.verified)
        #expect(failing.run(workLimit: 1).map { same($0, unlimited) } == true)
        // The estimates bracket the count.
        let least = ExhaustiveVerifier.leastSeconds(spec: spec, model: model, maxLength: 7) * ExhaustiveVerifier.nominalWalkRate
        let most = ExhaustiveVerifier.estimatedSeconds(spec: spec, model: model, maxLength: 7) * ExhaustiveVerifier.nominalWalkRate
        #expect(least <= work && work <= most, "\(least) <= \(work) <= \(most)")
    }

    @Test("a counterexample below minLength is reported on the first sequence of the domain through it")
    func counterexampleBelowMinLength() throws {
        let (spec, model) = try plantedLeadingABug(window: 1)
        // Over B A every sequence starting with B passes; A B fails at position 1, and with min length 4 the
        // first sequence of the domain through it is A B B B.
        let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 5, tokens: ["B", "A"], minLength: 4)
        let result = verifier.run()
        let c = try #require(result.counterexample)
        #expect(c.sequence == ["A", "B", "B", "B"])
        #expect(c.position == 1)
        #expect(result.sequences == 8 + 16 + 1)
        #expect(same(result, plainEnumeration(verifier)))
        #expect(same(result, verifier.runNaive()))
    }

    @Test("random models with ±0, ±inf, NaN and 1e300 entries: the walk equals plain enumeration")
    func specialValuesMatchPlainEnumeration() throws {
        let base = try repoCatalog().spec("current-token/pos")
        let spec = withRule(base, .tokenAtOffset(offset: -1, map: ["A": "B"]))
        var checked = 0
        for positional in PositionalMode.allCases {
            for seed in UInt64(1)...6 {
                var model = randomModel(
                    seed: seed * 101, positional: positional, heads: seed % 2 == 0 ? [1, 1] : [2], biases: seed % 3 != 0, sparse: true,
                    special: true, outputs: spec.outputs.count)
                model = raisingNone(model, spec, by: Double(seed) * 3)
                let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 5, positions: [.all])
                let walked = verifier.run(), plain = plainEnumeration(verifier)
                #expect(same(walked, plain), "\(positional) seed \(seed): \(walked) vs \(plain)")
                checked += 1
            }
        }
        #expect(checked == 6 * PositionalMode.allCases.count)
    }

    @Test("the walk's in-place margin equals Margin.logitGap bit for bit, ties, ±0 and non-finite logits included")
    func inPlaceMarginMatches() {
        var rng = SeededRandom(seed: 77)
        let pool: [Double] = [0, -0.0, 1, -1, 0.5, 2, .infinity, -.infinity, .nan, 1e300, -1e300]
        var mismatches = 0
        for _ in 0..<20_000 {
            let n = Int.random(in: 1...6, using: &rng)
            let row = (0..<n).map { _ in
                Int.random(in: 0..<3, using: &rng) == 0 ? pool[Int.random(in: 0..<pool.count, using: &rng)] : Double.random(in: -1...1, using: &rng)
            }
            let y = Int.random(in: 0..<n, using: &rng)
            let plain = Margin.logitGap(row[...], expected: y)
            let inPlace = row.withUnsafeBufferPointer { Margin.logitGap($0.baseAddress!, n, expected: y) }
            if plain.bitPattern != inPlace.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test("timesFinite equals times bit for bit on sparse and dense weights, special entries included")
    func timesFiniteMatchesTimes() {
        var rng = SeededRandom(seed: 5)
        var mismatches = 0
        for trial in 0..<400 {
            let rows = Int.random(in: 1...9, using: &rng), columns = Int.random(in: 1...7, using: &rng)
            // Sparse enough for the column lists (and with whole zero rows) in most trials, dense in some.
            let w = Matrix(
                rows: rows, columns: columns,
                values: (0..<(rows * columns)).map { i in
                    trial % 4 == 0 || (i / columns) % 3 == 1 ? Double.random(in: -2...2, using: &rng) : (i % 5 == 0 ? 1.5 : 0)
                })
            let model = Transformer(
                wE: Matrix(rows: 1, columns: rows, values: Array(repeating: 0, count: rows)), wPos: nil, wU: w,
                bU: Array(repeating: 0, count: columns), layers: [], positional: .none, causal: true, attentionScale: 1)
            let packed = PackedModel(model)
            for _ in 0..<10 {
                let input = values(rows, sparse: true, special: Int.random(in: 0..<3, using: &rng) == 0, &rng)
                let entries = UnsafeMutablePointer<Int32>.allocate(capacity: rows)
                let a = UnsafeMutablePointer<Double>.allocate(capacity: columns), b = UnsafeMutablePointer<Double>.allocate(capacity: columns)
                input.withUnsafeBufferPointer { row in
                    packed.times(row.baseAddress!, packed.wU, entries: entries, into: a)
                    packed.timesFinite(row.baseAddress!, packed.wU, entries: entries, into: b)
                }
                if (0..<columns).contains(where: { a[$0].bitPattern != b[$0].bitPattern }) { mismatches += 1 }
                if ForwardKernels.allFinite(input, rows) != input.allSatisfy(\.isFinite) { mismatches += 1 }
                entries.deallocate()
                a.deallocate()
                b.deallocate()
            }
        }
        #expect(mismatches == 0)
    }

    // MARK: counts and estimates

    @Test("sequence counts with a minimum length")
    func sequenceCounts() throws {
        #expect(ExhaustiveVerifier.sequenceCount(alphabet: 4, minLength: 1, maxLength: 11) == 5_592_404)
        #expect(ExhaustiveVerifier.sequenceCount(alphabet: 4, minLength: 3, maxLength: 4) == 64 + 256)
        #expect(ExhaustiveVerifier.sequenceCount(alphabet: 6, minLength: 11, maxLength: 11) == 362_797_056)
        #expect(ExhaustiveVerifier.sequenceCount(alphabet: 1000, minLength: 30, maxLength: 40) == Int.max)
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/current-token-nopos.json"))
        let v = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 4, minLength: 3)
        #expect(v.sequenceCount == 64 + 256)
        #expect(v.run().sequences == 64 + 256)
        #expect(throws: GraderError.self) { try ExhaustiveVerifier(spec: spec, model: model, maxLength: 2, minLength: 3) }
        #expect(throws: GraderError.self) { try ExhaustiveVerifier(spec: spec, model: model, maxLength: 2, minLength: 0) }
    }

    @Test("the cost estimate is deterministic, grows with the domain, and counts one sequence per orbit under a token symmetry")
    func estimates() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/induction-pos.json"))
        let e8 = ExhaustiveVerifier.estimatedSeconds(spec: spec, model: model, maxLength: 8)
        #expect(e8 == ExhaustiveVerifier.estimatedSeconds(spec: spec, model: model, maxLength: 8))
        #expect(e8 > 0)
        // The same model with the b_U of the tokens' classes all different (by a few ulps): no token symmetry is
        // left, and every sequence is walked.
        var bU = model.bU
        for (i, token) in spec.vocab.enumerated() {
            let c = try #require(spec.outputs.firstIndex(of: token))
            for _ in 0..<i { bU[c] = bU[c].nextUp }
        }
        let asymmetric = Transformer(
            wE: model.wE, wPos: model.wPos, wU: model.wU, bU: bU, layers: model.layers, positional: model.positional,
            causal: model.causal, attentionScale: model.attentionScale)
        let plain8 = ExhaustiveVerifier.estimatedSeconds(spec: spec, model: asymmetric, maxLength: 8)
        // 2,015,538 prefix nodes against the 5,265 first in their orbits of 720 relabellings (nodes deeper down see
        // more keys, and there are relatively more of them without the symmetry).
        #expect(plain8 > 250 * e8 && plain8 < 400 * e8, "\(plain8 / e8)")
        #expect(ExhaustiveVerifier.estimatedSeconds(spec: spec, model: model, maxLength: 9) > 3 * e8)
        #expect(ExhaustiveVerifier.estimatedSeconds(spec: spec, model: asymmetric, maxLength: 9) > 5 * plain8)
        #expect(ExhaustiveVerifier.estimatedSeconds(spec: spec, model: asymmetric, maxLength: 8, tokens: ["A", "B"]) < plain8 / 50)
    }
}
