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

/// Every finding of issue 11 (and of the fuzz campaign), each as a fixture under `Fixtures/hostile/<entry
/// point>/` (made by `Tools/make_hostile_fixtures.py`, or saved from `Tools/fuzz.sh`) with the exact
/// one-line error it must produce: no trap, no hang, no silent acceptance.
struct HostileInputTests {
    struct Finding: CustomTestStringConvertible, Sendable {
        var id: String
        var entry: FuzzEntryPoint
        var fixture: String
        var error: String
        var testDescription: String { id }
    }

    static let findings: [Finding] = [
        // Traps.
        Finding(
            id: "a high surrogate followed by a \\u escape below DC00 is U+FFFD, not an overflow", entry: .json,
            fixture: "surrogate-pair-overflow.json",
            error:
                "fuzz.json:1: unknown key \"\u{FFFD}\u{FFFD}\" (expected one of: $comment, W_E, W_U, W_pos, answers, b_U, convention, exercise, layers, meta)"),
        Finding(
            id: "a state dict nested 8 levels of 235 items has its shape product checked", entry: .stateDict,
            fixture: "shape-product-overflow.json",
            error: "fuzz.json: blocks.0.attn.W_Q: shape [235, 235, 235, 235, 235, 235, 235, 235] has too many elements; the limit is 4000000 per tensor"),
        Finding(
            id: "a residual range from Int.min does not overflow", entry: .spec, fixture: "residual-range-overflow.json",
            error: "fuzz-spec.json:24: residual: cannot expand \"s{-9223372036854775808..1}\": expands to more than 4096 names, the limit"),
        Finding(
            id: "empty variable tokens with a $x pattern are refused", entry: .spec, fixture: "empty-variable-tokens.json",
            error: "fuzz-spec.json:104: families[1].generator.variable_tokens: needs at least one token for the $variables to take"),
        // Hangs and memory.
        Finding(
            id: "1,024 overlapping npz entries are refused before any is decoded", entry: .npz, fixture: "overlapping-entries.npz",
            error: "fuzz.npz: arr_1: its data (bytes 78..<42234) overlaps that of 'arr_0' (bytes 39..<42234); a damaged or hostile archive"),
        Finding(
            id: "{0..99999}{0..99999} is refused before any name is built", entry: .spec, fixture: "residual-names-explode.json",
            error: "fuzz-spec.json:24: residual: cannot expand \"{0..99999}{0..99999}\": expands to more than 4096 names, the limit"),
        Finding(
            id: "count 100000 × length 4095 is refused before any case is generated", entry: .spec, fixture: "generated-cases-explode.json",
            error:
                "fuzz-spec.json:49: families: the generated families ask for more than 1000000 tokens (count × max length, summed; family \"random\" brings the total to 409500000); lower a count or a length"
        ),
        // Accepted but must not be.
        Finding(
            id: "a bias beyond the limit in an npz", entry: .npz, fixture: "bias-beyond-limit.npz",
            error: "fuzz.npz: L0H0.b_Q[0]: found 1e+300; weights must lie within ±1000000"),
        Finding(
            id: "a bias beyond the limit in safetensors", entry: .safetensors, fixture: "bias-beyond-limit.safetensors",
            error: "fuzz.safetensors: L0H0.b_K[0]: found 1e+300; weights must lie within ±1000000"),
        Finding(
            id: "a bias beyond the limit in a state-dict npy folder names its file", entry: .npyFolder, fixture: "state-dict-bias-beyond-limit",
            error: "fuzz/blocks.0.attn.b_V.npy: L0H0.b_V[0]: found 1e+300; weights must lie within ±1000000"),
        Finding(
            id: "L0.b_O.npy beyond the limit in a per-head folder names its file", entry: .npyFolder, fixture: "layer-bias-beyond-limit",
            error: "fuzz/L0.b_O.npy: L0.b_O[0]: found 1e+300; weights must lie within ±1000000"),
        Finding(
            id: "L0H0.W_Q.csv beside l0h0.W_Q.csv", entry: .csvFolder, fixture: "two-spellings-of-one-head",
            error: "fuzz: L0H0.W_Q.csv and l0h0.W_Q.csv both hold L0H0.W_Q; keep one"),
        Finding(
            id: "L0H0.W_Q.csv beside L00H00.W_Q.csv", entry: .csvFolder, fixture: "zero-padded-head",
            error: "fuzz: L00H00.W_Q.csv and L0H0.W_Q.csv both hold L0H0.W_Q; keep one"),
        Finding(
            id: "L0H0.W_Q.npy beside L0H0.W_Q.NPY", entry: .npyFolder, fixture: "npy-beside-NPY",
            error: "fuzz: L0H0.W_Q.NPY and L0H0.W_Q.npy both hold L0H0.W_Q; keep one"),
        Finding(
            id: "blocks.0.attn.W_Q.npy beside blocks.0.attn.W_Q.NPY", entry: .npyFolder, fixture: "state-dict-npy-beside-NPY",
            error: "fuzz: blocks.0.attn.W_Q.NPY and blocks.0.attn.W_Q.npy both hold L0.W_Q; keep one"),
        Finding(
            id: "blocks.0.attn.W_Q beside blocks.00.attn.W_Q", entry: .stateDict, fixture: "two-spellings-of-one-layer.json",
            error: "fuzz.json: blocks.00.attn.W_Q: is also given as blocks.0.attn.W_Q (both are L0.W_Q); keep one"),
        Finding(
            id: "safetensors metadata convention Anthropic is validated like JSON's", entry: .safetensors,
            fixture: "metadata-convention-capitalised.safetensors",
            error: "fuzz.safetensors: __metadata__.convention: expected \"transformer_lens\" or \"anthropic\", found \"Anthropic\""),
        Finding(
            id: "a sinusoidal alpha of 1e308 cannot put NaN into W_pos", entry: .spec, fixture: "sinusoidal-alpha-overflow.json",
            error:
                "fuzz-spec.json:46: fixed: W_pos[2][5] is NaN; fixed values must be finite and within ±1000000 (check a sinusoidal alpha or amplitude)"),
        // Found by the fuzz campaign.
        Finding(
            id: "fuzz: a file name on which Foundation's pathExtension traps", entry: .npyFolder, fixture: "fuzz-name-traps-pathExtension",
            error:
                "fuzz: the folder holds no .csv or .npy files; to grade the .json/.npz/.safetensors files in it, pass them to check one by one or grade the folder with `grade`"
        ),
        Finding(
            id: "fuzz: another name on which pathExtension traps, in a CSV folder", entry: .csvFolder, fixture: "fuzz-name-traps-pathExtension",
            error:
                "fuzz: the folder holds no .csv or .npy files; to grade the .json/.npz/.safetensors files in it, pass them to check one by one or grade the folder with `grade`"
        ),
        // Spoofing.
        Finding(
            id: "an escape sequence in a key is shown escaped", entry: .json, fixture: "escape-sequence-in-key.json",
            error:
                "fuzz.json:1: unknown key \"\\u{1B}[2K\\rFAKE: all tests passed\" (expected one of: $comment, W_E, W_U, W_pos, answers, b_U, convention, exercise, layers, meta)"
        ),
    ]

