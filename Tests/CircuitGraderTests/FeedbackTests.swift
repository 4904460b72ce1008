// Tests of the feedback a student reads: `explain`'s text view (heatmaps, writes, logits), the HTML report of
// `check --format html`, and `init`'s templates. Every number shown is checked against the engine
// (`Transformer.forward`, the heads' circuits) or against the JSON views that carry the same numbers.

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

/// One heatmap table of the HTML report: its `data-*` attributes and its cells' `data-v` values by row.
private struct HTMLHeatmapTable {
    var kind: String
    var head: String
    var sequence: String?
    var rows: [[Double]]

    /// Every `<table class="heatmap" …>` in `html`, in page order.
    static func all(in html: String) -> [HTMLHeatmapTable] {
        html.components(separatedBy: "<table class=\"heatmap\"").dropFirst().compactMap { chunk in
            guard let end = chunk.range(of: "</table>") else { return nil }
            let table = String(chunk[..<end.lowerBound])
            let tag = String(table[..<(table.firstIndex(of: ">") ?? table.endIndex)])
            let rows = table.components(separatedBy: "<tr").dropFirst().map { row in
                row.components(separatedBy: "data-v=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
            }.filter { !$0.isEmpty }
            return HTMLHeatmapTable(
                kind: attribute("data-kind", tag) ?? "", head: attribute("data-head", tag) ?? "",
                sequence: attribute("data-sequence", tag), rows: rows)
        }
    }

    private static func attribute(_ name: String, _ tag: String) -> String? {
        guard let start = tag.range(of: "\(name)=\"") else { return nil }
        return String(tag[start.upperBound...].prefix { $0 != "\"" })
    }
}

/// The attention weights of `head` in an explain JSON document, `[T][T]` by query position.
private func attentionRows(_ doc: JSONValue, head: String) -> [[Double]] {
    (doc.object?["positions"]?.array ?? []).map { p in
        let h = p.object?["heads"]?.array?.first { $0.object?["head"] == .string(head) }
        return h?.object?["attention"]?.object?.members.compactMap { $0.value.number } ?? []
    }
}

struct FeedbackTests {
    let currentToken = repoPath("submissions/reference/current-token-nopos.json")
    let induction = repoPath("submissions/reference/induction-k-learned.json")
    let leaky = repoPath("submissions/examples/current-token-nopos-no-default.json")

    // MARK: explain, text

    @Test func explainTextDrawsEveryHeadsPatternWithTheEnginesWeights() throws {
        let (_, spec, model) = try loadModel(induction)
        let tokens = ["A", "B", "C", "A"]
        let trace = model.forward([spec.vocab.count] + tokens.compactMap { spec.vocab.firstIndex(of: $0) })
        let r = runCLI(["explain", induction, "--sequence", tokens.joined(separator: " ")])
        #expect(r.status == 0, "\(r.err)")
        #expect(!r.out.contains("\u{1B}["))
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let labels = ["BOS", "0 A", "1 B", "2 C", "3 A"]
        for (l, layer) in trace.patterns.enumerated() {
            let title = try #require(lines.firstIndex { $0.hasPrefix("L\(l)H0 attention") })
            for (q, label) in labels.enumerated() {
                let row = try #require(lines[title...].first { $0.hasPrefix("  \(label) ") }, "row \(label) of L\(l)H0")
                let cells = row.dropFirst(2 + 11).split(separator: " ").map(String.init)  // after the label column
                #expect(cells.count == labels.count, "\(row)")
                for (k, cell) in cells.enumerated() {
                    let w = layer[0][q, k]
                    let expected = k > q ? "·" : "\(HeatmapText.shade(w))" + String(format: "%.2f", w)
                    #expect(cell.hasSuffix(expected.trimmingCharacters(in: .whitespaces)), "L\(l)H0 \(label) key \(k): \(cell) vs \(expected)")
                }
            }
        }
    }

