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

/// Every submission format loads into the same model: identical logits on the same sequences.
struct LoaderTests {
    static let formats = [
        "dense.json", "anthropic.json", "circuits.json", "circuits-anthropic.json", "state-dict.json",
        "state.npz", "state.safetensors", "csv", "npy",
    ]

    func fixture(_ name: String) throws -> String {
        let base = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return base.appendingPathComponent("formats").appendingPathComponent(name).path
    }

    /// Sequences covering every token, repeats, and the longest context.
    static let sequences: [[Int]] = [[4, 0], [4, 0, 2, 0], [4, 1, 2, 3], [4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], [4, 3, 0, 1]]

    @Test(arguments: formats)
    func formatGivesTheReferenceLogits(_ name: String) throws {
        let (_, _, reference) = try loadModel(repoPath("submissions/reference/current-token-nopos.json"))
        // An .npz has no place to name its exercise; the CLI's --exercise covers it.
        let (submission, spec, model) = try loadModel(try fixture(name), exercise: "current-token/nopos")
        #expect(submission.exercise == (name == "state.npz" ? nil : "current-token/nopos"))
        #expect(spec.id == "current-token/nopos")
        for s in Self.sequences {
            let a = reference.forward(s).logits
            let b = model.forward(s).logits
            // Factored and circuit forms sum in different orders; 1e-12 relative is far below any margin.
            for (x, y) in zip(a.values, b.values) { #expect(abs(x - y) <= 1e-12 * max(1, abs(x)), "\(name) \(s)") }
        }
        let report = Grader(spec: spec).grade(model, submission: submission)
        #expect(report.passed, "\(name)")
    }

    @Test func factoredFormatsGiveBitIdenticalLogits() throws {
        let (_, _, reference) = try loadModel(try fixture("dense.json"))
        for name in ["anthropic.json", "state-dict.json", "state.npz", "state.safetensors", "csv", "npy"] {
            let (_, _, model) = try loadModel(try fixture(name), exercise: "current-token/nopos")
            for s in Self.sequences { #expect(reference.forward(s).logits == model.forward(s).logits, "\(name)") }
        }
    }

    @Test func stateDictBuffersAreIgnoredButLayerNormIsRefused() throws {
        let path = try fixture("state-dict.json")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("blocks.0.attn.IGNORE"))
        let withLN = text.replacingOccurrences(of: "\"exercise\"", with: "\"blocks.0.ln1.w\": [1, 1], \"exercise\"")
        #expect(throws: GraderError.self) { try JSONSubmission.parse(Array(withLN.utf8), file: "x.json") }
        do { _ = try JSONSubmission.parse(Array(withLN.utf8), file: "x.json") } catch let e as GraderError {
            #expect(e.description.contains("LayerNorm"))
        }
    }

    @Test func circuitFormRankIsBoundedByTheExercisesDHead() throws {
        // current-token/nopos allows d_head <= 4: an identity W_QK on 13 dims has rank 13.
        let dims = 13
        let identity = (0..<dims).map { r in (0..<dims).map { $0 == r ? "1" : "0" }.joined(separator: ",") }
        let json =
            "{\"exercise\": \"current-token/nopos\", \"layers\": [{\"heads\": [{\"W_QK\": [\(identity.map { "[\($0)]" }.joined(separator: ","))], \"W_OV\": [\(identity.map { "[\($0)]" }.joined(separator: ","))]}]}]}"
        let submission = try JSONSubmission.parse(Array(json.utf8), file: "rank.json")
        let spec = try repoCatalog().spec("current-token/nopos")
        #expect(
            throws: GraderError(
                file: "rank.json", location: "layers[0].heads[0].W_QK",
                "has rank 13, but a head of this exercise has d_head <= 4, so its W_QK can have rank at most 4")
        ) {
            try ModelBuilder.build(submission, spec: spec)
        }
    }
}

/// CSV files as spreadsheets write them.
struct CSVTests {
    @Test func windowsLineEndingsReadLikeUnixOnes() throws {
        let unix = ",a,b\nx,1,2\ny,3,4\n"
        let windows = unix.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try CSVMatrix.parse(windows, file: "w.csv", location: "W") == CSVMatrix.parse(unix, file: "u.csv", location: "W"))
        guard case .dense(let m, let rows, let columns) = try CSVMatrix.parse(windows, file: "w.csv", location: "W") else {
            Issue.record("expected a dense matrix"); return
        }
        #expect(m == Matrix([[1, 2], [3, 4]]) && rows == ["x", "y"] && columns == ["a", "b"])
    }

    @Test func repeatedNamesAreErrors() {
        #expect(throws: GraderError(file: "d.csv", location: "W", "the row name \"x\" appears twice")) {
            try CSVMatrix.parse(",a,b\nx,1,2\nx,3,4\n", file: "d.csv", location: "W")
        }
        #expect(throws: GraderError(file: "d.csv", location: "W", "the column name \"a\" appears twice")) {
            try CSVMatrix.parse(",a,a\nx,1,2\n", file: "d.csv", location: "W")
        }
    }
}