    static func fixture(_ entry: FuzzEntryPoint, _ name: String) throws -> [UInt8] {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let url = folder.appendingPathComponent("hostile").appendingPathComponent(entry.rawValue).appendingPathComponent(name)
        return [UInt8](try Data(contentsOf: url))
    }

    @Test(arguments: findings)
    func eachFindingGivesItsExactError(_ f: Finding) throws {
        let spec = try repoCatalog().spec("current-token/nopos")
        let started = Date()
        let outcome = f.entry.run(try Self.fixture(f.entry, f.fixture), spec: spec)
        guard case .refused(let error) = outcome else {
            Issue.record("\(f.id): expected a refusal, got \(outcome)")
            return
        }
        #expect(error.description == f.error)
        #expect(Date().timeIntervalSince(started) < 30, "\(f.id) took too long (a debug build; release figures in docs/fuzzing.md)")
    }

    /// The same findings end to end: each fixture written out as the file or folder it stands for, then
    /// `check` (or `validate` for a spec) exits 2 with exactly one line, the error above at the real path.
    @Test(arguments: findings)
    func eachFindingExitsTwoWithOneLineThroughTheCLI(_ f: Finding) throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("cg-hostile-\(UUID().uuidString)").path
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        let bytes = try Self.fixture(f.entry, f.fixture)
        let placeholder: String, path: String
        switch f.entry {
        case .csvFolder, .npyFolder:
            (placeholder, path) = ("fuzz", (dir as NSString).appendingPathComponent("sub"))
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            let files = FuzzInput.files(bytes, defaultName: "unused")
            // A name with a slash (the fuzzer's) cannot be a file in a folder: the table above covers it.
            guard !files.keys.contains(where: { $0.contains("/") }) else { return }
            for (name, data) in files {
                try Data(f.entry == .npyFolder ? FuzzInput.npy(data) : data).write(to: URL(fileURLWithPath: (path as NSString).appendingPathComponent(name)))
            }
        case .spec:
            (placeholder, path) = ("fuzz-spec.json", (dir as NSString).appendingPathComponent("spec.json"))
        default:
            let ext = (f.fixture as NSString).pathExtension
            (placeholder, path) = ("fuzz.\(ext)", (dir as NSString).appendingPathComponent("sub.\(ext)"))
        }
        if f.entry != .csvFolder && f.entry != .npyFolder { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
        let r = runCLI(f.entry == .spec ? ["validate", path] : ["check", path, "--exercise", "current-token/nopos"])
        #expect(r.status == 2, "\(f.id): \(r.out)")
        #expect(r.err == "error: " + path + f.error.dropFirst(placeholder.count) + "\n")
    }
}

