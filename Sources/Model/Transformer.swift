import Numerics

// Glossary of shapes (TransformerLens names in brackets; row vectors, right multiplication `x @ W`):
//   dModel  residual-stream width            [d_model]
//   dHead   width of one head's q, k, v      [d_head]
//   dVocab  number of tokens (BOS included)  [d_vocab]
//   nCtx    longest sequence (BOS included)  [n_ctx]
//   wE   [dVocab, dModel]  token embedding         [embed.W_E]
//   wPos [nCtx, dModel]    positional embedding    [pos_embed.W_pos]
//   wQ, wK, wV [dModel, dHead], wO [dHead, dModel] [blocks.l.attn.W_Q[h] ...]
//   bQ, bK, bV [dHead], bO [dModel] per layer       [blocks.l.attn.b_Q[h] ..., b_O]
//   wU   [dModel, nOutputs] unembedding            [unembed.W_U]
//   bU   [nOutputs]                                [unembed.b_U]

/// How positions enter the model.
public enum PositionalMode: String, Sendable, CaseIterable {
    /// No positional information at all.
    case none
    /// `W_pos[t]` is added to the residual stream (a learned table).
    case learned
    /// `W_pos[t]` is added to the residual stream; the table holds cos/sin pairs.
    case sinusoidal
    /// `W_pos[t]` is added only to the inputs of Q and K, in every layer, never to the residual stream.
    case shortformer

    /// Whether `W_pos` is part of the residual stream.
    public var addsToResidual: Bool { self == .learned || self == .sinusoidal }
}

/// One attention head in factored form.
///
/// Shapes: `wQ, wK, wV: [dModel, dHead]`, `wO: [dHead, dModel]`, `bQ, bK, bV: [dHead]`.
/// A head given by its circuits `W_QK`, `W_OV` is stored as `wQ = W_QK, wK = I, wV = W_OV, wO = I`
/// (`dHead = dModel`), which computes exactly `x W_QK x'^T` and `x W_OV`.
public struct AttentionHead: Equatable, Sendable {
    public let wQ: Matrix
    public let wK: Matrix
    public let wV: Matrix
    public let wO: Matrix
    public let bQ: [Double]
    public let bK: [Double]
    public let bV: [Double]

    /// A head from its four matrices; biases default to zero.
    public init(
        wQ: Matrix, wK: Matrix, wV: Matrix, wO: Matrix,
        bQ: [Double]? = nil, bK: [Double]? = nil, bV: [Double]? = nil
    ) {
        precondition(
            wQ.shape == wK.shape && wQ.rows == wV.rows && wO.rows == wV.columns && wO.columns == wQ.rows,
            "Inconsistent head shapes: W_Q \(wQ.shape) W_K \(wK.shape) W_V \(wV.shape) W_O \(wO.shape)")
        self.wQ = wQ
        self.wK = wK
        self.wV = wV
        self.wO = wO
        precondition(
            (bQ?.count ?? wQ.columns) == wQ.columns && (bK?.count ?? wK.columns) == wK.columns
                && (bV?.count ?? wV.columns) == wV.columns,
            "Bias lengths must equal d_head: b_Q \(bQ?.count ?? -1), b_K \(bK?.count ?? -1), b_V \(bV?.count ?? -1)")
        self.bQ = bQ ?? Array(repeating: 0, count: wQ.columns)
        self.bK = bK ?? Array(repeating: 0, count: wK.columns)
        self.bV = bV ?? Array(repeating: 0, count: wV.columns)
    }

    /// A head given by its circuits: `wQK = W_Q W_K^T`, `wOV = W_V W_O`, both `[dModel, dModel]`.
    public init(wQK: Matrix, wOV: Matrix) {
        let identity = Matrix.identity(wQK.rows)
        self.init(wQ: wQK, wK: identity, wV: wOV, wO: identity)
    }

    /// Width of the residual stream this head reads.
    public var dModel: Int { wQ.rows }
    /// Width of q and k.
    public var dHead: Int { wQ.columns }
    /// The QK circuit `W_Q W_K^T`, `[dModel, dModel]` (biases not included).
    public var wQK: Matrix { wQ.multiplied(by: wK.transposed) }
    /// The OV circuit `W_V W_O`, `[dModel, dModel]` (biases not included).
    public var wOV: Matrix { wV.multiplied(by: wO) }
}

