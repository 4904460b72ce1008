import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports

/// Gradebook files an LMS imports: one row per student, an identifier column, one column per assignment
/// (exercise id) holding the student's score; a submission that could not be graded scores 0. When a student
/// has several rows for one exercise the best score counts.
///
/// - `canvas.csv`: Canvas's gradebook import layout, `Student, ID, SIS User ID, SIS Login ID, Section`, then one
///   column per assignment, with the `Points Possible` row Canvas's own export has. The student (the class
///   folder's entry name) is both the name and the SIS Login ID; Canvas matches students by login.
/// - `moodle.csv`: `Username` then one column per grade item; Moodle's "Import grades: CSV file" maps the
///   Username column to the user's username and each exercise column to a grade item.
extension Gradebook {
    /// Exercise ids in order of first appearance (the assignment columns).
    package var assignments: [String] {
        var seen = Set<String>()
        return rows.compactMap { row -> String? in
            switch row.outcome {
            case .graded(let r): r.exercise
            case .error(_, let exercise): exercise
            }
        }.filter { seen.insert($0).inserted }
    }

    /// Students in order of first appearance, with their best score per exercise.
    package var bestScores: [(student: String, scores: [String: Double])] {
        var order: [String] = []
        var table: [String: [String: Double]] = [:]
        for row in rows {
            if table[row.student] == nil { order.append(row.student) }
            var scores = table[row.student] ?? [:]
            switch row.outcome {
            case .graded(let r): scores[r.exercise] = max(scores[r.exercise] ?? 0, r.score)
            case .error(_, let exercise?): scores[exercise] = scores[exercise] ?? 0
            case .error(_, nil): break
            }
            table[row.student] = scores
        }
        return order.map { ($0, table[$0] ?? [:]) }
    }

    /// The total points of `exercise`, from a graded row or the catalogue.
    package func pointsPossible(_ exercise: String) -> Double? {
        for row in rows {
            if case .graded(let r) = row.outcome, r.exercise == exercise { return r.maxScore }
        }
        return maxScores[exercise]
    }

    /// `canvas.csv`.
    public var canvasCSV: String {
        let columns = assignments
        var lines = [(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + columns).map(Self.csvField).joined(separator: ",")]
        lines.append(
            (["Points Possible", "", "", "", ""] + columns.map { pointsPossible($0).map(NumberText.exact) ?? "" }).map(Self.csvField).joined(separator: ","))
        for (student, scores) in bestScores {
            let cells = [student, "", "", student, ""] + columns.map { scores[$0].map(NumberText.exact) ?? "" }
            lines.append(cells.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `moodle.csv`.
    public var moodleCSV: String {
        let columns = assignments
        var lines = [(["Username"] + columns).map(Self.csvField).joined(separator: ",")]
        for (student, scores) in bestScores {
            lines.append(([student] + columns.map { scores[$0].map(NumberText.exact) ?? "" }).map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
