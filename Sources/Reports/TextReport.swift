import Numerics
import Model
import Formats
import Exercises
import Grading

/// Renders a grade report for a terminal: one line per family, the counterexample under each failure.
public enum TextReport {
    /// The report as text; ANSI colour when `colour`.
    public static func render(_ r: GradeReport, colour: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        // Text from files (paths, ids, titles, tokens) is escaped for the terminal; only `paint` adds escapes.
        var out = SafeText.terminal("\(r.file): \(r.exercise) (\(r.title))") + "\n"
        if let reason = r.exploratory { out += paint("  exploratory: ", "33") + SafeText.terminal(reason) + "\n" }
        for f in r.families {
            let verdict = f.passed ? paint("PASS", "32") : paint("FAIL", "31")
            var line = "  \(verdict) \(SafeText.terminal(f.id)): \(f.correct)/\(f.total) correct (\(percent(f.accuracy)))"
            let domain = r.verdict(of: f)
            if let v = domain { line = "  \(verdict) \(SafeText.terminal(f.id)): \(SafeText.terminal(v.summary))" }
            // A proof's summary already names its worst margin.
            if let w = f.worstMargin, domain?.status != .proved { line += ", worst margin \(NumberText.rounded(w))" }
            if let m = f.medianMargin { line += ", median \(NumberText.rounded(m))" }
            line += ", \(NumberText.rounded(f.earned))/\(NumberText.rounded(f.points)) pt"
            out += line + "\n"
            if !f.failures.isEmpty {
                for c in f.failures { out += "       " + SafeText.terminal(c.summary) + "\n" }
            } else if !f.passed, let c = f.counterexample {
                out += "       " + SafeText.terminal(c.summary) + "\n"
            }
        }
        if !r.heads.isEmpty { out += "  heads: " + r.heads.map(\.summary).joined(separator: "; ") + "\n" }
        if r.exploratory != nil {
            out +=
                "  " + (r.passed ? "every family passed: a discovery, since this variant is thought unsolvable" : "failing is expected here (exploratory)")
                + "\n"
        }
        let verdict = r.passed ? paint("passed", "32") : paint("failed", "31")
        out += "  score \(NumberText.rounded(r.score))/\(NumberText.rounded(r.maxScore)): \(verdict) (\(r.seedForStudents))\n"
        return out
    }

    package static func percent(_ x: Double) -> String {
        let p = (x * 1000).rounded() / 10
        return "\(p == p.rounded() ? String(Int(p)) : String(p))%"
    }
}
