import Numerics
import Model
import Formats
import Exercises

/// The result of one target.
public struct TargetResult: Equatable, Sendable {
    /// Index of the case in its family (of the check or question, in circuit and question families).
    public var caseIndex: Int
    /// What was scored.
    public var item: GradedItem
    public var correct: Bool
    /// In [-1, 1]; nil for checks without a margin (circuits, questions).
    public var margin: Double?
    /// What was expected, e.g. `B` or `attention on {2}`.
    public var expected: String
    /// What was found, e.g. `none` or `0.31 on {2}, max at 0`.
    public var found: String
}

/// What one `TargetResult` scored: a target on a sequence's forward pass, a circuit check on the weights, or
/// the answer to a conceptual question.
public enum GradedItem: Equatable, Sendable {
    case target(Target)
    /// The circuit check with this id.
    case check(id: String)
    /// The question with this id.
    case question(id: String)
}

/// A failing (or the closest) case of a family, as shown to the student.
public struct Counterexample: Equatable, Sendable {
    /// The student's tokens (no BOS); empty for circuit checks and questions.
    public var sequence: [String]
    /// The position (or query position) graded; nil for circuit checks and questions.
    public var position: Int?
    public var what: String
    public var expected: String
    public var found: String
    public var margin: Double?
    /// The shortest sequence found that still fails the same way (see `CounterexampleMinimizer`).
    public var minimized: Counterexample? {
        get { shortened.first }
        set { shortened = newValue.map { [$0] } ?? [] }
    }
    private var shortened: [Counterexample] = []

    public init(sequence: [String], position: Int?, what: String, expected: String, found: String, margin: Double?) {
        self.sequence = sequence
        self.position = position
        self.what = what
        self.expected = expected
        self.found = found
        self.margin = margin
    }

    /// A wrong (or closest) prediction at `position` of `sequence`.
    public static func prediction(_ sequence: [String], at position: Int, expected: String, found: String, margin: Double?) -> Counterexample {
        Counterexample(
            sequence: sequence, position: position, what: "prediction after position \(position)", expected: expected, found: found, margin: margin)
    }
}

/// One family's outcome.
public struct FamilyResult: Equatable, Sendable {
    public var id: String
    public var title: String
    public var visibility: ExerciseSpec.Visibility
    public var points: Double
    public var earned: Double
    public var passed: Bool
    public var total: Int
    public var correct: Int
    public var accuracy: Double
    public var worstMargin: Double?
    public var medianMargin: Double?
    /// The worst target (lowest margin, failures first); nil when the family had no targets.
    public var counterexample: Counterexample?
    /// Every failing check or answer of a circuit or question family, in order (empty for sequence families,
    /// whose failures share one counterexample).
    public var failures: [Counterexample] = []
}

/// Everything `check` found for one submission on one exercise.
public struct GradeReport: Equatable, Sendable {
    public var file: String
    public var exercise: String
    public var title: String
    public var exploratory: String?
    public var seed: UInt64
    public var specHash: String
    public var graderVersion: String
    public var families: [FamilyResult]
    /// The domain check of each prediction domain (its family is in `families`, id `domain`).
    public var verdicts: [DomainVerdict] = []
    /// The exercise and model graded, for reports that draw the model (HTML): nothing is loaded again. Nil in
    /// reports made by hand (tests).
    public var subject: GradedSubject? = nil
    /// Which heads the verdict needs (see `HeadNecessity`); empty when not probed.
    public var heads: [HeadNecessity] = []

    public var score: Double { families.reduce(0) { $0 + $1.earned } }
    public var maxScore: Double { families.reduce(0) { $0 + $1.points } }
    /// The seed where students read it: the one redaction policy, used by every student-facing output (text,
    /// JSON, JUnit, Markdown, HTML, Gradescope, GitHub annotations, feedback files). It is the number for the
    /// public seed and nil for an instructor's seed (printed in feedback it would let students regenerate the
    /// graded cases). The gradebook, which only instructors read, keeps `seed`.
    public var disclosedSeed: UInt64? { seed == Grader.publicSeed ? seed : nil }
    /// `disclosedSeed` in words: `seed 1` or that the seed is not shown.
    public var seedForStudents: String { disclosedSeed.map { "seed \($0)" } ?? "a non-public seed, not shown" }

    /// Every family passed.
    public var passed: Bool { families.allSatisfy(\.passed) }

    /// The domain verdict a family reports, when it is a domain family.
    public func verdict(of family: FamilyResult) -> DomainVerdict? {
        guard let index = DomainFamilyID.index(of: family.id) else { return nil }
        return verdicts.indices.contains(index) ? verdicts[index] : nil
    }

    /// Whether every domain was proved whole.
    public var proved: Bool { !verdicts.isEmpty && verdicts.allSatisfy { $0.status == .proved } }
}

/// The grader's version, recorded in every result.
public let graderVersion = "0.1.0"

/// What a report was graded on: the exercise and the model built from the submission.
public struct GradedSubject: Equatable, Sendable {
    public let spec: ExerciseSpec
    public let model: Transformer

    public init(spec: ExerciseSpec, model: Transformer) {
        self.spec = spec
        self.model = model
    }

    /// The same exercise (id and spec hash) and the same weights.
    public static func == (a: GradedSubject, b: GradedSubject) -> Bool {
        a.spec.id == b.spec.id && a.spec.specHash == b.spec.specHash && a.model == b.model
    }
}
