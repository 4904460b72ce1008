import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports

/// The files `grade --out OUT` writes, all inside OUT: `grades.csv`, `grades.json`, `summary.md`,
/// `similarity.csv`, `canvas.csv` and `moodle.csv` (for the LMS gradebook import, see `Gradebook+LMS.swift`)
/// and `feedback/<student>.txt` (cut at `maxFeedbackBytes`).
public struct Gradebook: Sendable {
    public let rows: [BatchGrader.Row]
    public let flags: [Similarity.Flag]
    public let seed: UInt64

    /// Largest feedback file, in bytes; longer feedback is cut with a note.
    public static let maxFeedbackBytes = 32 * 1024

    /// The class folder, stripped from paths in students' feedback.
    public let root: String?

    /// Each exercise's total points, so a row that could not be graded still says what it was out of.
    public let maxScores: [String: Double]

    public init(rows: [BatchGrader.Row], flags: [Similarity.Flag], seed: UInt64, root: String? = nil, maxScores: [String: Double] = [:]) {
        self.rows = rows
        self.flags = flags
        self.seed = seed
        self.root = root
        self.maxScores = maxScores
    }

    /// The middle score, or the mean of the two middle ones for an even count; nil when empty.
    package static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// Each student's feedback file name: the sanitised name, made unique with `-2`, `-3`… when two
    /// students' names sanitise to the same text (in order of first appearance).
    public var feedbackFiles: [String: String] {
        var byStudent: [String: String] = [:]
        var used = Set<String>()
        for student in rows.map(\.student) where byStudent[student] == nil {
            let base = Self.safeFileName(student)
            var name = base, n = 1
            while !used.insert(name.lowercased()).inserted {
                n += 1
                name = "\(base)-\(n)"
            }
            byStudent[student] = name + ".txt"
        }
        return byStudent
    }

    /// Family ids in order of first appearance across the batch (the per-family CSV columns).
    package var familyIDs: [String] {
        var seen = Set<String>()
        var out: [String] = []
        for row in rows {
            guard case .graded(let r) = row.outcome else { continue }
            for f in r.families where seen.insert("\(r.exercise)#\(f.id)").inserted { out.append("\(r.exercise)#\(f.id)") }
        }
        return out
    }

