import Numerics
import Model
import Formats
import Exercises

/// The margins targets are scored by. Each lies in [-1, 1], is positive exactly when the target is met,
/// and is bounded, so scaling one matrix cannot inflate it without limit (see grading.md).
public enum Margin {
    /// Relative logit gap: `(l[y] - max_{j != y} l[j]) / (max_j l[j] - min_j l[j])`; 0 when all logits are equal.
    /// Homogeneous of degree 0 in the logits, so scaling everything the heads write leaves it unchanged
    /// except for the share of fixed biases.
    public static func logitGap(_ logits: ArraySlice<Double>, expected y: Int) -> Double {
        logits.withUnsafeBufferPointer { row in
            guard let base = row.baseAddress else { return 0 }  // no logits: all (none) equal
            return logitGap(base, row.count, expected: y)
        }
    }

    /// `logitGap` of the `n` logits at `row`, read in place (the prefix walk's hot path).
    @inline(__always)
    package static func logitGap(_ row: UnsafePointer<Double>, _ n: Int, expected y: Int) -> Double {
        var finite = true
        for j in 0..<n { finite = finite && row[j].isFinite }
        guard finite else { return -1 }
        var best = -Double.infinity, low = Double.infinity, high = -Double.infinity
        for j in 0..<n {
            let l = row[j]
            low = min(low, l)
            high = max(high, l)
            if j != y { best = max(best, l) }
        }
        let range = high - low
        guard range > 0 else { return 0 }
        if best == -.infinity { return 1 }
        return (row[y] - best) / range
    }

    /// Attention margin: the smallest of `max weight on allowed keys − max weight elsewhere` (when argmax is
    /// required), `mass on allowed keys − minMass` (when a mass is required) and `least weight on an allowed
    /// key − spread · mass on allowed keys / number of allowed keys` (when a spread is required).
    public static func attention(row: ArraySlice<Double>, allowed: Set<Int>, demand: AttentionDemand) -> Double {
        var inside = 0.0, maxIn = 0.0, maxOut = 0.0, minIn = Double.infinity, count = 0
        for (j, w) in row.enumerated() {
            if allowed.contains(j) {
                inside += w
                maxIn = max(maxIn, w)
                minIn = min(minIn, w)
                count += 1
            } else {
                maxOut = max(maxOut, w)
            }
        }
        var margin = 1.0
        if demand.argmax { margin = min(margin, maxIn - maxOut) }
        if demand.minMass > 0 { margin = min(margin, inside - demand.minMass) }
        if demand.minMass == 0 && !demand.argmax { margin = min(margin, inside) }
        if demand.spread > 0 { margin = count == 0 ? -1 : min(margin, minIn - demand.spread * inside / Double(count)) }
        return margin
    }

    /// Residual margin: `(tolerance - max error) / tolerance`, clamped to [-1, 1].
    public static func residual(error: Double, tolerance: Double) -> Double {
        guard error.isFinite, tolerance > 0 else { return error == 0 ? 1 : -1 }
        return max(-1, min(1, (tolerance - error) / tolerance))
    }
}

/// What an attention target asks of one query's weights (see `Target.attention`).
public struct AttentionDemand: Equatable, Sendable {
    public var minMass: Double
    public var argmax: Bool
    public var spread: Double

    public init(minMass: Double, argmax: Bool, spread: Double = 0) {
        self.minMass = minMass
        self.argmax = argmax
        self.spread = spread
    }

    /// "mass ≥ 0.8 on {1, 3}, every key ≥ 0.5 of an equal share" and the like.
    package func describe(on keys: String) -> String {
        var parts: [String] = []
        if minMass > 0 { parts.append("mass ≥ \(NumberText.exact(minMass)) on \(keys)") }
        if argmax { parts.append("largest weight on \(keys)") }
        if minMass == 0 && !argmax { parts.append("some mass on \(keys)") }
        if spread > 0 { parts.append("every key of \(keys) ≥ \(NumberText.exact(spread)) of an equal share") }
        return parts.joined(separator: ", ")
    }
}
