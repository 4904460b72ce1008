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
package struct PrefixLabels {
    /// The id of nil: the position is not graded.
    package static let ungraded = -1
    /// The id of `none`.
    package static let noneID = 0

    private enum Kind {
        /// `table[a]`.
        case current([Int])
        /// `table[path[t + offset]]` when `t + offset >= 0`, else none.
        case offset(Int, [Int])
        /// `table[a]` is the output of key a (-1: not a key); state per depth: -1 nothing seen, -2 several.
        case seen([Int])
        /// `table[previous * tokens + a]`, none at t = 0.
        case bigram([Int])
        /// The label id of each token (the label is the follower token itself).
        case induction(mostRecent: Bool, [Int])
    }

    /// Label strings by id.
    package let labels: [String]
    private let kind: Kind
    private let alphabet: Int
    /// The tokens pushed.
    package private(set) var path: [Int] = []
    /// seenBefore: the state after each depth (`seen[0]` is the empty prefix's).
    private var seen: [Int] = [-1]
    /// Induction: per token, its latest follower (-1 none) and whether its followers differ; the previous
    /// values of the token each push changed.
    private var follower: [Int]
    private var conflicting: [Bool]
    private var undo: [(token: Int, follower: Int, conflicting: Bool)] = []

    /// Labels of `rule` over `tokens`; nil when the rule reads past position t (a positive offset).
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
        switch rule {
        case .currentToken(let map):
            kind = .current(tokens.map { id(map[$0] ?? PredictionRule.none) })
        case .tokenAtOffset(let offset, let map):
            kind = .offset(offset, tokens.map { id(map[$0] ?? PredictionRule.none) })
        case .seenBefore(let map):
            kind = .seen(tokens.map { token in map[token].map { id($0) } ?? -1 })
        case .bigram(let map):
            kind = .bigram((0..<(n * n)).map { i in id(map[[tokens[i / n], tokens[i % n]]] ?? PredictionRule.none) })
        case .induction(let resolution):
            kind = .induction(mostRecent: resolution == .mostRecent, tokens.map { id($0) })
        }
        self.labels = labels
        alphabet = n
        follower = Array(repeating: -1, count: n)
        conflicting = Array(repeating: false, count: n)
        path.reserveCapacity(maxLength)
        seen.reserveCapacity(maxLength + 1)
        undo.reserveCapacity(maxLength)
    }

    /// Pushes token `a` (an index into the tokens) and returns the label id of its position.
    @inline(__always)
    package mutating func push(_ a: Int) -> Int {
        let t = path.count
        path.append(a)
        switch kind {
        case .current(let table):
            return table[a]
        case .offset(let offset, let table):
            return t + offset >= 0 ? table[path[t + offset]] : Self.noneID
        case .seen(let table):
            let state = seen[t]
            let output = table[a]
            seen.append(output < 0 || state == -2 ? state : (state == -1 || state == output ? output : -2))
            return state == -1 ? Self.noneID : (state == -2 ? Self.ungraded : state)
        case .bigram(let table):
            return t >= 1 ? table[path[t - 1] * alphabet + a] : Self.noneID
        case .induction(let mostRecent, let tokenLabels):
            if t >= 1 {
                let previous = path[t - 1]
                undo.append((previous, follower[previous], conflicting[previous]))
                if follower[previous] >= 0 && follower[previous] != a { conflicting[previous] = true }
                follower[previous] = a
            }
            let f = follower[a]
            if f < 0 { return Self.noneID }
            return !mostRecent && conflicting[a] ? Self.ungraded : tokenLabels[f]
        }
    }

    /// Pops the last token pushed.
    @inline(__always)
    package mutating func pop() {
        let t = path.count - 1
        path.removeLast()
        switch kind {
        case .current, .offset, .bigram: break
        case .seen: seen.removeLast()
        case .induction:
            if t >= 1, let last = undo.popLast() {
                follower[last.token] = last.follower
                conflicting[last.token] = last.conflicting
            }
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