/// Inputs too large to commit, made in the test: each refused with its exact error, quickly.
struct OversizedInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var id: String
        var entry: FuzzEntryPoint
        var make: @Sendable () -> [UInt8]
        var error: String
        var testDescription: String { id }
    }

    static let cases: [Case] = [
        Case(
            id: "a CSV of 10^6 rows is refused before it is split", entry: .csvFolder,
            make: { Array("--- L0H0.W_Q.csv\n".utf8) + [UInt8](repeating: 0, count: 0) + Array(String(repeating: "0\n", count: 1_000_000).utf8) },
            error: "fuzz/L0H0.W_Q.csv: L0H0.W_Q: the CSV table is larger than 4096 rows or columns (more than 16388 lines)"),
        Case(
            id: "a CSV line of 10^6 cells is refused before it is split", entry: .csvFolder,
            make: { Array("--- L0H0.W_Q.csv\n".utf8) + Array(String(repeating: "0,", count: 1_000_000).utf8) },
            error: "fuzz/L0H0.W_Q.csv: L0H0.W_Q: the CSV table is larger than 4096 rows or columns (line 1 has more than 4097 cells)"),
    ]

    @Test(arguments: cases)
    func refusedQuicklyWithItsExactError(_ c: Case) throws {
        let spec = try repoCatalog().spec("current-token/nopos")
        let bytes = c.make()
        let started = Date()
        let outcome = c.entry.run(bytes, spec: spec)
        guard case .refused(let error) = outcome else {
            Issue.record("\(c.id): expected a refusal, got \(outcome)")
            return
        }
        #expect(error.description == c.error)
        #expect(Date().timeIntervalSince(started) < 30, "\(c.id) took too long (a debug build; release figures in docs/fuzzing.md)")
    }

    /// The value count stops a huge array early (the limit made small here, so the test stays fast in debug).
    @Test func aLongJSONArrayStopsAtTheValueLimit() {
        let zeros = Array(("[" + String(repeating: "0,", count: 2_000) + "0]").utf8)
        #expect(throws: GraderError(file: "z.json", line: 1, "invalid JSON: the document holds more than 1000 values, the limit per file")) {
            try JSONParser.parse(zeros, file: "z.json", maxValues: 1000)
        }
        #expect(InputLimits.maxJSONValues == 5_000_000)
    }

    /// "did you mean" compares ids of at most `InputLimits.maxComparedIDLength` characters.
    @Test func aMegabyteExerciseNameIsRefusedQuickly() throws {
        let catalog = try repoCatalog()
        let id = String(repeating: "a", count: 1_000_000)
        let started = Date()
        #expect(throws: GraderError.self) { try catalog.spec(id, for: "x.json") }
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(editDistance(id, "current-token/nopos") == 1_000_000)
        #expect(editDistance("current-token/nops", "current-token/nopos") == 1)
    }
}

