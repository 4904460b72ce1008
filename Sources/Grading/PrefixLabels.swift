import Numerics
import Model
import Formats
import Exercises

// The labels of a prefix rule (one whose label at t reads only tokens 0...t) kept while a depth-first walk
// pushes and pops tokens: small integer state per depth where `PredictionRule.label` rebuilds arrays and sets
// of strings. Tests (PrefixWalkTests.swift) compare both on every sequence of small frames, for every rule.
//
// Tokens are indices into the walk's `tokens`; a label is an id into `labels` ("none" is always id 0), or
// `PrefixLabels.ungraded` for nil (a position the rule leaves ungraded).

/// Incremental labels of a prefix rule over a depth-first walk (`push` going down, `pop` coming back up).
///
/// A class over raw buffers, allocated once: the walk pushes and pops millions of times, and a stored array
/// or `var` would cost a uniqueness or exclusivity check on each. Not thread-safe: one per walk.
package final class PrefixLabels {
    /// The id of nil: the position is not graded.
    package static let ungraded = -1
    /// The id of `none`.
    package static let noneID = 0

    private enum Kind {
        /// `table[a]`.
        case current
        /// `table[path[t + offset]]` when `t + offset >= 0`, else none.
        case offset(Int)
        /// `table[a]` is the output of key a (-1: not a key); state per depth: -1 nothing seen, -2 several.
        case seen
        /// `table[previous * tokens + a]`, none at t = 0.
        case bigram
        /// `table[a]` is the label id of token a (the label is the follower token itself).
        case induction(mostRecent: Bool)
    }

    /// Label strings by id.
    package let labels: [String]
    private let kind: Kind
    private let alphabet: Int
    /// The kind's table (see `Kind`).
    private let table: UnsafeMutableBufferPointer<Int>
    /// `[0]`: the tokens pushed so far (the depth).
    private let depth: UnsafeMutablePointer<Int>
    /// The tokens pushed, `[maxLength]`.
    private let path: UnsafeMutablePointer<Int>
    /// seenBefore: the state after each depth (`seen[0]` is the empty prefix's), `[maxLength + 1]`.
    private let seen: UnsafeMutablePointer<Int>
    /// Induction: per token, its latest follower (-1 none) and whether its followers differ (0 or 1); per
    /// depth, the previous values of the token that push changed (`undoToken` -1: none changed).
    private let follower: UnsafeMutablePointer<Int>
    private let conflicting: UnsafeMutablePointer<Int>
    private let undoToken: UnsafeMutablePointer<Int>, undoFollower: UnsafeMutablePointer<Int>, undoConflicting: UnsafeMutablePointer<Int>
    private let capacity: Int

    /// Labels of `rule` over `tokens` for paths of up to `maxLength` tokens; nil when the rule reads past
    /// position t (a positive offset).
    package init?(_ rule: PredictionRule, tokens: [String], maxLength: Int) {
        guard rule.readsOnlyPrefix else { return nil }
        var labels = [PredictionRule.none]
        var ids = [PredictionRule.none: 0]
        func id(_ label: String) -> Int {
            if let known = ids[label] { return known }
            ids[label] = labels.count
            labels.append(label)
            return labels.count - 1
        }
        let n = tokens.count
        let entries: [Int]
        switch rule {
        case .currentToken(let map):
            kind = .current
            entries = tokens.map { id(map[$0] ?? PredictionRule.none) }
        case .tokenAtOffset(let offset, let map):
            kind = .offset(offset)
            entries = tokens.map { id(map[$0] ?? PredictionRule.none) }
        case .seenBefore(let map):
            kind = .seen
            entries = tokens.map { token in map[token].map { id($0) } ?? -1 }
        case .bigram(let map):
            kind = .bigram
            entries = (0..<(n * n)).map { i in id(map[[tokens[i / n], tokens[i % n]]] ?? PredictionRule.none) }
        case .induction(let resolution):
            kind = .induction(mostRecent: resolution == .mostRecent)
            entries = tokens.map { id($0) }
        }
        self.labels = labels
        alphabet = n
        capacity = max(1, maxLength)
        table = .allocate(capacity: max(1, entries.count))
        _ = table.initialize(from: entries)
        depth = .allocate(capacity: 1)
        depth.initialize(to: 0)
        path = .allocate(capacity: capacity)
        path.initialize(repeating: 0, count: capacity)
        seen = .allocate(capacity: capacity + 1)
        seen.initialize(repeating: -1, count: capacity + 1)
        follower = .allocate(capacity: max(1, n))
        follower.initialize(repeating: -1, count: max(1, n))
        conflicting = .allocate(capacity: max(1, n))
        conflicting.initialize(repeating: 0, count: max(1, n))
        undoToken = .allocate(capacity: capacity)
        undoToken.initialize(repeating: -1, count: capacity)
        undoFollower = .allocate(capacity: capacity)
        undoFollower.initialize(repeating: -1, count: capacity)
        undoConflicting = .allocate(capacity: capacity)
        undoConflicting.initialize(repeating: 0, count: capacity)
    }

    deinit {
        table.deallocate()
        depth.deallocate()
        path.deallocate()
        seen.deallocate()
        follower.deallocate()
        conflicting.deallocate()
        undoToken.deallocate()
        undoFollower.deallocate()
        undoConflicting.deallocate()
    }

    /// Tokens pushed and not popped.
    package var count: Int { depth.pointee }

    /// Pushes token `a` (an index into the tokens) and returns the label id of its position.
    @inline(__always)
    package func push(_ a: Int) -> Int {
        let t = depth.pointee
        precondition(t < capacity && a >= 0 && a < alphabet, "cannot push token \(a) at depth \(t)")
        path[t] = a
        depth.pointee = t &+ 1
        let table = table.baseAddress.unsafelyUnwrapped
        switch kind {
        case .current:
            return table[a]
        case .offset(let offset):
            return t &+ offset >= 0 ? table[path[t &+ offset]] : Self.noneID
        case .seen:
            let state = seen[t]
            let output = table[a]
            seen[t &+ 1] = output < 0 || state == -2 ? state : (state == -1 || state == output ? output : -2)
            return state == -1 ? Self.noneID : (state == -2 ? Self.ungraded : state)
        case .bigram:
            return t >= 1 ? table[path[t &- 1] &* alphabet &+ a] : Self.noneID
        case .induction(let mostRecent):
            undoToken[t] = -1
            if t >= 1 {
                let previous = path[t &- 1]
                undoToken[t] = previous
                undoFollower[t] = follower[previous]
                undoConflicting[t] = conflicting[previous]
                if follower[previous] >= 0 && follower[previous] != a { conflicting[previous] = 1 }
                follower[previous] = a
            }
            let f = follower[a]
            if f < 0 { return Self.noneID }
            return !mostRecent && conflicting[a] != 0 ? Self.ungraded : table[f]
        }
    }

    /// Pops the last token pushed.
    @inline(__always)
    package func pop() {
        let t = depth.pointee &- 1
        precondition(t >= 0, "nothing to pop")
        depth.pointee = t
        if case .induction = kind, undoToken[t] >= 0 {
            let token = undoToken[t]
            follower[token] = undoFollower[t]
            conflicting[token] = undoConflicting[t]
        }
    }
}

extension PredictionRule {
    /// Whether the label at `t` depends only on tokens `0...t` (then a prefix's labels never change).
    package var readsOnlyPrefix: Bool {
        if case .tokenAtOffset(let offset, _) = self { return offset <= 0 }
        return true
    }
}
