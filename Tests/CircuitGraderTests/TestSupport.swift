import Foundation
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

/// The repository root, found from this file's path.
let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A path inside the repository.
func repoPath(_ relative: String) -> String { (repoRoot as NSString).appendingPathComponent(relative) }

/// Collects what the CLI writes.
final class Capture: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""
    var out: String { lock.withLock { outText } }
    var err: String { lock.withLock { errText } }

    var output: Output {
        Output(
            out: { s in self.lock.withLock { self.outText += s } },
            err: { s in self.lock.withLock { self.errText += s } },
            isTerminal: false, environment: [:])
    }
}

/// Runs the CLI in-process against the repository's exercises (`--exercises` added for the commands that take
/// it); returns (status, stdout, stderr).
func runCLI(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
    let capture = Capture()
    let takesExercises = arguments.first.flatMap { try? CommandLineTool.command(named: $0) }?.spec.option("exercises") != nil
    let status = CommandLineTool.run(arguments: arguments + (takesExercises ? ["--exercises", repoPath("exercises")] : []), output: capture.output)
    return (status, capture.out, capture.err)
}

/// The catalogue of the repository's exercises.
func repoCatalog() throws -> ExerciseCatalog { try ExerciseCatalog(root: repoPath("exercises")) }

/// Loads and builds a submission for its exercise.
func loadModel(_ path: String, exercise: String? = nil) throws -> (Submission, ExerciseSpec, Transformer) {
    let submission = try SubmissionLoader.load(path)
    let spec = try repoCatalog().spec(exercise ?? submission.exercise ?? "")
    return (submission, spec, try ModelBuilder.build(submission, spec: spec))
}

/// Every file under `folder` (relative to the repo) ending in `suffix`, sorted.
func repoFiles(_ folder: String, suffix: String) -> [String] {
    let root = repoPath(folder)
    let items = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
    return items.filter { $0.hasSuffix(suffix) }.sorted().map { (root as NSString).appendingPathComponent($0) }
}

/// Every bundled submission (references and known-bad examples) graded once at the public seed with the
/// default domain check, computed in parallel on first use and shared by the tests that need the verdict.
enum BundledGrades {
    static let paths: [String] = repoFiles("submissions/reference", suffix: ".json") + repoFiles("submissions/examples", suffix: ".json")

    static let reports: [String: GradeReport] = {
        let box = ResultsBox(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            guard let (submission, spec, model) = try? loadModel(paths[i]) else { return }
            box.set(i, Grader(spec: spec).grade(model, submission: submission))
        }
        return Dictionary(uniqueKeysWithValues: zip(paths, box.values).compactMap { p, r in r.map { (p, $0) } })
    }()

    /// A lock-guarded array filled from concurrent iterations.
    final class ResultsBox: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [GradeReport?]
        init(count: Int) { items = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: GradeReport) { lock.withLock { items[i] = r } }
        var values: [GradeReport?] { lock.withLock { items } }
    }
}