/// Accepted input whose meaning must not be lost.
struct HonouredInputTests {
    /// The row names of a one-column `b_O` CSV place its values (here in reverse order), never by position.
    @Test func oneColumnBiasRowNamesAreHonoured() throws {
        let bytes = try HostileInputTests.fixture(.csvFolder, "one-column-bias-with-row-names")
        let files = FuzzInput.files(bytes, defaultName: "unused")
        let submission = try FolderSubmission.build(names: Array(files.keys), folder: "f") { files[$0] ?? [] }
        let bO = try #require(submission.layers.first?.bO)
        #expect(bO == .sparse([("out:B", 0.25), ("out:A", 0.5)]))
        let spec = try repoCatalog().spec("current-token/nopos")
        let resolved = try bO.resolve(spec.layout.names, axis: "residual dim", file: "f", location: "L0.b_O")
        #expect(resolved[try #require(spec.layout.index(of: "out:A"))] == 0.5)
        #expect(resolved[try #require(spec.layout.index(of: "out:B"))] == 0.25)
    }

    @Test func oneRowAndOneColumnVectorsUseTheNamesAlongTheirLength() {
        let column = Matrix(rows: 2, columns: 1, values: [1, 2])
        #expect(VectorLabels.vector(column, rowLabels: ["a", "b"], columnLabels: ["b_O"]) == .sparse([("a", 1), ("b", 2)]))
        let row = Matrix(rows: 1, columns: 2, values: [1, 2])
        #expect(VectorLabels.vector(row, rowLabels: ["b_O"], columnLabels: ["a", "b"]) == .sparse([("a", 1), ("b", 2)]))
        #expect(VectorLabels.vector(row, rowLabels: nil, columnLabels: nil) == .dense([1, 2]))
    }

