import Numerics

// When relabelling tokens changes no bit of a forward pass, only the labels.
//
// Take a permutation `rows` of W_E's rows (the tokens) and `columns` of W_U's columns (the output classes). The
// forward pass is *exactly equivariant* under them when, for every sequence s, the logits of the relabelled
// sequence rows(s) are the logits of s with their columns moved by `columns`, bit for bit. Then a verdict on s is
// a verdict on rows(s), and a whole-domain walk need only visit one sequence per orbit (Grading/TokenSymmetry.swift).
//
// Two things make it so, and `exactRelabelling` checks both.
// 1. The weights are invariant: some permutation P of the residual dims and, per head, Πqk of the q/k dims and
//    Πov of the v/z dims carry every weight onto an equal one:
//      W_E[rows r, P d] = W_E[r, d]     W_pos[p, P d] = W_pos[p, d]     b_O[P d] = b_O[d]
//      W_Q[P d, Πqk j] = W_Q[d, j] (and W_K, b_Q, b_K)     W_V[P d, Πov j] = W_V[d, j] (and b_V)
//      W_O[Πov j, P d] = W_O[j, d]      W_U[P d, columns c] = W_U[d, c]     b_U[columns c] = b_U[c]
//    In exact arithmetic every vector of the relabelled pass is then the original's with its entries moved
//    (x'[P d] = x[d], q'[Πqk j] = q[j], ...), and the softmax and the sums over keys run over the same
//    positions in the same order. Zero weights compare equal whatever their sign: the sign of a zero never
//    changes a nonzero number the pass computes (sums start at +0, a total of exps is at least 1, and a
//    passing margin is positive), so `==` is the right test.
// 2. The sums over moved indices round the same. The engine sums `row @ W` and `q · k` one term at a time in
//    index order (ForwardKernels.swift). The relabelled pass adds the same terms, ordered by P (or Π) instead.
//    Terms that are zero change nothing (the sums start at +0 and adding ±0 keeps them), and two terms commute,
//    so the bits agree when the nonzero terms are at most two, or P keeps their order. Which terms can be
//    nonzero is over-approximated here: at a position holding row r at slot p, the stream holds what W_E[r] +
//    W_pos[p] holds plus any dim an earlier head or b_O can write; a head's z holds any dim its v can hold at
//    any position (a mixture of values). Every sum of every head and of W_U is checked against that.
// Without a magnitude bound under PackedModel.finiteLimit nothing is claimed: an infinity or NaN would break
// the argument (inf * 0 is NaN, not a zero term).

/// Where relabelling tokens moves the indices of a model's vectors (see the top of ExactRelabelling.swift).
///
/// `dims[d]` is the residual dim (`[dModel]`) that holds, on the relabelled sequence, what dim `d` holds on the
/// original; `queryKey[l][h]` and `value[l][h]` do the same for head h of layer l's q/k dims (`[dHead]`) and
/// v/z dims (`[W_V columns]`).
public struct StreamRelabelling: Equatable, Sendable {
    public let dims: [Int]
    public let queryKey: [[[Int]]]
    public let value: [[[Int]]]
}

extension Transformer {
    /// The relabelling of every index under which the forward pass is exactly equivariant (see the top of
    /// ExactRelabelling.swift) to `rows` (a permutation of W_E's `dVocab` rows) and `columns` (of W_U's
    /// columns), on sequences whose every slot below `positions` holds one of the rows `appearing` (closed under
    /// `rows`); nil when none is found. A non-nil answer is checked, weight by weight and sum by sum; nil may
    /// also mean the search missed one.
    public func exactRelabelling(rows: [Int], columns: [Int], appearing: [Int], positions: Int) -> StreamRelabelling? {
        guard Self.isPermutation(rows, dVocab), Self.isPermutation(columns, wU.columns),
            appearing.allSatisfy({ (0..<dVocab).contains($0) && Set(appearing).contains(rows[$0]) }),
            positions >= 1, magnitudeBound < PackedModel.finiteLimit
        else { return nil }
        let slots = positional == .none ? 1 : min(positions, wPos?.rows ?? 0)
        guard slots >= 1 else { return nil }
        var search = RelabellingSearch(self, rows: rows, columns: columns, appearing: appearing, slots: slots)
        guard let found = search.solve(), isInvariant(found, rows: rows, columns: columns, appearing: appearing, slots: slots),
            sumsKeepTheirBits(found, appearing: appearing, slots: slots, causal: causal)
        else { return nil }
        return found
    }

