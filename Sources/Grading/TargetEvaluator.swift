import Numerics
import Model
import Formats
import Exercises

/// Scores one target against one forward trace. `offset` is 1 when BOS was prepended: student position
/// `p` is model position `p + offset`, and key `-1` is BOS.
package struct TargetEvaluator {
    package let spec: ExerciseSpec
    package let trace: ForwardTrace
    package let offset: Int

    package func evaluate(_ target: Target, caseIndex: Int) -> TargetResult {
        switch target {
        case .predict(let p, let expected): return predict(p, expected, target, caseIndex)
        case .attention(let head, let q, let keys, let minMass, let argmax, let spread):
            return attention(head, q, keys, AttentionDemand(minMass: minMass, argmax: argmax, spread: spread), target, caseIndex)
        case .residual(let p, let dims, let expected, let tolerance, let afterLayer):
            return residual(p, dims, expected, tolerance, afterLayer, target, caseIndex)
        }
    }

    private func predict(_ p: Int, _ expected: String, _ target: Target, _ caseIndex: Int) -> TargetResult {
        let row = trace.logits.values[((p + offset) * trace.logits.columns)..<((p + offset + 1) * trace.logits.columns)]
        let (margin, found) = PredictionScorer(outputs: spec.outputs).score(row, expected: expected)
        return TargetResult(caseIndex: caseIndex, item: .target(target), correct: margin > 0, margin: margin, expected: expected, found: found)
    }

    /// The argmax output (see `PredictionScorer.prediction`).
    package static func prediction(_ row: ArraySlice<Double>, outputs: [String]) -> String {
        PredictionScorer.prediction(row, outputs: outputs)
    }

    private func attention(
        _ head: HeadRef, _ q: Int, _ keys: [Int], _ demand: AttentionDemand, _ target: Target, _ caseIndex: Int
    ) -> TargetResult {
        let allowed = Set(keys.map { $0 + offset })
        let expected = demand.describe(on: Self.positions(keys))
        guard head.layer < trace.patterns.count, head.head < trace.patterns[head.layer].count else {
            return TargetResult(
                caseIndex: caseIndex, item: .target(target), correct: false, margin: -1, expected: expected,
                found: "the submission has no head \(head)")
        }
        let pattern = trace.patterns[head.layer][head.head]
        let row = pattern.values[((q + offset) * pattern.columns)..<((q + offset + 1) * pattern.columns)]
        let margin = Margin.attention(row: row, allowed: allowed, demand: demand)
        let mass = allowed.reduce(0.0) { $0 + (row.indices.contains($1 + row.startIndex) ? row[$1 + row.startIndex] : 0) }
        let top = row.indices.max { row[$0] < row[$1] }.map { $0 - row.startIndex - offset } ?? 0
        let found = "mass \(NumberText.rounded(mass)) on \(Self.positions(keys)), max weight \(NumberText.rounded(row.max() ?? 0)) at \(Self.position(top))"
        return TargetResult(caseIndex: caseIndex, item: .target(target), correct: margin > 0, margin: margin, expected: expected, found: found)
    }

    private func residual(
        _ p: Int, _ dims: [String], _ expected: [Double], _ tolerance: Double, _ afterLayer: Int?,
        _ target: Target, _ caseIndex: Int
    ) -> TargetResult {
        let stream = trace.residuals[min(afterLayer ?? trace.residuals.count - 1, trace.residuals.count - 1)]
        let values = dims.map { d in spec.layout.index(of: d).map { stream[p + offset, $0] } ?? .nan }
        let error = zip(values, expected).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
        let margin = Margin.residual(error: error, tolerance: tolerance)
        return TargetResult(
            caseIndex: caseIndex, item: .target(target), correct: error <= tolerance, margin: margin,
            expected: "[\(expected.map(NumberText.rounded).joined(separator: ", "))] ± \(NumberText.rounded(tolerance))",
            found: "[\(values.map(NumberText.rounded).joined(separator: ", "))]")
    }

    package static func position(_ p: Int) -> String { p == -1 ? "BOS" : String(p) }

    package static func positions(_ keys: [Int]) -> String { "{" + keys.map(position).joined(separator: ", ") + "}" }
}