    /// A high surrogate joins a low one; anything else after it is its own character.
    @Test(arguments: [
        (#""\uD83D\uDE00""#, "\u{1F600}"), (#""\uDBFF\uDBFF""#, "\u{FFFD}\u{FFFD}"), (#""\uDBFF\u0041""#, "\u{FFFD}A"),
        (#""\uDC00""#, "\u{FFFD}"), (#""\uD800""#, "\u{FFFD}"),
    ])
    func surrogatesNeverTrap(_ text: String, _ expected: String) throws {
        #expect(try JSONParser.parse(Array(text.utf8), file: "s.json") == .string(expected))
    }

    @Test func residualRangesAreBoundedAndNeverOverflow() throws {
        #expect(try ResidualLayout.expand("s{0..2}", lists: [:]) == ["s0", "s1", "s2"])
        #expect(try ResidualLayout.expand("{9223372036854775807..9223372036854775807}", lists: [:]) == ["9223372036854775807"])
        #expect(throws: ExpansionError.self) { try ResidualLayout.expand("{-9223372036854775808..9223372036854775807}", lists: [:]) }
        #expect(throws: ExpansionError.self) { try ResidualLayout.expand(["a{0..4095}", "b"], lists: [:]) }
    }

    @Test func seededRandomTakesEveryRange() {
        var random = SeededRandom(seed: 3)
        _ = random.int(in: Int.min...Int.max)
        #expect((-5...(-5)).contains(random.int(in: -5...(-5))))
        #expect((Int.min...(Int.min + 1)).contains(random.int(in: Int.min...(Int.min + 1))))
    }
}

/// What input text can do to each output: nothing but show up escaped.
struct SpoofingTests {
    @Test(arguments: [
        ("\u{1B}[2K\rFAKE", "\\u{1B}[2K\\rFAKE"), ("a\u{9B}31m", "a\\u{9B}31m"), ("abc\u{202E}fdp.exe", "abc\\u{202E}fdp.exe"),
        ("tab\there", "tab\\there"), ("plain text, é ü 😀", "plain text, é ü 😀"), ("bell\u{07}", "bell\\u{7}"),
    ])
    func terminalTextShowsControlsEscaped(_ input: String, _ shown: String) {
        #expect(SafeText.terminal(input) == shown)
    }

    @Test(arguments: [
        ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\\tx"), ("alice", "alice"), ("a,b", "\"a,b\""),
    ])
    func spreadsheetCellsNeverStartAFormula(_ input: String, _ cell: String) {
        #expect(SafeText.spreadsheetCell(input) == cell)
    }

    @Test func markdownAndMarkupEscapeTheirOwnSyntax() {
        #expect(SafeText.markdown("a|b <img src=x> `c` *d* [e](f)\u{1B}") == "a\\|b &lt;img src=x&gt; \\`c\\` \\*d\\* \\[e\\](f)\\\\u{1B}")
        #expect(MarkupText.escape("<a href='x'>\u{1B}[1m&</a>") == "&lt;a href=&#39;x&#39;&gt;\\u{1B}[1m&amp;&lt;/a&gt;")
        #expect(JSONWriter.quoted("\u{1B}\u{9B}\u{2028}") == "\"\\u001b\\u009b\\u2028\"")
    }

    /// A student whose file name is a formula and a terminal escape: every output shows it inert.
    @Test func aHostileStudentNameIsInertInEveryOutput() throws {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("cg-spoof-\(UUID().uuidString)").path
        let root = (base as NSString).appendingPathComponent("class")
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: base) }
        let name = "=cmd|'calc'!A1\u{1B}[2K\rFAKE all passed"
        try fm.copyItem(atPath: repoPath("submissions/reference/current-token-nopos.json"), toPath: (root as NSString).appendingPathComponent(name + ".json"))
        let out = (base as NSString).appendingPathComponent("out")
        let r = runCLI(["grade", root, "--out", out, "--exercise", "current-token/nopos"])
        #expect(r.status == 0, "\(r.err)")
        #expect(!r.out.contains("\u{1B}") && !r.out.contains("\r") && !r.err.contains("\u{1B}"))
        let csv = try String(contentsOfFile: (out as NSString).appendingPathComponent("grades.csv"), encoding: .utf8)
        #expect(!csv.contains("\u{1B}"))
        for line in csv.split(separator: "\n").dropFirst() {
            for cell in line.split(separator: ",") { #expect(!["=", "+", "@"].contains(cell.first), "\(cell)") }
            #expect(line.hasPrefix("'=cmd|'calc'!A1\\u{1B}[2K\\rFAKE all passed,"), "\(line)")
        }
        let summary = try String(contentsOfFile: (out as NSString).appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(!summary.contains("\u{1B}"))
        let path = (root as NSString).appendingPathComponent(name + ".json")
        for format in ["junit", "markdown", "html", "json", "text"] {
            let c = runCLI(["check", path, "--format", format])
            #expect(!c.out.contains("\u{1B}") && !c.out.contains("\r"), "\(format)")
        }
    }
}

/// `grade DIR` over a class of hostile entries: one error row each, quickly, and the good submission graded.
struct HostileClassTests {
    @Test func everyHostileEntryIsOneErrorRowAndTheRestIsGraded() throws {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("cg-hostile-\(UUID().uuidString)").path
        let root = (base as NSString).appendingPathComponent("class")
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: base) }
        func at(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }
        try fm.copyItem(atPath: repoPath("submissions/reference/current-token-nopos.json"), toPath: at("alice.json"))
        #expect(mkfifo(at("fifo.json"), 0o600) == 0)
        try fm.createSymbolicLink(atPath: at("link-to-fifo.json"), withDestinationPath: at("fifo.json"))
        try fm.createSymbolicLink(atPath: at("link-to-zero.json"), withDestinationPath: "/dev/zero")
        let device = mknod(at("device.json"), S_IFCHR | 0o600, dev_t(1 << 8 | 5)) == 0  // /dev/zero (1, 5); needs root
        #expect(fm.createFile(atPath: at("sparse.json"), contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: at("sparse.json")))
        try handle.truncate(atOffset: 2 << 30)
        try handle.close()
        var deep = at("deep")
        for level in 0..<12 { deep = (deep as NSString).appendingPathComponent("level\(level)") }
        try fm.createDirectory(atPath: deep, withIntermediateDirectories: true)
        try fm.copyItem(atPath: at("alice.json"), toPath: (deep as NSString).appendingPathComponent("a.json"))
        try Data(HostileClassTests.hugeZip).write(to: URL(fileURLWithPath: at("zip-claims.npz")))
        try fm.createDirectory(atPath: at("bob"), withIntermediateDirectories: true)
        #expect(mkfifo(at("bob/L0H0.W_Q.csv"), 0o600) == 0)