/// One attention layer: its heads, and the output bias added once per layer.
public struct AttentionLayer: Equatable, Sendable {
    public let heads: [AttentionHead]
    /// `b_O`, `[dModel]`.
    public let bO: [Double]

    public init(heads: [AttentionHead], bO: [Double]) {
        self.heads = heads
        self.bO = bO
    }
}

/// An attention-only transformer with fixed semantics (grading.md, "The model"; the math in
/// Swift is `referenceForward`, ReferenceForward.swift).
///
/// Shapes: `wE [dVocab, dModel]`, `wPos [nCtx, dModel]` (nil when there is no positional table),
/// `wU [dModel, nOutputs]`, `bU [nOutputs]` (the outputs may add classes such as `none` to the vocabulary).
/// The loaders check a submission and say what is wrong in words; this type's init then checks every shape
/// again and traps on a mismatch, and every field is a constant: a `Transformer` that exists is consistent,
/// which is what lets the engine read its matrices without bounds checks. Changes make a new model
/// (`replacing`, `silencing`), through the same checks.
public struct Transformer: Equatable, Sendable {
    public let wE: Matrix
    public let wPos: Matrix?
    public let wU: Matrix
    public let bU: [Double]
    public let layers: [AttentionLayer]
    public let positional: PositionalMode
    /// Whether position `i` may only attend to positions `j <= i`.
    public let causal: Bool
    /// The factor applied to `q k^T` before the softmax.
    public let attentionScale: Double

    public init(
        wE: Matrix, wPos: Matrix?, wU: Matrix, bU: [Double], layers: [AttentionLayer],
        positional: PositionalMode, causal: Bool, attentionScale: Double
    ) {
        precondition(
            wU.rows == wE.columns && bU.count == wU.columns,
            "Inconsistent embedding shapes: W_E \(wE.shape) W_U \(wU.shape) b_U \(bU.count)")
        precondition(positional == .none || wPos?.columns == wE.columns, "W_pos must have dModel columns")
        for (l, layer) in layers.enumerated() {
            precondition(layer.bO.count == wE.columns, "b_O of layer \(l) has \(layer.bO.count) entries, d_model is \(wE.columns)")
            for (h, head) in layer.heads.enumerated() {
                precondition(head.dModel == wE.columns, "head L\(l)H\(h) reads \(head.dModel) dims, d_model is \(wE.columns)")
            }
        }
        self.wE = wE
        self.wPos = wPos
        self.wU = wU
        self.bU = bU
        self.layers = layers
        self.positional = positional
        self.causal = causal
        self.attentionScale = attentionScale
    }

    public var dModel: Int { wE.columns }
    public var dVocab: Int { wE.rows }
    /// The longest sequence the positional table covers (`Int.max` without one).
    public var nCtx: Int { positional == .none ? Int.max : (wPos?.rows ?? 0) }
}

extension Transformer {
    /// The same model with the given parts replaced, checked like any new model.
    public func replacing(layers: [AttentionLayer]? = nil, bU: [Double]? = nil, causal: Bool? = nil) -> Transformer {
        Transformer(
            wE: wE, wPos: wPos, wU: wU, bU: bU ?? self.bU, layers: layers ?? self.layers, positional: positional,
            causal: causal ?? self.causal, attentionScale: attentionScale)
    }

    /// The model with `head`'s output matrix `W_O` set to zero: the head reads as before and writes nothing.
    public func silencing(_ head: HeadRef) -> Transformer {
        replacing(
            layers: layers.enumerated().map { l, layer in
                AttentionLayer(
                    heads: layer.heads.enumerated().map { h, a in
                        HeadRef(layer: l, head: h) == head ? a.replacing(wO: Matrix(zeros: a.wO.rows, a.wO.columns)) : a
                    }, bO: layer.bO)
            })
    }
}

extension AttentionHead {
    /// The same head with other query weights (`[dModel, dHead]`, `[dHead]`), value weights (`[dModel, dValue]`)
    /// or output matrix (`[dValue, dModel]`), checked like any new head.
    public func replacing(wQ: Matrix? = nil, bQ: [Double]? = nil, wV: Matrix? = nil, wO: Matrix? = nil) -> AttentionHead {
        AttentionHead(wQ: wQ ?? self.wQ, wK: wK, wV: wV ?? self.wV, wO: wO ?? self.wO, bQ: bQ ?? self.bQ, bK: bK, bV: bV)
    }
}
