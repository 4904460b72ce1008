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

/// Spreadsheets, pandas and LMS gradebooks: files as those tools write them, grades as they import them.
struct EcosystemTests {
    // MARK: CSV as spreadsheets and pandas write it

    struct CSVCase: CustomTestStringConvertible, Sendable {
        let id: String
        let text: String
        let values: [Double]
        let shape: [Int]
        let rowLabels: [String]?
        let columnLabels: [String]?
        var testDescription: String { id }
    }

    static let csvCases: [CSVCase] = [
        CSVCase(
            id: "pandas to_csv: position header and index", text: ",0,1,2\n0,1.0,0.5,0.0\n1,0.0,2.0,-1.5\n", values: [1, 0.5, 0, 0, 2, -1.5], shape: [2, 3],
            rowLabels: nil, columnLabels: nil),
        CSVCase(id: "pandas to_csv of integers", text: ",0,1\n0,1,0\n1,0,1\n", values: [1, 0, 0, 1], shape: [2, 2], rowLabels: nil, columnLabels: nil),
        CSVCase(id: "pandas to_csv(index=False)", text: "0,1\n1.0,0.5\n0.0,2.0\n", values: [1, 0.5, 0, 2], shape: [2, 2], rowLabels: nil, columnLabels: nil),
        CSVCase(id: "pandas Series.to_csv", text: ",0\n0,0.0\n1,0.5\n", values: [0, 0.5], shape: [2, 1], rowLabels: nil, columnLabels: nil),
        CSVCase(
            id: "pandas with named columns and a position index", text: ",tok:A,tok:B\n0,1.0,0.0\n1,0.0,1.0\n", values: [1, 0, 0, 1], shape: [2, 2],
            rowLabels: nil,
            columnLabels: ["tok:A", "tok:B"]),
        CSVCase(
            id: "pandas with named rows and position columns", text: ",0,1\ntok:A,1.0,0.0\ntok:B,0.0,1.0\n", values: [1, 0, 0, 1], shape: [2, 2],
            rowLabels: ["tok:A", "tok:B"], columnLabels: nil),
        CSVCase(
            id: "Excel CSV UTF-8: a BOM before a comment line", text: "\u{FEFF}# L0H0 W_Q\r\n,h0,h1\r\ntok:A,1,0\r\ntok:B,0,1\r\n", values: [1, 0, 0, 1],
            shape: [2, 2],
            rowLabels: ["tok:A", "tok:B"], columnLabels: ["h0", "h1"]),
        CSVCase(
            id: "semicolons with decimal commas", text: "1;0,5;-2\n0;1,25;3e-1\n", values: [1, 0.5, -2, 0, 1.25, 0.3], shape: [2, 3], rowLabels: nil,
            columnLabels: nil),
        CSVCase(
            id: "semicolons with quoted names", text: "\"\";\"h0\";\"h1\"\n\"tok:A\";1;0\n", values: [1, 0], shape: [1, 2], rowLabels: ["tok:A"],
            columnLabels: ["h0", "h1"]),
        CSVCase(id: "tabs", text: "1\t0\n0\t1\n", values: [1, 0, 0, 1], shape: [2, 2], rowLabels: nil, columnLabels: nil),
        // Unchanged: a plain matrix whose first row happens to be 0, 1 (written as a matrix, not by pandas).
        CSVCase(id: "a plain integer matrix keeps its first row", text: "0,1\n1,0\n", values: [0, 1, 1, 0], shape: [2, 2], rowLabels: nil, columnLabels: nil),
        CSVCase(
            id: "a one-row vector starting at 0 keeps its first value", text: "0,1.5,2.5\n", values: [0, 1.5, 2.5], shape: [1, 3], rowLabels: nil,
            columnLabels: nil),
    ]

    @Test(arguments: csvCases)
    func spreadsheetCSVReadsAsWritten(_ c: CSVCase) throws {
        let raw = try CSVMatrix.parse(c.text, file: "m.csv", location: "m")
        guard case .dense(let m, let rows, let columns) = raw else {
            Issue.record("not dense")
            return
        }
        #expect(m.shape == c.shape)
        #expect(m.values == c.values)
        #expect(rows == c.rowLabels)
        #expect(columns == c.columnLabels)
    }

    @Test func realPandasFoldersGrade() throws {
        for (name, exercise) in [
            ("pandas-current-token-nopos", "current-token/nopos"), ("pandas-pointer-arithmetic-sinusoidal", "pointer-arithmetic/sinusoidal"),
        ] {
            let r = runCLI(["check", try TransformerLensTests.fixture(name), "--exercise", exercise, "--budget", "0"])
            #expect(r.status == 0, "\(name): \(r.err)")
        }
    }

    // MARK: gradebook

