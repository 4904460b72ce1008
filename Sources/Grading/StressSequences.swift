import Numerics
import Model
import Formats
import Exercises

// Stress sequences: where hand-written circuits break, made from a domain's tokens and lengths alone, so
// every spec gets them and no seed changes them.
//
// - every sequence over each pair of tokens, up to the longest length (run by `DomainCheck` through the
//   exhaustive walk): one token crowding the whole context with the other anywhere, runs, alternations,
//   both tokens in the first and the last slot;
// - sparse sequences: one background token filling the sequence, with one or two other tokens placed
//   anywhere, or three with the last of them in the last slot (`x y ... x` at the longest distance the
//   context allows, a lone token among many copies of another).
// Tokens placed may repeat each other but never equal the background (that is a sparser sequence).

/// Deterministic stress sequences over a domain's tokens.
package enum StressSequences {
    /// Sparse sequences of length `n` over `tokens` (see the file comment), in a fixed order without repeats.
    package static func sparse(tokens: [String], length n: Int) -> [[String]] {
        guard n >= 1, !tokens.isEmpty else { return [] }
        var out: [[String]] = []
        var seen = Set<[String]>()
        func add(_ s: [String]) { if seen.insert(s).inserted { out.append(s) } }
        for background in tokens {
            let others = tokens.filter { $0 != background }
            let base = [String](repeating: background, count: n)
            add(base)
            for placed in placements(n) {
                if placed.count == 3 && placed[2] != n - 1 { continue }
                for choice in everySequence(over: others, length: placed.count) {
                    var s = base
                    for (p, t) in zip(placed, choice) { s[p] = t }
                    add(s)
                }
            }
        }
        return out
    }

    /// Increasing position lists of size 1, 2 and 3 in `0..<n`.
    private static func placements(_ n: Int) -> [[Int]] {
        var out: [[Int]] = []
        for i in 0..<n {
            out.append([i])
            for j in (i + 1)..<max(i + 1, n) {
                out.append([i, j])
                for k in (j + 1)..<max(j + 1, n) { out.append([i, j, k]) }
            }
        }
        return out
    }

    /// Every sequence of `length` over `tokens` (with repetition), in lexicographic order; none when there
    /// are no tokens.
    package static func everySequence(over tokens: [String], length: Int) -> [[String]] {
        guard !tokens.isEmpty else { return [] }
        var out: [[String]] = [[]]
        for _ in 0..<length { out = out.flatMap { prefix in tokens.map { prefix + [$0] } } }
        return out
    }

    /// Every unordered pair of distinct tokens, in order.
    package static func pairs(_ tokens: [String]) -> [[String]] {
        var out: [[String]] = []
        for (i, a) in tokens.enumerated() { for b in tokens[(i + 1)...] { out.append([a, b]) } }
        return out
    }
}
