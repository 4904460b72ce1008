import Numerics
import Model
import Formats
import Exercises
import Grading

/// GitHub Actions workflow commands (`::error file=…,title=…::message`), printed when `GITHUB_ACTIONS=true`.
///
/// GitHub shows at most 10 error annotations per step; past that, one notice says how many were left out.
public enum GitHubAnnotations {
    public static let maxErrors = 10

    public static func render(_ outcomes: [GradingSession.Outcome]) -> String {
        var lines: [String] = []
        for outcome in outcomes {
            switch outcome {
            case .graded(let r):
                for f in r.families where !f.passed {
                    lines.append(
                        "::error file=\(property(r.file)),title=\(property("\(r.exercise): \(f.title)"))::\(data(f.counterexample.map(\.summary) ?? "family failed"))"
                    )
                }
            case .error(let e, _):
                lines.append("::error file=\(property(e.file)),title=\(property("cannot grade"))::\(data(e.description))")
            }
        }
        var out = lines.prefix(maxErrors).joined(separator: "\n")
        if lines.count > maxErrors { out += "\n::notice title=circuit-grader::\(lines.count - maxErrors) more failures are in the job log and reports" }
        return out.isEmpty ? "" : out + "\n"
    }

    /// Escaping for a command's message.
    package static func data(_ s: String) -> String {
        SafeText.terminal(s).replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }

    /// Escaping for a command's properties.
    package static func property(_ s: String) -> String {
        data(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}
