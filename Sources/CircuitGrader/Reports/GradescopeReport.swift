/// Gradescope's `results.json` (`--format gradescope`), following its autograder specification: a top-level
/// score, execution time, output and visibility, and one test per family with its own visibility.
///
/// It is produced for every outcome, also when the submission cannot be loaded (score 0 and an output that
/// says why). Hidden families' details never appear in the student-visible top-level output; when some
/// families are hidden the output says the visible score is provisional.
public enum GradescopeReport {
    /// Most characters of one test's output (longer outputs are cut with a note).
    public static let maxOutput = 8_000

    public static func results(_ outcomes: [GradingSession.Outcome], executionTime: Double) -> JSONValue {
        var tests: [JSONValue] = []
        var score = 0.0
        var lines: [String] = []
        var hiddenPoints = 0.0
        for outcome in outcomes {
            switch outcome {
            case .graded(let r):
                score += r.score
                for f in r.families {
                    if f.visibility != .visible { hiddenPoints += f.points }
                    tests.append(test(f, exercise: r.exercise))
                }
                let visible = r.families.filter { $0.visibility == .visible }
                lines.append(
                    "\(r.exercise): \(visible.filter(\.passed).count)/\(visible.count) visible families passed"
                        + (r.exploratory.map { " (exploratory: \($0))" } ?? "") + " [\(r.seedForStudents), spec \(r.specHash), grader \(r.graderVersion)]")
            case .error(let e, let exercise):
                tests.append(
                    .obj([
                        ("name", .string("\(exercise ?? "submission"): load submission")), ("score", .number(0)), ("max_score", .number(0)),
                        ("status", .string("failed")), ("output", .string(cut(e.description))), ("visibility", .string("visible")),
                    ]))
                lines.append("Your submission could not be graded: \(e.description)")
            }
        }
        if hiddenPoints > 0 {
            lines.append(
                "\(TargetEvaluator.format(hiddenPoints)) points come from families that are hidden until grades are published; the score you see now may change."
            )
        }
        return .obj([
            ("score", .number(score)),
            ("execution_time", .number((executionTime * 1000).rounded() / 1000)),
            ("output", .string(cut(lines.joined(separator: "\n")))),
            ("visibility", .string("visible")),
            ("stdout_visibility", .string("hidden")),
            ("tests", .array(tests)),
        ])
    }

    static func test(_ f: FamilyResult, exercise: String) -> JSONValue {
        var output = "\(f.correct)/\(f.total) targets correct (\(TextReport.percent(f.accuracy)))"
        if let w = f.worstMargin { output += ", worst margin \(TargetEvaluator.format(w))" }
        if !f.passed, let c = f.counterexample { output += "\nCounterexample: " + TextReport.describe(c) }
        return .obj([
            ("name", .string("\(exercise): \(f.title)")), ("score", .number(f.earned)), ("max_score", .number(f.points)),
            ("status", .string(f.passed ? "passed" : "failed")), ("output", .string(cut(output))),
            ("visibility", .string(f.visibility.rawValue)),
        ])
    }

    static func cut(_ s: String) -> String {
        s.count <= maxOutput ? s : String(s.prefix(maxOutput)) + "\n[output cut at \(maxOutput) characters]"
    }
}
