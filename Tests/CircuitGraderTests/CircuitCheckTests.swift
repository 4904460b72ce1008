import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

/// Circuit checks on a known model: the virtual-head reference, whose first head copies d0-3 to d8-11.
struct CircuitCheckTests {
    func evaluate(_ product: [String], rows: [String]? = nil, columns: [String]? = nil, _ predicate: CircuitCheck.Predicate) throws -> Bool {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/virtual-head-ov.json"))
        let factors = try product.map { text -> CircuitCheck.Factor in
            let parts = text.split(separator: ".")
            let head = try #require(HeadRef(String(parts[0])))
            let kind = try #require(CircuitCheck.Factor.Kind(rawValue: String(parts[1])))
            return CircuitCheck.Factor(head: head, kind: kind)
        }
        let check = CircuitCheck(id: "t", title: "t", product: factors, rows: rows, columns: columns, predicate: predicate)
        return CircuitEvaluator(spec: spec, model: model).evaluate(check, index: 0).correct
    }

    @Test func copiesReadsRowsAsSourcesAndColumnsAsDestinations() throws {
        let from = (0...3).map { "d\($0)" }, to = (8...11).map { "d\($0)" }
        #expect(try evaluate(["L0H0.OV"], .copies(from: from, to: to)))
        #expect(try !evaluate(["L0H0.OV"], .copies(from: to, to: from)))
        // The transpose copies the other way.
        #expect(try evaluate(["L0H0.OV^T"], .copies(from: to, to: from)))
    }

    @Test func ranksOfProductsAndTransposes() throws {
        #expect(try evaluate(["L0H0.OV"], .rankEquals(4)))
        // W W^T has the rank of W.
        #expect(try evaluate(["L0H0.OV", "L0H0.OV^T"], .rankEquals(4)))
        #expect(try !evaluate(["L0H0.OV"], .rankAtMost(3)))
        // The head writes only d8-11, so its OV circuit restricted to other columns is zero.
        #expect(try evaluate(["L0H0.OV"], columns: (0...7).map { "d\($0)" }, .zero))
        #expect(try evaluate(["L0H0.OV"], columns: ["d8"], .nonzero))
    }

    /// A one-head model over the virtual-head frame whose OV copies d0 → d8 with gain `strong` and d1 → d9 with
    /// gain `faint`, with value bias `bV`.
    func twoPathModel(strong: Double, faint: Double, bV: [Double] = [0, 0]) throws -> (ExerciseSpec, Transformer) {
        let (_, spec, reference) = try loadModel(repoPath("submissions/reference/virtual-head-ov.json"))
        let n = reference.dModel
        var wV = Matrix(zeros: n, 2), wO = Matrix(zeros: 2, n)
        wV[0, 0] = strong
        wV[1, 1] = faint
        wO[0, 8] = 1
        wO[1, 9] = 1
        let head = AttentionHead(wQ: Matrix(zeros: n, 1), wK: Matrix(zeros: n, 1), wV: wV, wO: wO, bV: bV)
        let layers = [AttentionLayer(heads: [head], bO: Array(repeating: 0, count: n))]
        return (spec, reference.replacing(layers: layers))
    }

    func evaluate(_ spec: ExerciseSpec, _ model: Transformer, _ check: CircuitCheck) -> (Bool, String) {
        let r = CircuitEvaluator(spec: spec, model: model).evaluate(check, index: 0)
        return (r.correct, r.found)
    }

