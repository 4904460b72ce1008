import Numerics
import Model
import Formats
import Exercises
import Grading

// Shapes (right multiplication, as everywhere in the grader):
//   wQK = W_Q W_K^T, wOV = W_V W_O          [dModel, dModel]   rows: residual dims read, columns: the other side
//   qkInputs = [W_E; W_pos]                 [dVocab (+ nCtx), dModel]  what a query or key can be made of
//   ovInputs = [W_E; W_pos if in residual]  [dVocab (+ nCtx), dModel]  what a value can be made of
//   fullQK = qkInputs wQK qkInputs^T        [inputs, inputs]   the attention score between two embeddings
//   fullOV = ovInputs wOV W_U               [inputs, nOutputs] the logits an attended embedding writes
//   virtual head = wOV^a wOV^b              [dModel, dModel]   a's write after b moves it (Ex.1's W_net^2 W_net^1)

/// The rank of a circuit and its non-negligible singular values (the `rank` largest, largest first),
/// with the rank rule of the circuit checks (`Matrix.rank()`).
public struct Spectrum: Equatable, Sendable {
    /// The number of singular values above 1e-9 of the largest.
    public var rank: Int
    /// The `rank` largest singular values, largest first.
    public var singularValues: [Double]

    /// The spectrum of `m`.
    public init(_ m: Matrix) {
        rank = m.rank()
        singularValues = Array(m.singularValues.prefix(rank))
    }
}

/// Every head's circuits, read off the weights alone (no sequence): QK and OV over the named residual dims,
/// the full circuits through the model's embedding and unembedding, composition scores and virtual heads
/// between heads of different layers. Biases are not part of any circuit.
public struct CircuitAnalysis: Sendable {
    /// One head's circuits.
    public struct HeadCircuits: Sendable {
        /// Which head.
        public var head: HeadRef
        /// `W_Q W_K^T`, `[dModel, dModel]`: rows are query dims, columns key dims.
        public var qk: LabelledMatrix
        /// `W_V W_O`, `[dModel, dModel]`: rows are dims read, columns dims written.
        public var ov: LabelledMatrix
        /// Rank and singular values of `qk`.
        public var qkSpectrum: Spectrum
        /// Rank and singular values of `ov`.
        public var ovSpectrum: Spectrum
        /// `[inputs, inputs]`: the score between a query embedding (row) and a key embedding (column).
        public var fullQK: LabelledMatrix
        /// `[inputs, nOutputs]`: the logits the head writes when it attends to an embedding (row).
        public var fullOV: LabelledMatrix
    }

    /// The product of an earlier head's OV circuit and a later one's: `W_OV^from W_OV^to`, `[dModel, dModel]`.
    public struct VirtualHead: Sendable {
        /// The earlier head, whose output is moved again.
        public var from: HeadRef
        /// The later head, which moves it.
        public var to: HeadRef
        /// The product, over the residual dims.
        public var ov: LabelledMatrix
        /// Rank and singular values of `ov`.
        public var spectrum: Spectrum
    }

    /// The exercise id.
    public var exercise: String
    /// Every head, in layer order.
    public var heads: [HeadCircuits]
    /// Scores for every pair of heads in different layers, earlier first.
    public var compositions: [CompositionScore]
    /// `W_OV^a W_OV^b` for the same pairs.
    public var virtualHeads: [VirtualHead]

    /// The circuits of `model` on the residual layout of `spec`.
    public init(spec: ExerciseSpec, model: Transformer) {
        let inputs = EmbeddingInputs(spec: spec, model: model)
        let names = spec.layout.names
        exercise = spec.id
        heads = model.layers.enumerated().flatMap { l, layer in
            layer.heads.enumerated().map { h, head in
                Self.circuits(head, ref: HeadRef(layer: l, head: h), names: names, inputs: inputs, model: model, outputs: spec.outputs)
            }
        }
        compositions = CompositionScore.all(model)
        virtualHeads = HeadPair.all(model).map { pair in
            let product = pair.earlier.wOV.multiplied(by: pair.later.wOV)
            return VirtualHead(
                from: pair.from, to: pair.to, ov: LabelledMatrix(product, rows: names, columns: names),
                spectrum: Spectrum(product))
        }
    }

    private static func circuits(
        _ head: AttentionHead, ref: HeadRef, names: [String], inputs: EmbeddingInputs,
        model: Transformer, outputs: [String]
    ) -> HeadCircuits {
        let wQK = head.wQK
        let wOV = head.wOV
        let fullQK = inputs.qk.values.multiplied(by: wQK).multiplied(by: inputs.qk.values.transposed)
        let fullOV = inputs.ov.values.multiplied(by: wOV).multiplied(by: model.wU)
        return HeadCircuits(
            head: ref,
            qk: LabelledMatrix(wQK, rows: names, columns: names), ov: LabelledMatrix(wOV, rows: names, columns: names),
            qkSpectrum: Spectrum(wQK), ovSpectrum: Spectrum(wOV),
            fullQK: LabelledMatrix(fullQK, rows: inputs.qk.rows, columns: inputs.qk.rows),
            fullOV: LabelledMatrix(fullOV, rows: inputs.ov.rows, columns: outputs))
    }
}

/// The embeddings a head can see, stacked as rows over the residual dims: the tokens (`W_E`, rows named by
/// token) and, where positions reach that side of the head, the positions (`W_pos`, rows `pos 0`, `pos 1`, …).
/// Positions reach Q and K in every positional mode; they reach V only when they are in the residual stream
/// (not in shortformer mode).
package struct EmbeddingInputs {
    /// `[dVocab (+ nCtx), dModel]`: what queries and keys are made of.
    package var qk: LabelledMatrix
    /// `[dVocab (+ nCtx), dModel]`: what values are made of.
    package var ov: LabelledMatrix

    package init(spec: ExerciseSpec, model: Transformer) {
        let tokens = LabelledMatrix(model.wE, rows: spec.inputTokens, columns: spec.layout.names)
        guard let wPos = model.wPos, model.positional != .none else {
            qk = tokens
            ov = tokens
            return
        }
        let both = LabelledMatrix(
            Matrix(rows: model.wE.rows + wPos.rows, columns: model.wE.columns, values: model.wE.values + wPos.values),
            rows: spec.inputTokens + (0..<wPos.rows).map { "pos \($0)" }, columns: spec.layout.names)
        qk = both
        ov = model.positional.addsToResidual ? both : tokens
    }
}
