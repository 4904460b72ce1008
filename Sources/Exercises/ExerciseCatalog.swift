import Foundation
import Numerics
import Model
import Formats

/// Every exercise spec under a folder (searched recursively for `*.json`), by id.
public struct ExerciseCatalog: Sendable {
    /// Specs in id order.
    public let specs: [ExerciseSpec]
    /// The folder the specs were read from.
    public let root: String

    /// Reads and validates every spec under `root`; a spec that fails is kept in `problems`.
    public init(root: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GraderError(file: root, "the exercises folder does not exist (pass --exercises DIR, or run from the repository root)")
        }
        // A symlinked folder (e.g. a bundle's `exercises -> ../exercises`) is read where it points.
        let folder = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        let files = (FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
        var specs: [ExerciseSpec] = []
        var problems: [GraderError] = []
        var seen: [String: String] = [:]
        for relative in files {
            let path = (root as NSString).appendingPathComponent(relative)
            do {
                let spec = try SpecParser.parse(try SubmissionLoader.readFile(path), file: path)
                if let other = seen[spec.id] { throw GraderError(file: path, location: "id", "\"\(spec.id)\" is also the id of \(other)") }
                seen[spec.id] = path
                specs.append(spec)
            } catch let error as GraderError {
                problems.append(error)
            }
        }
        self.specs = specs.sorted { $0.id < $1.id }
        self.problems = problems
        self.root = root
    }

    /// Spec files that could not be used; lookups that miss mention them, `list` and `validate` report them.
    public let problems: [GraderError]

    /// The spec with `id`, or an error listing the known ids.
    public func spec(_ id: String, for file: String = "") throws -> ExerciseSpec {
        if let s = specs.first(where: { $0.id == id }) { return s }
        if let broken = problems.first(where: { $0.file.contains(id) }) { throw broken }
        // Suggest the ids within a few edits, closest first.
        let close = specs.map(\.id).map { ($0, editDistance($0, id)) }.filter { $0.1 <= max(2, id.count / 3) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(3).map(\.0)
        var hint = close.isEmpty ? "run `circuit-grader list` for the exercise ids" : "did you mean \(close.joined(separator: " or "))?"
        if !problems.isEmpty { hint += " (\(plural(problems.count, "spec file")) could not be read; `circuit-grader list` shows why)" }
        throw GraderError(file: file, location: "exercise", "unknown exercise \"\(id)\"; \(hint)")
    }
}
