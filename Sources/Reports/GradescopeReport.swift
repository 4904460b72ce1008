import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading

/// Gradescope's `results.json` (`--format gradescope`), following its autograder specification: a top-level
/// score, execution time, output and visibility, and one test per family with its own visibility.
///
/// It is produced for every outcome, also when the submission cannot be loaded (score 0 and an output that
/// says why). Hidden families' details never appear in the student-visible top-level output; when some
/// families are hidden the output says the visible score is provisional.
///
/// `extra_data` (kept by Gradescope, not shown to students) records what reproduces and explains a grade: a
/// hash of the seed (never the seed itself), the spec hash, the grader version, each family's accuracy and
/// margins, and the exhaustive proof or adversarial search status. `leaderboard` (shown only where the
/// assignment enables one) ranks by score, by the worst margin over the visible families, and by the number
/// of non-zero weights in the heads (re-read from the submission's file; fewer is better).
public enum GradescopeReport {
    /// Most characters of one test's output (longer outputs are cut with a note).
    public static let maxOutput = 8_000

    public static func results(_ outcomes: [GradingSession.Outcome], executionTime: Double) -> JSONValue {
        var tests: [JSONValue] = []
        var score = 0.0
        var lines: [String] = []
        var hiddenPoints = 0.0
        var extra: [(String, JSONValue)] = []
        var worstVisibleMargin: Double? = nil
        var nonZero: Int? = nil
        for outcome in outcomes {
            switch outcome {
            case .graded(let r):
                if let n = nonZeroHeadWeights(r.file) { nonZero = (nonZero ?? 0) + n }
                extra.append((r.file, extraData(r)))
                for f in r.families where f.visibility == .visible {
                    if let w = f.worstMargin { worstVisibleMargin = min(worstVisibleMargin ?? w, w) }
                }
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
                "\(NumberText.rounded(hiddenPoints)) points come from families that are hidden until grades are published; the score you see now may change."
            )
        }
        var members: [(String, JSONValue)] = [
            ("score", .number(score)),
            ("execution_time", .number((executionTime * 1000).rounded() / 1000)),
            ("output", .string(cut(lines.joined(separator: "\n")))),
            ("visibility", .string("visible")),
            ("stdout_visibility", .string("hidden")),
            ("tests", .array(tests)),
        ]
        if !extra.isEmpty {
            members.append(("extra_data", .obj([("submissions", .obj(extra))])))
            var board: [JSONValue] = [.obj([("name", .string("score")), ("value", .number(score)), ("order", .string("desc"))])]
            if let w = worstVisibleMargin {
                board.append(.obj([("name", .string("worst margin")), ("value", .number(w)), ("order", .string("desc"))]))
            }
            if let nonZero {
                board.append(.obj([("name", .string("non-zero weights")), ("value", .number(Double(nonZero))), ("order", .string("asc"))]))
            }
            members.append(("leaderboard", .array(board)))
        }
        return .obj(members)
    }

    /// The non-zero entries of every head's matrices and biases and of `b_O`, as the submission at `file`
    /// writes them (the exercise's own `W_E`, `W_pos`, `W_U`, `b_U` not counted); nil when it cannot be read.
    package static func nonZeroHeadWeights(_ file: String) -> Int? {
        guard let s = try? SubmissionLoader.load(file) else { return nil }
        func count(_ m: RawMatrix) -> Int {
            switch m {
            case .dense(let d, _, _): d.values.filter { $0 != 0 }.count
            case .sparse(let entries): entries.filter { $0.value != 0 }.count
            }
        }
        func count(_ v: RawVector?) -> Int {
            switch v {
            case .dense(let d)?: d.filter { $0 != 0 }.count
            case .sparse(let entries)?: entries.filter { $0.1 != 0 }.count
            case nil: 0
            }
        }
        return s.layers.reduce(0) { total, layer in
            total + count(layer.bO)
                + layer.heads.reduce(0) { sum, head in
                    sum + head.matrices.values.reduce(0) { $0 + count($1) } + head.biases.values.reduce(0) { $0 + count($1) }
                }
        }
    }

    /// What reproduces and explains one graded submission (see the type's summary).
    package static func extraData(_ r: GradeReport) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("exercise", .string(r.exercise)),
            ("seed_hash", .string(String(format: "%016llx", fnv1a64(String(r.seed))))),
            ("spec_hash", .string(r.specHash)), ("grader_version", .string(r.graderVersion)),
            (
                "families",
                .obj(
                    r.families.map { f in
                        (
                            f.id,
                            .obj([
                                ("accuracy", .number(f.accuracy)), ("worst_margin", f.worstMargin.map(JSONValue.number) ?? .null),
                                ("median_margin", f.medianMargin.map(JSONValue.number) ?? .null), ("passed", .bool(f.passed)),
                            ])
                        )
                    })
            ),
        ]
        members.append(("verdicts", .array(r.verdicts.map(JSONReport.verdict))))
        return .obj(members)
    }

    package static func test(_ f: FamilyResult, exercise: String) -> JSONValue {
        var output = "\(f.correct)/\(f.total) targets correct (\(TextReport.percent(f.accuracy)))"
        if DomainFamilyID.index(of: f.id) != nil { output = f.title }
        if let w = f.worstMargin { output += ", worst margin \(NumberText.rounded(w))" }
        if !f.passed, let c = f.counterexample { output += "\nCounterexample: " + c.summary }
        return .obj([
            ("name", .string("\(exercise): \(f.title)")), ("score", .number(f.earned)), ("max_score", .number(f.points)),
            ("status", .string(f.passed ? "passed" : "failed")), ("output", .string(cut(output))),
            ("visibility", .string(f.visibility.rawValue)),
        ])
    }

    package static func cut(_ s: String) -> String {
        s.count <= maxOutput ? s : String(s.prefix(maxOutput)) + "\n[output cut at \(maxOutput) characters]"
    }
}