    /// Whether `p` is a permutation of `0..<n`.
    static func isPermutation(_ p: [Int], _ n: Int) -> Bool {
        p.count == n && Set(p).count == n && p.allSatisfy { (0..<n).contains($0) }
    }

    /// Part 1 of the check: every weight equals the one the relabelling carries it to.
    private func isInvariant(_ r: StreamRelabelling, rows: [Int], columns: [Int], appearing: [Int], slots: Int) -> Bool {
        let p = r.dims, dims = 0..<dModel
        guard Self.isPermutation(p, dModel) else { return false }
        for t in appearing { for d in dims where wE[rows[t], p[d]] != wE[t, d] { return false } }
        if let wPos, positional != .none { for s in 0..<slots { for d in dims where wPos[s, p[d]] != wPos[s, d] { return false } } }
        for d in dims { for c in 0..<wU.columns where wU[p[d], columns[c]] != wU[d, c] { return false } }
        for c in 0..<wU.columns where bU[columns[c]] != bU[c] { return false }
        for (l, layer) in layers.enumerated() {
            for d in dims where layer.bO[p[d]] != layer.bO[d] { return false }
            for (h, head) in layer.heads.enumerated() {
                let qk = r.queryKey[l][h], ov = r.value[l][h]
                guard Self.isPermutation(qk, head.dHead), Self.isPermutation(ov, head.wV.columns) else { return false }
                for j in 0..<head.dHead where head.bQ[qk[j]] != head.bQ[j] || head.bK[qk[j]] != head.bK[j] { return false }
                for j in 0..<head.wV.columns where head.bV[ov[j]] != head.bV[j] { return false }
                for d in dims {
                    for j in 0..<head.dHead where head.wQ[p[d], qk[j]] != head.wQ[d, j] || head.wK[p[d], qk[j]] != head.wK[d, j] {
                        return false
                    }
                    for j in 0..<head.wV.columns where head.wV[p[d], ov[j]] != head.wV[d, j] || head.wO[ov[j], p[d]] != head.wO[j, d] {
                        return false
                    }
                }
            }
        }
        return true
    }

    /// Part 2 of the check: every sum over moved indices has at most two nonzero terms, or keeps their order.
    private func sumsKeepTheirBits(_ r: StreamRelabelling, appearing: [Int], slots: Int, causal: Bool) -> Bool {
        // The nonzero dims of the stream entering layer 0 at a slot holding row t at position s.
        var starts: [(slot: Int, dims: [Bool])] = []
        for t in appearing {
            for s in 0..<slots {
                let position = positional.addsToResidual ? wPos?.row(s) : nil
                starts.append((s, (0..<dModel).map { d in wE[t, d] + (position?[d] ?? 0) != 0 }))
            }
        }
        var written = [Bool](repeating: false, count: dModel)
        for (l, layer) in layers.enumerated() {
            var writes = written
            for (h, head) in layer.heads.enumerated() {
                // Each distinct q support with the latest slot it occurs at, each k support with the earliest: a
                // (q, k) pair of supports meets in some score exactly when the key can be visible to the query.
                var queries: [[Bool]: Int] = [:], keys: [[Bool]: Int] = [:]
                var z = [Bool](repeating: false, count: head.wV.columns)
                for start in starts {
                    let stream = zip(start.dims, written).map { $0 || $1 }
                    let shortformer = positional == .shortformer ? wPos?.row(start.slot).map { $0 != 0 } : nil
                    let qkInput = shortformer.map { zip(stream, $0).map { $0 || $1 } } ?? stream
                    guard let q = Self.products(qkInput, head.wQ, head.bQ, order: r.dims),
                        let k = Self.products(qkInput, head.wK, head.bK, order: r.dims),
                        let v = Self.products(stream, head.wV, head.bV, order: r.dims)
                    else { return false }
                    queries[q] = max(queries[q] ?? start.slot, start.slot)
                    keys[k] = min(keys[k] ?? start.slot, start.slot)
                    z = zip(z, v).map { $0 || $1 }
                }
                for (q, latest) in queries {
                    for (k, earliest) in keys where !causal || earliest <= latest {
                        guard Self.sum(over: head.dHead, order: r.queryKey[l][h], where: { q[$0] && k[$0] }).keepsBits else { return false }
                    }
                }
                guard let out = Self.products(z, head.wO, nil, order: r.value[l][h]) else { return false }
                writes = zip(writes, out).map { $0 || $1 }
            }
            written = zip(writes, layer.bO).map { $0 || $1 != 0 }
        }
        for start in starts {
            let stream = zip(start.dims, written).map { $0 || $1 }
            guard Self.products(stream, wU, nil, order: r.dims) != nil else { return false }
        }
        return true
    }

