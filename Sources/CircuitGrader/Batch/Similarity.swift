/// Flags pairs of submissions to the same exercise whose heads are the same: exactly, up to scaling each
/// circuit, or up to a permutation of the exercise's scratch dims. A flag is for the instructor to look at;
/// it never changes a grade.
///
/// Heads are compared by their circuits `W_QK` and `W_OV` (`[dModel, dModel]`), which do not depend on how
/// the head dims were named or ordered.
public enum Similarity {
    /// How two submissions match.
    public enum Kind: String, Sendable {
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

    /// Flags among `items` (student, exercise, model), in a stable order.
    public static func flags(_ items: [(student: String, exercise: String, model: Transformer)], scratch: [String: [Int]]) -> [Flag] {
        var out: [Flag] = []
        for i in items.indices {
            for j in items.indices where j > i && items[i].exercise == items[j].exercise && items[i].student != items[j].student {
                if let kind = compare(items[i].model, items[j].model, scratch: scratch[items[i].exercise] ?? []) {
                    out.append(Flag(exercise: items[i].exercise, first: items[i].student, second: items[j].student, kind: kind))
                }
            }
        }
        return out
    }

    /// How `a` and `b` match, if they do.
    static func compare(_ a: Transformer, _ b: Transformer, scratch: [Int]) -> Kind? {
        guard a.layers.map(\.heads.count) == b.layers.map(\.heads.count) else { return nil }
        if a.layers == b.layers { return .identical }
        let ca = circuits(a), cb = circuits(b)
        if close(ca, cb) { return .scaled }
        if !scratch.isEmpty, let permutation = matchScratch(ca, cb, scratch: scratch), close(ca, cb.map { permute($0, permutation) }) {
            return .permuted
        }
        return nil
    }

    /// Every head's circuits, each divided by its Frobenius norm (zero circuits stay zero).
    static func circuits(_ m: Transformer) -> [Matrix] {
        m.layers.flatMap(\.heads).flatMap { [$0.wQK, $0.wOV] }.map { c in
            let n = c.frobeniusNorm
            return n > 0 ? (1 / n) * c : c
        }
    }

    static func close(_ a: [Matrix], _ b: [Matrix]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in zip(x.values, y.values).allSatisfy { abs($0 - $1) <= 1e-9 } }
    }

    /// A permutation of dims (identity outside `scratch`) that gives each scratch dim of `b` the same
    /// row/column profile as a scratch dim of `a`: profiles are the sorted absolute entries of the dim's row
    /// and column in every circuit.
    static func matchScratch(_ a: [Matrix], _ b: [Matrix], scratch: [Int]) -> [Int]? {
        guard let n = a.first?.rows else { return nil }
        func profile(_ cs: [Matrix], _ d: Int) -> [Double] {
            cs.flatMap { c in ((0..<n).map { abs(c[d, $0]) } + (0..<n).map { abs(c[$0, d]) }).sorted() }.map { ($0 * 1e9).rounded() / 1e9 }
        }
        var permutation = Array(0..<n)
        var free = Set(scratch)
        for d in scratch {
            let target = profile(a, d)
            guard let match = scratch.first(where: { free.contains($0) && profile(b, $0) == target }) else { return nil }
            free.remove(match)
            permutation[d] = match
        }
        return permutation
    }

    /// `c` with rows and columns renumbered: entry `(r, s)` of the result is `c[p[r], p[s]]`.
    static func permute(_ c: Matrix, _ p: [Int]) -> Matrix {
        var out = c
        for r in 0..<c.rows {
            for s in 0..<c.columns { out[r, s] = c[p[r], p[s]] }
        }
        return out
    }
}
