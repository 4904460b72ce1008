import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports

/// Flags pairs of submissions to the same exercise whose heads are the same: exactly, up to scaling each
/// circuit, or up to a permutation of the exercise's scratch dims. A flag is for the instructor to look at;
/// it never changes a grade.
///
/// Heads are compared by their circuits `W_QK` and `W_OV` (`[dModel, dModel]`), which do not depend on how
/// the head dims were named or ordered. Submissions are bucketed by a fingerprint per kind (linear time in
/// the class size); every pair inside a bucket is flagged with the strongest kind that matches.
public enum Similarity {
    /// How two submissions match.
    public enum Kind: String, Sendable, CaseIterable {
        case identical
        case scaled = "identical up to scaling"
        case permuted = "identical up to a permutation of scratch dims"
    }

    /// One flagged pair.
    public struct Flag: Equatable, Sendable {
        public var exercise: String
        public var first: String
        public var second: String
        public var kind: Kind
    }

    /// Flags among `items` (student, exercise, model), in item order; `scratch` gives each exercise's
    /// scratch dim indices.
    public static func flags(_ items: [(student: String, exercise: String, model: Transformer)], scratch: [String: [Int]]) -> [Flag] {
        var kinds: [Pair: Kind] = [:]
        for kind in Kind.allCases.reversed() {
            var buckets: [String: [Int]] = [:]
            for (i, item) in items.enumerated() where hasWeights(item.model) {
                guard let key = fingerprint(item.model, kind, scratch: scratch[item.exercise] ?? []) else { continue }
                buckets["\(item.exercise)|\(key)", default: []].append(i)
            }
            for members in buckets.values where members.count > 1 {
                for (n, i) in members.enumerated() {
                    for j in members[(n + 1)...] where items[i].student != items[j].student { kinds[Pair(i, j)] = kind }
                }
            }
        }
        return kinds.keys.sorted { ($0.i, $0.j) < ($1.i, $1.j) }.compactMap { pair in
            kinds[pair].map { Flag(exercise: items[pair.i].exercise, first: items[pair.i].student, second: items[pair.j].student, kind: $0) }
        }
    }

    /// Models whose heads are all zero (e.g. question-only exercises) have nothing to compare.
    package static func hasWeights(_ m: Transformer) -> Bool {
        m.layers.contains { layer in layer.heads.contains { $0.wQK.maxAbs > 0 || $0.wOV.maxAbs > 0 } }
    }

    package struct Pair: Hashable {
        package let i: Int, j: Int
        package init(_ a: Int, _ b: Int) { (i, j) = (min(a, b), max(a, b)) }
    }

    /// A text key equal for models that match in the sense of `kind`.
    package static func fingerprint(_ m: Transformer, _ kind: Kind, scratch: [Int]) -> String? {
        let shape = m.layers.map { String($0.heads.count) }.joined(separator: ",")
        switch kind {
        case .identical:
            var values: [Double] = []
            for layer in m.layers {
                for h in layer.heads {
                    for w in [h.wQ, h.wK, h.wV, h.wO] { values += w.values }
                    values += h.bQ + h.bK + h.bV
                }
                values += layer.bO
            }
            return shape + "|" + values.map { String($0.bitPattern, radix: 16) }.joined(separator: ",")
        case .scaled:
            return shape + "|" + key(circuits(m))
        case .permuted:
            guard !scratch.isEmpty else { return nil }
            return shape + "|" + key(canonicalScratchOrder(circuits(m), scratch: scratch))
        }
    }

    /// Every head's circuits, each divided by its Frobenius norm (zero circuits stay zero).
    package static func circuits(_ m: Transformer) -> [Matrix] {
        m.layers.flatMap(\.heads).flatMap { [$0.wQK, $0.wOV] }.map { c in
            let n = c.frobeniusNorm
            return n > 0 ? (1 / n) * c : c
        }
    }

    /// Values rounded to 1e-9, as text.
    package static func key(_ cs: [Matrix]) -> String {
        cs.map { c in c.values.map { NumberText.exact(($0 * 1e9).rounded() / 1e9) }.joined(separator: ",") }.joined(separator: ";")
    }

    /// The circuits with the scratch dims reordered by their row/column profile (sorted absolute entries of
    /// the dim's row and column in every circuit), so that a renumbering of scratch dims gives the same result.
    package static func canonicalScratchOrder(_ cs: [Matrix], scratch: [Int]) -> [Matrix] {
        guard let n = cs.first?.rows else { return cs }
        func profile(_ d: Int) -> String {
            key([
                Matrix(rows: 1, columns: 2 * n * cs.count, values: cs.flatMap { c in ((0..<n).map { abs(c[d, $0]) } + (0..<n).map { abs(c[$0, d]) }).sorted() })
            ])
        }
        let ordered = scratch.sorted { (profile($0), $0) < (profile($1), $1) }
        var permutation = Array(0..<n)
        for (slot, d) in zip(scratch, ordered) { permutation[slot] = d }
        return cs.map { c in
            var out = c
            for r in 0..<n {
                for s in 0..<n { out[r, s] = c[permutation[r], permutation[s]] }
            }
            return out
        }
    }
}
