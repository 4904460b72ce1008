import Numerics
import Model
import Formats
import Exercises

/// Shortens a failing prediction: the shortest subsequence of the tokens up to the failing position,
/// ending in the same token, that the rule still labels and the model still gets wrong.
///
/// Under a causal mask the tokens after the failing position cannot matter, so they are dropped first.
/// Then every subset of the earlier tokens is tried, shortest first (ties: earliest tokens kept first),
/// when there are at most `exhaustiveLimit` of them; longer prefixes are shortened greedily one token at a
/// time. The result always still fails.
package struct CounterexampleMinimizer {
    package let grader: Grader
    package let model: Transformer
    package let rule: PredictionRule

    /// Earlier tokens up to which every subset is tried (2^12 = 4096 short forward passes at most).
    package static let exhaustiveLimit = 12

    /// The shortest failing sequence found and its failing position, or nil when `tokens` does not fail.
    package func minimize(_ tokens: [String], position p: Int) -> (tokens: [String], position: Int, result: TargetResult)? {
        let causal = grader.spec.causal
        let base = causal ? Array(tokens[...p]) : tokens
        guard let first = failing(base, p) else { return nil }
        var best = (tokens: base, position: p, result: first)
        let earlier = Array(base[..<p])
        let after = Array(base[(p + 1)...])
        if earlier.count <= Self.exhaustiveLimit {
            for size in 0..<earlier.count {
                for kept in Self.subsets(of: earlier.count, size: size) {
                    let candidate = kept.map { earlier[$0] } + [base[p]] + after
                    if let r = failing(candidate, size) { return (candidate, size, r) }
                }
            }
            return best
        }
        var shrinking = true
        while shrinking {
            shrinking = false
            for i in 0..<best.position {
                var candidate = best.tokens
                candidate.remove(at: i)
                if let r = failing(candidate, best.position - 1) {
                    best = (candidate, best.position - 1, r)
                    shrinking = true
                    break
                }
            }
        }
        return best
    }

    /// The failing result at `p`, when the rule labels `p` and the model gets it wrong.
    private func failing(_ tokens: [String], _ p: Int) -> TargetResult? {
        guard let label = rule.label(tokens, at: p) else { return nil }
        let c = GradingCase(tokens: tokens, targets: [.predict(position: p, expected: label)])
        guard let r = grader.evaluate([c], on: model).first, !r.correct else { return nil }
        return r
    }

    /// Every `size`-element subset of `0..<n`, as increasing index lists, in lexicographic order.
    package static func subsets(of n: Int, size: Int) -> [[Int]] {
        guard size > 0 else { return [[]] }
        guard size <= n else { return [] }
        var out: [[Int]] = []
        var current: [Int] = []
        func extend(_ start: Int) {
            if current.count == size { out.append(current); return }
            guard start < n else { return }
            for i in start..<n where n - i >= size - current.count {
                current.append(i)
                extend(i + 1)
                current.removeLast()
            }
        }
        extend(0)
        return out
    }
}