    /// The columns of `x @ w (+ b)` that can be nonzero when only the dims `input` marks can be, or nil when
    /// some column's sum has more than two possibly nonzero terms whose order `order` changes.
    private static func products(_ input: [Bool], _ w: Matrix, _ b: [Double]?, order: [Int]) -> [Bool]? {
        var out = [Bool](repeating: false, count: w.columns)
        for c in 0..<w.columns {
            let sum = sum(over: w.rows, order: order, where: { input[$0] && w[$0, c] != 0 })
            guard sum.keepsBits else { return nil }
            out[c] = sum.terms > 0 || (b?[c] ?? 0) != 0
        }
        return out
    }

    /// A sum over the indices `i < n` where `isTerm(i)` (the terms that can be nonzero), added in index order:
    /// how many terms it has, and whether it gives the same bits in the order `order` puts them in (at most two
    /// terms, which commute, or `order` keeps them in order). Counted in one pass, without a list: the check
    /// runs it for every sum of every (query, key) pair.
    static func sum(over n: Int, order: [Int], where isTerm: (Int) -> Bool) -> (terms: Int, keepsBits: Bool) {
        var terms = 0, ordered = true, last = Int.min
        for i in 0..<n where isTerm(i) {
            if order[i] <= last { ordered = false }
            last = order[i]
            terms += 1
        }
        return (terms, terms <= 2 || ordered)
    }
}

/// The search for a `StreamRelabelling`: candidate targets for every index, narrowed until each has one.
///
/// Index spaces: 0 is the residual dims; then, per head in order, its q/k dims and its v/z dims. A candidate
/// target survives while every weight that touches the index can still be matched by candidates of the other
/// index; an index with several candidates left takes the first that is free, and the narrowing runs again.
/// Heuristic: it may fail to find a relabelling that exists (the walk is then slower, not wrong), and what it
/// finds is checked weight by weight afterwards.
private struct RelabellingSearch {
    /// A matrix whose rows are indices of space `rows` and columns of space `columns`.
    struct Relation {
        let matrix: Matrix
        let rows: Int, columns: Int
    }

    var candidates: [[[Int]]]
    let relations: [Relation]
    let heads: [(layer: Int, head: Int)]
    let layerCount: Int