    @Test("min_gain: a path of gain 1e-7 beside one of gain 1 does not count toward a rank, a non-zero block or a copy")
    func minGainIgnoresFaintPaths() throws {
        let ov = [CircuitCheck.Factor(head: HeadRef(layer: 0, head: 0), kind: .ov)]
        let (spec, faint) = try twoPathModel(strong: 1, faint: 1e-7)
        let (_, even) = try twoPathModel(strong: 1, faint: 0.5)
        var rank = CircuitCheck(id: "r", title: "r", product: ov, rows: nil, columns: nil, predicate: .rankEquals(2))
        #expect(evaluate(spec, faint, rank).0)  // without min_gain the faint path counts (1e-7 > 1e-9 of the top)
        rank.minGain = 0.1
        #expect(evaluate(spec, faint, rank) == (false, "rank 1 counting gains ≥ 0.1"))
        #expect(evaluate(spec, even, rank).0)  // 0.5 ≥ 0.1 × 1
        var block = CircuitCheck(id: "b", title: "b", product: ov, rows: ["d1"], columns: ["d9"], predicate: .nonzero, minGain: 0.1)
        #expect(!evaluate(spec, faint, block).0)
        block.minGain = nil
        #expect(evaluate(spec, faint, block).0)
        let copy = CircuitCheck(
            id: "c", title: "c", product: ov, rows: nil, columns: nil, predicate: .copies(from: ["d1"], to: ["d9"]), minGain: 0.1)
        #expect(!evaluate(spec, faint, copy).0 && evaluate(spec, even, copy).0)
    }

    @Test("unbiased: a bias on the checked circuit fails the check and is named; the same weights without it pass")
    func unbiasedRefusesBiases() throws {
        let ov = [CircuitCheck.Factor(head: HeadRef(layer: 0, head: 0), kind: .ov)]
        let (spec, clean) = try twoPathModel(strong: 1, faint: 1)
        let (_, biased) = try twoPathModel(strong: 1, faint: 1, bV: [0, 0.25])
        let check = CircuitCheck(id: "u", title: "u", product: ov, rows: nil, columns: nil, predicate: .rankEquals(2), unbiased: true)
        #expect(evaluate(spec, clean, check).0)
        let (passed, found) = evaluate(spec, biased, check)
        #expect(!passed && found.hasPrefix("L0H0 has b_V[1] = 0.25"))
        // A QK check does not look at b_V.
        let qk = CircuitCheck(
            id: "q", title: "q", product: [.init(head: HeadRef(layer: 0, head: 0), kind: .qk)], rows: nil, columns: nil,
            predicate: .zero, unbiased: true)
        #expect(evaluate(spec, biased, qk).0)
    }

    @Test("the parser reads min_gain and unbiased, and refuses a min_gain outside (0, 1] or on a zero check")
    func parserReadsMinGainAndUnbiased() throws {
        let (_, spec, _) = try loadModel(repoPath("submissions/reference/virtual-head-ov.json"))
        let frame = SpecParser.Frame(
            vocab: spec.vocab, bos: spec.bos, outputs: spec.outputs, layout: spec.layout, nCtx: spec.nCtx, positional: spec.positional,
            dHead: spec.limits.dHead)
        func parse(_ json: String) throws -> CircuitCheck {
            let value = try JSONParser.parse(Array(json.utf8), file: "t.json")
            return try CircuitParser.parse(try JSONFields(value, file: "t.json", path: "c", allowed: CircuitParser.keys), frame: frame)
        }
        let check = try parse(#"{"id": "r", "product": ["L0H0.OV"], "rank_equals": 4, "min_gain": 0.1, "unbiased": true}"#)
        #expect(check.minGain == 0.1 && check.unbiased)
        for (json, message) in [
            (#"{"id": "r", "product": ["L0H0.OV"], "rank_equals": 4, "min_gain": 0}"#, "in (0, 1]"),
            (#"{"id": "r", "product": ["L0H0.OV"], "rank_equals": 4, "min_gain": 1.5}"#, "in (0, 1]"),
            (#"{"id": "z", "product": ["L0H0.OV"], "zero": true, "min_gain": 0.1}"#, "applies to rank, nonzero and copies checks"),
        ] {
            #expect(throws: GraderError.self) { try parse(json) }
            do { _ = try parse(json) } catch { #expect("\(error)".contains(message), "\(error)") }
        }
    }

    @Test func aMissingHeadFailsTheCheck() throws {
        #expect(try !evaluate(["L5H0.OV"], .nonzero))
    }
}
