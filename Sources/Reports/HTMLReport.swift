import Numerics
import Model
import Formats
import Exercises
import Grading

/// One self-contained HTML page (`check --format html`): per submission the family table, every family's
/// counterexample run through `Explanation` (an attention heatmap per head, the logits), and the heads' QK and
/// OV circuits as heatmaps with their composition scores. Inline CSS only: no scripts, fonts or network.
///
/// Everything is drawn from the grade reports, which carry the model they graded (`GradeReport.subject`):
/// nothing is loaded or built again.
public enum HTMLReport {
    /// The page for `outcomes`.
    public static func render(_ outcomes: [GradingSession.Outcome]) -> String {
        var body = "<h1>circuit-grader report</h1>\n<p class=\"meta\">\(plural(outcomes.count, "submission")), circuit-grader \(graderVersion)</p>\n"
        for (i, outcome) in outcomes.enumerated() {
            switch outcome {
            case .graded(let r): body += section(r, id: "s\(i + 1)")
            case .error(let e, _):
                body +=
                    "<section class=\"submission\"><h2>\(MarkupText.escape(e.file)) <span class=\"verdict error\">could not be graded</span></h2><p>\(MarkupText.escape(e.description))</p></section>\n"
            }
        }
        return
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>circuit-grader report</title>\n<style>\(style)</style></head>\n<body>\n\(body)</body></html>\n"
    }

    /// One submission; `id` anchors its section and its circuits (`id-circuits`).
    private static func section(_ r: GradeReport, id: String) -> String {
        "<section class=\"submission\" id=\"\(id)\">" + header(r) + familyTable(r) + visuals(r, id: id) + "</section>\n"
    }

    private static func header(_ r: GradeReport) -> String {
        let verdict = r.passed ? ("pass", "passed") : ("fail", "failed")
        var out = "<h2>\(MarkupText.escape(r.file)): \(MarkupText.escape(r.exercise)) <span class=\"verdict \(verdict.0)\">\(verdict.1)</span> "
        out += "<span class=\"score\">\(NumberText.rounded(r.score))/\(NumberText.rounded(r.maxScore))</span></h2>\n"
        out += "<p class=\"meta\">\(MarkupText.escape(r.title)) · \(r.seedForStudents) · spec \(MarkupText.escape(r.specHash))</p>\n"
        if let reason = r.exploratory { out += "<p class=\"exploratory\">exploratory: \(MarkupText.escape(reason))</p>\n" }
        return out
    }

    /// The counterexamples and circuits of the model the report graded.
    private static func visuals(_ r: GradeReport, id: String) -> String {
        guard let subject = r.subject else { return "" }
        return counterexamples(r, spec: subject.spec, model: subject.model)
            + "<h3 id=\"\(id)-circuits\">Circuits</h3>\n" + circuits(CircuitAnalysis(spec: subject.spec, model: subject.model))
    }

