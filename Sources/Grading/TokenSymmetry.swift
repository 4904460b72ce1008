import Numerics
import Model
import Formats
import Exercises

// Token symmetry of a whole-domain walk: the relabellings of the domain's tokens that change no verdict.
//
// A permutation σ of the walk's tokens is a symmetry when both halves hold:
// - the rule commutes with it: label(σ s, t) = σ(label(s, t)) (PredictionRule.commutes), so the graded positions
//   of σ s are those of s and their expected classes are relabelled;
// - the model is exactly equivariant to it (Model/ExactRelabelling.swift): the logits of σ s are those of s with
//   the columns of the relabelled output classes moved, bit for bit.
// Then every graded position of σ s has the margin of the same position of s, to the bit (Margin.logitGap reads
// the same numbers, in another column order, and a positive margin does not depend on that order), so the walk
// may grade one sequence per orbit and count it once per member: the same sequences, positions and worst margin
// as enumerating them all. A counterexample is not relabelled: the walk is run again without the symmetry, so
// that the reported sequence, its counts and its printed prediction are those of the plain enumeration.
//
// Symmetries compose, so the group the passing generators generate is made of symmetries. The generators tried
// are the transpositions of two tokens (only between tokens the group found so far does not already connect)
// and the cycle of all tokens in order (the cycle of a cyclic map such as A -> B -> C -> D -> A).

/// The group of token permutations under which a walk's verdicts are exactly the same (see the top of
/// TokenSymmetry.swift); each element is a permutation of the walk's token indices (`[tokens.count]`).
package struct TokenSymmetry: Sendable {
    /// Every element, the identity first.
    package let elements: [[Int]]

    /// The largest group kept (8!): a larger one is not used, and the walk enumerates every sequence.
    package static let maxOrder = 40_320

    /// The symmetries of `verifier`'s walk; nil when there is none but the identity (or too many to list).
    package init?(_ verifier: ExhaustiveVerifier) {
        let n = verifier.tokens.count
        guard n >= 2 else { return nil }
        let check = SymmetryCheck(verifier)
        var generators: [[Int]] = []
        var component = Array(0..<n)
        func root(_ i: Int) -> Int { component[i] == i ? i : root(component[i]) }
        for i in 0..<n {
            for j in (i + 1)..<n where root(i) != root(j) {
                var swap = Array(0..<n)
                swap.swapAt(i, j)
                guard check.holds(swap) else { continue }
                generators.append(swap)
                component[root(j)] = root(i)
            }
        }
        let connected = (0..<n).allSatisfy { root($0) == root(0) }
        let cycle = (0..<n).map { ($0 + 1) % n }
        if !connected && check.holds(cycle) { generators.append(cycle) }
        guard !generators.isEmpty, let group = Self.closure(of: generators, n: n) else { return nil }
        elements = group
    }

    /// A group given by its elements, the identity first (tests).
    package init(elements: [[Int]]) { self.elements = elements }

    /// A prefix first in its orbit, with its stabiliser: the indices of the elements that leave it as it is.
    package typealias FirstPrefix = (prefix: [Int], stabiliser: [Int])

    /// The empty prefix, which every element leaves as it is.
    package var emptyPrefix: FirstPrefix { ([], Array(elements.indices)) }

    /// The tokens that extend a prefix first in its orbit, whose stabiliser is `stabiliser`, to one that is first
    /// in its own (no element of the stabiliser sends the token below itself), each with the longer prefix's
    /// stabiliser, in token order.
    private func children(_ stabiliser: [Int]) -> [(token: Int, stabiliser: [Int])] {
        (0..<(elements.first?.count ?? 0)).filter { a in stabiliser.allSatisfy { elements[$0][a] >= a } }.map { a in
            (a, stabiliser.filter { elements[$0][a] == a })
        }
    }

    /// `counts[k - 1]`: how many sequences of k tokens, for k = 1...maxLength, are first in their orbit (the
    /// nodes the walk visits at depth k). Counted by stabiliser: prefixes with the same stabiliser have the same
    /// children, so the count runs over the few distinct stabilisers, not over the prefixes. With `stabiliser`
    /// (the indices of the elements that fix some prefix first in its orbit), the same for the continuations of
    /// that prefix: `counts[k - 1]` of them are k tokens longer.
    package func representatives(maxLength: Int, below stabiliser: [Int]? = nil) -> [Double] {
        var level: [[Int]: Double] = [stabiliser ?? emptyPrefix.stabiliser: 1], counts: [Double] = []
        for _ in 0..<max(0, maxLength) {
            var next: [[Int]: Double] = [:]
            for (stabiliser, count) in level {
                for child in children(stabiliser) { next[child.stabiliser, default: 0] += count }
            }
            counts.append(next.values.reduce(0, +))
            level = next
        }
        return counts
    }

    /// Every prefix first in its orbit one token longer than one of `prefixes` (all first in their orbits, in
    /// enumeration order), in enumeration order.
    package func longer(_ prefixes: [FirstPrefix]) -> [FirstPrefix] {
        prefixes.flatMap { node in children(node.stabiliser).map { (node.prefix + [$0.token], $0.stabiliser) } }
    }

    /// Every product of `generators`, the identity first; nil past `maxOrder` elements.
    static func closure(of generators: [[Int]], n: Int) -> [[Int]]? {
        let identity = Array(0..<n)
        var elements = [identity], seen: Set<[Int]> = [identity], next = 0
        while next < elements.count {
            let g = elements[next]
            next += 1
            for s in generators {
                let product = g.map { s[$0] }
                guard !seen.contains(product) else { continue }
                guard elements.count < maxOrder else { return nil }
                seen.insert(product)
                elements.append(product)
            }
        }
        return elements
    }
}

