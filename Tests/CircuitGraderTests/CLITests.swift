import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

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
        UsageCase(id: "unknown option", arguments: ["check", "x.json", "--colour"], message: "check has no option --colour"),
        UsageCase(id: "missing option value", arguments: ["explain", "x.json", "--sequence"], message: "--sequence needs a value"),
        UsageCase(id: "bad format", arguments: ["list", "--format", "xml"], message: "--format \"xml\" is not available for list"),
        UsageCase(id: "a bad budget", arguments: ["check", "x.json", "--budget", "-1"], message: "--budget needs a whole number from 0 to 1000000"),
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

/// `check`'s domain check through the command line: proof, partial enumeration, counterexample, budgets.
struct DomainCommandTests {
    func verdict(_ out: String) throws -> [String: JSONValue] {
        let doc = try JSONParser.parse(Array(out.utf8), file: "stdout")
        let verdicts = try #require(doc.object?["results"]?.array?.first?.object?["verdicts"]?.array)
        #expect(verdicts.count == 1)
        let v = try #require(verdicts.first?.object)
        return Dictionary(uniqueKeysWithValues: v.members.map { ($0.key, $0.value) })
    }

    @Test func proveEnumeratesTheWholeDomainAndTheFirstCounterexampleFailsTheSubmission() throws {
        let good = runCLI(["check", repoPath("submissions/reference/current-token-nopos.json"), "--prove", "--budget", "0", "--format", "json"])
        let bad = runCLI(["check", repoPath("submissions/examples/current-token-nopos-no-default.json"), "--prove", "--budget", "0", "--format", "json"])
        #expect(good.status == 0)
        #expect(bad.status == 1)
        let g = try verdict(good.out), b = try verdict(bad.out)
        // 4 + 16 + ... + 4^11 = 5,592,404 sequences of A B C D up to length 11.
        #expect(g["status"] == .string("proved"))
        #expect(g["domain_sequences"] == .number(5_592_404))
        #expect(g["summary"]?.string == "proved on all 5592404 sequences of A B C D, lengths 1 to 11 (worst margin 0.5)")
        #expect(b["status"] == .string("counterexample"))
        #expect(b["found_by"] == .string("enumeration"))
        // Depth-first order: A, A A, ..., nine A's, then nine A's and a B: with no default target the B
        // query spreads evenly over BOS and ten tokens, nine of which write B: 9/11 > 0.5.
        #expect(bad.out.contains("\"sequence\": [\"A\", \"A\", \"A\", \"A\", \"A\", \"A\", \"A\", \"A\", \"A\", \"A\", \"A\", \"B\"]") == false)
        #expect(bad.out.contains("\"what\": \"prediction after position 10\"") || bad.out.contains("\"what\": \"prediction after position 9\""))
    }

    @Test func theProofBudgetBoundsTheEnumerationAndTheStressSequencesCoverTheRest() throws {
        let none = runCLI(["check", repoPath("submissions/reference/current-token-nopos.json"), "--proof-budget", "0", "--budget", "0", "--format", "json"])
        let n = try verdict(none.out)
        #expect(n["status"] == .string("searched"))
        #expect(n["enumerated"] == .number(0))
        // Six pairs of tokens, every sequence over each pair up to length 11 (2 + 4 + ... + 2^11 = 4094),
        // then the sparse sequences at length 11.
        #expect((n["stressed"]?.number ?? 0) > 6 * 4094)
        #expect(n["searched"] == .number(0))
        let crowded = runCLI(["check", repoPath("submissions/examples/current-token-nopos-crowded-default.json"), "--proof-budget", "0", "--format", "json"])
        #expect(crowded.status == 1)
        let c = try verdict(crowded.out)
        #expect(c["found_by"] == .string("stress sequences"))
        #expect(c["family"] == .string("random"))
    }

    @Test func theVerdictIsPrintedAsTheDomainFamily() {
        let r = runCLI(["check", repoPath("submissions/examples/current-token-nopos-crowded-default.json")])
        #expect(r.status == 1)
        // The default proof budget enumerates every sequence of this 4-token exercise, so enumeration finds it.
        #expect(r.out.contains("FAIL domain: counterexample found by enumeration among the sequences of A B C D, lengths 1 to 11"))
        #expect(r.out.contains("on \"A A A A A A A A A A B\", prediction after position 10: expected none, found B"))
        #expect(r.out.contains("score 5/6: failed"))
    }

    @Test func budgetsAreValidated() {
        #expect(
            runCLI(["check", repoPath("submissions/reference/current-token-nopos.json"), "--proof-budget", "-1"]).err.contains(
                "--proof-budget needs seconds from 0 to 3600"))
        #expect(runCLI(["check", repoPath("submissions/reference/current-token-nopos.json"), "--budget", "x"]).err.contains("--budget needs a whole number"))
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
