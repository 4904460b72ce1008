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

    @Test func aMissingHeadFailsTheCheck() throws {
        #expect(try !evaluate(["L5H0.OV"], .nonzero))
    }
}
