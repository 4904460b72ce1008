// Tests of `Transformer.forward` (Model/ForwardPass.swift): against an independent NumPy implementation
// (Fixtures/golden/forward_golden.json, written by Tools/reference_forward.py), against a case computed by
// hand, and against properties of the attention math (circuit form, shortformer, causal mask, uniform
// attention, batching).
//
// Tolerance rule for every approximate comparison here (as in swift-numerics' isApproximatelyEqual):
//   |actual - expected| <= max(absolute, relative * |expected|)
// Exact comparisons use absolute = relative = 0, which accepts only equal values (and never NaN).

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

// MARK: - Comparing matrices

private struct MatrixTolerance {
    var absolute: Double
    var relative: Double

    /// The golden-file rule: |d| <= max(1e-12, 1e-10 |expected|).
    static let golden = MatrixTolerance(absolute: 1e-12, relative: 1e-10)
    /// Equal values only.
    static let exact = MatrixTolerance(absolute: 0, relative: 0)

    func accepts(_ actual: Double, _ expected: Double) -> Bool {
        abs(actual - expected) <= max(absolute, relative * abs(expected))
    }
}

/// The first entry where `actual` is not within `tolerance` of `expected`, described; nil when all are.
private func firstMismatch(_ actual: Matrix, _ expected: Matrix, _ tolerance: MatrixTolerance) -> String? {
    guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
    for r in 0..<expected.rows {
        for c in 0..<expected.columns where !tolerance.accepts(actual[r, c], expected[r, c]) {
            return "entry (\(r), \(c)) is \(actual[r, c]), expected \(expected[r, c]) (|d| = \(abs(actual[r, c] - expected[r, c])))"
        }
    }
    return nil
}

/// Records an issue naming the first entry that differs.
private func expectMatrix(
    _ actual: Matrix, _ expected: Matrix, _ tolerance: MatrixTolerance, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let mismatch = firstMismatch(actual, expected, tolerance)
    #expect(mismatch == nil, "\(what): \(mismatch ?? "")", sourceLocation: sourceLocation)
}