    static func report(_ exercise: String, score: Double, file: String = "s.json") -> GradeReport {
        GradeReport(
            file: file, exercise: exercise, title: "t", exploratory: nil, seed: 1, specHash: "h", graderVersion: graderVersion,
            families: [
                FamilyResult(
                    id: "f", title: "f", visibility: .visible, points: 4, earned: score, passed: score == 4, total: 1, correct: score == 4 ? 1 : 0,
                    accuracy: score == 4 ? 1 : 0, worstMargin: 0.5, medianMargin: 0.5, counterexample: nil)
            ])
    }

    static let book = Gradebook(
        rows: [
            BatchGrader.Row(student: "alice", outcome: .graded(report("x/a", score: 4)), model: nil),
            BatchGrader.Row(student: "bob", outcome: .graded(report("x/a", score: 1)), model: nil),
            BatchGrader.Row(student: "carol", outcome: .graded(report("x/a", score: 2)), model: nil),
            BatchGrader.Row(student: "dave", outcome: .error(GraderError(file: "dave.json", "bad"), exercise: "x/a"), model: nil),
            BatchGrader.Row(student: "alice", outcome: .graded(report("x/b", score: 3)), model: nil),
            BatchGrader.Row(student: "alice", outcome: .graded(report("x/b", score: 4, file: "t.json")), model: nil),
        ], flags: [], seed: 1, maxScores: ["x/a": 4, "x/b": 4])

    @Test func theMedianIsTheTrueMedian() throws {
        // x/a scores 4, 1, 2 and an error row's 0: the median of four is (1 + 2) / 2.
        #expect(Gradebook.median([0, 1, 2, 4]) == 1.5)
        #expect(Gradebook.median([1, 2, 4]) == 2)
        #expect(Gradebook.median([]) == nil)
        let summary = try #require(Self.book.json.object?["summary"]?.array?.first?.object)
        #expect(summary["score_median"] == .number(1.5))
        #expect(Self.book.summaryMarkdown.contains("| x/a | 4 | 1 | 1 | 0 | 1.5 | 4 |"))
    }

    @Test func errorRowsSayWhatTheyWereOutOf() throws {
        let dave = try #require(Self.book.csv.split(separator: "\n").first { $0.hasPrefix("dave,") })
        #expect(dave.hasPrefix("dave,dave.json,x/a,a,0,4,error"))
        let rows = try #require(Self.book.json.object?["rows"]?.array)
        #expect(rows[3].object?["max_score"] == .number(4))
    }

    @Test func canvasAndMoodleGetOneRowPerStudentAndAColumnPerAssignment() {
        #expect(
            Self.book.canvasCSV == """
                Student,ID,SIS User ID,SIS Login ID,Section,x/a,x/b
                Points Possible,,,,,4,4
                alice,,,alice,,4,4
                bob,,,bob,,1,
                carol,,,carol,,2,
                dave,,,dave,,0,

                """)
        #expect(
            Self.book.moodleCSV == """
                Username,x/a,x/b
                alice,4,4
                bob,1,
                carol,2,
                dave,0,

                """)
    }

    @Test func gradeWritesTheLMSFiles() throws {
        let out = try temporaryFolder("lms")
        let r = runCLI(["grade", repoPath("Tests/CircuitGraderTests/Fixtures/class"), "--out", out, "--exercise", "current-token/nopos"])
        #expect(r.status == 0, "\(r.err)")
        let canvas = try String(contentsOfFile: out + "/canvas.csv", encoding: .utf8)
        #expect(canvas.hasPrefix("Student,ID,SIS User ID,SIS Login ID,Section,current-token/nopos\nPoints Possible,,,,,6\n"))
        let moodle = try String(contentsOfFile: out + "/moodle.csv", encoding: .utf8)
        #expect(moodle.contains("\nalice,6\n"))
    }

    // MARK: JUnit and the schema check itself

    @Test func junitSuiteNamesAreUnique() {
        let a = GradingSession.Outcome.graded(Self.report("x/a", score: 4, file: "a.json"))
        let b = GradingSession.Outcome.graded(Self.report("x/a", score: 1, file: "b.json"))
        let c = GradingSession.Outcome.graded(Self.report("x/b", score: 1, file: "c.json"))
        #expect(JUnitReport.suiteNames([a, b, c]) == ["x/a (a.json)", "x/a (b.json)", "x/b"])
        #expect(JUnitReport.suiteNames([a, a]) == ["x/a (a.json)", "x/a (a.json) #2"])
        #expect(JUnitReport.render([a, b]).contains("<testsuite name=\"x/a (b.json)\""))
    }

    @Test func theSchemaCheckCatchesWhatTheSchemaForbids() throws {
        let schema = try JSONParser.parse(try SubmissionLoader.readFile(GradescopeSchema.path), file: "schema")
        let bad = JSONValue.obj([("score", .string("5")), ("extra", .number(1)), ("leaderboard", .array([.obj([("name", .string("x"))])]))])
        let problems = GradescopeSchema.check(bad, schema, root: schema, at: "$")
        #expect(problems.contains("$.score: expected number, found a string"))
        #expect(problems.contains("$: extra is not allowed"))
        #expect(problems.contains("$.leaderboard[0]: value is required"))
    }
}
