import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

/// Similarity flags on small models built by hand: identical, scaled, scratch-permuted, and different.
struct SimilarityTests {
    /// A 1-layer model over 6 dims where dims 3, 4, 5 are scratch; the head writes dim 0 into scratch dim `s`
    /// and reads scratch dim `r` into dim 1.
    func model(write s: Int, read r: Int, scale: Double = 1, extra: Double = 0) -> Transformer {
        var qk = Matrix(zeros: 6, 6)
        qk[0, 0] = 2
        qk[s, r] = 1 + extra
        var ov = Matrix(zeros: 6, 6)
        ov[0, s] = scale
        ov[r, 1] = 3 * scale
        let head = AttentionHead(wQK: qk, wOV: ov)
        return Transformer(
            wE: Matrix.identity(6), wPos: nil, wU: Matrix.identity(6), bU: Array(repeating: 0, count: 6),
            layers: [AttentionLayer(heads: [head], bO: Array(repeating: 0, count: 6))],
            positional: .none, causal: true, attentionScale: 1)
    }

    @Test func flagsEachKindAndNothingElse() {
        let items: [(student: String, exercise: String, model: Transformer)] = [
            ("ann", "e", model(write: 3, read: 4)),
            ("ben", "e", model(write: 3, read: 4)),  // identical to ann
            ("cat", "e", model(write: 3, read: 4, scale: 2)),  // OV scaled
            ("dan", "e", model(write: 5, read: 3)),  // scratch dims renamed 3->5, 4->3
            ("eve", "e", model(write: 3, read: 4, extra: 0.5)),  // a different QK circuit
            ("fay", "other", model(write: 3, read: 4)),  // another exercise: never compared
        ]
        let flags = Similarity.flags(items, scratch: ["e": [3, 4, 5], "other": [3, 4, 5]])
        let found = Set(flags.map { "\($0.first)-\($0.second):\($0.kind)" })
        #expect(found.contains("ann-ben:identical"))
        #expect(found.contains("ann-cat:scaled"))
        #expect(found.contains("ann-dan:permuted"))
        #expect(found.contains("cat-dan:permuted"))
        #expect(!flags.contains { $0.first == "eve" || $0.second == "eve" })
        #expect(!flags.contains { $0.first == "fay" || $0.second == "fay" })
        #expect(flags.count == 6)  // ann, ben, cat, dan pairwise
    }
}