    @Test func explainTextShowsWritesAndLogitsAsTheEngineComputedThem() throws {
        let (_, spec, model) = try loadModel(currentToken)
        let trace = model.forward([spec.vocab.count, 0, 2, 0])  // BOS A C A
        let text = Explanation(spec: spec, model: model, tokens: ["A", "C", "A"]).text
        let lines = text.split(separator: "\n").map(String.init)
        let wrote = try #require(lines.firstIndex { $0.hasPrefix("L0H0 wrote") })
        #expect(lines[wrote + 1].split(separator: " ").last == "out:B")  // the only dim the head changes
        let outB = try #require(spec.layout.index(of: "out:B"))
        #expect(lines[wrote + 3].hasSuffix(" " + NumberText.rounded(trace.headOutputs[0][0][1, outB])))  // 0 A
        let logits = try #require(lines.firstIndex { $0.hasPrefix("logits and prediction") })
        let last = lines[logits + 5].split(separator: " ").map(String.init)  // 2 A
        #expect(last == ["2", "A"] + (0..<spec.outputs.count).map { NumberText.rounded(trace.logits[3, $0]) } + ["B", "B"])
    }

    @Test func explainColoursOnlyWhenAsked() throws {
        let (_, spec, model) = try loadModel(currentToken)
        let e = Explanation(spec: spec, model: model, tokens: ["A", "C"])
        #expect(e.text(colour: true).contains("\u{1B}[38;5;"))
        #expect(!e.text(colour: false).contains("\u{1B}["))
        #expect(e.text == e.text(colour: false))
    }

    @Test func explainJSONKeepsItsShape() throws {
        let r = runCLI(["explain", currentToken, "--sequence", "A C", "--format", "json"])
        let doc = try #require(try JSONParser.parse(Array(r.out.utf8), file: "stdout").object)
        #expect(doc.keys == ["schema", "exercise", "sequence", "positions"])
        let position = try #require(doc["positions"]?.array?.first?.object)
        #expect(position.keys == ["position", "token", "logits", "prediction", "expected", "heads"])
        #expect(position["heads"]?.array?.first?.object?.keys == ["head", "attention", "writes"])
    }

    @Test func shadesRunFromBlankToFull() {
        #expect([0, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.5].map(HeatmapText.shade) == [" ", " ", "░", "▒", "▓", "█", "█", "█"])
    }

    @Test func longSequencesAreShadedWithoutNumbers() {
        let t = HeatmapText.maxColumnsWithNumbers + 2
        var pattern = Matrix(zeros: t, t)
        for q in 0..<t { pattern[q, 0] = 1 }
        let labels = (0..<t).map(String.init)
        let text = HeatmapText.render(pattern, positions: labels, tokens: labels.map { _ in "A" }, causal: true, colour: false)
        let lastRow = text.split(separator: "\n").last.map(String.init) ?? ""
        #expect(lastRow.hasSuffix("██" + String(repeating: "   ", count: t - 1)))
        #expect(!text.contains("1.00"))
    }

    @Test func wideTablesSplitIntoBlocksThatRepeatTheRowLabels() {
        let columns = (0..<40).map { "c\($0)" }
        let table = TextTable(header: [columns], rowLabels: ["row"], cells: [columns.map { _ in TextTable.Cell(text: "1.234") }])
        let lines = table.render(colour: false, maxWidth: 80).split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines.filter { $0.hasPrefix("  row") }.count == lines.count / 2)
        #expect(lines.count > 2)
    }

    // MARK: check --format html

