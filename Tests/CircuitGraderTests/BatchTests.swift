import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

/// `grade` on a class folder holding every kind of submission: exactly one row each, with the right
/// score or error; reproducible; Gradescope and JUnit outputs checked field by field.
struct BatchTests {
    /// A temporary copy of the fixture class plus entries that cannot be committed.
    static func makeClass() throws -> (root: String, outside: String) {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("cg-class-\(UUID().uuidString)").path
        let root = (base as NSString).appendingPathComponent("class")
        let fixture = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("class").path
        try fm.createDirectory(atPath: base, withIntermediateDirectories: true)
        try fm.copyItem(atPath: fixture, toPath: root)
        try? fm.removeItem(atPath: (root as NSString).appendingPathComponent("README.md"))
        try fm.createDirectory(atPath: (root as NSString).appendingPathComponent("erin"), withIntermediateDirectories: true)
        let secret = (base as NSString).appendingPathComponent("secret.json")
        try fm.copyItem(atPath: (root as NSString).appendingPathComponent("alice.json"), toPath: secret)
        try fm.createSymbolicLink(atPath: (root as NSString).appendingPathComponent("frank.json"), withDestinationPath: secret)
        let big = (root as NSString).appendingPathComponent("gina.json")
        #expect(fm.createFile(atPath: big, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        try handle.truncate(atOffset: UInt64(InputLimits.maxFileBytes + 10))
        try handle.close()
        return (root, base)
    }

    static func grade(_ root: String, out: String, seed: String = "7") -> (status: Int32, out: String, err: String) {
        runCLI(["grade", root, "--out", out, "--exercise", "current-token/nopos", "--seed", seed])
    }

