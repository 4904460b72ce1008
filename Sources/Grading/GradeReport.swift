import Numerics
import Model
import Formats
import Exercises

/// The result of one target.
public struct TargetResult: Equatable, Sendable {
    /// Index of the case in its family.
    public var caseIndex: Int
    public var target: Target
    public var correct: Bool
    /// In [-1, 1]; nil for checks without a margin (circuits, questions).
    public var margin: Double?
    /// What was expected, e.g. `B` or `attention on {2}`.
    public var expected: String
    /// What was found, e.g. `none` or `0.31 on {2}, max at 0`.
    public var found: String
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
    /// Which heads the verdict needs (see `HeadNecessity`); empty when not probed.
    public var heads: [HeadNecessity] = []

    public var score: Double { families.reduce(0) { $0 + $1.earned } }
    public var maxScore: Double { families.reduce(0) { $0 + $1.points } }
    /// The seed as shown to students: the number when it is the public seed, else only that it was the
    /// instructor's (a secret seed printed in feedback would let students regenerate the graded cases).
    public var seedForStudents: String { seed == Grader.publicSeed ? "seed \(seed)" : "a non-public seed, not shown" }

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
