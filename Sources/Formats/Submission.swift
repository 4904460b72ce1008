import Numerics
import Model

/// A submission as read from its file(s), before it is checked against an exercise.
///
/// Matrices are kept raw (dense or named) because names only make sense on the exercise's residual
/// layout; `ModelBuilder` places them and validates shapes, limits and fixed matrices.
public struct Submission: Sendable {
    /// Which way the matrices are written.
    public enum Convention: String, Sendable, CaseIterable {
        /// Row vectors, `x @ W`: `W_Q [d_model, d_head]`, `W_O [d_head, d_model]` (the default).
        case transformerLens = "transformer_lens"
        /// Column vectors, `W x`: `W_Q [d_head, d_model]`, `W_O [d_model, d_head]`; circuits `W_Q^T W_K`, `W_O W_V`.
        case anthropic
    }

    /// One head: its matrices by name (`W_Q`, `W_K`, `W_V`, `W_O` or `W_QK`, `W_OV`) and biases (`b_Q`, `b_K`, `b_V`).
    public struct Head: Sendable {
        public var matrices: [String: RawMatrix] = [:]
        public var biases: [String: RawVector] = [:]
        public init() {}
    }

    /// One layer: heads and the output bias `b_O` `[d_model]`.
    public struct Layer: Sendable {
        public var heads: [Head] = []
        public var bO: RawVector?
        public init() {}
    }

    /// The file or folder the submission came from.
    public var file: String
    /// The exercise id the submission names, if it does.
    public var exercise: String?
    public var convention: Convention = .transformerLens
    public var layers: [Layer] = []
    /// Embedding-side matrices the submission supplies (`W_E`, `W_pos`, `W_U`).
    public var embeddings: [String: RawMatrix] = [:]
    public var bU: RawVector?
    /// Answers to conceptual questions, by question id.
    public var answers: [String: JSONValue] = [:]
    /// The machine epsilon of the float dtype an embedding-side matrix (`W_E`, `W_pos`, `W_U`, `b_U`) was
    /// stored in, when narrower than float64; fixed matrices are compared with a tolerance that follows it.
    public var precision: [String: Double] = [:]
    /// Set when a TransformerLens 4.x file did not say its `n_heads`, so each layer was read as one head.
    public var headCountUnknown = false
    /// For a TransformerLens 4.x file, the `attn_scale` its native attention divides the scores by; the model
    /// is graded as it runs there (`ModelBuilder` folds the difference from the exercise's scale into `W_Q`).
    public var attentionDivisor: Double?
    /// For a folder, the file each matrix came from, by slot (`L0H0.W_Q`, `L0.b_O`, `W_E`…): errors found
    /// after loading (the weight limit) name that file rather than the folder.
    public var sources: [String: String] = [:]

    public init(file: String) { self.file = file }

    /// Names of head matrices in factored form.
    public static let factoredNames = ["W_Q", "W_K", "W_V", "W_O"]
    /// Names of head matrices in circuit form.
    public static let circuitNames = ["W_QK", "W_OV"]
    /// Names of head biases.
    public static let biasNames = ["b_Q", "b_K", "b_V"]
    /// Names of embedding-side matrices.
    public static let embeddingNames = ["W_E", "W_pos", "W_U"]
}