    public var csv: String {
        let families = familyIDs
        var header = ["student", "file", "exercise", "variant", "score", "max_score", "status"]
        for f in families { header += ["\(f):accuracy", "\(f):worst_margin"] }
        header += ["error", "seed", "spec_hash", "grader_version", "feedback_file"]
        let files = feedbackFiles
        // Text that comes from input (names, paths, ids, messages) goes through `text`, so that no cell opens
        // with a formula; the numbers the grader writes go through `csvField`.
        let text = SafeText.spreadsheetCell
        var lines = [header.map(text).joined(separator: ",")]
        for row in rows {
            var cells: [String]
            switch row.outcome {
            case .graded(let r):
                let byID = Dictionary(r.families.map { ("\(r.exercise)#\($0.id)", $0) }, uniquingKeysWith: { a, _ in a })
                cells = [row.student, r.file, r.exercise, Self.variant(r.exercise)].map(text)
                cells += [NumberText.exact(r.score), NumberText.exact(r.maxScore), Self.status(r)].map(Self.csvField)
                for f in families {
                    cells += [byID[f].map { NumberText.exact($0.accuracy) } ?? "", byID[f]?.worstMargin.map(NumberText.exact) ?? ""].map(Self.csvField)
                }
                cells += ["", String(r.seed), r.specHash, r.graderVersion].map(Self.csvField) + [text(files[row.student] ?? "")]
            case .error(let e, let exercise):
                let outOf = exercise.flatMap { maxScores[$0] }.map(NumberText.exact) ?? ""
                cells = [row.student, e.file, exercise ?? "", exercise.map(Self.variant) ?? ""].map(text) + ["0", outOf, "error"]
                cells += Array(repeating: "", count: 2 * families.count)
                cells += [text(e.description)] + [String(seed), "", graderVersion].map(Self.csvField) + [text(files[row.student] ?? "")]
            }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: JSONValue {
        let files = feedbackFiles
        return .obj([
            ("schema", .string("circuit-grader/gradebook@1")), ("seed", .string(String(seed))), ("grader_version", .string(graderVersion)),
            (
                "rows",
                .array(
                    rows.map { row in
                        var fields: [(String, JSONValue)] = [("student", .string(row.student)), ("feedback_file", .string(files[row.student] ?? ""))]
                        if case .object(let o) = JSONReport.value(row.outcome) { fields += o.members.map { ($0.key, $0.value) } }
                        if case .error(_, let exercise?) = row.outcome, let outOf = maxScores[exercise], !fields.contains(where: { $0.0 == "max_score" }) {
                            fields.append(("max_score", .number(outOf)))
                        }
                        return .obj(fields)
                    })
            ),
            ("summary", .array(summaries.map(\.json))),
            (
                "similar",
                .array(
                    flags.map { f in
                        .obj([
                            ("exercise", .string(f.exercise)), ("students", .array([.string(f.first), .string(f.second)])), ("kind", .string(f.kind.rawValue)),
                        ])
                    })
            ),
        ])
    }

    /// Per exercise: counts, score distribution and the most common failing family.
    package struct Summary {
        package var exercise: String
        package var submissions: Int
        package var passed: Int
        package var errors: Int
        package var scores: [Double]
        package var maxScore: Double
        package var commonFailure: (id: String, count: Int)?

        package var json: JSONValue {
            let sorted = scores.sorted()
            return .obj([
                ("exercise", .string(exercise)), ("submissions", .number(Double(submissions))), ("passed", .number(Double(passed))),
                ("errors", .number(Double(errors))), ("max_score", .number(maxScore)),
                ("score_min", sorted.first.map(JSONValue.number) ?? .null),
                ("score_median", Gradebook.median(sorted).map(JSONValue.number) ?? .null),
                ("score_max", sorted.last.map(JSONValue.number) ?? .null),
                (
                    "score_histogram",
                    .obj(
                        Dictionary(grouping: sorted, by: { $0 }).sorted { $0.key < $1.key }.map { (NumberText.exact($0.key), .number(Double($0.value.count))) }
                    )
                ),
                ("most_common_failing_family", commonFailure.map { .obj([("id", .string($0.id)), ("failed", .number(Double($0.count)))]) } ?? .null),
            ])
        }
    }

    package var summaries: [Summary] {
        var order: [String] = []
        var table: [String: Summary] = [:]
        var failures: [String: [String: Int]] = [:]
        for row in rows {
            let key: String
            switch row.outcome {
            case .graded(let r): key = r.exercise
            case .error(_, let exercise): key = exercise ?? "(unknown exercise)"
            }
            if table[key] == nil {
                order.append(key)
                table[key] = Summary(exercise: key, submissions: 0, passed: 0, errors: 0, scores: [], maxScore: maxScores[key] ?? 0, commonFailure: nil)
            }
            table[key]?.submissions += 1
            switch row.outcome {
            case .graded(let r):
                table[key]?.scores.append(r.score)
                table[key]?.maxScore = r.maxScore
                if r.passed { table[key]?.passed += 1 }
                for f in r.families where !f.passed { failures[key, default: [:]][f.id, default: 0] += 1 }
            case .error:
                table[key]?.errors += 1
                table[key]?.scores.append(0)
            }
        }
        return order.compactMap { key in
            guard var s = table[key] else { return nil }
            s.commonFailure = failures[key]?.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.first.map { ($0.key, $0.value) }
            return s
        }
    }

    public var summaryMarkdown: String {
        var out = "# Gradebook summary\n\nseed \(seed), circuit-grader \(graderVersion)\n\n"
        out +=
            "| exercise | submissions | passed | errors | min | median | max | most common failing family |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
        for s in summaries {
            let sorted = s.scores.sorted()
            let median = Self.median(sorted).map(NumberText.exact) ?? ""
            out +=
                "| \(SafeText.markdown(s.exercise)) | \(s.submissions) | \(s.passed) | \(s.errors) | \(sorted.first.map(NumberText.exact) ?? "") | \(median) | \(sorted.last.map(NumberText.exact) ?? "") | \(s.commonFailure.map { "\(SafeText.markdown($0.id)) (\($0.count))" } ?? "") |\n"
        }
        if !flags.isEmpty {
            out += "\n## Similar submissions (to look at; grades unchanged)\n\n"
            for f in flags {
                out += "- \(SafeText.markdown(f.exercise)): \(SafeText.markdown(f.first)) and \(SafeText.markdown(f.second)): \(f.kind.rawValue)\n"
            }
        }
        return out
    }

    public var similarityCSV: String {
        let lines = flags.map { f in ([f.exercise, f.first, f.second].map(SafeText.spreadsheetCell) + [f.kind.rawValue]).joined(separator: ",") }
        return (["exercise,first,second,kind"] + lines).joined(separator: "\n") + "\n"
    }

    /// Feedback for one student: their rows, visible families only (hidden ones are counted, not shown).
    public func feedback(for student: String) -> String {
        var out = "Feedback for \(SafeText.terminal(student))\n\n"
        for row in rows where row.student == student {
            switch row.outcome {
            case .graded(let r):
                var visible = r
                visible.families = r.families.filter { $0.visibility == .visible }
                out += relative(TextReport.render(visible, colour: false))
                let hidden = r.families.count - visible.families.count
                if hidden > 0 { out += "  (\(plural(hidden, "more family")) graded but not shown)\n" }
            case .error(let e, _):
                out += "Your submission could not be graded: \(relative(e.description))\n"
            }
            out += "\n"
        }
        let bytes = Array(out.utf8)
        guard bytes.count > Self.maxFeedbackBytes else { return out }
        return String(decoding: bytes.prefix(Self.maxFeedbackBytes), as: UTF8.self) + "\n[feedback cut at \(Self.maxFeedbackBytes) bytes]\n"
    }

    /// `text` with the class folder's path taken out (students see paths inside their class folder only).
    package func relative(_ text: String) -> String {
        guard let root, !root.isEmpty else { return text }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return text.replacingOccurrences(of: prefix, with: "")
    }

    /// Writes every file into `folder` (created if needed). File names come from sanitised student names.
    public func write(to folder: String) throws {
        let fm = FileManager.default
        let feedbackFolder = (folder as NSString).appendingPathComponent("feedback")
        do {
            try fm.createDirectory(atPath: feedbackFolder, withIntermediateDirectories: true)
            try Data(csv.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("grades.csv")))
            try Data(JSONWriter.write(json).utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("grades.json")))
            try Data(summaryMarkdown.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("summary.md")))
            try Data(similarityCSV.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("similarity.csv")))
            for (name, text) in [("canvas.csv", canvasCSV), ("moodle.csv", moodleCSV)] {
                try Data(text.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))
            }
            // Feedback from an earlier run into the same folder must not be sent out again.
            for old in try fm.contentsOfDirectory(atPath: feedbackFolder) where old.hasSuffix(".txt") {
                try fm.removeItem(atPath: (feedbackFolder as NSString).appendingPathComponent(old))
            }
            for (student, name) in feedbackFiles.sorted(by: { $0.value < $1.value }) {
                let path = (feedbackFolder as NSString).appendingPathComponent(name)
                try Data(feedback(for: student).utf8).write(to: URL(fileURLWithPath: path))
            }
        } catch {
            throw GraderError(file: folder, "cannot write the gradebook: \(error.localizedDescription)")
        }
    }

    /// A file name made only of letters, digits, `-`, `_` and `.`, never starting with `.`.
    package static func safeFileName(_ s: String) -> String {
        let kept = String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        let trimmed = kept.hasPrefix(".") ? "_" + kept.dropFirst() : kept
        return trimmed.isEmpty ? "_" : String(trimmed.prefix(100))
    }

    /// A cell the grader itself wrote (a number, a status), RFC 4180-quoted when needed.
    package static func csvField(_ s: String) -> String { SafeText.csvQuoted(s) }

    package static func variant(_ exercise: String) -> String { exercise.split(separator: "/").last.map(String.init) ?? "" }

    package static func status(_ r: GradeReport) -> String { r.passed ? "passed" : "failed" }
}