    @Test func htmlReportHasAHeatmapPerHeadWhoseValuesMatchExplain() throws {
        let out = try scratchFolder() + "/report.html"
        let r = runCLI(["check", leaky, induction, "--format", "html", "--out", out])
        #expect(r.status == 1, "\(r.err)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        let tables = HTMLHeatmapTable.all(in: html)
        let attention = tables.filter { $0.kind == "attention" }
        let sequences = Set(attention.compactMap(\.sequence))
        #expect(!sequences.isEmpty)
        for (file, heads) in [(leaky, ["L0H0"]), (induction, ["L0H0", "L1H0"])] {
            let grade = runCLI(["check", file, "--format", "json"])
            let report = try #require(try JSONParser.parse(Array(grade.out.utf8), file: "stdout").object?["results"]?.array?.first?.object)
            let shown = (report["families"]?.array ?? []).compactMap { $0.object?["counterexample"]?.object?["sequence"]?.array }
                .map { $0.compactMap(\.string).joined(separator: " ") }.filter { !$0.isEmpty }
            for sequence in Set(shown) {
                let explain = runCLI(["explain", file, "--sequence", sequence, "--format", "json"])
                let doc = try JSONParser.parse(Array(explain.out.utf8), file: "stdout")
                for head in heads {
                    let maps = attention.filter { $0.sequence == sequence && $0.head == head }
                    #expect(!maps.isEmpty, "\(file): no \(head) heatmap for \"\(sequence)\"")
                    for map in maps { #expect(map.rows == attentionRows(doc, head: head), "\(head) on \"\(sequence)\"") }
                }
            }
        }
    }

    @Test func htmlCircuitHeatmapsHoldTheFoldedCircuits() throws {
        let (_, spec, model) = try loadModel(induction)
        let html = HTMLReport.circuits(CircuitAnalysis(spec: spec, model: model))
        let tables = HTMLHeatmapTable.all(in: html)
        #expect(tables.map { "\($0.head).\($0.kind)" } == ["L0H0.qk", "L0H0.ov", "L1H0.qk", "L1H0.ov"])
        for table in tables {
            let head = model.layers[table.head == "L0H0" ? 0 : 1].heads[0]
            let circuit = LabelledMatrix(table.kind == "qk" ? head.wQK : head.wOV, rows: spec.layout.names, columns: spec.layout.names).folded
            #expect(table.rows == circuit.values.nested)
        }
    }

    @Test func htmlReportIsSelfContained() throws {
        let outcome = GradingSession(catalog: try repoCatalog(), seed: Grader.publicSeed, exercise: nil).grade(induction)
        let html = HTMLReport.render([outcome])
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for forbidden in ["http://", "https://", "<script src", "<link", "@import", "url("] {
            #expect(!html.contains(forbidden), "found \(forbidden)")
        }
        #expect(html.contains("title=\"L1H0 query"))  // hover values
    }

    @Test func htmlReportKeepsUnreadableSubmissionsAsErrors() throws {
        let html = HTMLReport.render(
            [.error(GraderError(file: "x<y>.json", "no such file or folder"), exercise: nil)])
        #expect(html.contains("x&lt;y&gt;.json"))
        #expect(html.contains("could not be graded"))
    }

    @Test("the HTML report draws from the grade result: the submission's file is not read again")
    func htmlReportRendersFromResults() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("induction.json").path
        try FileManager.default.copyItem(atPath: induction, toPath: copy)
        let outcome = GradingSession(catalog: try repoCatalog(), seed: Grader.publicSeed, exercise: nil).grade(copy)
        try FileManager.default.removeItem(atPath: copy)
        let html = HTMLReport.render([outcome])
        #expect(html.contains("title=\"L1H0 query"))  // the heatmaps, drawn from the graded model
        #expect(html.contains("id=\"s1-circuits\""))
        #expect(!html.contains("could not be loaded"))
    }

    @Test("a non-public seed appears in no student-facing format, and the gradebook keeps it")
    func seedRedactionIsOnePolicy() throws {
        let secret: UInt64 = 987_654_321_012
        let session = GradingSession(catalog: try repoCatalog(), seed: secret, exercise: nil, domain: .familiesOnly)
        let outcome = session.grade(repoPath("submissions/examples/current-token-nopos-no-default.json"))
        guard case .graded(let report) = outcome else { Issue.record("not graded: \(outcome)"); return }
        #expect(report.disclosedSeed == nil && report.seed == secret)
        let rendered: [(String, String)] = [
            ("text", TextReport.render(report, colour: false)),
            ("json", JSONWriter.write(JSONReport.value(report))),
            ("junit", JUnitReport.render([outcome])),
            ("markdown", MarkdownReport.render([outcome])),
            ("html", HTMLReport.render([outcome])),
            ("gradescope", JSONWriter.write(GradescopeReport.results([outcome], executionTime: 1))),
        ]
        for (format, text) in rendered {
            #expect(!text.contains(String(secret)), "\(format) shows the non-public seed")
        }
        #expect(rendered.filter { ["text", "markdown", "html"].contains($0.0) }.allSatisfy { $0.1.contains("a non-public seed, not shown") })
        let book = Gradebook(rows: [BatchGrader.Row(student: "s", outcome: outcome, model: nil)], flags: [], seed: secret)
        #expect(book.csv.contains(String(secret)))
        // The public seed is shown, in the same formats.
        let open = GradingSession(catalog: try repoCatalog(), seed: Grader.publicSeed, exercise: nil, domain: .familiesOnly)
        guard case .graded(let shown) = open.grade(repoPath("submissions/examples/current-token-nopos-no-default.json")) else {
            Issue.record("the public-seed run was not graded")
            return
        }
        #expect(shown.disclosedSeed == Grader.publicSeed)
        #expect(JUnitReport.render([.graded(shown)]).contains("value=\"\(Grader.publicSeed)\""))
    }

