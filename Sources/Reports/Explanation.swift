import Numerics
import Model
import Formats
import Exercises
import Grading

/// What happened at every position of one sequence: logits, prediction, each head's attention row and
/// what it wrote on the named residual dims. Built from one `ForwardTrace`; text and JSON read the same numbers.
public struct Explanation: Sendable {
    /// One head at one position.
    public struct HeadView: Sendable {
        public var head: HeadRef
        /// Attention weight per key position label (`BOS`, `0`, `1`, …), in position order.
        public var attention: [(String, Double)]
        /// Non-zero writes by residual dim name.
        public var writes: [(String, Double)]
    }

    /// One position.
    public struct PositionView: Sendable {
        public var label: String
        public var token: String
        public var logits: [(String, Double)]
        public var prediction: String
        /// What the exercise's rule expects here, when it has one.
        public var expected: String?
        public var heads: [HeadView]
    }

    /// One head over the whole sequence.
    public struct HeadTrace: Sendable {
        /// Which head.
        public var head: HeadRef
        /// `[T, T]`, row = query position, column = key position.
        public var pattern: Matrix
        /// `[T, dModel]`: what the head added to the residual stream at every position.
        public var output: Matrix
    }

    public var exercise: String
    public var sequence: [String]
    public var positions: [PositionView]
    /// Every head in layer order, with its full pattern and output.
    public var heads: [HeadTrace]
    /// The residual dim names, `output`'s column labels.
    public var residualNames: [String]
    /// Whether keys after the query are masked.
    public var causal: Bool

    /// Runs `tokens` through `model` and collects the views.
    public init(spec: ExerciseSpec, model: Transformer, tokens: [String]) {
        let input = spec.modelInput(tokens)
        let trace = model.forward(input)
        let offset = spec.bosPrefix.count
        let labels = (0..<input.count).map { $0 < offset ? "BOS" : String($0 - offset) }
        let expected = spec.defaultRule.map { $0.labels(tokens) }
        exercise = spec.id
        sequence = tokens
        residualNames = spec.layout.names
        causal = spec.causal
        heads = trace.patterns.enumerated().flatMap { l, layer in
            layer.indices.map { h in HeadTrace(head: HeadRef(layer: l, head: h), pattern: layer[h], output: trace.headOutputs[l][h]) }
        }
        positions = (0..<input.count).map { p in
            let row = trace.logits.values[(p * trace.logits.columns)..<((p + 1) * trace.logits.columns)]
            var heads: [HeadView] = []
            for (l, layer) in trace.patterns.enumerated() {
                for (h, pattern) in layer.enumerated() {
                    let written = trace.headOutputs[l][h]
                    heads.append(
                        HeadView(
                            head: HeadRef(layer: l, head: h),
                            attention: (0..<input.count).map { (labels[$0], pattern[p, $0]) },
                            writes: spec.layout.names.enumerated().compactMap { i, name in written[p, i] == 0 ? nil : (name, written[p, i]) }))
                }
            }
            return PositionView(
                label: labels[p], token: p < offset ? (spec.bos ?? "BOS") : tokens[p - offset],
                logits: Array(zip(spec.outputs, row)), prediction: PredictionScorer.prediction(row, outputs: spec.outputs),
                expected: p < offset ? nil : expected?[p - offset] ?? nil, heads: heads)
        }
    }

    public var json: JSONValue {
        .obj([
            ("schema", .string("circuit-grader/explain@1")), ("exercise", .string(exercise)),
            ("sequence", .array(sequence.map(JSONValue.string))),
            (
                "positions",
                .array(
                    positions.map { p in
                        .obj([
                            ("position", .string(p.label)), ("token", .string(p.token)),
                            ("logits", .obj(p.logits.map { ($0.0, .number($0.1)) })), ("prediction", .string(p.prediction)),
                            ("expected", p.expected.map(JSONValue.string) ?? .null),
                            (
                                "heads",
                                .array(
                                    p.heads.map { h in
                                        .obj([
                                            ("head", .string(h.head.description)),
                                            ("attention", .obj(h.attention.map { ($0.0, .number($0.1)) })),
                                            ("writes", .obj(h.writes.map { ($0.0, .number($0.1)) })),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
        ])
    }
}
