import Foundation
import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

// MARK: - Seeded random models

func randomVector(_ n: Int, _ rng: inout SeededRandom) -> [Double] {
    (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
}

func randomMatrix(_ rows: Int, _ columns: Int, _ rng: inout SeededRandom) -> Matrix {
    Matrix(rows: rows, columns: columns, values: randomVector(rows * columns, &rng))
}

/// A random factored head; with `biases: false` all of b_Q, b_K, b_V are zero.
func randomHead(dModel: Int, dHead: Int, biases: Bool, _ rng: inout SeededRandom) -> AttentionHead {
    AttentionHead(
        wQ: randomMatrix(dModel, dHead, &rng), wK: randomMatrix(dModel, dHead, &rng),
        wV: randomMatrix(dModel, dHead, &rng), wO: randomMatrix(dHead, dModel, &rng),
        bQ: biases ? randomVector(dHead, &rng) : nil, bK: biases ? randomVector(dHead, &rng) : nil,
        bV: biases ? randomVector(dHead, &rng) : nil)
}

func randomTransformer(
    seed: UInt64, dVocab: Int, dModel: Int, dHead: Int, headsPerLayer: [Int],
    nCtx: Int, nOutputs: Int, positional: PositionalMode, causal: Bool,
    biases: Bool
) -> Transformer {
    var rng = SeededRandom(seed: seed)
    let layers = headsPerLayer.map { n in
        AttentionLayer(
            heads: (0..<n).map { _ in randomHead(dModel: dModel, dHead: dHead, biases: biases, &rng) },
            bO: randomVector(dModel, &rng))
    }
    return Transformer(
        wE: randomMatrix(dVocab, dModel, &rng),
        wPos: positional == .none ? nil : randomMatrix(nCtx, dModel, &rng),
        wU: randomMatrix(dModel, nOutputs, &rng), bU: randomVector(nOutputs, &rng),
        layers: layers, positional: positional, causal: causal,
        attentionScale: 1 / Double(dHead).squareRoot())
}

/// `model` with about two thirds of every weight set to 0 and the rest rounded to multiples of 1/2, as
/// hand-written weights are: the kernels' zero-skipping paths run, and many attention scores tie.
func sparsified(_ model: Transformer, seed: UInt64) -> Transformer {
    var rng = SeededRandom(seed: seed)
    func thin(_ m: Matrix) -> Matrix {
        Matrix(
            rows: m.rows, columns: m.columns,
            values: m.values.map { v in Int.random(in: 0..<3, using: &rng) == 0 ? (2 * v).rounded() / 2 : 0 })
    }
    let wE = thin(model.wE), wU = thin(model.wU)
    let layers = model.layers.map { layer in
        AttentionLayer(
            heads: layer.heads.map { head in AttentionHead(wQ: thin(head.wQ), wK: thin(head.wK), wV: thin(head.wV), wO: thin(head.wO)) },
            bO: layer.bO)
    }
    return Transformer(
        wE: wE, wPos: model.wPos, wU: wU, bU: model.bU, layers: layers, positional: model.positional,
        causal: model.causal, attentionScale: model.attentionScale)
}

func randomSequence(length: Int, dVocab: Int, _ rng: inout SeededRandom) -> [Int] {
    (0..<length).map { _ in Int.random(in: 0..<dVocab, using: &rng) }
}

/// The same weights with another positional mode (and, for `.none`, no table).
func with(_ model: Transformer, positional: PositionalMode) -> Transformer {
    Transformer(
        wE: model.wE, wPos: positional == .none ? nil : model.wPos, wU: model.wU, bU: model.bU,
        layers: model.layers, positional: positional, causal: model.causal,
        attentionScale: model.attentionScale)
}
