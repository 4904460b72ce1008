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

/// A table of malformed submissions: each must give exit status 2 and one line naming the file, the
/// matrix and what was expected.
struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var id: String
        var file: String
        var content: String
        var message: String
        var testDescription: String { id }
    }

    static let head = #"{"W_Q": {"tok:A": {"q": 1}}, "W_K": {"tok:A": {"q": 1}}, "W_V": {"tok:A": {"v": 1}}, "W_O": {"v": {"out:B": 1}}}"#
    static func doc(_ heads: String = "[\(head)]", extra: String = "") -> String {
        #"{"exercise": "current-token/nopos", "layers": [{"heads": \#(heads)}]\#(extra)}"#
    }

    static let cases: [Case] = [
        Case(id: "empty file", file: "a.json", content: "", message: "invalid JSON: the file ends where a value was expected"),
        Case(id: "truncated JSON", file: "a.json", content: String(doc().dropLast(9)), message: "(truncated?)"),
        Case(id: "not an object", file: "a.json", content: "[1, 2]", message: "expected a JSON object"),
        Case(
            id: "NaN literal", file: "a.json", content: doc().replacingOccurrences(of: "\"q\": 1}}, \"W_K\"", with: "\"q\": NaN}}, \"W_K\""),
            message: "layers[0].heads[0].W_Q.tok:A.q: found nan; every weight must be a finite number"),
        Case(
            id: "overflowing number", file: "a.json", content: doc().replacingOccurrences(of: "\"q\": 1}}, \"W_K\"", with: "\"q\": 1e999}}, \"W_K\""),
            message: "overflows a 64-bit float"),
        Case(
            id: "weight too large", file: "a.json", content: doc().replacingOccurrences(of: "\"q\": 1}}, \"W_K\"", with: "\"q\": 1e9}}, \"W_K\""),
            message: "layers[0].heads[0].W_Q.tok:A.q: found 1000000000.0; weights must lie within ±1000000"),
        Case(
            id: "string instead of number", file: "a.json", content: doc().replacingOccurrences(of: "\"q\": 1}}, \"W_K\"", with: "\"q\": \"1\"}}, \"W_K\""),
            message: "W_Q.tok:A.q: expected a number, found a string"),
        Case(id: "unknown top-level key", file: "a.json", content: doc(extra: #", "W_X": 1"#), message: "unknown key \"W_X\""),
        Case(id: "unknown head key", file: "a.json", content: doc().replacingOccurrences(of: "\"W_O\"", with: "\"W_0\""), message: "unknown key \"W_0\""),
        Case(
            id: "unknown residual dim", file: "a.json", content: doc().replacingOccurrences(of: "out:B", with: "out:Z"),
            message: "unknown residual dim name \"out:Z\""),
        Case(
            id: "missing matrix", file: "a.json", content: doc(#"[{"W_Q": {"tok:A": {"q": 1}}, "W_K": {"tok:A": {"q": 1}}, "W_V": {"tok:A": {"v": 1}}}]"#),
            message: "layers[0].heads[0].W_O: is missing"),
        Case(
            id: "wrong dense shape", file: "a.json", content: doc(#"[{"W_Q": [[1, 0], [0, 1]], "W_K": [[1, 0], [0, 1]], "W_V": [[1]], "W_O": [[1]]}]"#),
            message: "layers[0].heads[0].W_Q: expected shape [13, 2] (13 residual dims × 2 head dims), found [2, 2]"),
        Case(
            id: "ragged rows", file: "a.json", content: doc(#"[{"W_Q": [[1, 0], [0]], "W_K": [[1]], "W_V": [[1]], "W_O": [[1]]}]"#),
            message: "row 1 has 1 value but row 0 has 2"),
        Case(
            id: "d_head mismatch", file: "a.json", content: doc(#"[{"W_Q": [[1,0]], "W_K": [[1,0,0]], "W_V": [[1]], "W_O": [[1]]}]"#),
            message: "W_Q has d_head = 2 but W_K has d_head = 3"),
        Case(
            id: "too many heads", file: "a.json", content: doc("[\(head), \(head)]"),
            message: "has 2 heads; exercise current-token/nopos allows 1 to 1 per layer"),
        Case(
            id: "too many layers", file: "a.json", content: #"{"exercise": "current-token/nopos", "layers": [{"heads": [\#(head)]}, {"heads": [\#(head)]}]}"#,
            message: "has 2 layers; exercise current-token/nopos allows at most 1"),
        Case(
            id: "d_head over the limit", file: "a.json",
            content: doc(
                #"[{"W_Q": {"tok:A": {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}}, "W_K": {"tok:A": {"a": 1}}, "W_V": {"tok:A": {"v": 1}}, "W_O": {"v": {"out:B": 1}}}]"#
            ), message: "W_Q/W_K uses d_head = 5 dims; exercise current-token/nopos allows at most 4"),
        Case(
            id: "changed fixed unembedding", file: "a.json", content: doc(extra: #", "b_U": {"none": 0.1}"#),
            message: "b_U: differs from the exercise's fixed b_U at [b_U, none]: expected 0.5, found 0.1"),
        Case(id: "positional table on a no-position exercise", file: "a.json", content: doc(extra: #", "W_pos": [[1]]"#), message: "W_pos"),
        Case(
            id: "unknown exercise", file: "a.json", content: doc().replacingOccurrences(of: "current-token/nopos", with: "current-token/nope"),
            message: "unknown exercise \"current-token/nope\""),
        Case(id: "no exercise named", file: "a.json", content: #"{"layers": []}"#, message: "does not name its exercise"),
        Case(id: "no layers", file: "a.json", content: #"{"exercise": "current-token/nopos", "layers": []}"#, message: "has no layers"),
        Case(
            id: "mixed forms", file: "a.json", content: doc(#"[{"W_Q": [[1]], "W_QK": [[1]]}]"#), message: "mixes factored matrices (W_Q) with circuits (W_QK)"),
        Case(
            id: "biases on circuits", file: "a.json", content: doc(#"[{"W_QK": {"tok:A": {"tok:A": 1}}, "W_OV": {"tok:A": {"out:B": 1}}, "b_Q": [1]}]"#),
            message: "biases need the factored form"),
        Case(id: "compressed npz", file: "a.npz", content: "", message: ""),
        Case(id: "unsupported extension", file: "a.txt", content: "hello", message: "unsupported file type \".txt\""),
        Case(id: "single npy", file: "a.npy", content: "x", message: "a .npy file holds one array"),
        Case(
            id: "state dict wrong rank", file: "a.json", content: #"{"exercise": "current-token/nopos", "blocks.0.attn.W_Q": [[1, 2]]}"#,
            message: "blocks.0.attn.W_Q: expected 3 dimensions [n_heads, d_model, d_head], found shape [1, 2]"),
        Case(
            id: "state dict missing layer", file: "a.json", content: #"{"exercise": "current-token/nopos", "blocks.1.attn.b_O": [1]}"#,
            message: "layer 0 is missing"),
        Case(
            id: "state dict MLP", file: "a.json", content: #"{"exercise": "current-token/nopos", "blocks.0.mlp.W_in": [[1]]}"#,
            message: "MLP parameters are not part of the graded model"),
        Case(
            id: "deep nesting", file: "a.json", content: String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
            message: "nested deeper than 64 levels"),
        Case(id: "duplicate key", file: "a.json", content: #"{"exercise": "a", "exercise": "b"}"#, message: "duplicate key \"exercise\""),
    ]

    @Test(arguments: cases.filter { $0.id != "compressed npz" })
    func badSubmissionExitsTwoWithAClearLine(_ c: Case) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(c.file).path
        try Data(c.content.utf8).write(to: URL(fileURLWithPath: path))
        let r = runCLI(["check", path])
        #expect(r.status == 2, "\(c.id): \(r.out)")
        #expect(r.err.hasPrefix("error: \(path)"), "\(c.id): \(r.err)")
        #expect(r.err.contains(c.message), "\(c.id): \(r.err)")
        #expect(r.err.split(separator: "\n").count == 1, "\(c.id): \(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test func oversizedFileIsRefusedBeforeReading() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-big-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.json").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(InputLimits.maxFileBytes + 1))
        try handle.close()
        let r = runCLI(["check", path])
        #expect(r.status == 2)
        #expect(r.err.contains("at most \(InputLimits.maxFileBytes) are accepted"))
    }

    /// Random bytes and random mutations of a valid submission never crash the JSON path.
    @Test func mutatedJSONNeverCrashes() throws {
        let valid = Array(Self.doc().utf8)
        var random = SeededRandom(seed: 11)
        let spec = try repoCatalog().spec("current-token/nopos")
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<random.int(in: 1...4) {
                let i = random.int(in: 0...(bytes.count - 1))
                switch random.int(in: 0...2) {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: i)
                default: bytes = Array(bytes[..<i])
                }
                if bytes.isEmpty { break }
            }
            do {
                let s = try JSONSubmission.parse(bytes, file: "m.json")
                _ = try ModelBuilder.build(s, spec: spec)
            } catch is GraderError {
                continue
            }
        }
    }
}
