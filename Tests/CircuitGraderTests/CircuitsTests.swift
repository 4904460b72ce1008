// Tests of the weight-only feedback (Reports/CompositionScores.swift, CircuitAnalysis*.swift) and the
// `circuits` command: composition scores on matrices whose answer is known by hand, the row/column-vector
// translation checked against the paper's formulas, and the text and JSON views against the engine's matrices.

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

/// `E(r, c)`: the `[n, n]` matrix with a single 1 at `(r, c)`.
private func unit(_ r: Int, _ c: Int, n: Int = 4) -> Matrix {
    var m = Matrix(zeros: n, n)
    m[r, c] = 1
    return m
}

/// A `[n, n]` matrix of seeded pseudo-random entries in [-1, 1] (a small LCG: the same numbers on every run).
private func seededMatrix(_ seed: UInt64, n: Int = 5) -> Matrix {
    var state = seed
    let values = (0..<(n * n)).map { _ -> Double in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
    return Matrix(rows: n, columns: n, values: values)
}

/// `|a - b| <= 1e-12` for two optional scores that must both exist.
private func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) <= 1e-12 } ?? false }

struct CircuitsTests {
    struct CompositionCase: CustomTestStringConvertible, Sendable {
        var id: String
        /// Earlier head's OV circuit.
        var ovA: Matrix
        /// Later head's QK and OV circuits.
        var qkB: Matrix
        var ovB: Matrix
        var q: Double
        var k: Double
        var v: Double
        var testDescription: String { id }
    }

    /// Residual dims 0..3. Head a reads dim 0 and writes dim 2 (`E(0, 2)`) unless said otherwise.
    static let compositionCases: [CompositionCase] = [
        CompositionCase(
            id: "b reads dims orthogonal to what a writes: all three are 0",
            ovA: unit(0, 2), qkB: unit(1, 3), ovB: unit(3, 0), q: 0, k: 0, v: 0),
        CompositionCase(
            id: "b's keys read exactly a's output dim: K = 1, Q = 0",
            ovA: unit(0, 2), qkB: unit(1, 2), ovB: unit(3, 0), q: 0, k: 1, v: 0),
        CompositionCase(
            id: "b's queries read exactly a's output dim: Q = 1, K = 0",
            ovA: unit(0, 2), qkB: unit(2, 1), ovB: unit(3, 0), q: 1, k: 0, v: 0),
        CompositionCase(
            id: "b's values read exactly a's output dim: V = 1",
            ovA: unit(0, 2), qkB: unit(1, 3), ovB: unit(2, 3), q: 0, k: 0, v: 1),
        CompositionCase(
            id: "a writes two dims equally, b's keys read one: K = 1/sqrt(2)",
            ovA: unit(0, 2) + unit(0, 3), qkB: unit(1, 2), ovB: unit(1, 0), q: 0, k: 1 / 2.0.squareRoot(), v: 0),
        CompositionCase(
            id: "a writes two dims equally, b's values read one: V = 1/sqrt(2)",
            ovA: unit(0, 2) + unit(0, 3), qkB: unit(0, 1), ovB: unit(3, 0), q: 0, k: 0, v: 1 / 2.0.squareRoot()),
        CompositionCase(
            id: "b queries and keys both a's dim (W_QK = E(2,2)): Q = K = 1",
            ovA: unit(0, 2), qkB: unit(2, 2), ovB: unit(0, 1), q: 1, k: 1, v: 0),
        CompositionCase(
            id: "a's output scaled by 7 leaves every score unchanged",
            ovA: 7 * unit(0, 2), qkB: unit(1, 2), ovB: unit(2, 3), q: 0, k: 1, v: 1),
    ]

    @Test(arguments: compositionCases)
    func compositionScoresMatchAHandComputation(_ c: CompositionCase) {
        let s = CompositionScore(from: HeadRef(layer: 0, head: 0), to: HeadRef(layer: 1, head: 0), wOVa: c.ovA, wQKb: c.qkB, wOVb: c.ovB)
        #expect(close(s.q, c.q), "Q = \(String(describing: s.q)), expected \(c.q)")
        #expect(close(s.k, c.k), "K = \(String(describing: s.k)), expected \(c.k)")
        #expect(close(s.v, c.v), "V = \(String(describing: s.v)), expected \(c.v)")
    }

    @Test func aScoreWithAZeroFactorIsUndefined() {
        let s = CompositionScore(
            from: HeadRef(layer: 0, head: 0), to: HeadRef(layer: 1, head: 0),
            wOVa: Matrix(zeros: 4, 4), wQKb: unit(1, 2), wOVb: unit(2, 3))
        #expect(s.q == nil && s.k == nil && s.v == nil)
        #expect(CompositionScore.ratio(unit(0, 1), Matrix(zeros: 4, 4)) == nil)
    }

