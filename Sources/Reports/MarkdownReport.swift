import Numerics
import Model
import Formats
import Exercises
import Grading

/// A Markdown summary (`--format markdown`), e.g. for `$GITHUB_STEP_SUMMARY`.
public enum MarkdownReport {
    public static func render(_ outcomes: [GradingSession.Outcome]) -> String {
        var out = "## circuit-grader\n\n"
        for outcome in outcomes {
            switch outcome {
            case .graded(let r):
                let verdict = (r.passed ? "✅ passed" : "❌ failed") + (r.exploratory != nil ? ", exploratory" : "")
                out += "### \(cell(r.file)): \(cell(r.exercise)) (\(verdict), \(NumberText.rounded(r.score))/\(NumberText.rounded(r.maxScore)))\n\n"
                if let reason = r.exploratory { out += "> exploratory: \(cell(reason))\n\n" }
                out += "| family | result | correct | worst margin | counterexample |\n| --- | --- | --- | --- | --- |\n"
                for f in r.families {
                    let ce = f.passed ? "" : (f.counterexample.map(\.summary) ?? "")
                    out +=
                        "| \(cell(f.title)) | \(f.passed ? "pass" : "**fail**") | \(f.correct)/\(f.total) | \(f.worstMargin.map(NumberText.rounded) ?? "–") | \(cell(ce)) |\n"
                }
                out += "\n<sub>\(r.seedForStudents), spec \(r.specHash), circuit-grader \(r.graderVersion)</sub>\n\n"
            case .error(let e, _):
                out += "### \(cell(e.file)): ⚠️ could not be graded\n\n\(cell(e.description))\n\n"
            }
        }
        return out
    }

    /// Text safe in a heading or a table cell (`SafeText.markdown`).
    package static func cell(_ s: String) -> String { SafeText.markdown(s) }
}