/// The largest absolute entry-wise difference of two same-shaped matrices.
private func maxDifference(_ a: Matrix, _ b: Matrix) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    return zip(a.values, b.values).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Every number in two traces has the same bit pattern (so -0.0 and +0.0 count as different).
private func bitwiseEqual(_ a: ForwardTrace, _ b: ForwardTrace) -> Bool {
    func same(_ x: Matrix, _ y: Matrix) -> Bool {
        x.shape == y.shape && zip(x.values, y.values).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
    func sameAll(_ x: [Matrix], _ y: [Matrix]) -> Bool { x.count == y.count && zip(x, y).allSatisfy(same) }
    return a.tokens == b.tokens && same(a.logits, b.logits) && sameAll(a.residuals, b.residuals)
        && a.patterns.count == b.patterns.count && zip(a.patterns, b.patterns).allSatisfy(sameAll)
        && a.headOutputs.count == b.headOutputs.count && zip(a.headOutputs, b.headOutputs).allSatisfy(sameAll)
}

// MARK: - Golden file

private struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

private struct GoldenRun: Sendable {
    var tokens: [Int]
    /// `[T, nOutputs]`.
    var logits: Matrix
    /// `[layer][head]`, each `[T, T]`.
    var patterns: [[Matrix]]
}

private struct GoldenCase: Sendable, CustomTestStringConvertible {
    var name: String
    var transformer: Transformer
    var runs: [GoldenRun]
    var testDescription: String { name }
}

/// Reads the members of a golden JSON object, naming the path on failure.
private struct GoldenReader {
    var object: JSONObject
    var path: String

    init(_ value: JSONValue, _ path: String) throws {
        guard let object = value.object else { throw FixtureError(description: "\(path): expected an object") }
        self.object = object
        self.path = path
    }

    func value(_ key: String) throws -> JSONValue {
        guard let v = object[key] else { throw FixtureError(description: "\(path): missing \"\(key)\"") }
        return v
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard let a = try value(key).array else { throw FixtureError(description: "\(path).\(key): expected an array") }
        return a
    }

    func number(_ key: String) throws -> Double {
        guard let n = try value(key).number else { throw FixtureError(description: "\(path).\(key): expected a number") }
        return n
    }

    func string(_ key: String) throws -> String {
        guard let s = try value(key).string else { throw FixtureError(description: "\(path).\(key): expected a string") }
        return s
    }

    func vector(_ key: String) throws -> [Double] { try Self.vector(value(key), "\(path).\(key)") }
    func matrix(_ key: String) throws -> Matrix { try Self.matrix(value(key), "\(path).\(key)") }

    static func vector(_ value: JSONValue, _ path: String) throws -> [Double] {
        guard let items = value.array else { throw FixtureError(description: "\(path): expected an array") }
        return try items.map {
            guard let n = $0.number else { throw FixtureError(description: "\(path): expected numbers") }
            return n
        }
    }

    static func matrix(_ value: JSONValue, _ path: String) throws -> Matrix {
        guard let rows = value.array, !rows.isEmpty else { throw FixtureError(description: "\(path): expected rows") }
        let nested = try rows.map { try vector($0, path) }
        guard nested.allSatisfy({ $0.count == nested[0].count }) else { throw FixtureError(description: "\(path): ragged") }
        return Matrix(nested)
    }
}

private func loadGolden() throws -> [GoldenCase] {
    let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    let url = fixtures.appendingPathComponent("golden/forward_golden.json")
    let root = try GoldenReader(JSONParser.parse([UInt8](Data(contentsOf: url)), file: url.path), "root")
    return try root.array("cases").enumerated().map { index, value in
        let c = try GoldenReader(value, "cases.\(index)")
        let positionalName = try c.string("positional")
        guard let positional = PositionalMode(rawValue: positionalName) else {
            throw FixtureError(description: "cases.\(index): unknown positional mode \(positionalName)")
        }
        guard let causal = try c.value("causal").bool else { throw FixtureError(description: "cases.\(index).causal") }
        let layers = try c.array("layers").enumerated().map { l, layerValue in
            let layer = try GoldenReader(layerValue, "\(c.path).layers.\(l)")
            let heads = try layer.array("heads").enumerated().map { h, headValue in
                let head = try GoldenReader(headValue, "\(layer.path).heads.\(h)")
                return AttentionHead(
                    wQ: try head.matrix("W_Q"), wK: try head.matrix("W_K"), wV: try head.matrix("W_V"),
                    wO: try head.matrix("W_O"), bQ: try head.vector("b_Q"), bK: try head.vector("b_K"),
                    bV: try head.vector("b_V"))
            }
            return AttentionLayer(heads: heads, bO: try layer.vector("b_O"))
        }
        let wPosValue = try c.value("W_pos")
        let transformer = Transformer(
            wE: try c.matrix("W_E"), wPos: wPosValue == .null ? nil : try GoldenReader.matrix(wPosValue, "\(c.path).W_pos"),
            wU: try c.matrix("W_U"), bU: try c.vector("b_U"), layers: layers, positional: positional, causal: causal,
            attentionScale: try c.number("attn_scale"))
        let runs = try c.array("runs").enumerated().map { r, runValue in
            let run = try GoldenReader(runValue, "\(c.path).runs.\(r)")
            let tokens = try run.array("tokens").map {
                guard let t = $0.integer else { throw FixtureError(description: "\(run.path).tokens: expected integers") }
                return t
            }
            let patterns = try run.array("patterns").map { layer in
                guard let heads = layer.array else { throw FixtureError(description: "\(run.path).patterns") }
                return try heads.map { try GoldenReader.matrix($0, "\(run.path).patterns") }
            }
            return GoldenRun(tokens: tokens, logits: try run.matrix("logits"), patterns: patterns)
        }
        return GoldenCase(name: try c.string("name"), transformer: transformer, runs: runs)
    }
}

@Suite("ForwardPass")
struct ForwardPassTests {

    // MARK: a. golden file

    @Test("golden: logits and patterns match the NumPy reference", arguments: try loadGolden())
    fileprivate func goldenCase(_ golden: GoldenCase) throws {
        for (r, run) in golden.runs.enumerated() {
            let trace = golden.transformer.forward(run.tokens)
            // |d| <= max(1e-12, 1e-10 |expected|): a few ulps of float64 rounding in sums of <= 8 terms, with
            // room for a different summation order, but far below any real difference in the math.
            expectMatrix(trace.logits, run.logits, .golden, "run \(r) (T = \(run.tokens.count)) logits")
            // The Swift reference pass, the engine's oracle, is itself held to the NumPy file.
            let reference = golden.transformer.referenceForward(run.tokens)
            expectMatrix(reference.logits, run.logits, .golden, "run \(r) reference logits")
            for (l, layer) in run.patterns.enumerated() where l < reference.patterns.count {
                for (h, expected) in layer.enumerated() where h < reference.patterns[l].count {
                    expectMatrix(reference.patterns[l][h], expected, .golden, "run \(r) reference layer \(l) head \(h)")
                }
            }
            try #require(trace.patterns.map(\.count) == run.patterns.map(\.count), "layers/heads of run \(r)")
            for (l, layer) in run.patterns.enumerated() {
                for (h, expected) in layer.enumerated() {
                    expectMatrix(trace.patterns[l][h], expected, .golden, "run \(r) layer \(l) head \(h) pattern")
                }
            }
        }
    }

    @Test("golden: the file covers the shapes and modes it claims to")
    func goldenCoverage() throws {
        let cases = try loadGolden()
        let models = cases.map(\.transformer)
        #expect(cases.count >= 8)
        #expect(Set(models.map(\.layers.count)).isSuperset(of: [1, 2, 3]))
        #expect(Set(models.flatMap { $0.layers.map(\.heads.count) }).isSuperset(of: [1, 2, 3]))
        #expect(models.contains { m in m.layers.contains { $0.heads.contains { $0.dHead != m.dModel } } })
        #expect(Set(models.map(\.positional)).isSuperset(of: [.none, .learned, .shortformer]))
        #expect(Set(models.map(\.causal)) == [false, true])
        #expect(models.contains { $0.attentionScale == 1 })
        #expect(
            models.contains { m in
                m.attentionScale != 1
                    && abs(m.attentionScale - 1 / Double(m.layers[0].heads[0].dHead).squareRoot()) < 1e-15
            })
        #expect(models.contains { $0.wU.columns > $0.dVocab } && models.contains { $0.wU.columns < $0.dVocab })
        #expect(
            models.contains { m in
                m.layers.contains { layer in
                    layer.bO.contains { $0 != 0 } && layer.heads.contains { ($0.bQ + $0.bK + $0.bV).contains { $0 != 0 } }
                }
            })
        for c in cases {
            let lengths = Set(c.runs.map(\.tokens.count))
            let longest = c.transformer.positional == .none ? lengths.max() : c.transformer.nCtx
            #expect(lengths.contains(1) && longest.map(lengths.contains) == true, "\(c.name): lengths \(lengths.sorted())")
        }
    }

    // MARK: b. computed by hand

    /// Residual dims: 0 bos, 1 a, 2 b, 3 s0, 4 s1. Tokens: 0 BOS, 1 A, 2 B; outputs: A, B, none.
    /// attentionScale = 1000 makes any score gap of >= 1 a gap of >= 1000, and exp(-1000) is exactly 0.0 in
    /// float64 (below the smallest subnormal, about e^-744.4), so every pattern entry is 0, 1, or an exact tie.
    @Test("hand-computed: two layers, causal, a 0.5/0.5 tie, BOS at position 0")
    func handComputed() {
        func column(_ entries: [Double]) -> Matrix { Matrix(entries.map { [$0] }) }
        let zero = column([0, 0, 0, 0, 0])
        // Layer 0, head 0: q = b_Q = 1 everywhere, k = [token is BOS or A]; reads v = [token is A], writes 2v to s0.
        let l0h0 = AttentionHead(
            wQ: zero, wK: column([1, 1, 0, 0, 0]), wV: column([0, 1, 0, 0, 0]),
            wO: Matrix([[0, 0, 0, 2, 0]]), bQ: [1])
        // Layer 0, head 1: q = 0, so every score is 0 and attention is uniform; reads v = [token is BOS], writes to s1.
        let l0h1 = AttentionHead(
            wQ: zero, wK: column([0, 1, 0, 0, 0]), wV: column([1, 0, 0, 0, 0]),
            wO: Matrix([[0, 0, 0, 0, 1]]))
        // Layer 1, head 0: q = s0 (written by layer 0), k = [token is A]; v = [token is A] + 1, written to a.
        let l1h0 = AttentionHead(
            wQ: column([0, 0, 0, 1, 0]), wK: column([0, 1, 0, 0, 0]), wV: column([0, 1, 0, 0, 0]),
            wO: Matrix([[0, 1, 0, 0, 0]]), bV: [1])
        let model = Transformer(
            wE: Matrix([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0]]), wPos: nil,
            // logit A = a, logit B = b + s0, logit none = bos - 1
            wU: Matrix([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 0]]), bU: [0, 0, -1],
            layers: [
                AttentionLayer(heads: [l0h0, l0h1], bO: [0, 0, 0, 0, 1]),  // b_O0 adds 1 to s1, once
                AttentionLayer(heads: [l1h0], bO: [2, 0, 0, 0, 0]),
            ],  // b_O1 adds 2 to bos
            positional: .none, causal: true, attentionScale: 1000)

        let trace = model.forward([0, 1, 2, 2])  // BOS A B B

        // x0 = one-hot embeddings.
        expectMatrix(
            trace.residuals[0], Matrix([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0]]),
            .exact, "x0")
        // L0H0 scores = 1000 * k_j with k = [1, 1, 0, 0]; row 1 is the tie 1000 vs 1000 -> 0.5 / 0.5;
        // rows 2, 3 add keys at 0 (exp(-1000) = 0). Above the diagonal: masked.
        expectMatrix(
            trace.patterns[0][0], Matrix([[1, 0, 0, 0], [0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0]]),
            .exact, "L0H0 pattern")
        // L0H1 all scores 0 -> uniform over the i + 1 visible keys: exp(0) = 1, so 1 / (i + 1) exactly.
        let third = 1.0 / 3.0
        expectMatrix(
            trace.patterns[0][1],
            Matrix([
                [1, 0, 0, 0], [0.5, 0.5, 0, 0], [third, third, third, 0],
                [0.25, 0.25, 0.25, 0.25],
            ]), .exact, "L0H1 pattern")
        // L0H0: v = [0, 1, 0, 0], z = [0, .5, .5, .5], out = 2z on s0 = [0, 1, 1, 1] ("an A has been seen").
        expectMatrix(
            trace.headOutputs[0][0], Matrix([[0, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0]]),
            .exact, "L0H0 output")
        // L0H1: v = [1, 0, 0, 0] (BOS), z = running mean = 1 / (i + 1), written to s1.
        expectMatrix(
            trace.headOutputs[0][1],
            Matrix([
                [0, 0, 0, 0, 1], [0, 0, 0, 0, 0.5], [0, 0, 0, 0, third],
                [0, 0, 0, 0, 0.25],
            ]), .exact, "L0H1 output")
        // x1 = x0 + both heads + b_O0 (s1 += 1 once per layer, not once per head).
        expectMatrix(
            trace.residuals[1],
            Matrix([
                [1, 0, 0, 0, 2], [0, 1, 0, 1, 1.5], [0, 0, 1, 1, third + 1],
                [0, 0, 1, 1, 1.25],
            ]), .exact, "x1")
        // L1H0: q = s0 = [0, 1, 1, 1], k = a = [0, 1, 0, 0], scores = 1000 q_i k_j.
        // Row 0: one key -> 1. Rows 1-3: key 1 scores 1000, the rest 0 -> one-hot on the A at position 1.
        // (Reading x0 instead of x1, q would be 0 and the rows uniform.)
        expectMatrix(
            trace.patterns[1][0], Matrix([[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]]),
            .exact, "L1H0 pattern")
        // v = a + b_V = [1, 2, 1, 1]; z = [1, 2, 2, 2], written to a.
        expectMatrix(
            trace.headOutputs[1][0], Matrix([[0, 1, 0, 0, 0], [0, 2, 0, 0, 0], [0, 2, 0, 0, 0], [0, 2, 0, 0, 0]]),
            .exact, "L1H0 output")
        // x2 = x1 + head + b_O1 (bos += 2).
        expectMatrix(
            trace.residuals[2],
            Matrix([
                [3, 1, 0, 0, 2], [2, 3, 0, 1, 1.5], [2, 2, 1, 1, third + 1],
                [2, 2, 1, 1, 1.25],
            ]), .exact, "x2")
        // logits [A = a, B = b + s0, none = bos - 1]:
        //   pos 0: [1, 0 + 0, 3 - 1] = [1, 0, 2];   pos 1: [3, 0 + 1, 2 - 1] = [3, 1, 1]
        //   pos 2: [2, 1 + 1, 2 - 1] = [2, 2, 1];   pos 3: the same as pos 2.
        expectMatrix(trace.logits, Matrix([[1, 0, 2], [3, 1, 1], [2, 2, 1], [2, 2, 1]]), .exact, "logits")
        // The plain reference pass gives the same hand-computed values.
        let reference = model.referenceForward([0, 1, 2, 2])
        expectMatrix(reference.logits, Matrix([[1, 0, 2], [3, 1, 1], [2, 2, 1], [2, 2, 1]]), .exact, "reference logits")
        expectMatrix(reference.residuals[2], trace.residuals[2], .exact, "reference x2")
        expectMatrix(reference.patterns[1][0], trace.patterns[1][0], .exact, "reference L1H0 pattern")
    }

    // MARK: c. factored form vs circuit form

    @Test("circuit form AttentionHead(wQK:wOV:) gives the logits of the factored heads")
    func circuitFormMatchesFactored() {
        // Circuits carry no b_Q, b_K, b_V, so the factored heads have none either (b_O stays).
        let factored = randomTransformer(
            seed: 7, dVocab: 6, dModel: 6, dHead: 2, headsPerLayer: [2, 3], nCtx: 7,
            nOutputs: 7, positional: .learned, causal: true, biases: false)
        func circuits(transposeQK: Bool = false, transposeOV: Bool = false) -> Transformer {
            factored.replacing(
                layers: factored.layers.map { layer in
                    AttentionLayer(
                        heads: layer.heads.map {
                            AttentionHead(wQK: transposeQK ? $0.wQK.transposed : $0.wQK, wOV: transposeOV ? $0.wOV.transposed : $0.wOV)
                        }, bO: layer.bO)
                })
        }
        let circuit = circuits()
        #expect(circuit.layers[0].heads[0].dHead == 6)
        // |d| <= max(1e-12, 1e-9 |expected|): the two forms round differently (d_head vs d_model terms per sum).
        let tolerance = MatrixTolerance(absolute: 1e-12, relative: 1e-9)
        var rng = SeededRandom(seed: 8)
        for length in [1, 2, 4, 7] {
            let tokens = randomSequence(length: length, dVocab: 6, &rng)
            let a = factored.forward(tokens)
            let b = circuit.forward(tokens)
            expectMatrix(b.logits, a.logits, tolerance, "logits, T = \(length)")
            for l in 0..<2 {
                for h in 0..<factored.layers[l].heads.count {
                    expectMatrix(b.patterns[l][h], a.patterns[l][h], tolerance, "pattern L\(l)H\(h), T = \(length)")
                }
            }
        }
        // The comparison can fail: the wrong orientation of either circuit changes the result.
        let tokens = randomSequence(length: 7, dVocab: 6, &rng)
        let reference = factored.forward(tokens)
        #expect(maxDifference(circuits(transposeQK: true).forward(tokens).patterns[0][0], reference.patterns[0][0]) > 1e-3)
        #expect(maxDifference(circuits(transposeOV: true).forward(tokens).logits, reference.logits) > 1e-3)
    }

    // MARK: d. shortformer vs learned

    @Test("shortformer differs from learned when V reads positional dims")
    func shortformerHidesPositionsFromV() {
        // Dims: 0 tok, 1-3 position one-hot, 4 out. One head, uniform attention (W_Q = 0), v = position index
        // (read through V from the position dims), written to out; the unembedding reads only tok and out.
        let head = AttentionHead(
            wQ: Matrix(zeros: 5, 1), wK: Matrix(zeros: 5, 1), wV: Matrix([[0], [0], [1], [2], [0]]),
            wO: Matrix([[0, 0, 0, 0, 1]]))
        let learned = Transformer(
            wE: Matrix([[1, 0, 0, 0, 0], [2, 0, 0, 0, 0]]),
            wPos: Matrix([[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]]),
            wU: Matrix([[0, 1], [0, 0], [0, 0], [0, 0], [1, 0]]), bU: [0, 0],
            layers: [AttentionLayer(heads: [head], bO: [0, 0, 0, 0, 0])],
            positional: .learned, causal: true, attentionScale: 1)
        let shortformer = with(learned, positional: .shortformer)
        let a = learned.forward([1, 0, 1])
        let b = shortformer.forward([1, 0, 1])
        // Same (uniform) attention in both: the difference below comes from V alone.
        expectMatrix(a.patterns[0][0], b.patterns[0][0], .exact, "patterns")
        // Learned: out_i = mean of positions 0...i = i / 2. Shortformer: V never sees positions, out = 0.
        expectMatrix(a.logits, Matrix([[0, 2], [0.5, 1], [1, 2]]), .exact, "learned logits")
        expectMatrix(b.logits, Matrix([[0, 2], [0, 1], [0, 2]]), .exact, "shortformer logits")
        #expect(a.logits != b.logits)
    }

    @Test("shortformer equals learned when positions reach only Q and K, in one layer")
    func shortformerMatchesLearnedThroughQK() {
        // Dims: 0-2 token, 3-6 position, 7-8 free. W_E and W_pos live in their own dims; V and W_U never
        // read the position dims, so positions can only act through Q and K, which both modes feed identically.
        let dModel = 9
        let nCtx = 4
        let positionDims = 3..<7
        var rng = SeededRandom(seed: 21)
        func zeroingRows(_ m: Matrix, _ rows: Range<Int>) -> Matrix {
            var out = m
            for r in rows { for c in 0..<m.columns { out[r, c] = 0 } }
            return out
        }
        var wE = Matrix(zeros: 5, dModel)
        for t in 0..<5 { for c in 0..<3 { wE[t, c] = Double.random(in: -1...1, using: &rng) } }
        var wPos = Matrix(zeros: nCtx, dModel)
        for t in 0..<nCtx { for c in positionDims { wPos[t, c] = Double.random(in: -2...2, using: &rng) } }
        let heads = (0..<2).map { _ in
            let head = randomHead(dModel: dModel, dHead: 3, biases: true, &rng)
            return head.replacing(wV: zeroingRows(head.wV, positionDims))
        }
        let learned = Transformer(
            wE: wE, wPos: wPos, wU: zeroingRows(randomMatrix(dModel, 4, &rng), positionDims),
            bU: randomVector(4, &rng), layers: [AttentionLayer(heads: heads, bO: randomVector(dModel, &rng))],
            positional: .learned, causal: true, attentionScale: 1)
        let shortformer = with(learned, positional: .shortformer)
        let noPositions = with(learned, positional: .none)
        let tolerance = MatrixTolerance(absolute: 1e-12, relative: 1e-12)
        for tokens in [[0, 3, 1, 4], [2, 2, 2, 2], [1, 0, 4]] {
            let a = learned.forward(tokens)
            let b = shortformer.forward(tokens)
            expectMatrix(b.logits, a.logits, tolerance, "logits \(tokens)")
            for h in 0..<2 { expectMatrix(b.patterns[0][h], a.patterns[0][h], tolerance, "pattern H\(h) \(tokens)") }
            // ...and the positions do matter: without them the attention changes, and so do the logits
            // unless every position holds the same token (then any attention averages equal values).
            let c = noPositions.forward(tokens)
            #expect(maxDifference(c.patterns[0][0], a.patterns[0][0]) > 1e-3, "\(tokens)")
            if Set(tokens).count > 1 { #expect(maxDifference(c.logits, a.logits) > 1e-3, "\(tokens)") }
        }
    }

    // MARK: e. causal mask

    @Test("causal mask: future entries are exactly 0 even under scores of 1e12")
    func causalMaskIsExact() {
        // Dims: 0 "small", 1 "big". q = 1 for every token; k = 0 for token 0 and 1e12 for token 1.
        // Any finite additive mask such as -1e9 would leave future scores near 1e12 and they would win.
        let head = AttentionHead(
            wQ: Matrix([[1], [1]]), wK: Matrix([[0], [1e12]]), wV: Matrix([[1, 0], [0, 1]]),
            wO: Matrix([[1, 0], [0, 1]]))
        let causal = Transformer(
            wE: Matrix([[1, 0], [0, 1]]), wPos: nil, wU: Matrix([[1, 0], [0, 1]]), bU: [0, 0],
            layers: [AttentionLayer(heads: [head], bO: [0, 0])],
            positional: .none, causal: true, attentionScale: 1)
        let open = causal.replacing(causal: false)
        let masked = causal.forward([0, 1, 1])
        let unmasked = open.forward([0, 1, 1])
        let p = masked.patterns[0][0]
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            #expect(p[i, j] == 0 && p[i, j].sign == .plus, "masked entry (\(i), \(j)) is \(p[i, j])")
        }
        // Row 0 sees only itself; rows 1 and 2 put everything on the huge keys (exp(-1e12) = 0).
        expectMatrix(p, Matrix([[1, 0, 0], [0, 1, 0], [0, 0.5, 0.5]]), .exact, "causal pattern")
        // Position 0 writes exactly its own value: nothing leaks from the future.
        #expect(masked.headOutputs[0][0].row(0) == [1, 0])
        // Without the mask, position 0 attends to the future keys.
        expectMatrix(unmasked.patterns[0][0], Matrix([[0, 0.5, 0.5], [0, 0.5, 0.5], [0, 0.5, 0.5]]), .exact, "open pattern")
        #expect(unmasked.headOutputs[0][0].row(0) == [0, 1])
        #expect(masked.logits != unmasked.logits)
        // The last query sees every key either way.
        #expect(p.row(2) == unmasked.patterns[0][0].row(2))
    }

    // MARK: f. uniform attention

    @Test("W_Q = 0 gives uniform attention: the mean, and the running mean when causal", arguments: [false, true])
    func uniformAttentionAverages(causal: Bool) throws {
        var rng = SeededRandom(seed: causal ? 31 : 32)
        let dModel = 4
        let t = 6
        let bV = randomVector(dModel, &rng)
        // v = x + b_V (W_V = W_O = I), so the head writes the average of the residual rows it attends to, plus b_V.
        let head = AttentionHead(
            wQ: Matrix(zeros: dModel, dModel), wK: randomMatrix(dModel, dModel, &rng),
            wV: .identity(dModel), wO: .identity(dModel), bK: randomVector(dModel, &rng), bV: bV)
        let model = Transformer(
            wE: randomMatrix(5, dModel, &rng), wPos: randomMatrix(t, dModel, &rng),
            wU: randomMatrix(dModel, 3, &rng), bU: randomVector(3, &rng),
            layers: [AttentionLayer(heads: [head], bO: randomVector(dModel, &rng))],
            positional: .learned, causal: causal, attentionScale: 1)
        let tokens = randomSequence(length: t, dVocab: 5, &rng)
        let trace = model.forward(tokens)
        let wPos = try #require(model.wPos)
        var x = Matrix(zeros: t, dModel)
        for i in 0..<t { for c in 0..<dModel { x[i, c] = model.wE[tokens[i], c] + wPos[i, c] } }
        expectMatrix(trace.residuals[0], x, .exact, "x0 = W_E[tok] + W_pos")

        var expectedPattern = Matrix(zeros: t, t)
        var expectedOut = Matrix(zeros: t, dModel)
        for i in 0..<t {
            let keys = causal ? 0...i : 0...(t - 1)
            for j in keys { expectedPattern[i, j] = 1 / Double(keys.count) }
            for c in 0..<dModel {
                expectedOut[i, c] = keys.reduce(0) { $0 + x[$1, c] } / Double(keys.count) + bV[c]
            }
        }
        // Every score is 0, so each visible key gets exp(0) / n = 1 / n exactly.
        expectMatrix(trace.patterns[0][0], expectedPattern, .exact, "pattern")
        expectMatrix(trace.headOutputs[0][0], expectedOut, MatrixTolerance(absolute: 1e-12, relative: 1e-12), "mean")
        if causal {
            #expect(trace.headOutputs[0][0].row(0) == zip(x.row(0), bV).map { $0 + $1 })
        }
    }

    // MARK: g. batches

    @Test(
        "a batch that shares prefixes gives every sequence's own trace, bit for bit",
        arguments: [(true, false), (true, true), (false, false), (false, true)])
    func sharedPrefixesChangeNoBit(causal: Bool, sparse: Bool) {
        var model = randomTransformer(
            seed: 43, dVocab: 3, dModel: 5, dHead: 2, headsPerLayer: [1, 2], nCtx: 9,
            nOutputs: 4, positional: .learned, causal: causal, biases: true)
        if sparse { model = sparsified(model, seed: 44) }
        var rng = SeededRandom(seed: 45)
        // Over 3 tokens most sequences share a prefix with another; add exact repeats and strict prefixes.
        var batch = (0..<300).map { _ in randomSequence(length: Int.random(in: 1...9, using: &rng), dVocab: 3, &rng) }
        batch += batch.prefix(40)
        batch += batch.prefix(40).map { Array($0.prefix(max(1, $0.count / 2))) }
        let shared = model.forward(batch: batch)
        let alone = model.forward(batch: batch, sharingPrefixes: false)
        let logitsOnly = model.forward(batch: batch, detail: .logits)
        var mismatches: [Int] = []
        for (i, tokens) in batch.enumerated() {
            let single = model.forward(tokens)
            let logits = logitsOnly[i].logits
            if !bitwiseEqual(shared[i], single) || !bitwiseEqual(alone[i], single)
                || logits.values.map(\.bitPattern) != single.logits.values.map(\.bitPattern) || !logitsOnly[i].patterns.isEmpty
            {
                mismatches.append(i)
            }
        }
        #expect(mismatches.isEmpty, "sequences whose batched trace differs: \(mismatches.prefix(10))")
    }

    @Test("a layer without heads adds 0 to the stream: an embedded -0 comes out +0, as x + b_O gives")
    func headlessLayerAddsZero() {
        let model = Transformer(
            wE: Matrix([[-0.0, 1], [2, -0.0]]), wPos: nil, wU: .identity(2), bU: [0, 0],
            layers: [AttentionLayer(heads: [], bO: [0, 0])], positional: .none, causal: true, attentionScale: 1)
        let trace = model.forward([0, 1])
        let bits = { (values: [Double]) in values.map(\.bitPattern) }
        #expect(bits(trace.residuals[0].values) == bits([-0.0, 1, 2, -0.0]))
        #expect(bits(trace.residuals[1].values) == bits([0, 1, 2, 0]))
        #expect(model.forward(batch: [[0, 1], [0]]).map(\.residuals) == [trace.residuals, [Matrix([[0, 1]]), Matrix([[0, 1]])]])
    }

    @Test("a batch of empty sequences over an empty vocabulary runs (nothing to sort by)")
    func emptyVocabularyBatch() {
        let model = Transformer(
            wE: Matrix(rows: 0, columns: 2, values: []), wPos: nil, wU: Matrix(zeros: 2, 3), bU: [0, 0, 0],
            layers: [], positional: .none, causal: true, attentionScale: 1)
        let traces = model.forward(batch: [[], []])
        #expect(traces.map(\.logits.rows) == [0, 0])
        #expect(traces.map(\.logits.columns) == [3, 3])
    }

    @Test("the batch's radix sort orders distinct keys as a comparison sort does", arguments: [1, 7, 8, 9, 20, 48, 64])
    func radixSortMatchesSort(bits: Int) {
        var rng = SeededRandom(seed: UInt64(bits))
        let limit = bits == 64 ? UInt64.max : (UInt64(1) << bits) - 1
        let keys = Array(Set((0..<min(3000, Int(min(limit, 3000)) + 1)).map { _ in UInt64.random(in: 0...limit, using: &rng) }))
        var sorted = keys
        Transformer.radixSort(&sorted, bits: bits)
        #expect(sorted == keys.sorted())
    }

    @Test("the radix sort is stable: skipping the index bits keeps input order among equal prefixes")
    func radixSortIsStable() {
        var rng = SeededRandom(seed: 5)
        // Few distinct prefixes above 12 index bits, indices increasing in input order.
        var keys = (0..<3000).map { i in UInt64.random(in: 0...40, using: &rng) << 12 | UInt64(i) }
        let expected = keys.sorted()
        Transformer.radixSort(&keys, bits: 12 + 6, from: 12)
        #expect(keys == expected)
    }

    @Test("a batch over a large vocabulary (only the first tokens sort the batch) gives the same bits")
    func sharedPrefixesLargeVocabulary() {
        // 5000 tokens take 13 bits each; with 600 sequences only the first 4 tokens fit in the sort key.
        let model = randomTransformer(
            seed: 46, dVocab: 5000, dModel: 4, dHead: 2, headsPerLayer: [1], nCtx: 8,
            nOutputs: 3, positional: .learned, causal: true, biases: false)
        var rng = SeededRandom(seed: 47)
        let stems = (0..<5).map { _ in randomSequence(length: 4, dVocab: 5000, &rng) }
        let batch = (0..<600).map { i in stems[i % 5] + randomSequence(length: Int.random(in: 0...4, using: &rng), dVocab: 3, &rng) }
        let traces = model.forward(batch: batch, detail: .logits)
        let mismatches = batch.indices.filter { i in
            traces[i].logits.values.map(\.bitPattern) != model.forward(batch[i]).logits.values.map(\.bitPattern)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    @Test("forward(batch:) equals forward on each sequence, bit for bit, and repeats exactly")
    func batchMatchesSingle() {
        let model = randomTransformer(
            seed: 41, dVocab: 7, dModel: 6, dHead: 3, headsPerLayer: [2, 1, 3], nCtx: 9,
            nOutputs: 8, positional: .shortformer, causal: true, biases: true)
        var rng = SeededRandom(seed: 42)
        let batch = (0..<200).map { _ in randomSequence(length: Int.random(in: 1...9, using: &rng), dVocab: 7, &rng) }
        let first = model.forward(batch: batch)
        let second = model.forward(batch: batch)
        #expect(first.count == batch.count)
        #expect(second.count == batch.count)
        var mismatches: [Int] = []
        for (i, tokens) in batch.enumerated() where i < first.count && i < second.count {
            let single = model.forward(tokens)
            if !bitwiseEqual(first[i], single) || !bitwiseEqual(second[i], first[i]) { mismatches.append(i) }
        }
        #expect(mismatches.isEmpty, "sequences whose batched trace differs: \(mismatches)")
        #expect(model.forward(batch: []).isEmpty)
    }
}