    /// Parses grades.csv into rows of named cells (simple CSV: quoted fields may hold commas and quotes).
    static func readCSV(_ path: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var rows: [[String]] = []
        var field = "", row: [String] = [], quoted = false
        var chars = Array(text)[...]
        while let ch = chars.popFirst() {
            if quoted {
                if ch == "\"" { if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false } } else { field.append(ch) }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                row.append(field); field = ""
            } else if ch == "\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else {
                field.append(ch)
            }
        }
        let header = rows.removeFirst()
        return rows.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    @Test func everySubmissionIsExactlyOneRowWithTheRightResult() throws {
        let (root, base) = try Self.makeClass()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let out = (base as NSString).appendingPathComponent("out")
        let r = Self.grade(root, out: out)
        #expect(r.status == 0, "\(r.err)")
        let rows = try Self.readCSV((out as NSString).appendingPathComponent("grades.csv"))
        #expect(rows.map { $0["student"] ?? "" } == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "harry"])
        func row(_ s: String) -> [String: String] { rows.first { $0["student"] == s } ?? [:] }
        #expect(row("alice")["status"] == "passed" && row("alice")["score"] == "6" && row("alice")["max_score"] == "6")
        #expect(row("bob")["status"] == "failed" && row("bob")["score"] == "1")
        #expect(row("bob")["current-token/nopos#crowded:accuracy"].flatMap(Double.init).map { $0 < 1 } == true)
        #expect(row("harry")["status"] == "passed")
        #expect(row("carol")["status"] == "error" && row("carol")["error"]?.contains("truncated?") == true)
        #expect(row("dave")["error"]?.contains("names exercise \"previous-token/pos\"") == true)
        #expect(row("erin")["error"]?.contains("holds no submission") == true)
        #expect(row("frank")["error"]?.contains("outside the class folder") == true)
        #expect(row("gina")["error"]?.contains("at most \(InputLimits.maxFileBytes) are accepted") == true)
        for s in ["alice", "bob", "harry"] {
            #expect(row(s)["seed"] == "7" && row(s)["grader_version"] == graderVersion && row(s)["spec_hash"]?.count == 16)
        }
        // Nothing was written outside OUT, and every student has a feedback file.
        let written = try FileManager.default.contentsOfDirectory(atPath: base).sorted()
        #expect(written == ["class", "out", "secret.json"])
        let feedback = try FileManager.default.contentsOfDirectory(atPath: (out as NSString).appendingPathComponent("feedback")).sorted()
        #expect(feedback == ["alice.txt", "bob.txt", "carol.txt", "dave.txt", "erin.txt", "frank.txt", "gina.txt", "harry.txt"])
        // The similarity flag names alice and harry, and their grades are unchanged.
        let similar = try String(contentsOfFile: (out as NSString).appendingPathComponent("similarity.csv"), encoding: .utf8)
        #expect(similar.contains("current-token/nopos,alice,harry,identical up to scaling"))
        let summary = try String(contentsOfFile: (out as NSString).appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("| current-token/nopos | 8 | 2 | 5 |"))
    }

    @Test func sameSeedGivesByteIdenticalGradebooksAndADifferentSeedTheSameVerdicts() throws {
        let (root, base) = try Self.makeClass()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let paths = ["a", "b", "c"].map { (base as NSString).appendingPathComponent($0) }
        _ = Self.grade(root, out: paths[0], seed: "secret-1")
        _ = Self.grade(root, out: paths[1], seed: "secret-1")
        _ = Self.grade(root, out: paths[2], seed: "secret-2")
        let files = paths.map { try? String(contentsOfFile: ($0 as NSString).appendingPathComponent("grades.json"), encoding: .utf8) }
        #expect(files[0] != nil && files[0] == files[1])
        #expect(files[0] != files[2])
        let first = try Self.readCSV((paths[0] as NSString).appendingPathComponent("grades.csv"))
        let other = try Self.readCSV((paths[2] as NSString).appendingPathComponent("grades.csv"))
        #expect(first.map { $0["status"] } == other.map { $0["status"] })
        // The cases differ under the two seeds.
        let spec = try repoCatalog().spec("current-token/nopos")
        let family = try #require(spec.families.first { $0.id == "random" })
        #expect(Grader(spec: spec, seed: fnv1a64("secret-1")).cases(of: family) != Grader(spec: spec, seed: fnv1a64("secret-2")).cases(of: family))
    }

    @Test func outputInsideTheClassFolderIsRefused() throws {
        let (root, base) = try Self.makeClass()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let r = Self.grade(root, out: (root as NSString).appendingPathComponent("out"))
        #expect(r.status == 2)
        #expect(r.err.contains("inside the class folder"))
    }

    @Test func gradescopeResultsFollowTheSpecificationFieldByField() throws {
        let r = runCLI(["check", repoPath("submissions/examples/current-token-nopos-no-default.json"), "--format", "gradescope"])
        #expect(r.status == 1)
        let doc = try #require(try JSONParser.parse(Array(r.out.utf8), file: "results.json").object)
        #expect(doc.keys == ["score", "execution_time", "output", "visibility", "stdout_visibility", "tests", "extra_data", "leaderboard"])
        #expect(doc["score"] == .number(1))
        #expect((doc["execution_time"]?.number ?? -1) >= 0)
        #expect(doc["visibility"] == .string("visible") && doc["stdout_visibility"] == .string("hidden"))
        let tests = try #require(doc["tests"]?.array)
        #expect(tests.count == 6)
        let allowed: Set<String> = [
            "score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data",
        ]
        for t in tests {
            let o = try #require(t.object)
            #expect(Set(o.keys).isSubset(of: allowed))
            #expect(["passed", "failed"].contains(o["status"]?.string ?? ""))
            #expect(["hidden", "after_due_date", "after_published", "visible"].contains(o["visibility"]?.string ?? ""))
            #expect(o["name"]?.string?.hasPrefix("current-token/nopos: ") == true)
            #expect(o["max_score"] == .number(1))
        }
        let crowded = try #require(tests.first { $0.object?["name"]?.string?.contains("many A") == true }?.object)
        #expect(crowded["status"] == .string("failed") && crowded["score"] == .number(0))
        #expect(crowded["output"]?.string?.contains("Counterexample: on \"") == true)
    }

    @Test func gradescopeResultsAreWrittenEvenWhenTheSubmissionCannotBeLoaded() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-gs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let results = (dir as NSString).appendingPathComponent("results/results.json")
        let r = runCLI(["check", repoPath("no/such.json"), "--format", "gradescope", "--out", results])
        #expect(r.status == 2)
        let doc = try #require(try JSONParser.parse(try SubmissionLoader.readFile(results), file: results).object)
        #expect(doc["score"] == .number(0))
        #expect(doc["output"]?.string?.contains("could not be graded") == true)
        #expect(doc["tests"]?.array?.first?.object?["status"] == .string("failed"))
    }

    @Test func junitHasASuitePerExerciseACasePerFamilyAndTheCounterexample() throws {
        let r = runCLI([
            "check", repoPath("submissions/reference/current-token-nopos.json"),
            repoPath("submissions/examples/current-token-nopos-no-default.json"), repoPath("missing.json"), "--format", "junit",
        ])
        #expect(r.status == 2)
        let xml = r.out
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"circuit-grader\" tests=\"13\" failures=\"5\" errors=\"1\">"))
        #expect(xml.components(separatedBy: "<testsuite ").count - 1 == 3)
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 13)
        #expect(xml.contains("file=\"\(repoPath("submissions/examples/current-token-nopos-no-default.json"))\""))
        #expect(xml.contains("<failure type=\"FamilyFailed\" message=\"215/271 correct"))
        #expect(xml.contains("expected none, found B"))
        #expect(xml.contains("<error type=\"InputError\""))
        let parser = XMLParser(data: Data(xml.utf8))
        #expect(parser.parse(), "the JUnit output is well-formed XML")
    }

    @Test func githubAnnotationsAppearOnlyUnderActionsAndAreCapped() {
        let capture = Capture()
        var output = capture.output
        output.environment = ["GITHUB_ACTIONS": "true"]
        let status = CommandLineTool.run(
            arguments: [
                "check", repoPath("submissions/examples/current-token-nopos-no-default.json"),
                "--exercises", repoPath("exercises"),
            ], output: output)
        #expect(status == 1)
        let annotations = capture.out.split(separator: "\n").filter { $0.hasPrefix("::error ") }
        #expect(annotations.count == 5)
        #expect(annotations.allSatisfy { $0.contains("file=\(repoPath("submissions/examples/current-token-nopos-no-default.json"))") })
        #expect(!runCLI(["check", repoPath("submissions/examples/current-token-nopos-no-default.json")]).out.contains("::error"))
        // A report on standard output (Markdown into the step summary) carries no annotations.
        let markdown = Capture()
        var quiet = markdown.output
        quiet.environment = ["GITHUB_ACTIONS": "true"]
        _ = CommandLineTool.run(
            arguments: [
                "check", repoPath("submissions/examples/current-token-nopos-no-default.json"), "--format", "markdown",
                "--exercises", repoPath("exercises"),
            ], output: quiet)
        #expect(markdown.out.contains("| family |") && !markdown.out.contains("::error"))
    }
}