/// Whether one token permutation is a symmetry of a walk: the rule commutes with it and the model is exactly
/// equivariant to it.
private struct SymmetryCheck {
    let verifier: ExhaustiveVerifier
    let tokenRows: [Int], appearing: [Int], positions: Int
    let scorer: PredictionScorer

    init(_ verifier: ExhaustiveVerifier) {
        self.verifier = verifier
        tokenRows = verifier.spec.tokenRows(verifier.tokens)
        appearing = verifier.spec.bosPrefix + tokenRows
        positions = verifier.spec.bosPrefix.count + verifier.maxLength
        scorer = PredictionScorer(outputs: verifier.spec.outputs)
    }

    func holds(_ sigma: [Int]) -> Bool {
        let tokens = verifier.tokens, model = verifier.model
        var names: [String: String] = [:]
        for (i, t) in tokens.enumerated() { names[t] = tokens[sigma[i]] }
        guard verifier.rule.commutes(with: names, tokens: tokens) else { return false }
        var rows = Array(0..<model.dVocab), columns = Array(0..<model.wU.columns)
        let outputs = Set(scorer.outputs)
        for (i, t) in tokens.enumerated() {
            rows[tokenRows[i]] = tokenRows[sigma[i]]
            guard outputs.contains(t) else { continue }
            guard outputs.contains(tokens[sigma[i]]) else { return false }
            columns[scorer.column(of: t)] = scorer.column(of: tokens[sigma[i]])
        }
        return model.exactRelabelling(rows: rows, columns: columns, appearing: appearing, positions: positions) != nil
    }
}

/// The prefixes a walk under a token symmetry visits: those that come first in their orbit, in enumeration
/// order (an orbit's first member is its smallest in that order, and a first member's prefixes are first
/// members too, so these prefixes form a tree the walk can descend).
///
/// Per depth it keeps the stabiliser of the current prefix (the elements that leave it as it is): the prefix
/// followed by token `a` is first in its orbit when no element of the stabiliser sends `a` below `a`, and its
/// orbit has `|G| / |stabiliser|` members. A class over raw buffers, allocated once: one per walk, not thread-safe.
package final class CanonicalPrefixes {
    private let n: Int, order: Int, capacity: Int
    /// `permutations[g * n + a]`: element g applied to token a.
    private let permutations: UnsafeMutablePointer<Int>
    /// `stabiliser[d * order ..< d * order + size[d]]`: the elements fixing the prefix of depth d.
    private let stabiliser: UnsafeMutablePointer<Int>
    private let size: UnsafeMutablePointer<Int>
    /// `[0]`: the depth of the current prefix.
    private let depth: UnsafeMutablePointer<Int>

    package init(_ symmetry: TokenSymmetry, maxLength: Int) {
        n = symmetry.elements.first?.count ?? 0
        order = symmetry.elements.count
        capacity = maxLength + 1
        permutations = .allocate(capacity: max(1, order * n))
        permutations.initialize(from: symmetry.elements.flatMap { $0 }, count: order * n)
        stabiliser = .allocate(capacity: max(1, capacity * order))
        stabiliser.initialize(repeating: 0, count: max(1, capacity * order))
        for g in 0..<order { stabiliser[g] = g }
        size = .allocate(capacity: capacity)
        size.initialize(repeating: 0, count: capacity)
        size[0] = order
        depth = .allocate(capacity: 1)
        depth.initialize(to: 0)
    }

    deinit {
        permutations.deallocate()
        stabiliser.deallocate()
        size.deallocate()
        depth.deallocate()
    }

    /// Whether the current prefix followed by token `a` is the first of its orbit.
    @inline(__always)
    package func allows(_ a: Int) -> Bool {
        let d = depth.pointee, base = stabiliser + d &* order
        for i in 0..<size[d] where permutations[base[i] &* n &+ a] < a { return false }
        return true
    }

    /// Appends token `a` (which `allows`) and returns the size of the new prefix's orbit.
    @inline(__always)
    package func push(_ a: Int) -> Int {
        let d = depth.pointee
        precondition(d + 1 < capacity, "cannot push past the walk's longest sequence")
        let from = stabiliser + d &* order, to = stabiliser + (d &+ 1) &* order
        var kept = 0
        for i in 0..<size[d] where permutations[from[i] &* n &+ a] == a {
            to[kept] = from[i]
            kept &+= 1
        }
        size[d &+ 1] = kept
        depth.pointee = d &+ 1
        return order / kept
    }

    /// Whether only the identity leaves the current prefix as it is (then every child is first in its orbit).
    package var fixesOnlyIdentity: Bool { size[depth.pointee] == 1 }

    /// Drops the last token.
    @inline(__always)
    package func pop() {
        precondition(depth.pointee > 0, "nothing to pop")
        depth.pointee -= 1
    }
}
