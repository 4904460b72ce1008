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

/// The built `circuit-grader` executable, beside the test bundle (SwiftPM builds it with the tests).
func builtBinary() throws -> String {
    let bundle = try #require(Bundle.module.resourceURL)
    var folder = bundle
    for _ in 0..<3 {
        folder.deleteLastPathComponent()
        let candidate = folder.appendingPathComponent("circuit-grader").path
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate, isDirectory: &isFolder), !isFolder.boolValue { return candidate }
    }
    Issue.record("no built circuit-grader executable near \(bundle.path); run `swift build` first")
    throw GraderError(file: bundle.path, "no circuit-grader executable")
}

/// What a shell run gave.
struct ShellResult {
    var status: Int32
    var out: String
    var err: String
}

/// Runs `script` with `bash --noprofile --norc -eo pipefail` (as GitHub Actions runs a step) in `folder`, with
/// `environment` added to a minimal one.
func runShell(_ script: String, in folder: String, environment: [String: String] = [:]) throws -> ShellResult {
    let file = (folder as NSString).appendingPathComponent(".step-\(UUID().uuidString).sh")
    try write(script, to: file)
    defer { try? FileManager.default.removeItem(atPath: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["--noprofile", "--norc", "-eo", "pipefail", file]
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": folder, "LC_ALL": "C.UTF-8"]
    env.merge(environment) { _, new in new }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ShellResult(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
}

/// Text of a repository file.
func repoText(_ relative: String) throws -> String {
    String(decoding: try SubmissionLoader.readFile(repoPath(relative)), as: UTF8.self)
}

/// The first fenced (```) block after the line `heading` in `text`, or the first block indented by four spaces
/// when `indented`.
func block(after heading: String, in text: String, indented: Bool = false) throws -> String {
    let lines = text.components(separatedBy: "\n")
    let start = try #require(lines.firstIndex { $0.hasPrefix(heading) }, "no \(heading)")
    var body: [String] = []
    var inside = false
    for line in lines[(start + 1)...] {
        if indented {
            if line.hasPrefix("    ") {
                inside = true
                body.append(String(line.dropFirst(4)))
            } else if inside {
                break
            }
        } else if line.hasPrefix("```") {
            if inside { break }
            inside = true
        } else if inside {
            body.append(line)
        }
    }
    #expect(!body.isEmpty, "no block after \(heading)")
    return body.joined(separator: "\n") + "\n"
}

/// Commands documented in README.md, docs/ci.md and gradescope/README.md, run as written.
struct DocumentedPathsTests {
    // MARK: GitHub Actions (docs/ci.md)

    /// The `Grade` step's `run: |` script from the workflow in docs/ci.md, de-indented.
    static func gradeStep() throws -> String {
        let lines = try repoText("docs/ci.md").components(separatedBy: "\n")
        let name = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "- name: Grade" })
        let run = try #require(lines[(name + 1)...].firstIndex { $0.trimmingCharacters(in: .whitespaces) == "run: |" })
        let indent = lines[run].prefix { $0 == " " }.count + 2
        var script: [String] = []
        for line in lines[(run + 1)...] {
            guard line.prefix(while: { $0 == " " }).count >= indent || line.isEmpty else { break }
            script.append(String(line.dropFirst(min(indent, line.count))))
        }
        return script.joined(separator: "\n") + "\n"
    }

    /// A checkout as the workflow sees it: `solutions/` with `files` (repo paths, renamed), `circuit-grader/`
    /// with the exercises and the built binary where the release build puts it.
    static func workspace(_ files: [(String, String)]) throws -> String {
        let fm = FileManager.default
        let ws = try temporaryFolder("ci")
        try fm.createDirectory(atPath: ws + "/solutions", withIntermediateDirectories: true)
        for (source, name) in files { try fm.copyItem(atPath: repoPath(source), toPath: ws + "/solutions/" + name) }
        try fm.createDirectory(atPath: ws + "/circuit-grader/.build/release", withIntermediateDirectories: true)
        try fm.copyItem(atPath: repoPath("exercises"), toPath: ws + "/circuit-grader/exercises")
        try fm.createSymbolicLink(atPath: ws + "/circuit-grader/.build/release/circuit-grader", withDestinationPath: try builtBinary())
        return ws
    }

    static func runStep(in ws: String) throws -> (ShellResult, summary: String, junit: String) {
        let summary = ws + "/step-summary.md"
        try write("", to: summary)
        let r = try runShell(
            try gradeStep(), in: ws,
            environment: [
                "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": ws + "/out.txt", "GITHUB_ENV": ws + "/env.txt", "CI": "true",
            ])
        let junit = (try? String(contentsOfFile: ws + "/reports/circuits.xml", encoding: .utf8)) ?? ""
        return (r, try String(contentsOfFile: summary, encoding: .utf8), junit)
    }

    @Test func theDocumentedStepPassesOnPassingSolutions() throws {
        let ws = try Self.workspace([
            ("submissions/reference/current-token-nopos.json", "a.json"), ("submissions/reference/previous-token-nopos.json", "b.json"),
        ])
        let (r, summary, junit) = try Self.runStep(in: ws)
        #expect(r.status == 0, "\(r.err)")
        #expect(junit.contains("<testsuites name=\"circuit-grader\"") && junit.contains("failures=\"0\" errors=\"0\">"))
        #expect(summary.contains("✅ passed") && !summary.contains("❌"))
        #expect(!summary.contains("::") && !r.out.contains("::error"))
    }

    @Test func theDocumentedStepWritesEveryReportThenFailsOnAFailingSolution() throws {
        let ws = try Self.workspace([
            ("submissions/reference/current-token-nopos.json", "a.json"), ("submissions/examples/current-token-nopos-no-default.json", "b.json"),
        ])
        let (r, summary, junit) = try Self.runStep(in: ws)
        #expect(r.status == 1, "\(r.err)")
        // JUnit written, one suite per file with distinct names, the failure inside.
        #expect(junit.contains("<testsuite name=\"current-token/nopos (solutions/a.json)\""))
        #expect(junit.contains("<testsuite name=\"current-token/nopos (solutions/b.json)\""))
        #expect(junit.contains("<failure type=\"FamilyFailed\""))
        // The summary has both verdicts and no workflow commands; the log has the annotations.
        #expect(summary.contains("✅ passed") && summary.contains("❌ failed"))
        #expect(!summary.contains("::error") && !summary.contains("::notice"))
        let annotations = r.out.components(separatedBy: "\n").filter { $0.hasPrefix("::error ") }
        #expect(!annotations.isEmpty && annotations.allSatisfy { $0.hasPrefix("::error file=solutions/b.json,title=current-token/nopos%3A ") }, "\(r.out)")
        // Printed once, by the last run only.
        #expect(Set(annotations).count == annotations.count)
    }

    @Test func theDocumentedStepFailsWithTwoOnAnUnreadableSolution() throws {
        let ws = try Self.workspace([("submissions/reference/current-token-nopos.json", "a.json")])
        try write("{\"exercise\": \"current-token/nopos\", \"layers\": [", to: ws + "/solutions/broken.json")
        let (r, summary, junit) = try Self.runStep(in: ws)
        #expect(r.status == 2)
        #expect(junit.contains("<error type=\"InputError\""))
        #expect(summary.contains("could not be graded"))
    }

    // MARK: Gradescope (gradescope/README.md, run_autograder)

    /// A working folder holding what the bundle recipe needs, `swift build` done: `gradescope/`, `exercises`,
    /// `submissions`, and the built binary at `.build/release/circuit-grader`.
    static func bundleCheckout() throws -> String {
        let fm = FileManager.default
        let folder = try temporaryFolder("gs")
        try fm.copyItem(atPath: repoPath("gradescope"), toPath: folder + "/gradescope")
        try fm.createSymbolicLink(atPath: folder + "/exercises", withDestinationPath: repoPath("exercises"))
        try fm.createSymbolicLink(atPath: folder + "/submissions", withDestinationPath: repoPath("submissions"))
        try fm.createDirectory(atPath: folder + "/.build/release", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: folder + "/.build/release/circuit-grader", withDestinationPath: try builtBinary())
        return folder
    }

    /// The bundle recipe of gradescope/README.md without its `swift build` line (the binary is built already).
    static func bundleRecipe() throws -> String {
        try block(after: "## Build the bundle", in: try repoText("gradescope/README.md"), indented: true)
            .components(separatedBy: "\n").filter { !$0.hasPrefix("swift build") }.joined(separator: "\n")
    }

    @Test func theBundleRecipeAndItsDryRunWorkAsWritten() throws {
        let folder = try Self.bundleCheckout()
        let built = try runShell(try Self.bundleRecipe(), in: folder)
        #expect(built.status == 0, "\(built.err)")
        for name in ["setup.sh", "run_autograder", "circuit-grader", "exercise-id", "seed", "exercises"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/bundle/" + name), "bundle/\(name)")
        }
        #expect(FileManager.default.fileExists(atPath: folder + "/autograder.zip"))
        let dry = try runShell(try block(after: "## Which file is graded", in: try repoText("gradescope/README.md"), indented: true), in: folder)
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.contains("grading dry-run/submission/induction-pos.json"), "\(dry.out)")
        let results = try JSONParser.parse(try SubmissionLoader.readFile(folder + "/dry-run/results/results.json"), file: "results.json")
        // The reference passes: full marks, every test passed, no load error.
        let tests = results.object?["tests"]?.array ?? []
        #expect(tests.count > 1 && tests.allSatisfy { $0.object?["status"] == .string("passed") }, "\(results.object?["output"] ?? .null)")
        #expect(results.object?["score"]?.number == tests.compactMap { $0.object?["max_score"]?.number }.reduce(0, +))
        #expect(dry.out.contains("\"score\""))
    }

    @Test func theBundleAndItsZipAreIgnoredByGit() throws {
        let ignored = try repoText(".gitignore").components(separatedBy: "\n")
        #expect(ignored.contains("/bundle/") && ignored.contains("/autograder.zip"))
        // And the recipe strips the binary it puts in the bundle.
        #expect(try Self.bundleRecipe().contains("strip bundle/circuit-grader"))
    }

    /// A fake `/autograder` tree: `source/` (binary, exercises, exercise id, seed), `submission/` with `files`.
    static func autograder(_ files: [String: String?], exercise: String = "current-token/nopos") throws -> String {
        let fm = FileManager.default
        let root = try temporaryFolder("ag")
        try fm.createDirectory(atPath: root + "/source", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root + "/source/circuit-grader", withDestinationPath: try builtBinary())
        try fm.copyItem(atPath: repoPath("exercises"), toPath: root + "/source/exercises")
        try write(exercise + "\n", to: root + "/source/exercise-id")
        try write("secret-seed-123", to: root + "/source/seed")
        for (name, source) in files {
            let path = root + "/submission/" + name
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if let source, source.hasPrefix("{") { try write(source, to: path) } else if let source { try fm.copyItem(atPath: source, toPath: path) }
        }
        try fm.createDirectory(atPath: root + "/submission", withIntermediateDirectories: true)
        return root
    }

    /// Runs gradescope/run_autograder as written under `bash -e` on the tree at `root`; returns results.json.
    static func runAutograder(_ root: String) throws -> (ShellResult, [String: JSONValue]) {
        let r = try runShell("bash -e \(repoPath("gradescope/run_autograder"))\n", in: root, environment: ["AUTOGRADER_ROOT": root])
        let results = try JSONParser.parse(try SubmissionLoader.readFile(root + "/results/results.json"), file: "results.json")
        return (r, try #require(results.object).members.reduce(into: [:]) { $0[$1.key] = $1.value })
    }

    struct UploadCase: CustomTestStringConvertible, Sendable {
        let id: String
        let files: [String: String?]
        let graded: String
        let score: Double
        var testDescription: String { id }
    }

    static let uploads: [UploadCase] = {
        let reference = repoPath("submissions/reference/current-token-nopos.json")
        let other = repoPath("submissions/reference/previous-token-nopos.json")
        let csv = repoPath("Tests/CircuitGraderTests/Fixtures/formats/csv")
        var csvFiles: [String: String?] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: csv)) ?? [] { csvFiles["my weights/" + name] = csv + "/" + name }
        return [
            UploadCase(
                id: "notes.json sorts first but the submission is graded",
                files: ["a-notes.json": "{\"todo\": 1}", "notes.json": "{\"n\": 2}", "zz.json": reference],
                graded: "zz.json", score: 6),
            UploadCase(
                id: "a file in a subfolder is found", files: ["work/final/answer.json": reference, "README.json": "{\"x\": 1}"], graded: "answer.json", score: 6
            ),
            UploadCase(
                id: "the file naming this exercise wins over another exercise's file", files: ["a-other.json": other, "b.json": reference], graded: "b.json",
                score: 6),
            UploadCase(id: "a CSV folder uploaded as a folder is graded", files: csvFiles, graded: "my weights", score: 6),
            UploadCase(id: "an upload with no model gets 0 and says why", files: ["notes.json": "{\"n\": 2}"], graded: "submission", score: 0),
        ]
    }()

    @Test(arguments: uploads)
    func runAutograderGradesTheRightFile(_ c: UploadCase) throws {
        let root = try Self.autograder(c.files)
        let (r, results) = try Self.runAutograder(root)
        #expect(r.status == 0, "\(r.err)")
        let graded = try #require(r.out.components(separatedBy: "\n").first { $0.hasPrefix("grading ") })
        #expect(graded.contains("/\(c.graded) against current-token/nopos"), "\(graded)")
        #expect(results["score"]?.number == c.score, "\(results["output"] ?? .null)")
        #expect(!JSONWriter.write(.obj(results.map { ($0.key, $0.value) })).contains("secret-seed-123"))
        try GradescopeSchema.validate(.obj(results.map { ($0.key, $0.value) }).sortedMembers())
    }

    @Test func resultsCarryExtraDataAndALeaderboard() throws {
        let root = try Self.autograder(["sub.json": repoPath("submissions/reference/current-token-nopos.json")])
        let (_, results) = try Self.runAutograder(root)
        let submissions = try #require(results["extra_data"]?.object?["submissions"]?.object)
        let entry = try #require(submissions.members.first?.value.object)
        #expect(entry["spec_hash"]?.string == (try repoCatalog().spec("current-token/nopos").specHash))
        #expect(entry["seed_hash"]?.string == String(format: "%016llx", fnv1a64(String(fnv1a64("secret-seed-123")))))
        #expect(entry["families"]?.object?["random"]?.object?["worst_margin"]?.number != nil)
        let verdict = try #require(entry["verdicts"]?.array?.first?.object)
        #expect(verdict["status"] == .string("searched") || verdict["status"] == .string("proved"))
        let board = try #require(results["leaderboard"]?.array)
        #expect(board.compactMap { $0.object?["name"]?.string } == ["score", "worst margin", "non-zero weights"])
        // The reference writes 5 + 2 + 1 + 1 non-zero entries in W_Q, W_K, W_V, W_O.
        #expect(board.last?.object?["value"] == .number(9) && board.last?.object?["order"] == .string("asc"))
    }

    // MARK: README's TransformerLens section

    @Test func theReadmesTransformerLensCommandsRunAsWritten() throws {
        let steps = try block(after: "## From TransformerLens", in: try repoText("README.md"))
            .components(separatedBy: "\n").filter { !$0.isEmpty }
        #expect(steps.count == 3)
        let folder = try temporaryFolder("tlreadme")
        let binary = try builtBinary()
        for step in steps {
            let command = String(step.split(separator: "#", maxSplits: 1)[0]).trimmingCharacters(in: .whitespaces)
            if command.hasPrefix("python ") {
                // The committed fixture is what this script wrote when run once with TransformerLens 3.9.0.
                let script = String(command.dropFirst("python ".count))
                #expect(FileManager.default.fileExists(atPath: folder + "/" + script))
                try FileManager.default.copyItem(
                    atPath: try TransformerLensTests.fixture("tl3-init-current-token-nopos.safetensors"),
                    toPath: folder + "/" + script.replacingOccurrences(of: ".py", with: ".safetensors"))
                continue
            }
            let r = try runShell(
                command.replacingOccurrences(of: "circuit-grader ", with: "'\(binary)' ") + " --exercises '\(repoPath("exercises"))'\n", in: folder)
            // init succeeds; check grades the zero-head model: it loads, and fails (exit 1), as a fresh template should.
            #expect(r.status == (command.contains(" check ") ? 1 : 0), "\(command): \(r.err)")
            #expect(r.err.isEmpty)
        }
    }
}

extension JSONValue {
    /// The value with object members in key order (for stable comparisons).
    func sortedMembers() -> JSONValue {
        switch self {
        case .object(let o): .obj(o.members.sorted { $0.key < $1.key }.map { ($0.key, $0.value.sortedMembers()) })
        case .array(let a): .array(a.map { $0.sortedMembers() })
        default: self
        }
    }
}
