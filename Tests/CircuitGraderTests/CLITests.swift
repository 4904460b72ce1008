import Testing
@testable import CircuitGrader

/// End-to-end runs of the CLI in-process: stdout, stderr and exit status.
struct CLITests {
    let reference = repoPath("submissions/reference/current-token-nopos.json")
    let wrong = repoPath("submissions/examples/current-token-nopos-no-default.json")

    @Test func referencePassesWithExitZero() {
        let r = runCLI(["check", reference])
        #expect(r.status == 0)
        #expect(r.out.contains("PASS random"))
        #expect(!r.out.contains("FAIL"))
        #expect(r.err.isEmpty)
    }

    @Test func wrongSubmissionFailsWithExitOneAndSaysWhy() {
        let r = runCLI(["check", wrong])
        #expect(r.status == 1)
        #expect(r.out.contains("FAIL crowded"))
        // The counterexample names the sequence, the position, what was expected and what was found.
        #expect(r.out.contains("expected none, found B"))
    }

    @Test func mixedBatchOfGoodAndUnreadableExitsTwoButReportsBoth() {
        let r = runCLI(["check", reference, repoPath("no/such/file.json")])
        #expect(r.status == 2)
        #expect(r.out.contains("PASS random"))
        #expect(r.err.contains("no/such/file.json: no such file or folder"))
    }

    @Test func explainJSONGivesLogitsPredictionAndAttentionPerPosition() throws {
        let r = runCLI(["explain", reference, "--sequence", "A C A", "--format", "json"])
        #expect(r.status == 0)
        let doc = try JSONParser.parse(Array(r.out.utf8), file: "stdout")
        let positions = try #require(doc.object?["positions"]?.array)
        #expect(positions.count == 4)  // BOS + 3 tokens
        let last = try #require(positions[3].object)
        #expect(last["token"] == .string("A"))
        #expect(last["prediction"] == .string("B"))
        #expect(last["expected"] == .string("B"))
        let head = try #require(last["heads"]?.array?.first?.object)
        let attention = try #require(head["attention"]?.object)
        #expect(attention.keys == ["BOS", "0", "1", "2"])
        // The A query puts almost all of its weight on the two A's (positions 0 and 2), equally.
        let w0 = try #require(attention["0"]?.number), w2 = try #require(attention["2"]?.number)
        #expect(w0 == w2)
        #expect(w0 + w2 > 0.99)
        let middle = try #require(positions[2].object)
        #expect(middle["prediction"] == .string("none"))
    }

    @Test func showJSONGivesTheFixedMatricesAsNumbers() throws {
        let r = runCLI(["show", "current-token/nopos", "--format", "json"])
        #expect(r.status == 0)
        let doc = try #require(try JSONParser.parse(Array(r.out.utf8), file: "stdout").object)
        let wU = try #require(doc["fixed"]?.object?["W_U"]?.object)
        let rows = (wU["rows"]?.array ?? []).compactMap { $0.string }
        let columns = (wU["columns"]?.array ?? []).compactMap { $0.string }
        let values = try #require(wU["values"]?.array)
        let r_ = try #require(rows.firstIndex(of: "out:B")), c = try #require(columns.firstIndex(of: "B"))
        #expect(values[r_].array?[c] == .number(1))
        #expect(doc["fixed"]?.object?["b_U"]?.object?["none"] == .number(0.5))
    }

    @Test func listNamesEveryExercise() throws {
        let r = runCLI(["list", "--format", "json"])
        #expect(r.status == 0)
        let ids = try JSONParser.parse(Array(r.out.utf8), file: "stdout").object?["exercises"]?.array?.compactMap { $0.object?["id"]?.string }
        #expect(ids?.contains("current-token/nopos") == true)
    }

