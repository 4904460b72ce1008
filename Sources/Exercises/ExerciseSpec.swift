import Numerics
import Model
import Formats

/// A graded exercise, parsed and validated from a spec file under `exercises/`.
///
/// The exercise owns the frame (vocabulary, positions, mask, scale, limits) and the fixed matrices over
/// its named residual layout: `wE [dVocab, dModel]` (rows: `vocab` then BOS), `wPos [nCtx, dModel]`,
/// `wU [dModel, nOutputs]`, `bU [nOutputs]`. The student supplies the heads.
public struct ExerciseSpec: Sendable {
    /// Whether a variant is graded, or only explored because it cannot be solved as stated.
    public enum Status: Equatable, Sendable {
        case graded
        case exploratory(reason: String)
    }

    /// Upper bounds on what a submission may use.
    public struct Limits: Equatable, Sendable {
        public var layers: Int
        public var headsPerLayer: Int
        /// Bound on `d_head` (and on the rank of a head given as circuits); nil for no bound.
        public var dHead: Int?
    }

    /// Who may see a family's result (maps onto Gradescope's visibility).
    public enum Visibility: String, Sendable, CaseIterable {
        case visible, hidden
        case afterDueDate = "after_due_date"
        case afterPublished = "after_published"
    }

    /// Where a family's cases come from.
    public enum Source: Sendable {
        case explicit([GradingCase])
        case generated(SequenceGenerator, LabelPlan)
        case circuits([CircuitCheck])
        case questions([Question])
    }

    /// A weighted group of targets with its own pass rule.
    public struct Family: Sendable {
        /// The prediction rule that labels this family's sequences, if it has one.
        public var rule: PredictionRule? {
            switch source {
            case .generated(_, let plan): plan.predict
            case .explicit, .circuits, .questions: nil
            }
        }

        /// Whether the family checks weights or answers (circuits, questions) rather than sequences.
        public var isCheck: Bool {
            switch source {
            case .circuits, .questions: true
            case .explicit, .generated: false
            }
        }

        public var id: String
        public var title: String
        public var points: Double
        public var visibility: Visibility
        /// Fraction of targets that must be correct to pass.
        public var passAccuracy: Double
        /// Smallest margin every correct target must have to pass.
        public var minMargin: Double
        /// A failing family earns `points × accuracy` instead of 0.
        public var partialCredit: Bool = false
        public var source: Source
    }

    public var id: String
    public var exercise: String
    public var variant: String
    public var title: String
    /// The seed document and exercise this spec comes from.
    public var origin: String
    public var description: String
    public var status: Status
    /// Input tokens the student's sequences use (BOS excluded).
    public var vocab: [String]
    /// The token prepended at position 0, if any.
    public var bos: String?
    /// Logit classes, in `wU`'s column order.
    public var outputs: [String]
    public var nCtx: Int
    public var positional: PositionalMode
    public var causal: Bool
    public var attentionScale: Double
    /// Whether the spec wrote `attention_scale: "1/sqrt(d_head)"`: the scale then follows the model's d_head.
    public var attentionScaleFollowsDHead = false
    public var limits: Limits
    public var layout: ResidualLayout
    public var wE: Matrix
    public var wPos: Matrix?
    public var wU: Matrix
    public var bU: [Double]
    /// Exploration mode: the student may supply `W_E`, `W_pos`, `W_U`, `b_U` instead of the fixed ones.
    public var studentEmbeddings: Bool
    /// Head matrices a submission may leave out (they are then zero), e.g. `W_Q`, `W_K` when only OV is asked.
    public var optionalMatrices: Set<String>
    public var families: [Family]
    /// The reference solution, relative to the repository root.
    public var reference: String?
    /// Seconds of enumeration the domain check may spend (estimated, see `ProofBudget`); nil: the default.
    public var proofBudget: Double?
    /// Points of each domain family (the family that fails when a search finds a counterexample).
    public var domainPoints: Double
    /// Heads that must be necessary: zeroing one of them must make some family fail.
    public var necessaryHeads: [HeadRef]
    /// The spec file.
    public var file: String
    /// FNV-1a hash of the spec file's bytes, hex.
    public var specHash: String

    /// Input tokens in `wE`'s row order: the vocabulary, then BOS.
    public var inputTokens: [String] { vocab + (bos.map { [$0] } ?? []) }
    /// Position labels of `wPos` rows: `"0"`, `"1"`, ….
    public var positionNames: [String] { (0..<nCtx).map(String.init) }
    /// Longest student sequence (n_ctx minus the BOS slot).
    public var maxSequenceLength: Int { nCtx - (bos == nil ? 0 : 1) }
    /// Whether the exercise is exploratory.
    public var isExploratory: Bool { if case .exploratory = status { true } else { false } }

    /// The prediction rule when the generated families use exactly one.
    public var defaultRule: PredictionRule? {
        var rules: [PredictionRule] = []
        for f in families {
            if case .generated(_, let plan) = f.source, let r = plan.predict, !rules.contains(r) { rules.append(r) }
        }
        return rules.count == 1 ? rules[0] : nil
    }
}
