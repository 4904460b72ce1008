import Foundation
import Numerics
import Model
import Formats
import Exercises

/// Grades one submission path end to end (load, pick the exercise, build, grade), turning every input
/// problem into an `.error` outcome instead of a throw, so a batch never loses a row.
public struct GradingSession: Sendable {
    public let catalog: ExerciseCatalog
    public let seed: UInt64
    /// The exercise to grade against when the submission does not name one (or to insist on).
    public let exercise: String?
    /// How far the domain check goes (the same for `check` and `grade`: a verdict never depends on the command).
    public let domain: DomainSettings

    public init(catalog: ExerciseCatalog, seed: UInt64, exercise: String?, domain: DomainSettings = .standard) {
        self.catalog = catalog
        self.seed = seed
        self.exercise = exercise
        self.domain = domain
    }

    /// What grading one path gave.
    public enum Outcome: Sendable {
        case graded(GradeReport)
        case error(GraderError, exercise: String?)
    }

    /// Grades the submission at `path`.
    public func grade(_ path: String) -> Outcome { gradeKeepingModel(path).outcome }

    /// Grades the submission at `path`, also returning the model it built (for similarity checks).
    /// With `timeLimit`, grading that runs past it becomes an error outcome.
    public func gradeKeepingModel(_ path: String, timeLimit: Double? = nil) -> (outcome: Outcome, model: Transformer?) {
        var exerciseID = exercise
        do {
            let submission = try SubmissionLoader.load(path)
            exerciseID = exercise ?? submission.exercise
            let spec = try resolveSpec(submission, path: path)
            let model = try ModelBuilder.build(submission, spec: spec)
            let grader = Grader(spec: spec, seed: seed, domain: domain)
            var report: GradeReport
            if let limit = timeLimit {
                guard let r = grader.grade(model, submission: submission, deadline: Date().addingTimeInterval(limit)) else {
                    throw GraderError(file: path, "grading took longer than the \(NumberText.exact(limit)) s limit per submission")
                }
                report = r
            } else {
                report = grader.grade(model, submission: submission)
            }
            return (.graded(report), model)
        } catch let error as GraderError {
            return (.error(error.inFile(path), exercise: exerciseID), nil)
        } catch {
            return (.error(GraderError(file: path, "\(error)"), exercise: exerciseID), nil)
        }
    }

    /// The spec a submission is graded against: `exercise` when given (a file naming another one is an
    /// error), else the one the file names.
    public func resolveSpec(_ submission: Submission, path: String) throws -> ExerciseSpec {
        let named = submission.exercise
        if let exercise { _ = try catalog.spec(exercise, for: path) }
        if let exercise, let named, named != exercise {
            throw GraderError(file: path, location: "exercise", "the file names exercise \"\(named)\" but this grading run is for \"\(exercise)\"")
        }
        guard let id = exercise ?? named else {
            throw GraderError(file: path, "the submission does not name its exercise; add \"exercise\": \"ID\" or pass --exercise ID")
        }
        return try catalog.spec(id, for: path)
    }
}
