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

/// A fresh temporary folder for one test.
func temporaryFolder(_ tag: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cg-\(tag)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes `text` to `path`.
func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// Files written by real TransformerLens models (3.9.0 HookedTransformer and 4.3.0 TransformerBridge, by
/// Tools/make_transformerlens_fixtures.py), and the loader rules they need.
struct TransformerLensTests {
    static func fixture(_ name: String) throws -> String {
        let base = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return base.appendingPathComponent("transformerlens").appendingPathComponent(name).path
    }

    /// Each fixture, its exercise and the exit status `check` must give.
    struct Case: CustomTestStringConvertible, Sendable {
        let file: String
        let exercise: String
        let status: Int32
        var testDescription: String { "\(file) grades \(status == 0 ? "as passing" : "as failing")" }
    }

    static let cases: [Case] =
        ["tl3", "tl4"].flatMap { generation in
            ["safetensors", "npz", "npy", "json"].flatMap { ext in
                [
                    Case(file: "\(generation)-current-token-nopos.\(ext)", exercise: "current-token/nopos", status: 0),
                    Case(file: "\(generation)-pointer-arithmetic-sinusoidal.\(ext)", exercise: "pointer-arithmetic/sinusoidal", status: 0),
                ]
            }
        }
        + ["tl3", "tl4"].map { Case(file: "\($0)-init-current-token-nopos.safetensors", exercise: "current-token/nopos", status: 1) }

    @Test(arguments: cases)
    func realTransformerLensFilesGrade(_ c: Case) throws {
        let r = runCLI(["check", try Self.fixture(c.file), "--exercise", c.exercise, "--budget", "0"])
        #expect(r.status == c.status, "\(r.err)\(r.out.suffix(400))")
        #expect(r.err.isEmpty)
    }

    /// Every exercise's init script, run once with TransformerLens 3.9.0, in float32 and float64: the zero-head
    /// model it saves loads and grades (it fails, or passes where zero heads are a solution; never an input error).
    /// TransformerLens 4.3.0 likewise, shortformer exercises aside (the bridge has no shortformer positions).
    @Test(arguments: ["", "tl4-"], ["f32", "f64"])
    func everyExercisesInitScriptSavesAFileThatGrades(_ generation: String, _ dtype: String) throws {
        for spec in try repoCatalog().specs where generation.isEmpty || spec.positional != .shortformer {
            let file = try Self.fixture("every/\(generation)\(spec.id.replacingOccurrences(of: "/", with: "-"))-\(dtype).safetensors")
            let r = runCLI(["check", file, "--budget", "0"])
            #expect(r.status == 0 || r.status == 1, "\(spec.id) \(dtype): \(r.err)")
            #expect(r.err.isEmpty, "\(spec.id) \(dtype): \(r.err)")
        }
    }

    @Test func theFixturesCarryTheBuffersAndFloat32TheIssueIsAbout() throws {
        let tensors = try NPZReader.read(try SubmissionLoader.readFile(try Self.fixture("tl3-pointer-arithmetic-sinusoidal.npz")), file: "f")
        let ignore = try #require(tensors.first { $0.name == "blocks.0.attn.IGNORE" })
        #expect(ignore.tensor.values == [-.infinity])
        #expect(tensors.contains { $0.name == "blocks.0.attn.mask" })
        #expect(tensors.first { $0.name == "pos_embed.W_pos" }?.tensor.precision == 0x1p-23)
        let json = String(decoding: try SubmissionLoader.readFile(try Self.fixture("tl3-current-token-nopos.json")), as: UTF8.self)
        #expect(json.contains("\"blocks.0.attn.IGNORE\": -Infinity"))
        let bridge = try SafetensorsReader.read(try SubmissionLoader.readFile(try Self.fixture("tl4-pointer-arithmetic-sinusoidal.safetensors")), file: "f")
        #expect(bridge.tensors.first { $0.name == "blocks.0.attn.q.weight" }?.tensor.shape == [32, 25])
        #expect(bridge.metadata["n_heads"] == "4")
    }

    @Test func bothGenerationsGiveTheSameModelAsTheReference() throws {
        let (_, _, reference) = try loadModel(repoPath("submissions/reference/pointer-arithmetic-sinusoidal.json"))
        for name in ["tl3-pointer-arithmetic-sinusoidal.safetensors", "tl4-pointer-arithmetic-sinusoidal.safetensors"] {
            let (_, _, model) = try loadModel(try Self.fixture(name), exercise: "pointer-arithmetic/sinusoidal")
            for s in [[4, 0, 1, 2, 0], [4, 3, 3, 1, 2, 3, 0, 1]] {
                for (a, b) in zip(reference.forward(s).logits.values, model.forward(s).logits.values) {
                    #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "\(name) on \(s)")
                }
            }
        }
    }

    /// The grader reproduces the logits TransformerLens computed on the same files (float32 there: 1e-5).
    @Test(arguments: [
        ("tl3-current-token-nopos", "safetensors"), ("tl3-pointer-arithmetic-sinusoidal", "json"),
        ("tl4-current-token-nopos", "npz"), ("tl4-pointer-arithmetic-sinusoidal", "safetensors"),
    ])
    func logitsAgreeWithTransformerLensItself(_ stem: String, _ ext: String) throws {
        let expected = try JSONParser.parse(try SubmissionLoader.readFile(try Self.fixture(stem + ".logits.json")), file: "logits")
        let exercise = try #require(expected.object?["exercise"]?.string)
        let (_, _, model) = try loadModel(try Self.fixture("\(stem).\(ext)"), exercise: exercise)
        let cases = try #require(expected.object?["cases"]?.array)
        #expect(cases.count == 3)
        for c in cases {
            let tokens = (c.object?["tokens"]?.array ?? []).compactMap { $0.integer }
            let rows = (c.object?["logits"]?.array ?? []).map { ($0.array ?? []).compactMap { $0.number } }
            let logits = model.forward(tokens).logits
            #expect(logits.rows == rows.count)
            for (p, row) in rows.enumerated() {
                for (o, x) in row.enumerated() {
                    #expect(abs(logits[p, o] - x) <= 1e-5 * max(1, abs(x)), "\(stem) \(tokens) position \(p) output \(o)")
                }
            }
        }
    }

    // MARK: state dicts written here, one rule each

    /// A TransformerLens-named JSON state dict for current-token/nopos with `extra` keys (JSON text) added.
    func stateDict(_ extra: [String: String], removing: Set<String> = []) throws -> String {
        let base = try JSONParser.parse(try SubmissionLoader.readFile(try Self.fixture("tl3-current-token-nopos.json")), file: "f", pythonNonFinite: true)
        let object = try #require(base.object)
        var members = object.members.filter { !removing.contains($0.key) && extra[$0.key] == nil && $0.key != "blocks.0.attn.IGNORE" }
            .map { "\(JSONWriter.write(.string($0.key)).trimmingCharacters(in: .whitespacesAndNewlines)): \(JSONWriter.write($0.value))" }
        members += extra.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }
        let path = (try temporaryFolder("tl") as NSString).appendingPathComponent("sub.json")
        try write("{" + members.joined(separator: ",\n") + "}", to: path)
        return path
    }

    func error(_ path: String, exercise: String = "current-token/nopos") -> String {
        do {
            _ = try loadModel(path, exercise: exercise)
            return ""
        } catch { return "\(error)" }
    }

    @Test func jsonDumpsInfinityIsSkippedForIgnoreAndNamedElsewhere() throws {
        #expect(error(try stateDict(["blocks.0.attn.IGNORE": "-Infinity"])) == "")
        let message = error(try stateDict(["unembed.b_U": "[0, 0, 0, 0, -Infinity]"]))
        #expect(message.contains("unembed.b_U") && message.contains("finite"), "\(message)")
    }

    @Test func anAllZeroWPosIsAcceptedWithoutPositionsAndANonZeroOneRefused() throws {
        let zeros = "[" + Array(repeating: "[" + Array(repeating: "0", count: 13).joined(separator: ",") + "]", count: 12).joined(separator: ",") + "]"
        #expect(error(try stateDict(["pos_embed.W_pos": zeros])) == "")
        let nonZero = zeros.replacingOccurrences(of: "[[0,", with: "[[0.5,")
        let message = error(try stateDict(["pos_embed.W_pos": nonZero]))
        #expect(message.contains("W_pos") && message.contains("non-zero") && message.contains("no positional encoding"), "\(message)")
    }

    @Test func toleranceFollowsTheStoredDtype() {
        #expect(Embeddings.tolerance(precision: nil, values: [0.123456789012]) == 1e-9)
        #expect(Embeddings.tolerance(precision: 0x1p-23, values: [0.1]) == 8 * 0x1p-23)
        #expect(Embeddings.tolerance(precision: 0x1p-7, values: []) == 8 * 0x1p-7)
        // Text holding float32 values (tolist() of a float32 tensor) counts as float32.
        #expect(Embeddings.tolerance(precision: nil, values: [Double(Float(0.1)), 1]) == 8 * 0x1p-23)
        #expect(Embeddings.tolerance(precision: nil, values: [0.84147098480789650, 1]) == 1e-9)
        // pandas writes float32 in its shortest form, which reads back as that float32 value.
        #expect(Embeddings.tolerance(precision: nil, values: [0.84147096]) == 8 * 0x1p-23)
    }

    @Test func aFloat32WPosOffByMoreThanItsToleranceIsStillRefused() throws {
        let path = try Self.fixture("tl3-pointer-arithmetic-sinusoidal.npz")
        var submission = try SubmissionLoader.load(path)
        let spec = try repoCatalog().spec("pointer-arithmetic/sinusoidal")
        guard case .dense(var m, _, _) = submission.embeddings["W_pos"] else { Issue.record("no W_pos"); return }
        m[3, 0] += 1e-4
        submission.embeddings["W_pos"] = .dense(m, rowLabels: nil, columnLabels: nil)
        #expect(throws: GraderError.self) { try ModelBuilder.build(submission, spec: spec) }
    }

    @Test func bridgeFilesNeedTheirHeadCountWhereTheExerciseAllowsSeveralHeads() throws {
        let path = try Self.fixture("tl4-pointer-arithmetic-sinusoidal.npz")
        var tensors = try NPZReader.read(try SubmissionLoader.readFile(path), file: path)
        tensors.removeAll { $0.name == TransformerLensNames.headCountKey }
        let s = try StateDict.submission(tensors, file: path, exercise: nil, convention: .transformerLens)
        #expect(s.headCountUnknown)
        let spec = try repoCatalog().spec("pointer-arithmetic/sinusoidal")
        #expect(performing: { try ModelBuilder.build(s, spec: spec) }, throws: { "\($0)".contains("n_heads") })
        // One head per layer: nothing to split, so the count is not needed.
        let single = try Self.fixture("tl4-current-token-nopos.safetensors")
        var one = try SafetensorsReader.read(try SubmissionLoader.readFile(single), file: single).tensors
        one.removeAll { $0.name == TransformerLensNames.headCountKey }
        let model = try ModelBuilder.build(
            try StateDict.submission(one, file: single, exercise: nil, convention: .transformerLens), spec: try repoCatalog().spec("current-token/nopos"))
        #expect(model.layers[0].heads.count == 1)
    }

    @Test func namesTellTheGenerationsApartAndMixingThemIsRefused() throws {
        let t = Tensor(shape: [5, 25], values: Array(repeating: 0, count: 125))
        #expect(
            performing: { try StateDict.submission([("embed.W_E", t), ("embed.weight", t)], file: "f", exercise: nil, convention: .transformerLens) },
            throws: { "\($0)".contains("mixes TransformerLens 3.x names") })
        // A 4.x weight is [out, in]: q.weight [n_heads·d_head, d_model] becomes W_Q[h] = rows h·d_head..<(h+1)·d_head, transposed.
        let q = Tensor(shape: [4, 3], values: (0..<12).map(Double.init))
        let o = Tensor(shape: [3, 4], values: (0..<12).map(Double.init))
        let s = try StateDict.submission(
            [("blocks.0.attn.q.weight", q), ("blocks.0.attn.o.weight", o), (TransformerLensNames.headCountKey, Tensor(shape: [], values: [2]))],
            file: "f", exercise: nil, convention: .transformerLens)
        #expect(s.layers[0].heads.count == 2)
        #expect(s.layers[0].heads[1].matrices["W_Q"] == .dense(Matrix(rows: 3, columns: 2, values: [6, 9, 7, 10, 8, 11]), rowLabels: nil, columnLabels: nil))
        #expect(s.layers[0].heads[1].matrices["W_O"] == .dense(Matrix(rows: 2, columns: 3, values: [2, 6, 10, 3, 7, 11]), rowLabels: nil, columnLabels: nil))
        #expect(s.attentionDivisor == 2.0.squareRoot())
    }

    @Test func attentionScaleOneOverSqrtDHeadUsesTheModelsDHead() throws {
        let root = try temporaryFolder("scale")
        let text = String(decoding: try SubmissionLoader.readFile(repoPath("exercises/current-token/nopos.json")), as: UTF8.self)
            .replacingOccurrences(of: "\"attention_scale\": 1,", with: "\"attention_scale\": \"1/sqrt(d_head)\",")
        try write(text, to: (root as NSString).appendingPathComponent("spec.json"))
        let spec = try ExerciseCatalog(root: root).spec("current-token/nopos")
        #expect(spec.attentionScaleFollowsDHead && spec.attentionScale == 0.5)
        // The reference uses two QK head dims: TransformerLens would scale by 1/sqrt(2), not 1/sqrt(4).
        let model = try ModelBuilder.build(try SubmissionLoader.load(repoPath("submissions/reference/current-token-nopos.json")), spec: spec)
        #expect(model.attentionScale == 1 / 2.0.squareRoot())
    }

    @Test func aTransposedMatrixSaysSo() throws {
        let path = (try temporaryFolder("t") as NSString).appendingPathComponent("sub.json")
        let wide = "[" + Array(repeating: "[" + Array(repeating: "0", count: 13).joined(separator: ",") + "]", count: 4).joined(separator: ",") + "]"
        let tall = "[" + Array(repeating: "[0,0,0,0]", count: 13).joined(separator: ",") + "]"
        try write(
            #"{"exercise": "current-token/nopos", "layers": [{"heads": [{"W_Q": \#(wide), "W_K": \#(tall), "W_V": \#(tall), "W_O": \#(wide)}]}]}"#, to: path)
        let message = error(path)
        #expect(message.contains("W_Q: found shape [4, 13], expected [13, 4] ([d_model, d_head], d_model = 13): transposed?"), "\(message)")
    }

    @Test func anUnknownDimNameGetsADidYouMean() throws {
        let path = (try temporaryFolder("d") as NSString).appendingPathComponent("sub.json")
        try write(
            #"{"exercise": "current-token/nopos", "layers": [{"heads": [{"W_Q": {"tok:a": {"0": 1}}, "W_K": {"tok:A": {"0": 1}}, "W_V": {}, "W_O": {}}]}]}"#,
            to: path)
        let message = error(path)
        #expect(message.contains("unknown residual dim name \"tok:a\" (did you mean \"tok:A\"?)"), "\(message)")
        #expect(NameSuggestion.hint("zzzzzz", among: ["tok:A"]) == "")
    }

    // MARK: init --format transformerlens

    @Test func initWritesAHookedTransformerScriptForTheExercise() throws {
        let folder = try temporaryFolder("init")
        let out = (folder as NSString).appendingPathComponent("s.py")
        let r = runCLI(["init", "current-token/nopos", "--format", "transformerlens", "--out", out])
        #expect(r.status == 0, "\(r.err)")
        let script = String(decoding: try SubmissionLoader.readFile(out), as: UTF8.self)
        let spec = try repoCatalog().spec("current-token/nopos")
        for line in [
            "from transformer_lens import HookedTransformer, HookedTransformerConfig",
            "N_LAYERS, N_HEADS, D_HEAD = 1, 1, 4", "n_layers=N_LAYERS, n_heads=N_HEADS, d_model=13, d_head=D_HEAD,", "n_ctx=N_CTX, d_vocab=5, d_vocab_out=5,",
            "N_CTX = 12",
            "attn_only=True, normalization_type=None", "SCALE = 1  #", "attn_scale=1 / SCALE,", "POSITIONS = \"standard\"", "ATTENTION = \"causal\"",
            "positional_embedding_type=POSITIONS, attention_dir=ATTENTION,", "TransformerBridge.boot_native(cfg)", "fold = math.sqrt(D_HEAD) * SCALE",
            "metadata.update(n_heads=str(N_HEADS), attn_scale=repr(math.sqrt(D_HEAD)))",
            "W_pos = None", "EXERCISE = \"current-token/nopos\"", "save_file(state, stem + \".safetensors\", metadata=metadata)",
            "metadata = {\"exercise\": EXERCISE}",
            "np.savez(stem + \".npz\"", "model.embed.W_E.copy_(torch.tensor(W_E, dtype=dtype))", "model.unembed.b_U.copy_(torch.tensor(b_U, dtype=dtype))",
            "def build_model(dtype=torch.float32):", "dtype=dtype,",
            "for p in model.parameters():", "            p.zero_()",
        ] {
            #expect(script.contains(line), "missing: \(line)")
        }
        // The fixed matrices are the exercise's, row by row.
        let wE = try #require(script.split(separator: "\n").first { $0.hasPrefix("W_E = ") })
        #expect(wE.hasPrefix("W_E = [[1, 0, 0, 0, 0, 0, 0, 0, 0"))
        #expect(wE.filter { $0 == "[" }.count == spec.wE.rows + 1)
        #expect(script.contains("b_U = [0, 0, 0, 0, 0.5]"))
        // init never overwrites.
        #expect(runCLI(["init", "current-token/nopos", "--format", "transformerlens", "--out", out]).status == 2)
    }

    @Test(arguments: [
        ("induction-k/shortformer", "POSITIONS = \"shortformer\""),
        ("previous-token/pos-nomask", "ATTENTION = \"bidirectional\""),
        ("pointer-arithmetic/sinusoidal", "N_LAYERS, N_HEADS, D_HEAD = 2, 4, 8"),
    ])
    func initScriptFollowsTheExercisesFrame(_ id: String, _ expected: String) throws {
        let out = (try temporaryFolder("init") as NSString).appendingPathComponent("s.py")
        #expect(runCLI(["init", id, "--format", "transformerlens", "--out", out]).status == 0)
        let script = String(decoding: try SubmissionLoader.readFile(out), as: UTF8.self)
        #expect(script.contains(expected))
        let spec = try repoCatalog().spec(id)
        #expect(script.contains("W_pos = [[") == (spec.wPos != nil))
    }
}