        let out = (base as NSString).appendingPathComponent("out")
        let started = Date()
        let r = runCLI(["grade", root, "--out", out, "--exercise", "current-token/nopos"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.status == 0, "\(r.err)")
        #expect(elapsed < 60, "the hostile class took \(elapsed) s")
        let rows = try BatchTests.readCSV((out as NSString).appendingPathComponent("grades.csv"))
        var errors: [String: String] = [:]
        for row in rows { errors[row["student"] ?? "", default: ""] += row["error"] ?? "" }
        let expected: [String: String] = [
            "alice": "",
            "fifo": "\(at("fifo.json")): is a FIFO (named pipe), not a submission file or folder; it was not read",
            "link-to-fifo": "\(at("link-to-fifo.json")): is a FIFO (named pipe), not a submission file or folder; it was not read",
            "link-to-zero": "\(at("link-to-zero.json")): is a symlink to /dev/zero, outside the class folder; it was not read",
            "sparse": "\(at("sparse.json")): the file is 2147483648 bytes; at most 67108864 are accepted",
            "deep": "\(at("deep/level0/level1/level2/level3")): folders nest more than 4 deep here; it was not read",
            "zip-claims": "\(at("zip-claims.npz")): arr_0.npy: a Zip64 size or offset (1099511627776) is larger than the archive (136 bytes)",
            "bob": "\(at("bob/L0H0.W_Q.csv")): is a FIFO (named pipe), not a regular file; it was not read",
        ].merging(device ? ["device": "\(at("device.json")): is a character device, not a submission file or folder; it was not read"] : [:]) { a, _ in a }
        #expect(rows.count == expected.count, "\(rows.map { $0["student"] ?? "" })")
        for (student, error) in expected { #expect(errors[student] == error, "\(student)") }
        let alice = try #require(rows.first { $0["student"] == "alice" })
        #expect(alice["status"] == "passed")
    }

    /// A stored entry whose Zip64 extra field claims a 1 TiB size.
    static let hugeZip: [UInt8] = {
        func le(_ value: Int, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let name = Array("arr_0.npy".utf8)
        let extra = le(1, 2) + le(16, 2) + le(1 << 40, 8) + le(1 << 40, 8)
        let fields = le(45, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(name.count, 2)
        let local = le(0x0403_4B50, 4) + fields + le(0, 2) + name
        let central = le(0x0201_4B50, 4) + le(45, 2) + fields + le(extra.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + name + extra
        return local + central + le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) + le(central.count, 4) + le(local.count, 4) + le(0, 2)
    }()
}

/// File names are split without Foundation's path functions, which trap on some names.
struct FileNameTests {
    @Test(arguments: [
        ("L0H0.W_Q.csv", "csv", "L0H0.W_Q"), ("a/b/W_E.NPY", "NPY", "W_E"), (".hidden", "", ".hidden"), ("a.", "", "a."),
        ("noext", "", "noext"), ("dir.d/file", "", "file"), ("x.json///", "json", "x"), ("  \u{FFFD}.\u{FFFD}_O.npy////(//", "", "("),
    ])
    func extensionAndStem(_ name: String, _ ext: String, _ stem: String) {
        #expect(FileName.pathExtension(name) == ext)
        #expect(FileName.stem(name) == stem)
    }
}

/// `SafeFile` reads at most its limit, even from a file whose size `stat` understates.
struct SafeFileTests {
    #if os(Linux)
        @Test func aFileThatGrowsPastTheLimitWhileReadIsRefused() {
            // /proc files are regular, report size 0 and hold more: a file that "grows" after stat.
            #expect(throws: GraderError(file: "/proc/self/status", "the file grew past 64 bytes while it was read; at most 64 are accepted")) {
                try SafeFile.read("/proc/self/status", limit: 64)
            }
        }
    #endif

    @Test func aFIFOIsNeverOpened() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cg-fifo-\(UUID().uuidString)").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        #expect(throws: GraderError(file: path, "is a FIFO (named pipe), not a regular file; it was not read")) { try SubmissionLoader.load(path) }
    }
}

/// A short deterministic mutation run over every entry point (seconds, no sanitizer): random bytes,
/// flips, deletions, truncations and splices of the committed fixtures never end in anything but a
/// `GraderError` that prints as one clean line. The long campaign is `Tools/fuzz.sh` (docs/fuzzing.md).
struct MutationRunTests {
    static func seeds(_ entry: FuzzEntryPoint) throws -> [[UInt8]] {
        let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let hostile = fixtures.appendingPathComponent("hostile").appendingPathComponent(entry.rawValue)
        var seeds =
            (try? FileManager.default.contentsOfDirectory(at: hostile, includingPropertiesForKeys: nil))?
            .sorted { $0.path < $1.path }.compactMap { try? [UInt8](Data(contentsOf: $0)) } ?? []
        let formats = fixtures.appendingPathComponent("formats")
        switch entry {
        case .json: seeds.append([UInt8](try Data(contentsOf: formats.appendingPathComponent("dense.json"))))
        case .stateDict: seeds.append([UInt8](try Data(contentsOf: formats.appendingPathComponent("state-dict.json"))))
        case .npz: seeds.append([UInt8](try Data(contentsOf: formats.appendingPathComponent("state.npz"))))
        case .safetensors: seeds.append([UInt8](try Data(contentsOf: formats.appendingPathComponent("state.safetensors"))))
        case .spec: seeds.append([UInt8](try Data(contentsOf: URL(fileURLWithPath: repoPath("exercises/current-token/nopos.json")))))
        case .csvFolder, .npyFolder:
            let folder = formats.appendingPathComponent(entry == .csvFolder ? "csv" : "npy")
            var joined: [UInt8] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
                joined += Array("--- \(name)\n".utf8) + [UInt8](try Data(contentsOf: folder.appendingPathComponent(name))) + [0x0A]
            }
            seeds.append(joined)
        }
        return seeds
    }

