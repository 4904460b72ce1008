import Numerics
import Model
import Formats
import Exercises
import Grading

/// JUnit XML (`--format junit`), valid against the Jenkins xUnit `junit-10.xsd` that GitHub and GitLab
/// test reporters read: one `<testsuite>` per submission and exercise (with a `file` attribute; the XSD allows
/// `file` on test suites only), one `<testcase>` per family, the counterexample in the `<failure>` body; a
/// submission that cannot be loaded is a suite with one `<error>` test case. Suite names are unique: the
/// exercise id, with the file added when several files grade the same exercise (`#2`… if even that repeats).
public enum JUnitReport {
    /// Renders the report for `outcomes`, in order.
    public static func render(_ outcomes: [GradingSession.Outcome]) -> String {
        var suites: [String] = []
        var tests = 0, failures = 0, errors = 0
        let names = suiteNames(outcomes)
        for (outcome, suiteName) in zip(outcomes, names) {
            switch outcome {
            case .graded(let r):
                let failed = r.families.filter { !$0.passed }.count
                tests += r.families.count
                failures += failed
                var body = ""
                for f in r.families {
                    body += "    <testcase name=\"\(MarkupText.escape(f.title))\" classname=\"\(MarkupText.escape(r.exercise)).\(MarkupText.escape(f.id))\">\n"
                    if !f.passed {
                        let message = "\(f.correct)/\(f.total) correct" + (f.worstMargin.map { ", worst margin \(NumberText.rounded($0))" } ?? "")
                        let detail = f.counterexample.map(\.summary) ?? message
                        body +=
                            "      <failure type=\"FamilyFailed\" message=\"\(MarkupText.escape(message))\">\(MarkupText.escape(detail))</failure>\n"
                    }
                    body +=
                        "      <system-out>\(MarkupText.escape("accuracy \(TextReport.percent(f.accuracy)); \(NumberText.rounded(f.earned))/\(NumberText.rounded(f.points)) points"))</system-out>\n"
                    body += "    </testcase>\n"
                }
                let fixed: [(String, String)] = [
                    ("seed", r.disclosedSeed.map(String.init) ?? "not shown"), ("spec_hash", r.specHash), ("grader_version", r.graderVersion),
                    ("score", NumberText.rounded(r.score)), ("max_score", NumberText.rounded(r.maxScore)),
                ]
                let verdicts: [(String, String)] = r.verdicts.enumerated().map { i, v in (i == 0 ? "verdict" : "verdict_\(i + 1)", v.summary) }
                let lines = (fixed + verdicts).map { "      <property name=\"\($0.0)\" value=\"\(MarkupText.escape($0.1))\"/>\n" }
                let properties = "    <properties>\n" + lines.joined() + "    </properties>\n"
                suites.append(
                    "  <testsuite name=\"\(MarkupText.escape(suiteName))\" tests=\"\(r.families.count)\" failures=\"\(failed)\" errors=\"0\" skipped=\"0\" file=\"\(MarkupText.escape(r.file))\">\n\(properties)\(body)  </testsuite>\n"
                )
            case .error(let e, let exercise):
                tests += 1
                errors += 1
                suites.append(
                    """
                      <testsuite name="\(MarkupText.escape(suiteName))" tests="1" failures="0" errors="1" file="\(MarkupText.escape(e.file))">
                        <testcase name="load submission" classname="\(MarkupText.escape(exercise ?? "submission")).load">
                          <error type="InputError" message="\(MarkupText.escape(e.description))">\(MarkupText.escape(e.description))</error>
                        </testcase>
                      </testsuite>

                    """)
            }
        }
        return
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"circuit-grader\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
            + suites.joined() + "</testsuites>\n"
    }

    /// One name per outcome: the exercise id (or `unknown exercise`), `id (file)` where an id repeats, and
    /// ` #2`, ` #3`… where even that repeats (the same file checked twice).
    package static func suiteNames(_ outcomes: [GradingSession.Outcome]) -> [String] {
        let parts = outcomes.map { outcome -> (exercise: String, file: String) in
            switch outcome {
            case .graded(let r): (r.exercise, r.file)
            case .error(let e, let exercise): (exercise ?? "unknown exercise", e.file)
            }
        }
        var counts: [String: Int] = [:]
        for p in parts { counts[p.exercise, default: 0] += 1 }
        var used: [String: Int] = [:]
        return parts.map { p in
            let base = counts[p.exercise, default: 0] > 1 ? "\(p.exercise) (\(p.file))" : p.exercise
            used[base, default: 0] += 1
            let n = used[base, default: 1]
            return n == 1 ? base : "\(base) #\(n)"
        }
    }
}