    // MARK: init

    @Test func everyExercisesTemplateLoadsAndGradesWithoutAnInputError() throws {
        let catalog = try repoCatalog()
        let session = GradingSession(catalog: catalog, seed: Grader.publicSeed, exercise: nil)
        #expect(catalog.specs.count >= 10)
        for spec in catalog.specs {
            let template = SubmissionTemplate(spec: spec)
            let json = try writeScratchFile(template.json, name: "template.json")
            let folder = try scratchFolder()
            for file in template.csvFiles { try Data(file.text.utf8).write(to: URL(fileURLWithPath: folder + "/" + file.name)) }
            for path in [json, folder] {
                switch session.grade(path) {
                case .error(let e, _): Issue.record("\(spec.id) template \(path): \(e.description)")
                case .graded(let r):
                    #expect(r.exercise == spec.id)
                    #expect(!r.passed, "\(spec.id): an all-zero template should not pass (exploratory exercises fail too)")
                }
            }
        }
    }

    @Test func templateShapesFollowTheLimits() throws {
        let spec = try repoCatalog().spec("pointer-arithmetic/sinusoidal")
        let doc = try JSONParser.parse(Array(SubmissionTemplate(spec: spec).json.utf8), file: "template").object
        let layers = try #require(doc?["layers"]?.array)
        #expect(layers.count == spec.limits.layers)
        let heads = try #require(layers.first?.object?["heads"]?.array)
        #expect(heads.count == spec.limits.headsPerLayer)
        let wQ = try #require(heads.first?.object?["W_Q"]?.array)
        #expect(wQ.count == spec.layout.dModel && wQ.first?.array?.count == spec.limits.dHead)
        #expect(heads.first?.object?["W_O"]?.array?.count == spec.limits.dHead)
        #expect(doc?["meta"]?.object?["residual_dims"]?.array?.compactMap(\.string) == spec.layout.names)
    }

    @Test func initWritesCSVWithLabelsAndNeverOverwrites() throws {
        let folder = try scratchFolder() + "/starter"
        let first = runCLI(["init", "current-token/nopos", "--csv", "--out", folder])
        #expect(first.status == 0, "\(first.err)")
        let wQ = try String(contentsOfFile: folder + "/L0H0.W_Q.csv", encoding: .utf8).split(separator: "\n")
        #expect(wQ[1] == "W_Q,h0,h1,h2,h3")
        #expect(wQ[2] == "tok:A,0,0,0,0")
        #expect(try String(contentsOfFile: folder + "/exercise.txt", encoding: .utf8) == "current-token/nopos\n")
        let again = runCLI(["init", "current-token/nopos", "--csv", "--out", folder])
        #expect(again.status == 2 && again.err.contains("not empty"))
        let file = folder + "/../starter.json"
        #expect(runCLI(["init", "current-token/nopos", "--out", file]).status == 0)
        let twice = runCLI(["init", "current-token/nopos", "--out", file])
        #expect(twice.status == 2 && twice.err.contains("already exists"))
        #expect(runCLI(["init", "no-such/exercise"]).status == 2)
    }
}