    /// The paper writes column vectors: W_QK^col = W_QK (the same matrix), W_OV^col = W_OV^T, and
    /// Q = ||W_QK^T W_OV^a,col||, K = ||W_QK W_OV^a,col||, V = ||W_OV^b,col W_OV^a,col||, each over the norms.
    @Test(arguments: [UInt64(1), 2, 3, 4])
    func scoresEqualThePapersColumnVectorFormulas(seed: UInt64) {
        let ovA = seededMatrix(seed), qkB = seededMatrix(seed &+ 100), ovB = seededMatrix(seed &+ 200)
        let s = CompositionScore(from: HeadRef(layer: 0, head: 0), to: HeadRef(layer: 1, head: 0), wOVa: ovA, wQKb: qkB, wOVb: ovB)
        func paper(_ m: Matrix, _ ov: Matrix) -> Double {
            m.multiplied(by: ov).frobeniusNorm / (m.frobeniusNorm * ov.frobeniusNorm)
        }
        #expect(close(s.q, paper(qkB.transposed, ovA.transposed)))
        #expect(close(s.k, paper(qkB, ovA.transposed)))
        #expect(close(s.v, paper(ovB.transposed, ovA.transposed)))
        for score in [s.q, s.k, s.v] { #expect((score ?? -1) >= 0 && (score ?? 2) <= 1) }
    }

    @Test func pairsRunFromEveryEarlierLayerToEveryLaterOneOnly() {
        let head = AttentionHead(wQK: unit(0, 1), wOV: unit(1, 2))
        let layer = AttentionLayer(heads: [head, head], bO: [0, 0, 0, 0])
        let model = Transformer(
            wE: Matrix.identity(4), wPos: nil, wU: Matrix.identity(4), bU: [0, 0, 0, 0],
            layers: [layer, layer, AttentionLayer(heads: [head], bO: [0, 0, 0, 0])],
            positional: .none, causal: true, attentionScale: 1)
        let pairs = CompositionScore.all(model).map { "\($0.from)>\($0.to)" }
        #expect(
            pairs == [
                "L0H0>L1H0", "L0H0>L1H1", "L0H0>L2H0", "L0H1>L1H0", "L0H1>L1H1", "L0H1>L2H0",
                "L1H0>L2H0", "L1H1>L2H0",
            ])
    }

