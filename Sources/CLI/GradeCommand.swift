import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `grade DIR --out OUT`: grade a class folder in parallel and write a gradebook; exit 0 when the batch completed.
package enum GradeCommand {
    /// Seconds a submission may take when `--limit` is not given.
    package static let defaultTimeLimit = 60

    /// `--limit SECONDS`: a positive number of seconds (default `defaultTimeLimit`).
    package static func timeLimit(_ text: String?) throws -> Double {
        guard let text else { return Double(defaultTimeLimit) }
        guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw GraderError(file: "", "--limit needs a number of seconds above 0 (at most 86400), found \"\(text)\"")
        }
        return seconds
    }

    /// What the command accepts: its parser, refusals and `--help` are generated from this.
    package static let spec = CommandSpec(
        "grade", summary: "grade a class folder in parallel into a gradebook (CSV, JSON, LMS imports, feedback)",
        positional: PositionalSpec("DIR", noun: "class folder", arity: .one, help: "the class folder: one file or folder per student"),
        options: [
            CommonOptions.out("OUT", required: true, help: "the folder for the gradebook, outside DIR"),
            CommonOptions.exercise, CommonOptions.seed,
            OptionSpec(
                "limit", .value(placeholder: "SECONDS"), default: String(defaultTimeLimit),
                help: "seconds one submission may take before it becomes an error row"),
            CommonOptions.format(["text", "json"]), CommonOptions.budget, CommonOptions.proofBudget, CommonOptions.prove, CommonOptions.exercises,
        ],
        exitStatus: "0 the batch completed, whatever the students scored; 2 it could not start")

    /// The declaration with the code it runs.
    package static let command = Command(spec, run: run)

    /// Runs on arguments parsed against `spec`; returns the exit status.
    package static func run(_ c: Context) throws -> Int32 {
        let format = c.args.format
        guard let out = c.args.options["out"] else { throw UsageError(Self.spec, "grade needs --out OUT") }
        let root = try c.args.only()
        let realRoot = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        let realOut = URL(fileURLWithPath: out).standardizedFileURL.resolvingSymlinksInPath().path
        if realOut == realRoot || realOut.hasPrefix(realRoot + "/") {
            throw GraderError(file: out, "the output folder is inside the class folder; choose one outside it")
        }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isFolder), !isFolder.boolValue {
            throw GraderError(file: out, "is a file; --out needs a folder for the gradebook")
        }
        let seed = c.args.seed(environment: c.output.environment)
        let session = GradingSession(catalog: try c.catalog(), seed: seed, exercise: c.args.options["exercise"], domain: try domainSettings(c))
        let folder = try ClassFolder(root: root)
        let limit = try timeLimit(c.args.options["limit"])
        let total = folder.entries.count
        let showProgress = c.output.isTerminal
        let output = c.output
        let rows = BatchGrader(session: session, timeLimit: limit).grade(folder) { done in
            if showProgress { output.err("\rgraded \(done)/\(total)") }
        }
        if showProgress { c.output.err("\n") }
        let scratch = Dictionary(session.catalog.specs.map { s in (s.id, s.layout.scratch.compactMap(s.layout.index)) }, uniquingKeysWith: { a, _ in a })
        let graded = rows.compactMap { row -> (student: String, exercise: String, model: Transformer)? in
            guard case .graded(let r) = row.outcome, let model = row.model else { return nil }
            return (row.student, r.exercise, model)
        }
        let maxScores = Dictionary(session.catalog.specs.map { ($0.id, $0.families.reduce(0) { $0 + $1.points }) }, uniquingKeysWith: { a, _ in a })
        let book = Gradebook(rows: rows, flags: Similarity.flags(graded, scratch: scratch), seed: seed, root: root, maxScores: maxScores)
        try book.write(to: out)
        if format == "json" {
            c.output.out(JSONWriter.write(book.json))
        } else {
            let errors = rows.filter { if case .error = $0.outcome { true } else { false } }.count
            c.output.out("graded \(rows.count) submissions (\(errors) could not be graded) into \(out)\n" + book.summaryMarkdown)
        }
        return ExitStatus.success
    }
}