    @Test(arguments: FuzzEntryPoint.allCases)
    func mutatedFixturesNeverEndInAnythingButAOneLineError(_ entry: FuzzEntryPoint) throws {
        let spec = try repoCatalog().spec("current-token/nopos")
        let seeds = try Self.seeds(entry)
        var random = SeededRandom(seed: 11, stream: entry.rawValue)
        let tokens = ["1e300", "-1", "0", "[", "]", "{", "}", ",", "\"", "\\uDBFF", "\n--- L0H0.W_Q.csv\n", "\u{1B}[2K", "NaN", "4096"].map { Array($0.utf8) }
        let runs = entry == .spec ? 150 : 400
        for _ in 0..<runs {
            var bytes = random.element(of: seeds)
            for _ in 0..<random.int(in: 1...6) where !bytes.isEmpty {
                let i = random.int(in: 0...(bytes.count - 1))
                switch random.int(in: 0...4) {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: i)
                case 2: bytes = Array(bytes[..<i])
                case 3: bytes.insert(contentsOf: random.element(of: tokens), at: i)
                default: bytes[i] ^= 1 << UInt8(random.int(in: 0...7))
                }
            }
            switch entry.run(bytes, spec: spec) {
            case .accepted: break
            case .refused(let error):
                #expect(!error.description.contains("\n") && !error.description.unicodeScalars.contains(where: SafeText.needsEscape))
            case .unexpected(let what): Issue.record("\(entry.rawValue): \(what)")
            }
        }
    }
}