    @Test func theInductionReferenceComposesThroughKeysOnly() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/induction-k-learned.json"))
        let analysis = CircuitAnalysis(spec: spec, model: model)
        let score = try #require(analysis.compositions.first)
        #expect(score.from.description == "L0H0" && score.to.description == "L1H0")
        #expect((score.k ?? 0) > 0.3)
        #expect(score.q == 0 && score.v == 0)
        // L0H0 writes prev:X and L1H0 copies tok:X to out:X, so the virtual head is zero.
        #expect(analysis.virtualHeads.first?.spectrum.rank == 0)
    }

    @Test func analysisMatchesTheModelsCircuitsAndEmbeddings() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/induction-k-learned.json"))
        let analysis = CircuitAnalysis(spec: spec, model: model)
        #expect(analysis.heads.map(\.head.description) == ["L0H0", "L1H0"])
        for h in analysis.heads {
            let head = model.layers[h.head.layer].heads[h.head.head]
            #expect(h.qk.values == head.wQK && h.ov.values == head.wOV)
            #expect(h.qkSpectrum.rank == head.wQK.rank() && h.ovSpectrum.rank == head.wOV.rank())
            // Learned positions: the inputs are the tokens, then one row per position.
            #expect(h.fullQK.rows == spec.inputTokens + (0..<spec.nCtx).map { "pos \($0)" })
            let tokenBlock = model.wE.multiplied(by: head.wQK).multiplied(by: model.wE.transposed)
            let positionBlock = try #require(model.wPos).multiplied(by: head.wQK).multiplied(by: model.wE.transposed)
            for (t, s) in [(0, 0), (2, 5), (6, 1)] { #expect(h.fullQK.values[t, s] == tokenBlock[t, s]) }
            for (p, s) in [(0, 6), (3, 2)] { #expect(h.fullQK.values[spec.inputTokens.count + p, s] == positionBlock[p, s]) }
            #expect(h.fullOV.values.shape == [spec.inputTokens.count + spec.nCtx, spec.outputs.count])
        }
    }

    @Test func shortformerPositionsReachQueriesAndKeysButNotValues() throws {
        let spec = try repoCatalog().spec("induction-k/shortformer")
        let template = try SubmissionLoader.load(try writeScratchFile(SubmissionTemplate(spec: spec).json, name: "short.json"))
        let analysis = CircuitAnalysis(spec: spec, model: try ModelBuilder.build(template, spec: spec))
        let head = try #require(analysis.heads.first)
        #expect(head.fullQK.rows.count == spec.inputTokens.count + spec.nCtx)
        #expect(head.fullOV.rows == spec.inputTokens)
    }

    @Test func foldingDropsExactlyTheAllZeroRowsAndColumns() {
        var m = Matrix(zeros: 3, 4)
        m[0, 1] = 2
        m[2, 3] = -1
        let folded = LabelledMatrix(m, rows: ["a", "b", "c"], columns: ["w", "x", "y", "z"]).folded
        #expect(folded.rows == ["a", "c"] && folded.columns == ["x", "z"])
        #expect(folded.values == Matrix([[2, 0], [0, -1]]))
        #expect(LabelledMatrix(Matrix(zeros: 2, 2), rows: ["a", "b"], columns: ["c", "d"]).folded.rows.isEmpty)
    }

    @Test func circuitsJSONCarriesEveryMatrixInFullWithItsSpectrum() throws {
        let path = repoPath("submissions/reference/induction-k-learned.json")
        let (_, spec, model) = try loadModel(path)
        let r = runCLI(["circuits", path, "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let doc = try #require(try JSONParser.parse(Array(r.out.utf8), file: "stdout").object)
        #expect(doc["schema"] == .string("circuit-grader/circuits@1"))
        let heads = try #require(doc["heads"]?.array)
        for (i, value) in heads.enumerated() {
            let h = try #require(value.object)
            let head = model.layers[i].heads[0]
            let qk = try #require(h["qk"]?.object)
            #expect(qk["rows"]?.array?.compactMap(\.string) == spec.layout.names)
            #expect(flatNumbers(qk["values"]) == head.wQK.values)
            #expect(flatNumbers(h["ov"]?.object?["values"]) == head.wOV.values)
            #expect(qk["rank"] == .number(Double(head.wQK.rank())))
            #expect(qk["singular_values"]?.array?.compactMap(\.number) == Array(head.wQK.singularValues.prefix(head.wQK.rank())))
        }
        let composition = try #require(doc["composition"]?.array?.first?.object)
        let expected = CompositionScore.all(model)[0]
        #expect(composition["k"] == expected.k.map(JSONValue.number))
        #expect(composition["q"] == .number(0))
    }

    @Test func circuitsTextShowsFoldedLabelledTablesAndTheScores() throws {
        let path = repoPath("submissions/reference/induction-k-learned.json")
        let (_, _, model) = try loadModel(path)
        let r = runCLI(["circuits", path])
        #expect(r.status == 0, "\(r.err)")
        #expect(!r.out.contains("\u{1B}["), "no colour when the output is not a terminal")
        #expect(r.out.contains("L1H0\n  QK circuit W_Q W_K^T"))
        let k = try #require(CompositionScore.all(model).first?.k)
        #expect(r.out.contains("L0H0 → L1H0         0 \(NumberText.rounded(k))     0"))
        // L1H0's QK: the tok:A row reads the BOS default and prev:A; the all-zero rows (pos:*) are folded.
        let lines = r.out.split(separator: "\n").map(String.init)
        let l1 = try #require(lines.firstIndex(of: "L1H0"))
        let header = try #require(lines[l1...].first { $0.contains("query \\ key") })
        #expect(header.contains("tok:BOS") && header.contains("prev:A") && !header.contains("pos:"))
        let row = try #require(lines[l1...].first { $0.hasPrefix("    tok:A ") })
        let qk = model.layers[1].heads[0].wQK
        let names = try repoCatalog().spec("induction-k/learned").layout.names
        let a = try #require(names.firstIndex(of: "tok:A")), prevA = try #require(names.firstIndex(of: "prev:A"))
        #expect(row.contains(NumberText.rounded(qk[a, prevA])))
    }

    @Test func circuitsNeedsOneFile() {
        let r = runCLI(["circuits"])
        #expect(r.status == 2)
        #expect(r.err.contains("circuits needs one submission file"))
    }
}

/// The numbers of a nested JSON array, flattened row by row.
func flatNumbers(_ value: JSONValue?) -> [Double] {
    (value?.array ?? []).flatMap { row in (row.array ?? []).compactMap(\.number) }
}

/// A fresh, empty temporary folder; returns its path.
func scratchFolder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("circuit-grader-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.path
}

/// Writes `text` to a fresh temporary folder as `name`; returns its path.
func writeScratchFile(_ text: String, name: String) throws -> String {
    let path = (try scratchFolder() as NSString).appendingPathComponent(name)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}