    @Test func validateAcceptsTheBundledSpec() {
        let r = runCLI(["validate", repoPath("exercises/current-token/nopos.json"), "--root", repoRoot])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("reference passes all 5 families"))
    }

    struct UsageCase: CustomTestStringConvertible, Sendable {
        var id: String
        var arguments: [String]
        var message: String
        var testDescription: String { id }
    }

    @Test(arguments: [
        UsageCase(id: "no command", arguments: [], message: "no command given"),
        UsageCase(id: "unknown command", arguments: ["grde"], message: "unknown command \"grde\""),
        UsageCase(id: "unknown option", arguments: ["check", "x.json", "--colour"], message: "unknown option --colour"),
        UsageCase(id: "missing option value", arguments: ["explain", "x.json", "--sequence"], message: "--sequence needs a value"),
        UsageCase(id: "bad format", arguments: ["list", "--format", "xml"], message: "--format xml is not available"),
        UsageCase(id: "unknown exercise", arguments: ["show", "current-tokn/nopos"], message: "unknown exercise \"current-tokn/nopos\""),
        UsageCase(
            id: "token outside the vocabulary", arguments: ["explain", "submissions/reference/current-token-nopos.json", "--sequence", "A Z"],
            message: "\"Z\" is not in the vocabulary"),
    ])
    func usageErrorsExitTwoWithOneLine(_ c: UsageCase) {
        let args = c.arguments.map { $0.hasPrefix("submissions/") ? repoPath($0) : $0 }
        let capture = Capture()
        let status = CommandLineTool.run(arguments: args + (args.isEmpty ? [] : ["--exercises", repoPath("exercises")]), output: capture.output)
        #expect(status == 2)
        #expect(capture.err.contains(c.message), "\(capture.err)")
        #expect(capture.err.split(separator: "\n").count == 1)
    }
}

/// `check`'s searches beyond the graded families: reported, never scored.
struct ProbeTests {
    @Test func exhaustiveVerifiesTheReferenceAndFindsTheKnownBadsFirstFailure() throws {
        let good = runCLI([
            "check", repoPath("submissions/reference/current-token-nopos.json"), "--exhaustive", "--exhaustive-limit", "400", "--budget", "0", "--format",
            "json",
        ])
        let bad = runCLI([
            "check", repoPath("submissions/examples/current-token-nopos-no-default.json"), "--exhaustive", "--exhaustive-limit", "400", "--budget", "0",
            "--format", "json",
        ])
        #expect(good.status == 0)
        #expect(bad.status == 1)
        func probe(_ out: String) throws -> [String: JSONValue] {
            let doc = try JSONParser.parse(Array(out.utf8), file: "stdout")
            let probes = try #require(doc.object?["results"]?.array?.first?.object?["probes"]?.array)
            #expect(probes.count == 1)
            let p = try #require(probes.first?.object)
            return Dictionary(uniqueKeysWithValues: p.members.map { ($0.key, $0.value) })
        }
        let g = try probe(good.out), b = try probe(bad.out)
        // 4 + 16 + 64 + 256 = 340 sequences fit in 400: every sequence of A B C D up to length 4.
        #expect(g["found_failure"] == .bool(false))
        #expect(g["summary"]?.string?.contains("verified on all 340 sequences of A B C D up to length 4") == true)
        #expect(b["found_failure"] == .bool(true))
        // Depth-first order: A, A A, A A A, A A A A, A A A B: the first wrong prediction is the B after three
        // A's (uniform attention over BOS and three A's writes B = 3/5 > 0.5).
        #expect(b["summary"]?.string?.contains("A A A B, position 3: expected none, found B") == true)
    }

    @Test func adversarialSearchRunsByDefaultAndBudgetZeroTurnsItOff() throws {
        let on = runCLI(["check", repoPath("submissions/examples/current-token-nopos-no-default.json")])
        let off = runCLI(["check", repoPath("submissions/examples/current-token-nopos-no-default.json"), "--budget", "0"])
        #expect(on.out.contains("adversarial search: current-token/nopos: worst of"))
        #expect(!off.out.contains("adversarial search"))
        // Probes never change the score.
        #expect(on.out.contains("score 1/5") && off.out.contains("score 1/5"))
    }
}

struct SuggestionTests {
    @Test func editDistanceByHand() {
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3)
        #expect(editDistance("abc", "") == 3)
        #expect(editDistance("induction/pos", "induction/poss") == 1)
    }

    @Test func unknownExerciseSuggestsTheClosestIdsFirst() {
        let r = runCLI(["show", "induction/poss"])
        #expect(r.status == 2)
        #expect(r.err.contains("did you mean induction/pos or induction/nopos?"))
    }
}
