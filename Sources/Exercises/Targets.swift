import Numerics
import Model
import Formats

/// One thing a case checks on the model's forward pass. Positions are over the student's tokens.
public enum Target: Equatable, Sendable {
    /// The prediction at `position` must be `expected` (an output class, possibly `none`).
    case predict(position: Int, expected: String)
    /// `head`'s attention from `query` must put at least `minMass` on `keys` (−1 is BOS), when `argmax` its
    /// largest weight must fall on one of `keys`, and when `spread > 0` every key must get at least `spread`
    /// times an equal share of the mass on `keys` (so "attend to every position holding x" is not met by
    /// attending to one of them).
    case attention(head: HeadRef, query: Int, keys: [Int], minMass: Double, argmax: Bool, spread: Double)
    /// The residual stream entering layer `afterLayer` (the final stream when it equals the layer count)
    /// at `position`, read on `dims`, must equal `expected` within `tolerance` on every dim.
    case residual(position: Int, dims: [String], expected: [Double], tolerance: Double, afterLayer: Int?)
}

/// One graded input: a sequence of the student's tokens (no BOS) and what must hold on it.
public struct GradingCase: Equatable, Sendable {
    public var tokens: [String]
    public var targets: [Target]

    public init(tokens: [String], targets: [Target]) {
        self.tokens = tokens
        self.targets = targets
    }
}

/// Which positions of a labelled sequence are graded.
public enum GradedPositions: String, Sendable, CaseIterable {
    /// Every position with a label (`none` included).
    case all
    /// Only the last position.
    case last
    /// Only positions whose label is a token, not `none`.
    case fired
}

/// An attention requirement applied to every generated sequence.
public struct AttentionRequirement: Equatable, Sendable {
    public var head: HeadRef
    public var rule: AttentionRule
    public var minMass: Double
    public var argmax: Bool
    /// Each key's least share of the mass on the set, relative to an equal share (0: not required).
    public var spread: Double
    /// Which query positions are graded.
    public var queries: GradedPositions
}

/// How the targets of a rule-labelled sequence are made.
public struct LabelPlan: Equatable, Sendable {
    public var predict: PredictionRule?
    public var positions: GradedPositions
    public var attention: [AttentionRequirement]

    public init(predict: PredictionRule?, positions: GradedPositions, attention: [AttentionRequirement]) {
        self.predict = predict
        self.positions = positions
        self.attention = attention
    }

    /// The targets this plan gives `tokens`.
    public func targets(for tokens: [String], hasBOS: Bool) -> [Target] {
        var out: [Target] = []
        if let predict {
            for (t, label) in predict.labels(tokens).enumerated() {
                guard let label, positions.includes(t, count: tokens.count, label: label) else { continue }
                out.append(.predict(position: t, expected: label))
            }
        }
        for req in attention {
            for t in tokens.indices where req.queries.includes(t, count: tokens.count, label: nil) {
                let keys = req.rule.keys(tokens, query: t, hasBOS: hasBOS)
                if keys.isEmpty { continue }
                out.append(.attention(head: req.head, query: t, keys: keys, minMass: req.minMass, argmax: req.argmax, spread: req.spread))
            }
        }
        return out
    }
}

extension GradedPositions {
    package func includes(_ t: Int, count: Int, label: String?) -> Bool {
        switch self {
        case .all: true
        case .last: t == count - 1
        case .fired: label != PredictionRule.none
        }
    }
}