/// Edge cases of a real class folder: colliding names, reruns, zip debris, secret seeds, bad limits.
struct ClassFolderEdgeTests {
    @Test func collidingNamesGetTheirOwnFeedbackAndRerunsDropStaleFiles() throws {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("cg-edge-\(UUID().uuidString)").path
        defer { try? fm.removeItem(atPath: base) }
        let root = (base as NSString).appendingPathComponent("class"), out = (base as NSString).appendingPathComponent("out")
        try fm.createDirectory(atPath: (root as NSString).appendingPathComponent("__MACOSX"), withIntermediateDirectories: true)
        let good = repoPath("submissions/reference/current-token-nopos.json"), bad = repoPath("submissions/examples/current-token-nopos-no-default.json")
        try fm.copyItem(atPath: good, toPath: (root as NSString).appendingPathComponent("jo space.json"))
        try fm.copyItem(atPath: bad, toPath: (root as NSString).appendingPathComponent("jo_space.json"))
        try fm.createDirectory(atPath: (out as NSString).appendingPathComponent("feedback"), withIntermediateDirectories: true)
        #expect(fm.createFile(atPath: (out as NSString).appendingPathComponent("feedback/zed.txt"), contents: Data("old".utf8)))
        let r = runCLI(["grade", root, "--out", out, "--seed", "s3cret"])
        #expect(r.status == 0, "\(r.err)")
        let files = try fm.contentsOfDirectory(atPath: (out as NSString).appendingPathComponent("feedback")).sorted()
        #expect(files == ["jo_space-2.txt", "jo_space.txt"])
        let first = try String(contentsOfFile: (out as NSString).appendingPathComponent("feedback/jo_space.txt"), encoding: .utf8)
        let second = try String(contentsOfFile: (out as NSString).appendingPathComponent("feedback/jo_space-2.txt"), encoding: .utf8)
        #expect(first.contains("Feedback for jo space") && first.contains("score 6/6"))
        #expect(second.contains("Feedback for jo_space") && second.contains("score 1/6"))
        // Students see neither the instructor's secret seed nor the instructor's paths.
        #expect(!first.contains(String(fnv1a64("s3cret"))) && first.contains("a non-public seed, not shown"))
        #expect(!first.contains(root))
        let csv = try String(contentsOfFile: (out as NSString).appendingPathComponent("grades.csv"), encoding: .utf8)
        #expect(!csv.contains("__MACOSX"))
        #expect(csv.contains("jo_space-2.txt"))
    }

