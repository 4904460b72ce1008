import Numerics

// The softmax of a causal head shared along the exhaustive walk's path (WalkForward.headOutput), exact to the bit.
//
// At query position p a head computes, in key order j = 0...p (ForwardKernels.exponentials):
//   s_j = (q_p · k_j) * scale,   M = the first largest s_j,   e_j = exp(s_j - M),   total = ((0 + e_0) + e_1) + ...
// Under a causal mask the keys 0...p are the walk's path, fixed for the whole subtree below each of them, and
// s_j depends only on the bits of q_p and of k_j. So for each distinct q row (a query class) the walk keeps a
// column over the path: s_j, the running maximum of s_0...s_j, and, for one maximum M at a time, e_j and the
// running total. A position whose query class has a column recomputes only the entries past the deepest one
// still on its path, and reuses the e_j and totals when its M equals the column's: every reused number is the
// one forward would compute, from the same bits by the same operation in the same order.
//
// Which entries are still on the path: every position pushed gets a new stamp (WalkForward.setFirstLayer), and a
// column entry records the stamp of its key. A re-pushed position j truncated everything after it, so when entry
// j's stamp still matches, so do all entries before it: the valid prefix ends at the deepest matching stamp.
//
// What is not shared: the weights e_j / total and pattern · v, which depend on this position's total.
// A head whose q rows rarely repeat gains nothing: after `trialLookups` lookups, columns that reused fewer e_j
// than they computed stop (`isOn` false) and the head computes every position as if it had none.

/// One head's score columns in one walk (see the top of ScoreColumns.swift): up to `classLimit` query classes,
/// each with `[capacity]` scores, running maxima, exponentials, running totals and key stamps, in raw memory its
/// owner frees with `deallocate()`. Not thread-safe: one per walk and head.
package struct ScoreColumns {
    package let capacity: Int
    /// Classes of the head's q rows, for a head past the first layer (layer 0's are tabulated).
    package let queryClasses: RowClasses
    /// `[classLimit, capacity]` each.
    let scores: UnsafeMutablePointer<Double>, maxima: UnsafeMutablePointer<Double>
    let exps: UnsafeMutablePointer<Double>, totals: UnsafeMutablePointer<Double>
    let stamps: UnsafeMutablePointer<UInt64>
    /// Per class: the entries kept (scores, maxima, exponentials and totals alike), and the bits of the maximum M
    /// its exponentials are relative to.
    let kept: UnsafeMutablePointer<Int>
    let reference: UnsafeMutablePointer<UInt64>
    /// lookups, exponentials reused, exponentials computed, on (1) or off (0).
    private let state: UnsafeMutablePointer<Int>

    package static let classLimit = 64
    package static let trialLookups = 4096
    /// No maximum has this pattern (a NaN): a column without exponentials.
    static let noReference: UInt64 = 0x7FF8_0000_0000_0002

    /// Columns for a head with `dHead`-wide q rows over up to `capacity` positions (never used unless `on`).
    package init(dHead: Int, capacity: Int, on: Bool = true) {
        self.capacity = capacity
        queryClasses = RowClasses(width: dHead, limit: Self.classLimit)
        let n = max(1, Self.classLimit * capacity)
        scores = .allocate(capacity: n)
        maxima = .allocate(capacity: n)
        exps = .allocate(capacity: n)
        totals = .allocate(capacity: n)
        stamps = .allocate(capacity: n)
        stamps.initialize(repeating: 0, count: n)  // no position has stamp 0
        kept = .allocate(capacity: Self.classLimit)
        kept.initialize(repeating: 0, count: Self.classLimit)
        reference = .allocate(capacity: Self.classLimit)
        reference.initialize(repeating: Self.noReference, count: Self.classLimit)
        state = .allocate(capacity: 4)
        state.initialize(repeating: 0, count: 4)
        state[3] = on ? 1 : 0
    }

    package func deallocate() {
        queryClasses.deallocate()
        scores.deallocate()
        maxima.deallocate()
        exps.deallocate()
        totals.deallocate()
        stamps.deallocate()
        kept.deallocate()
        reference.deallocate()
        state.deallocate()
    }

    /// Whether the columns are still used.
    @inline(__always)
    package var isOn: Bool { state[3] != 0 }

    /// Lookups, exponentials reused and exponentials computed (for tests and the bench).
    package var counts: (lookups: Int, reused: Int, computed: Int) { (state[0], state[1], state[2]) }

    /// How many leading entries of class `c`'s column are still on the path of `length` positions whose stamps
    /// are `path` (stamps past the path's end are stale, so they are not looked at).
    @inline(__always)
    func validPrefix(_ c: Int, _ path: UnsafePointer<UInt64>, length: Int) -> Int {
        let column = stamps + c &* capacity
        var n = Swift.min(kept[c], length)
        while n > 0 && column[n &- 1] != path[n &- 1] { n &-= 1 }
        return n
    }

    /// Brings class `c`'s column up to query position `p` on the path whose stamps are `path` (positions
    /// `0...p`): the scores `score(j)` of the keys past its valid prefix, their running maxima, and, unless the
    /// maximum M of `0...p` is the column's, every exponential again; returns `e_0...e_p` and their total, the
    /// numbers ForwardKernels.exponentials returns for these scores.
    @inline(__always)
    func extend(
        _ c: Int, through p: Int, path: UnsafePointer<UInt64>, score: (Int) -> Double, exp: (Double) -> Double
    ) -> (exps: UnsafePointer<Double>, total: Double) {
        let base = c &* capacity
        let s = scores + base, running = maxima + base, e = exps + base, t = totals + base, keyStamps = stamps + base
        let valid = validPrefix(c, path, length: p &+ 1)
        var top = valid == 0 ? -Double.infinity : running[valid &- 1]
        for j in valid..<(p &+ 1) {
            let sj = score(j)
            s[j] = sj
            if sj > top { top = sj }  // the first largest, as forward's loop keeps it
            running[j] = top
            keyStamps[j] = path[j]
        }
        kept[c] = p &+ 1
        let maxScore = running[p]
        let reused = maxScore.bitPattern == reference[c] ? valid : 0
        reference[c] = maxScore.bitPattern
        for j in reused..<(p &+ 1) {
            e[j] = ForwardKernels.exponential(s[j], maxScore: maxScore, exp: exp)
            t[j] = (j == 0 ? 0.0 : t[j &- 1]) + e[j]  // total = 0, then += e_j in key order
        }
        count(reused: reused, computed: p &+ 1 &- reused)
        return (UnsafePointer(e), t[p])
    }

    /// Counts one lookup that reused `reused` exponentials and computed `computed`; after the trial, stops the
    /// columns when they reused fewer than they computed.
    @inline(__always)
    func count(reused: Int, computed: Int) {
        state[0] &+= 1
        state[1] &+= reused
        state[2] &+= computed
        if state[0] == Self.trialLookups && state[1] < state[2] { state[3] = 0 }
    }
}
