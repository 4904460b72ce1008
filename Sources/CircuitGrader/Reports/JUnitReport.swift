/// JUnit XML (`--format junit`), valid against the Jenkins xUnit `junit-10.xsd` that GitHub and GitLab
/// test reporters read: one `<testsuite>` per submission and exercise (with a `file` attribute; the XSD allows
/// `file` on test suites only), one `<testcase>` per family, the counterexample in the `<failure>` body; a
/// submission that cannot be loaded is a suite with one `<error>` test case.
public enum JUnitReport {
    public static func render(_ outcomes: [GradingSession.Outcome]) -> String {
        var suites: [String] = []
        var tests = 0, failures = 0, errors = 0
        for outcome in outcomes {
            switch outcome {
            case .graded(let r):
                let failed = r.exploratory == nil ? r.families.filter { !$0.passed }.count : 0
                tests += r.families.count
                failures += failed
                var body = ""
                for f in r.families {
                    body += "    <testcase name=\"\(escape(f.title))\" classname=\"\(escape(r.exercise)).\(escape(f.id))\">\n"
                    if !f.passed {
                        let message = "\(f.correct)/\(f.total) correct" + (f.worstMargin.map { ", worst margin \(TargetEvaluator.format($0))" } ?? "")
                        let detail = f.counterexample.map(TextReport.describe) ?? message
                        let tag = r.exploratory == nil ? "failure" : "skipped"
                        body +=
                            "      <\(tag) type=\"\(r.exploratory == nil ? "FamilyFailed" : "Exploratory")\" message=\"\(escape(message))\">\(escape(detail))</\(tag)>\n"
                    }
                    body +=
                        "      <system-out>\(escape("accuracy \(TextReport.percent(f.accuracy)); \(TargetEvaluator.format(f.earned))/\(TargetEvaluator.format(f.points)) points"))</system-out>\n"
                    body += "    </testcase>\n"
                }
                let properties =
                    "    <properties>\n"
                    + [
                        ("seed", String(r.seed)), ("spec_hash", r.specHash), ("grader_version", r.graderVersion),
                        ("score", TargetEvaluator.format(r.score)), ("max_score", TargetEvaluator.format(r.maxScore)),
                    ]
                    .map { "      <property name=\"\($0.0)\" value=\"\(escape($0.1))\"/>\n" }.joined() + "    </properties>\n"
                suites.append(
                    "  <testsuite name=\"\(escape(r.exercise))\" tests=\"\(r.families.count)\" failures=\"\(failed)\" errors=\"0\" skipped=\"\(r.exploratory == nil ? 0 : r.families.filter { !$0.passed }.count)\" file=\"\(escape(r.file))\">\n\(properties)\(body)  </testsuite>\n"
                )
            case .error(let e, let exercise):
                tests += 1
                errors += 1
                suites.append(
                    """
                      <testsuite name="\(escape(exercise ?? "unknown exercise"))" tests="1" failures="0" errors="1" file="\(escape(e.file))">
                        <testcase name="load submission" classname="\(escape(exercise ?? "submission")).load">
                          <error type="InputError" message="\(escape(e.description))">\(escape(e.description))</error>
                        </testcase>
                      </testsuite>

                    """)
            }
        }
        return
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"circuit-grader\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
            + suites.joined() + "</testsuites>\n"
    }

    /// Escapes text for XML attributes and bodies, dropping characters XML 1.0 cannot hold.
    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