    @Test(arguments: ["abc", "0", "-1", "-inf", "nan"])
    func badTimeLimitsAreRefused(_ limit: String) {
        let r = runCLI(["grade", repoPath("submissions"), "--out", "/tmp/cg-never-written", "--limit", limit])
        #expect(r.status == 2)
        #expect(r.err.contains("--limit needs a number of seconds above 0"))
    }

    @Test func gradescopeOutputNeverShowsASecretSeed() throws {
        let secret = runCLI(["check", repoPath("submissions/reference/current-token-nopos.json"), "--format", "gradescope", "--seed", "12345"])
        let public_ = runCLI(["check", repoPath("submissions/reference/current-token-nopos.json"), "--format", "gradescope"])
        #expect(!secret.out.contains("12345") && secret.out.contains("a non-public seed, not shown"))
        #expect(public_.out.contains("seed \(Grader.publicSeed)"))
    }
}

struct GradescopeVisibilityTests {
    @Test func hiddenFamiliesKeepTheirVisibilityAndTheOutputWarnsTheScoreMayChange() throws {
        func family(_ id: String, _ visibility: ExerciseSpec.Visibility, passed: Bool) -> FamilyResult {
            FamilyResult(
                id: id, title: id, visibility: visibility, points: 2, earned: passed ? 2 : 0, passed: passed, total: 4,
                correct: passed ? 4 : 3, accuracy: passed ? 1 : 0.75, worstMargin: passed ? 0.5 : -0.2, medianMargin: 0.5,
                counterexample: Counterexample(
                    sequence: ["A", "B"], position: 1, what: "prediction after position 1",
                    expected: "B", found: "none", margin: -0.2))
        }
        let report = GradeReport(
            file: "s.json", exercise: "x/y", title: "t", exploratory: nil, seed: 99, specHash: "0123456789abcdef",
            graderVersion: graderVersion,
            families: [
                family("open", .visible, passed: true), family("secret", .hidden, passed: false),
                family("later", .afterDueDate, passed: true),
            ])
        let doc = try #require(GradescopeReport.results([.graded(report)], executionTime: 0.5).object)
        let tests = (doc["tests"]?.array ?? []).compactMap { $0.object }
        #expect(tests.map { $0["visibility"] } == [.string("visible"), .string("hidden"), .string("after_due_date")])
        #expect(doc["score"] == .number(4))
        let output = try #require(doc["output"]?.string)
        #expect(output.contains("1/1 visible families passed"))
        #expect(output.contains("4 points come from families that are hidden"))
        // The secret family's counterexample stays inside its own (hidden) test, never in the visible output.
        #expect(!output.contains("Counterexample"))
        #expect(tests[1]["output"]?.string?.contains("Counterexample: on \"A B\"") == true)
        #expect(!output.contains("99"))
    }
}
