import Numerics
import Model
import Formats
import Exercises

/// How a prediction target is scored: the one place the grader, enumeration, the stress sequences and the
/// adversarial search turn a logit row into a margin and a printed prediction.
///
/// `row` is one position's logits over `outputs` (`[nOutputs]`, in `W_U`'s column order).
public struct PredictionScorer: Sendable {
    public let outputs: [String]
    private let column: [String: Int]

    public init(outputs: [String]) {
        self.outputs = outputs
        var column: [String: Int] = [:]
        for (i, o) in outputs.enumerated() where column[o] == nil { column[o] = i }
        self.column = column
    }

    /// The column of `label` in a logit row. `label` must be one of `outputs`: the spec parser refuses rules
    /// and cases that could label anything else, so another label is a bug in the caller, not bad input.
    public func column(of label: String) -> Int {
        guard let y = column[label] else {
            preconditionFailure("label \"\(label)\" is not an output class (\(outputs.joined(separator: " ")))")
        }
        return y
    }

    /// The margin (`Margin.logitGap`, correct exactly when > 0) and the prediction found. `expected` must be
    /// one of `outputs`: the spec parser refuses rules and cases that could label anything else.
    public func score(_ row: ArraySlice<Double>, expected: String) -> (margin: Double, found: String) {
        (Margin.logitGap(row, expected: column(of: expected)), Self.prediction(row, outputs: outputs))
    }

    /// The argmax output, or `tie(A, B)` when the largest logit is shared, or `non-finite logits`.
    public static func prediction(_ row: ArraySlice<Double>, outputs: [String]) -> String {
        guard row.allSatisfy(\.isFinite), let top = row.max() else { return "non-finite logits" }
        let winners = row.indices.filter { row[$0] == top }.map { outputs[$0 - row.startIndex] }
        return winners.count == 1 ? winners[0] : "tie(\(winners.joined(separator: ", ")))"
    }
}
