import Numerics
import Model
import Formats
import Exercises
import Grading

/// A starting point for a submission to one exercise: every head the exercise allows, each matrix dense
/// and zero at its shape, labelled so a student can tell which row is which residual dim.
///
/// Shapes: `W_Q, W_K, W_V [dModel, dHead]`, `W_O [dHead, dModel]`, with `limits.layers` layers of
/// `limits.headsPerLayer` heads; `dHead` is the exercise's bound, or `min(dModel, 8)` without one. In exploration
/// mode the exercise's `W_E`, `W_pos`, `W_U`, `b_U` are included as the starting embedding. A template loads and
/// grades without an input error, and (being all zero) fails.
public struct SubmissionTemplate: Sendable {
    /// One file of the CSV form: its name inside the folder and its text.
    public struct File: Equatable, Sendable {
        /// The file name inside the folder, e.g. `L0H0.W_Q.csv`.
        public var name: String
        /// The file's contents.
        public var text: String
    }

    /// The exercise the template is for.
    public let spec: ExerciseSpec
    /// The width given to every head.
    public let dHead: Int

    /// The template for `spec`.
    public init(spec: ExerciseSpec) {
        self.spec = spec
        dHead = spec.limits.dHead ?? min(spec.layout.dModel, 8)
    }

    /// Every head the exercise allows, in layer order.
    package var heads: [HeadRef] {
        (0..<spec.limits.layers).flatMap { l in (0..<spec.limits.headsPerLayer).map { HeadRef(layer: l, head: $0) } }
    }

    /// Residual dim names (rows of `W_Q`, `W_K`, `W_V`; columns of `W_O`).
    package var residual: [String] { spec.layout.names }

    /// What the numbers mean, for the top of either form.
    package var guide: String {
        let bound = spec.limits.dHead.map { "at most \($0)" } ?? "no bound; \(dHead) given here"
        return "Template for \(spec.id): \(spec.title). Every matrix is zero: fill in the heads. "
            + "Rows of W_Q, W_K, W_V and columns of W_O are the residual dims in the order of meta.residual_dims "
            + "(\(residual.count) of them); the head dims are yours to name by position (d_head: \(bound)). "
            + "Heads left at zero are harmless; delete any you do not need, but keep at least one per layer. "
            + "Grade it with: circuit-grader check FILE"
    }

    /// The nested JSON form, as text.
    public var json: String {
        var members: [(String, JSONValue)] = [("$comment", .string(guide)), ("exercise", .string(spec.id)), ("meta", meta)]
        members.append(
            (
                "layers",
                .array(
                    (0..<spec.limits.layers).map { l in
                        .obj([("heads", .array(heads.filter { $0.layer == l }.map(headJSON)))])
                    })
            ))
        if spec.studentEmbeddings { members += embeddingsJSON }
        if !questions.isEmpty { members.append(("answers", .obj(questions.map { ($0.id, .null) }))) }
        return JSONWriter.write(.obj(members))
    }

    private var meta: JSONValue {
        var members: [(String, JSONValue)] = [
            ("residual_dims", .array(residual.map(JSONValue.string))),
            ("scratch_dims", .array(spec.layout.scratch.map(JSONValue.string))),
            ("d_head", .number(Double(dHead))),
        ]
        if !questions.isEmpty { members.append(("questions", .obj(questions.map { ($0.id, .string($0.prompt)) }))) }
        return .obj(members)
    }

    private func headJSON(_ ref: HeadRef) -> JSONValue {
        .obj([
            ("$comment", .string("\(ref): W_Q, W_K, W_V are [\(residual.count) residual dims][\(dHead) head dims], W_O is [\(dHead)][\(residual.count)]")),
            ("W_Q", .matrix(Matrix(zeros: residual.count, dHead))), ("W_K", .matrix(Matrix(zeros: residual.count, dHead))),
            ("W_V", .matrix(Matrix(zeros: residual.count, dHead))), ("W_O", .matrix(Matrix(zeros: dHead, residual.count))),
        ])
    }

    private var embeddingsJSON: [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [("W_E", .matrix(spec.wE))]
        if let wPos = spec.wPos { out.append(("W_pos", .matrix(wPos))) }
        return out + [("W_U", .matrix(spec.wU)), ("b_U", .numbers(spec.bU))]
    }

    /// The conceptual questions of the exercise, in family order.
    package var questions: [Question] {
        spec.families.flatMap { f -> [Question] in
            if case .questions(let qs) = f.source { return qs }
            return []
        }
    }
}