    private static func familyTable(_ r: GradeReport) -> String {
        var out =
            "<table class=\"families\"><tr><th>family</th><th>result</th><th>correct</th><th>accuracy</th><th>worst margin</th><th>median margin</th><th>points</th><th>counterexample</th></tr>\n"
        for f in r.families {
            let ce = f.counterexample.map(\.summary) ?? ""
            out += "<tr class=\"\(f.passed ? "pass" : "fail")\"><td>\(MarkupText.escape(f.id))<br><small>\(MarkupText.escape(f.title))</small></td>"
            out += "<td>\(f.passed ? "pass" : "FAIL")</td><td>\(f.correct)/\(f.total)</td><td>\(TextReport.percent(f.accuracy))</td>"
            out += "<td>\(f.worstMargin.map(NumberText.rounded) ?? "–")</td><td>\(f.medianMargin.map(NumberText.rounded) ?? "–")</td>"
            let closest = f.passed ? " class=\"closest\" title=\"the closest case of a passing family\"" : ""
            out += "<td>\(NumberText.rounded(f.earned))/\(NumberText.rounded(f.points))</td><td\(closest)>\(MarkupText.escape(ce))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    /// Each distinct counterexample sequence, failing families first, explained head by head.
    private static func counterexamples(_ r: GradeReport, spec: ExerciseSpec, model: Transformer) -> String {
        let cases = r.families.filter { !$0.passed } + r.families.filter(\.passed)
        var seen = Set<[String]>()
        var out = "<h3>Counterexamples</h3>\n"
        for f in cases {
            guard let c = f.counterexample, !c.sequence.isEmpty, seen.insert(c.sequence).inserted else { continue }
            let explanation = Explanation(spec: spec, model: model, tokens: c.sequence)
            out +=
                "<details class=\"case\"\(f.passed ? "" : " open")><summary>\(f.passed ? "closest case" : "counterexample") of <b>\(MarkupText.escape(f.id))</b>: "
            out += "\(MarkupText.escape(c.summary))</summary>\n"
            out += explanationHTML(explanation, focus: c.position.map(String.init)) + "</details>\n"
        }
        return seen.isEmpty ? "" : out
    }

    /// One explanation: a heatmap per head, then the logits table.
    package static func explanationHTML(_ e: Explanation, focus: String?) -> String {
        var out = "<div class=\"maps\">\n"
        for h in e.heads {
            out += HTMLHeatmap.attention(
                h.pattern, head: h.head, positions: e.positions.map(\.label), tokens: e.positions.map(\.token),
                causal: e.causal, sequence: e.sequence, focus: focus)
        }
        return out + "</div>\n" + logitsTable(e)
    }

    private static func logitsTable(_ e: Explanation) -> String {
        let outputs = e.positions.first?.logits.map(\.0) ?? []
        var out = "<table class=\"logits\"><caption>logits and prediction</caption><tr><th>position</th>"
        out += outputs.map { "<th>\(MarkupText.escape($0))</th>" }.joined() + "<th>predicts</th><th>expected</th></tr>\n"
        for p in e.positions {
            let mark = p.expected.map { $0 == p.prediction ? "pass" : "fail" } ?? ""
            out += "<tr><th>\(MarkupText.escape(p.label == p.token ? p.label : "\(p.label) \(p.token)"))</th>"
            out += p.logits.map { "<td data-v=\"\(NumberText.exact($0.1))\">\(NumberText.rounded($0.1))</td>" }.joined()
            out += "<td class=\"\(mark)\">\(MarkupText.escape(p.prediction))</td><td>\(MarkupText.escape(p.expected ?? "–"))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    /// QK and OV heatmaps per head, then the composition scores.
    package static func circuits(_ a: CircuitAnalysis) -> String {
        var out = "<div class=\"maps\">\n"
        for h in a.heads {
            out += "<div class=\"head\">"
            out += HTMLHeatmap.signed(
                h.qk, kind: "qk", head: h.head.description, caption: "\(h.head) QK = W_Q W_K^T (\(CircuitAnalysis.describe(h.qkSpectrum)))")
            out += HTMLHeatmap.signed(h.ov, kind: "ov", head: h.head.description, caption: "\(h.head) OV = W_V W_O (\(CircuitAnalysis.describe(h.ovSpectrum)))")
            out += "</div>\n"
        }
        out += "</div>\n"
        guard !a.compositions.isEmpty else { return out }
        out += "<h4>Composition scores (0: the later head ignores what the earlier writes; 1: it reads exactly that; –: a factor is zero)</h4>\n"
        out += "<table class=\"composition\"><tr><th>earlier → later</th><th>Q</th><th>K</th><th>V</th></tr>\n"
        for c in a.compositions {
            out += "<tr><th>\(c.from) → \(c.to)</th>" + [c.q, c.k, c.v].map { "<td>\($0.map(NumberText.rounded) ?? "–")</td>" }.joined() + "</tr>\n"
        }
        return out + "</table>\n"
    }
}
