import Foundation
import Testing
@testable import Model
@testable import Numerics

/// The engine (`forward`, `forward(batch:)`) against the plain reference pass of ReferenceForward.swift, on
/// random models: every positional mode, the mask on and off, with and without biases, one to three layers
/// of up to three heads (a layer without heads included), dense and sparse weights.
@Suite("ReferenceForward")
struct ReferenceForwardTests {
    static let shapes: [[Int]] = [[1], [2], [3, 1], [0, 2], [2, 2, 1]]

    /// |engine − reference| ≤ max(1e-12, 1e-10 |reference|) everywhere; the two sum in different orders.
    static func close(_ a: Matrix, _ b: Matrix) -> Bool {
        a.shape == b.shape && zip(a.values, b.values).allSatisfy { x, y in abs(x - y) <= max(1e-12, 1e-10 * abs(y)) }
    }

    @Test("the engine equals the reference pass", arguments: PositionalMode.allCases, [false, true])
    func engineMatchesReference(positional: PositionalMode, causal: Bool) {
        var checked = 0
        for (s, heads) in Self.shapes.enumerated() {
            for biases in [false, true] {
                let seed = UInt64(100 * s + (biases ? 1 : 0))
                let dense = randomTransformer(
                    seed: seed, dVocab: 6, dModel: 5, dHead: 3, headsPerLayer: heads, nCtx: 9, nOutputs: 4,
                    positional: positional, causal: causal, biases: biases)
                for model in [dense, sparsified(dense, seed: seed)] {
                    var rng = SeededRandom(seed: seed, stream: "tokens")
                    let batch = (0..<6).map { i in randomSequence(length: 1 + (i * 3) % 9, dVocab: 6, &rng) }
                    let traces = model.forward(batch: batch)
                    for (tokens, trace) in zip(batch, traces) {
                        let reference = model.referenceForward(tokens)
                        #expect(Self.close(trace.logits, reference.logits), "logits, heads \(heads), biases \(biases)")
                        #expect(Self.close(model.forward(tokens).logits, reference.logits))
                        #expect(trace.residuals.count == reference.residuals.count)
                        for (x, y) in zip(trace.residuals, reference.residuals) { #expect(Self.close(x, y)) }
                        for (l, layer) in reference.patterns.enumerated() {
                            for (h, pattern) in layer.enumerated() {
                                #expect(Self.close(trace.patterns[l][h], pattern), "pattern L\(l)H\(h), heads \(heads)")
                            }
                        }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == Self.shapes.count * 2 * 2 * 6)
    }

    @Test("the reference's causal rows ignore later tokens, and its non-causal rows do not")
    func maskSeparatesFutureTokens() {
        for causal in [true, false] {
            let model = randomTransformer(
                seed: 7, dVocab: 4, dModel: 4, dHead: 2, headsPerLayer: [1, 1], nCtx: 5, nOutputs: 3,
                positional: .learned, causal: causal, biases: true)
            let a = model.referenceForward([0, 1, 2]), b = model.referenceForward([0, 1, 3])
            let firstTwo = { (m: Matrix) in Array(m.values.prefix(2 * m.columns)) }
            #expect((firstTwo(a.logits) == firstTwo(b.logits)) == causal)
        }
    }
}

/// A `Transformer` cannot exist with inconsistent shapes, and cannot be changed once built: the engine reads
/// its matrices without bounds checks, so this is what keeps those reads inside the arrays.
@Suite("ModelValidation")
struct ModelValidationTests {
    @Test("b_O shorter than d_model stops the program at construction, before any forward pass")
    func shortOutputBiasTraps() async {
        await #expect(processExitsWith: .failure) {
            let identity = Matrix.identity(3)
            _ = Transformer(
                wE: identity, wPos: nil, wU: identity, bU: [0, 0, 0],
                layers: [AttentionLayer(heads: [AttentionHead(wQK: identity, wOV: identity)], bO: [0])],
                positional: .none, causal: true, attentionScale: 1)
        }
    }

    @Test("a head reading another width than d_model stops the program at construction")
    func headWidthTraps() async {
        await #expect(processExitsWith: .failure) {
            let identity = Matrix.identity(3)
            let narrow = Matrix.identity(2)
            _ = Transformer(
                wE: identity, wPos: nil, wU: identity, bU: [0, 0, 0],
                layers: [AttentionLayer(heads: [AttentionHead(wQK: narrow, wOV: narrow)], bO: [0, 0, 0])],
                positional: .none, causal: true, attentionScale: 1)
        }
    }

    @Test("a consistent model builds, and replacing or silencing a head makes a new one and leaves it as it was")
    func changesMakeNewModels() {
        let model = randomTransformer(
            seed: 3, dVocab: 4, dModel: 4, dHead: 2, headsPerLayer: [2], nCtx: 4, nOutputs: 3,
            positional: .learned, causal: true, biases: true)
        let silenced = model.silencing(HeadRef(layer: 0, head: 1))
        #expect(silenced.layers[0].heads[1].wO.maxAbs == 0)
        #expect(model.layers[0].heads[1].wO.maxAbs > 0)
        #expect(silenced.layers[0].heads[0] == model.layers[0].heads[0])
        #expect(model.replacing(causal: false).causal == false && model.causal)
    }
}
