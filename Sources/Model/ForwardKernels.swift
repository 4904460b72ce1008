import Foundation
import Numerics

// The arithmetic of one position of the forward pass, called by the steps of ForwardState.swift (which every
// pass runs) and nothing else for the floating-point work.
//
// Fixed summation order (the price of reproducible results):
//   row @ W      out[c] = ((0 + a[0] W[0, c]) + a[1] W[1, c]) + ...   in row index order, zero a[r] skipped
//   q · k        ((0 + q[0] k[0]) + q[1] k[1]) + ...                   every term, in index order
//   softmax      max over visible keys, then exp(s - max) and their total in key order, then e / total
//   residual     ((x + out_head0) + out_head1) + ... + b_O              heads in order, b_O last (when not all 0)
//
// Skipping a zero a[r] is exact for finite weights: the sums start at +0 and never become -0 (in round-to-
// nearest, x + y is -0 only when both are -0), and adding a product that is ±0 to them changes nothing.
// For the same reason a zero weight W[r, c] may be skipped when a[r] is finite (a[r] · 0 = ±0); when a[r]
// is ±inf or NaN the full row is used, since a[r] · 0 is then NaN. The matrix product
// `Matrix.multiplied(by:)` uses the same order, so these kernels also agree with it bit for bit.

/// Row-level kernels of the forward pass over raw buffers; no allocation, no bounds checks.
package enum ForwardKernels {
    /// `out[0..<n] = row[0..<k] @ w`, where `w` is `[k, n]` row-major. Overwrites `out`.
    @inline(__always)
    package static func rowTimes(
        _ row: UnsafePointer<Double>, _ k: Int, _ w: UnsafePointer<Double>, _ n: Int,
        into out: UnsafeMutablePointer<Double>
    ) {
        for c in 0..<n { out[c] = 0 }  // a loop: a call to memset costs more than these few stores
        for r in 0..<k {
            let a = row[r]
            if a == 0 { continue }
            let wr = w + r * n
            for c in 0..<n { out[c] += a * wr[c] }
        }
    }

    /// The indices `r < k` with `row[r] != 0` (NaN included), in increasing order, written to `list`;
    /// returns how many. Branch-free: hand-written rows are zero in unpredictable places.
    @inline(__always)
    package static func nonZeros(_ row: UnsafePointer<Double>, _ k: Int, into list: UnsafeMutablePointer<Int32>) -> Int {
        var count = 0
        for r in 0..<k {
            list[count] = Int32(truncatingIfNeeded: r)
            // x != 0 (NaN included) exactly when the bits other than the sign are not all zero; an integer
            // test compiles to a flag, not a branch.
            count &+= Int(truncatingIfNeeded: ((row[r].bitPattern &<< 1) | (0 &- (row[r].bitPattern &<< 1))) >> 63)
        }
        return count
    }

    /// `rowTimes` over the non-zero entries of `row` listed in `entries` (from `nonZeros`), optionally
    /// with a sparse `w`: `nonZero[r]..<nonZero[r + 1]` index (into `nonZero`) the columns of row `r` whose
    /// weight is not zero. Gives the same bits as `rowTimes`.
    @inline(__always)
    package static func rowTimes(
        _ row: UnsafePointer<Double>, entries: UnsafePointer<Int32>, _ count: Int,
        _ w: UnsafePointer<Double>, _ n: Int, nonZero: UnsafePointer<Int32>?,
        into out: UnsafeMutablePointer<Double>
    ) {
        for c in 0..<n { out[c] = 0 }  // a loop: a call to memset costs more than these few stores
        for e in 0..<count {
            let r = Int(entries[e])
            let a = row[r]
            let wr = w + r &* n
            if let nonZero, a.isFinite {
                for p in Int(nonZero[r])..<Int(nonZero[r &+ 1]) {
                    let c = Int(nonZero[p])
                    out[c] += a * wr[c]
                }
            } else {
                for c in 0..<n { out[c] += a * wr[c] }
            }
        }
    }

    /// Whether `row[0..<n]` holds no infinity or NaN (branch-free: an exponent of all ones carries into the
    /// sign bit when one is added to it).
    @inline(__always)
    package static func allFinite(_ row: UnsafePointer<Double>, _ n: Int) -> Bool {
        var carry: UInt64 = 0
        for r in 0..<n { carry |= (row[r].bitPattern & 0x7FF0_0000_0000_0000) &+ 0x0010_0000_0000_0000 }
        return carry & 0x8000_0000_0000_0000 == 0
    }

    /// `out[c] += bias[c]` for `c < n`.
    @inline(__always)
    package static func add(_ bias: UnsafePointer<Double>, _ n: Int, to out: UnsafeMutablePointer<Double>) {
        for c in 0..<n { out[c] += bias[c] }
    }

    /// `out[c] = a[c]` for `c < n`: a loop, because a call to memmove costs more than a few stores.
    @inline(__always)
    package static func copy<T>(_ a: UnsafePointer<T>, _ n: Int, to out: UnsafeMutablePointer<T>) {
        for c in 0..<n { out[c] = a[c] }
    }

    /// `out[c] = a[c] + b[c]` for `c < n` (`out` may be `a`).
    @inline(__always)
    package static func sum(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int, into out: UnsafeMutablePointer<Double>) {
        for c in 0..<n { out[c] = a[c] + b[c] }
    }

    /// One attention row over the first `visible` keys: `weights[j] = e_j / total` with
    /// `e_j = exp(scale (q · k_j) - max)` for `j < visible`; returns `total`.
    ///
    /// `keys` is `[visible, d]` row-major. A score of `+inf` takes the whole row, shared with any equal
    /// ones; a score of `-inf` gets weight 0. Keys past `visible` (masked) would add 0 to `total`, so
    /// leaving them out changes no bit; a caller that stores a full row writes `0 / total` there.
    @inline(__always)
    package static func attentionRow(
        query: UnsafePointer<Double>, keys: UnsafePointer<Double>, visible: Int, d: Int,
        scale: Double, weights: UnsafeMutablePointer<Double>
    ) -> Double {
        var maxScore = -Double.infinity
        for j in 0..<visible {
            let key = keys + j * d
            var dot = 0.0
            for c in 0..<d { dot += query[c] * key[c] }
            let s = dot * scale
            weights[j] = s
            if s > maxScore { maxScore = s }
        }
        return softmax(weights, visible, maxScore: maxScore, exp: { Foundation.exp($0) })
    }

    /// attentionRow's softmax: `weights[0..<visible]` holds the scores, whose largest is `maxScore`; on return
    /// it holds `e_j / total`, and `total` is returned. `exp` must give Foundation's `exp` bit for bit (a cache
    /// of it does).
    @inline(__always)
    package static func softmax(
        _ weights: UnsafeMutablePointer<Double>, _ visible: Int, maxScore: Double, exp: (Double) -> Double
    ) -> Double {
        let total = exponentials(weights, visible, maxScore: maxScore, exp: exp)
        // e / total, reusing the quotient of an equal e (same bits in, same bits out): hand-written heads give
        // most keys one of a few weights.
        var lastE = Double.nan.bitPattern | 1, lastWeight = Double.nan
        for j in 0..<visible {
            let e = weights[j]
            if e.bitPattern != lastE || e.isNaN {
                lastE = e.bitPattern
                lastWeight = e / total
            }
            weights[j] = lastWeight
        }
        return total
    }

    /// The softmax's first step, shared by `softmax` and the prefix walk (which fuses the second into
    /// pattern · v): `weights[0..<visible]` holds the scores, whose largest is `maxScore`; on return it holds
    /// `e_j = exp(s_j - max)` (1 for each `+inf` when the largest is `+inf`, 0 for `-inf`), in key order, and
    /// their total is returned.
    @inline(__always)
    package static func exponentials(
        _ weights: UnsafeMutablePointer<Double>, _ visible: Int, maxScore: Double, exp: (Double) -> Double
    ) -> Double {
        var total = 0.0
        if maxScore == .infinity {
            for j in 0..<visible {
                let e = weights[j] == .infinity ? 1.0 : 0.0
                weights[j] = e
                total += e
            }
            return total
        }
        // Hand-written heads give many keys the same score: exp of the argument just computed is reused.
        var lastArgument = Double.nan, lastExp = Double.nan
        for j in 0..<visible {
            let s = weights[j]
            let e: Double
            if s == -.infinity {
                e = 0
            } else if s == maxScore {
                e = 1  // exp(+0) is exactly 1
            } else {
                let argument = s - maxScore
                if argument != lastArgument {  // NaN never equals: always recomputed
                    lastArgument = argument
                    lastExp = exp(argument)
                }
                e = lastExp
            }
            weights[j] = e
            total += e
        }
        return total
    }
}

/// A zero-filled scratch buffer (of doubles, or of indices) owned by one thread; freed with its owner.
package final class ScratchBuffer<Element: Numeric> {
    package let pointer: UnsafeMutablePointer<Element>
    package let count: Int

    package init(count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<Element>.allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    /// A buffer left as allocated, for one whose every read follows a write of the same slot (a memo with
    /// its own record of the slots written): zero-filling a large one costs more than a small job saves.
    package init(unfilled count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<Element>.allocate(capacity: max(1, count))
    }

    deinit { pointer.deallocate() }
}