    init(_ model: Transformer, rows: [Int], columns: [Int], appearing: [Int], slots: Int) {
        var heads: [(Int, Int)] = [], relations: [Relation] = []
        var spaces: [[[Int]]] = []
        let d = model.dModel
        // Residual dims: the same W_E column (rows relabelled), W_pos column, W_U row (columns relabelled), b_O.
        func sameFixed(_ a: Int, _ b: Int) -> Bool {
            appearing.allSatisfy { model.wE[rows[$0], b] == model.wE[$0, a] }
                && (model.positional == .none || (0..<slots).allSatisfy { model.wPos?[$0, b] == model.wPos?[$0, a] })
                && (0..<model.wU.columns).allSatisfy { model.wU[b, columns[$0]] == model.wU[a, $0] }
                && model.layers.allSatisfy { $0.bO[b] == $0.bO[a] }
        }
        spaces.append((0..<d).map { a in (0..<d).filter { sameFixed(a, $0) } })
        for (l, layer) in model.layers.enumerated() {
            for (h, head) in layer.heads.enumerated() {
                heads.append((l, h))
                let qk = spaces.count, ov = qk + 1
                spaces.append((0..<head.dHead).map { a in (0..<head.dHead).filter { head.bQ[$0] == head.bQ[a] && head.bK[$0] == head.bK[a] } })
                spaces.append((0..<head.wV.columns).map { a in (0..<head.wV.columns).filter { head.bV[$0] == head.bV[a] } })
                relations += [
                    Relation(matrix: head.wQ, rows: 0, columns: qk), Relation(matrix: head.wK, rows: 0, columns: qk),
                    Relation(matrix: head.wV, rows: 0, columns: ov), Relation(matrix: head.wO, rows: ov, columns: 0),
                ]
            }
        }
        candidates = spaces
        self.relations = relations
        self.heads = heads
        layerCount = model.layers.count
    }

    /// The relabelling, or nil when some index is left without a candidate.
    mutating func solve() -> StreamRelabelling? {
        guard narrow() else { return nil }
        for space in candidates.indices {
            for i in candidates[space].indices where candidates[space][i].count > 1 {
                let taken = Set(candidates[space].enumerated().filter { $0.offset != i && $0.element.count == 1 }.map { $0.element[0] })
                guard let pick = candidates[space][i].first(where: { !taken.contains($0) }) else { return nil }
                candidates[space][i] = [pick]
                guard narrow() else { return nil }
            }
        }
        guard candidates.allSatisfy({ $0.allSatisfy { $0.count == 1 } }) else { return nil }
        let maps = candidates.map { $0.map { $0[0] } }
        var queryKey = [[[Int]]](repeating: [], count: layerCount), value = queryKey
        for (n, (l, _)) in heads.enumerated() {
            queryKey[l].append(maps[1 + 2 * n])
            value[l].append(maps[2 + 2 * n])
        }
        return StreamRelabelling(dims: maps[0], queryKey: queryKey, value: value)
    }

    /// `own` (the candidates of one index space) without the targets `a2` of an index `a` for which some index
    /// `b` of the other space has no candidate `b2` with `value(a2, b2) == value(a, b)`.
    private static func consistent(_ own: [[Int]], with other: [[Int]], value: (Int, Int) -> Double) -> [[Int]] {
        own.indices.map { a in
            own[a].filter { a2 in other.indices.allSatisfy { b in other[b].contains { value(a2, $0) == value(a, b) } } }
        }
    }

    /// Drops candidates until every one left is consistent with every relation and a taken target is nobody
    /// else's; false when an index has none left.
    private mutating func narrow() -> Bool {
        var changed = true
        while changed {
            changed = false
            for relation in relations {
                let m = relation.matrix
                let rows = candidates[relation.rows], columns = candidates[relation.columns]
                let narrowedRows = Self.consistent(rows, with: columns) { m[$0, $1] }
                let narrowedColumns = Self.consistent(columns, with: narrowedRows) { m[$1, $0] }
                if narrowedRows != rows || narrowedColumns != columns { changed = true }
                candidates[relation.rows] = narrowedRows
                candidates[relation.columns] = narrowedColumns
            }
            for space in candidates.indices {
                for i in candidates[space].indices where candidates[space][i].count == 1 {
                    let target = candidates[space][i][0]
                    for j in candidates[space].indices where j != i && candidates[space][j].contains(target) {
                        candidates[space][j].removeAll { $0 == target }
                        changed = true
                    }
                }
            }
            if candidates.contains(where: { $0.contains { $0.isEmpty } }) { return false }
        }
        return true
    }
}
