import Foundation
import Testing
@testable import Exercises
@testable import Grading
@testable import Model
@testable import Numerics

// MARK: - A model every token permutation leaves exactly as it is

/// Knobs of `symmetricModel`: the cross terms put several nonzero terms, over dims a relabelling moves, into sums.
private struct Cross {
    /// W_E[t, tok_j] for j != t: every token dim of the stream is nonzero.
    var embedding = 0.0
    /// Layer 1's W_K[copy_i, j] for i != j: its k sums the whole (mixed) copy block.
    var key = 0.0
}

/// A two-layer model over `n` tokens (rows 0..<n; BOS is row n) whose weights are invariant under every
/// permutation of the tokens, by construction: each weight is drawn once per class of (row, column) pairs
/// ("same token", "other tokens", a positional dim), never per token. Dims: tok_0..tok_{n-1}, bos, pos_0..pos_{m-1},
/// copy_0..copy_{n-1} (layer 0's head writes the tokens it attends to), out_0..out_{n-1} (layer 1's head writes
/// the tokens it copies). Output columns: the tokens in order, then `none` (read off the positional dims).
private func symmetricModel(seed: UInt64, n: Int = 4, positional: PositionalMode, causal: Bool, cross: Cross = Cross()) -> Transformer {
    var rng = SeededRandom(seed: seed, stream: "symmetric")
    func r() -> Double { Double.random(in: -1...1, using: &rng) }
    let m = 3, slots = 7
    let tok = 0, bos = n, pos = n + 1, copy = n + 1 + m, out = 2 * n + 1 + m, d = 3 * n + 1 + m
    func zeros(_ rows: Int, _ columns: Int) -> [[Double]] { Array(repeating: Array(repeating: 0, count: columns), count: rows) }
    // The tokens and BOS.
    var wE = zeros(n + 1, d)
    let same = 1 + r(), other = cross.embedding
    for t in 0..<n { for j in 0..<n { wE[t][tok + j] = t == j ? same : other } }
    wE[n][bos] = 1
    let wPos = (0..<slots).map { _ in (0..<d).map { j in (pos..<pos + m).contains(j) ? r() : 0 } }
    // Layer 0: q and k from the positional dims and the token dims, v the token (and BOS), written to copy.
    let qPos = (0..<m).map { _ in (0..<m).map { _ in r() } }, kPos = (0..<m).map { _ in (0..<m).map { _ in r() } }
    var wQ0 = zeros(d, m + n), wK0 = zeros(d, m + n)
    for a in 0..<m { for j in 0..<m { wQ0[pos + a][j] = qPos[a][j]; wK0[pos + a][j] = kPos[a][j] } }
    let qSame = 2 * r(), kSame = 2 * r()
    for i in 0..<n { wQ0[tok + i][m + i] = qSame; wK0[tok + i][m + i] = kSame }
    var wV0 = zeros(d, n + 1), wO0 = zeros(n + 1, d)
    let vSame = 1 + r(), oSame = 1 + r()
    for i in 0..<n { wV0[tok + i][i] = vSame; wO0[i][copy + i] = oSame }
    wV0[bos][n] = 1
    let bQ0 = (0..<m).map { _ in r() } + Array(repeating: r(), count: n)
    let bV0 = Array(repeating: r(), count: n) + [r()]
    let head0 = AttentionHead(
        wQ: Matrix(wQ0), wK: Matrix(wK0), wV: Matrix(wV0), wO: Matrix(wO0), bQ: bQ0, bK: nil, bV: bV0)
    // Layer 1: the current token against the copy block, the current token copied to out.
    var wQ1 = zeros(d, n), wK1 = zeros(d, n), wV1 = zeros(d, n), wO1 = zeros(n, d)
    let scale = 3 + r(), keySame = 1 + r(), copySame = 1 + r()
    for i in 0..<n {
        wQ1[tok + i][i] = scale
        for j in 0..<n { wK1[copy + i][j] = i == j ? keySame : cross.key }
        wV1[tok + i][i] = copySame
        wO1[i][out + i] = 1
    }
    let head1 = AttentionHead(wQ: Matrix(wQ1), wK: Matrix(wK1), wV: Matrix(wV1), wO: Matrix(wO1))
    let bO0 = (0..<d).map { j in (pos..<pos + m).contains(j) ? r() : 0 }
    let copyBias = r()
    let bO1 = (0..<d).map { j in (copy..<copy + n).contains(j) ? copyBias : 0 }
    var wU = zeros(d, n + 1)
    let direct = r(), copied = 1 + r()
    for i in 0..<n { wU[tok + i][i] = direct; wU[out + i][i] = copied }
    for a in 0..<m { wU[pos + a][n] = r() }
    let tokenBias = r()
    return Transformer(
        wE: Matrix(wE), wPos: positional == .none ? nil : Matrix(wPos), wU: Matrix(wU),
        bU: Array(repeating: tokenBias, count: n) + [r()],
        layers: [AttentionLayer(heads: [head0], bO: bO0), AttentionLayer(heads: [head1], bO: bO1)],
        positional: positional, causal: causal, attentionScale: 1 / Double(n).squareRoot())
}

/// The W_E rows and W_U columns a permutation `sigma` of the first `sigma.count` tokens moves (BOS and `none`,
/// the last row and column, stay).
private func moves(_ sigma: [Int]) -> (rows: [Int], columns: [Int]) {
    (sigma + [sigma.count], sigma + [sigma.count])
}

/// Whether `model`'s logits on `bos + sigma(s)` are its logits on `bos + s` with the columns moved, equal
/// numbers, on every sequence `s` of the first `sigma.count` tokens of 1 to `maxLength` tokens.
private func equivariantOnEverySequence(_ model: Transformer, _ sigma: [Int], maxLength: Int) -> Bool {
    let (_, columns) = moves(sigma), bos = sigma.count
    for s in preorder(alphabet: sigma.count, maxLength: maxLength) {
        let plain = model.forward([bos] + s).logits, moved = model.forward([bos] + s.map { sigma[$0] }).logits
        for t in 0..<plain.rows {
            for c in 0..<plain.columns where moved[t, columns[c]] != plain[t, c] { return false }
        }
    }
    return true
}

private let transposition = [1, 0, 2, 3], farTransposition = [0, 3, 2, 1], rotation = [1, 2, 3, 0]

/// Results equal, margins bit for bit (both nil counts as equal).
private func identical(_ a: ExhaustiveResult?, _ b: ExhaustiveResult?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return a.isIdentical(to: b)
}

@Suite("Token symmetry")
struct TokenSymmetryTests {
    // MARK: the model's half

    @Test("a relabelling is found for a model built symmetric, and then the logits are equivariant bit for bit", arguments: PositionalMode.allCases)
    func foundRelabellingsAreExact(positional: PositionalMode) {
        var found = 0
        for causal in [true, false] {
            for seed in UInt64(1)...3 {
                let model = symmetricModel(seed: seed, positional: positional, causal: causal)
                for sigma in [transposition, farTransposition, rotation] {
                    let (rows, columns) = moves(sigma)
                    let relabelling = model.exactRelabelling(rows: rows, columns: columns, appearing: Array(0...4), positions: 7)
                    #expect(relabelling != nil, "\(positional) causal \(causal) seed \(seed) \(sigma)")
                    guard relabelling != nil else { continue }
                    #expect(equivariantOnEverySequence(model, sigma, maxLength: 4), "\(positional) causal \(causal) seed \(seed) \(sigma)")
                    found += 1
                }
            }
        }
        #expect(found == 18)
    }

    @Test("sums of three or more terms over moved dims: refused, and without that check the logits would differ in their last bits")
    func reorderedSumsAreRefused() {
        var refused = 0, differing = 0
        for positional in PositionalMode.allCases {
            for seed in UInt64(1)...3 {
                for cross in [Cross(embedding: 0.3), Cross(key: 0.7)] {
                    let model = symmetricModel(seed: seed, positional: positional, causal: true, cross: cross)
                    for sigma in [transposition, rotation] {
                        let (rows, columns) = moves(sigma)
                        if model.exactRelabelling(rows: rows, columns: columns, appearing: Array(0...4), positions: 7) == nil { refused += 1 }
                        if !equivariantOnEverySequence(model, sigma, maxLength: 4) { differing += 1 }
                    }
                }
            }
        }
        // Every one refused (the weights are invariant, so only the order check can refuse them), and the refusal
        // matters: on some of them the relabelled sequence's logits are not the same numbers.
        #expect(refused == 4 * 3 * 2 * 2)
        #expect(differing > 0)
    }

    @Test("weights that are not invariant: one weight changed by one ulp, a token row moved, a bias on one token: no relabelling")
    func brokenInvarianceIsRefused() {
        let model = symmetricModel(seed: 5, positional: .learned, causal: true)
        let (rows, columns) = moves(transposition)
        #expect(model.exactRelabelling(rows: rows, columns: columns, appearing: Array(0...4), positions: 7) != nil)
        // b_U of token 0 nudged by one ulp.
        var bU = model.bU
        bU[0] = bU[0].nextUp
        let nudged = Transformer(
            wE: model.wE, wPos: model.wPos, wU: model.wU, bU: bU, layers: model.layers, positional: model.positional,
            causal: model.causal, attentionScale: model.attentionScale)
        #expect(nudged.exactRelabelling(rows: rows, columns: columns, appearing: Array(0...4), positions: 7) == nil)
        // Layer 1's W_Q for token 1 nudged: the transposition of tokens 0 and 1 sees it, that of 2 and 3 does not.
        let head = model.layers[1].heads[0]
        var wQ = head.wQ.nested
        wQ[1][1] = wQ[1][1].nextDown
        let skewed = Transformer(
            wE: model.wE, wPos: model.wPos, wU: model.wU, bU: model.bU,
            layers: [model.layers[0], AttentionLayer(heads: [AttentionHead(wQ: Matrix(wQ), wK: head.wK, wV: head.wV, wO: head.wO)], bO: model.layers[1].bO)],
            positional: model.positional, causal: model.causal, attentionScale: model.attentionScale)
        #expect(skewed.exactRelabelling(rows: rows, columns: columns, appearing: Array(0...4), positions: 7) == nil)
        let (rows23, columns23) = moves([0, 1, 3, 2])
        #expect(skewed.exactRelabelling(rows: rows23, columns: columns23, appearing: Array(0...4), positions: 7) != nil)
        // Rows moved but the columns not: the logits would not follow the tokens.
        #expect(model.exactRelabelling(rows: rows, columns: Array(0...4), appearing: Array(0...4), positions: 7) == nil)
        // The same weights with W_E scaled by 1e300 (still invariant): the numbers are not bounded, no claim.
        let unbounded = Transformer(
            wE: Matrix(model.wE.nested.map { $0.map { $0 * 1e300 } }), wPos: model.wPos, wU: model.wU, bU: model.bU,
            layers: model.layers, positional: model.positional, causal: model.causal, attentionScale: model.attentionScale)
        #expect(unbounded.exactRelabelling(rows: rows, columns: columns, appearing: Array(0...4), positions: 7) == nil)
    }

    // MARK: the rule's half

    @Test("PredictionRule.commutes says exactly whether relabelling every sequence relabels every label (checked on every sequence up to length 4)")
    func ruleCommutesIffLabelsMove() {
        let tokens = ["A", "B", "C", "D"]
        let rules: [PredictionRule] = [
            .currentToken(map: ["A": "A", "B": "B", "C": "C", "D": "D"]), .currentToken(map: ["A": "B", "B": "C", "C": "D", "D": "A"]),
            .currentToken(map: ["A": "B", "B": "A"]), .currentToken(map: ["A": "yes", "B": "yes", "C": "yes", "D": "yes"]),
            .tokenAtOffset(offset: -1, map: ["A": "A", "B": "B", "C": "C", "D": "D"]), .tokenAtOffset(offset: -2, map: ["C": "D"]),
            .seenBefore(map: ["A": "A", "B": "B", "C": "C", "D": "D"]), .seenBefore(map: ["A": "yes", "B": "yes"]),
            .bigram(map: [["A", "B"]: "C"]), .bigram(map: Dictionary(uniqueKeysWithValues: tokens.flatMap { a in tokens.map { b in ([a, b], b) } })),
            .induction(resolution: .mostRecent), .induction(resolution: .skipIfConflicting),
        ]
        var agreed = 0, commuting = 0
        for rule in rules {
            for sigma in [transposition, farTransposition, rotation, [2, 3, 0, 1]] {
                var names: [String: String] = [:]
                for (i, t) in tokens.enumerated() { names[t] = tokens[sigma[i]] }
                let claimed = rule.commutes(with: names, tokens: tokens)
                let actual = preorder(alphabet: 4, maxLength: 4).allSatisfy { s in
                    let plain = rule.labels(s.map { tokens[$0] }), moved = rule.labels(s.map { tokens[sigma[$0]] })
                    return zip(plain, moved).allSatisfy { p, m in p.map { names[$0] ?? $0 } == m }
                }
                #expect(claimed == actual, "\(rule) under \(sigma)")
                agreed += claimed == actual ? 1 : 0
                commuting += claimed ? 1 : 0
            }
        }
        #expect(agreed == rules.count * 4)
        #expect(commuting > 10 && commuting < rules.count * 4)
        // A token named like the "none" class could be relabelled into it: refused.
        #expect(!PredictionRule.induction(resolution: .mostRecent).commutes(with: ["A": "none", "none": "A"], tokens: ["A", "none"]))
    }

    // MARK: the walk

    @Test("the prefixes first in their orbits, their orbits' sizes and their count per length equal a brute-force search, for several groups")
    func canonicalPrefixesMatchBruteForce() throws {
        let groups: [[[Int]]] = [
            try #require(TokenSymmetry.closure(of: [[1, 0, 2], [1, 2, 0]], n: 3)),  // all of S3
            try #require(TokenSymmetry.closure(of: [rotation], n: 4)),  // the rotations of 4 tokens
            try #require(TokenSymmetry.closure(of: [[1, 0, 2, 3], [0, 1, 3, 2]], n: 4)),  // two swaps
        ]
        #expect(groups.map(\.count) == [6, 4, 4])
        for elements in groups {
            let n = elements[0].count
            let symmetry = TokenSymmetry(elements: elements)
            let canonical = CanonicalPrefixes(symmetry, maxLength: 5)
            var visited: [[Int]: Int] = [:]
            func walk(_ prefix: [Int]) {
                for a in 0..<n where canonical.allows(a) {
                    let orbit = canonical.push(a)
                    visited[prefix + [a]] = orbit
                    if prefix.count + 1 < 5 { walk(prefix + [a]) }
                    canonical.pop()
                }
            }
            walk([])
            var expected: [[Int]: Int] = [:]
            for s in preorder(alphabet: n, maxLength: 5) {
                let orbit = Set(elements.map { g in s.map { g[$0] } })
                if orbit.min(by: { $0.lexicographicallyPrecedes($1) }) == s { expected[s] = orbit.count }
            }
            #expect(visited == expected, "group of order \(elements.count)")
            #expect(visited.values.reduce(0, +) == preorder(alphabet: n, maxLength: 5).count)
            // The cost model's count of the nodes at each depth.
            let byLength = (1...5).map { k in Double(expected.keys.filter { $0.count == k }.count) }
            #expect(symmetry.representatives(maxLength: 5) == byLength)
        }
    }

    @Test("the tasks under a symmetry: the prefixes first in their orbits, of the shortest length that gives 16, each with its subtree's share")
    func tasksUnderASymmetrySplitTheWalkEvenly() throws {
        // Without a symmetry: every prefix of the shortest length that gives 16, equal shares (4 tokens: all 16 of length 2).
        let plain = TaskPlan(alphabet: 4, maxLength: 7)
        #expect(plain.prefixes == (0..<16).map { [$0 / 4, $0 % 4] })
        #expect(plain.shares == nil && plain.quota(of: 3, workLimit: 32) == 4 && plain.quota(of: 3, workLimit: nil) == .infinity)
        // All of S4, against a brute-force search of the sequences first in their orbits.
        let s4 = try #require(TokenSymmetry.closure(of: [[1, 0, 2, 3], [1, 2, 3, 0]], n: 4))
        #expect(s4.count == 24)
        let first = preorder(alphabet: 4, maxLength: 7).filter { s in s4.allSatisfy { g in !s.map { g[$0] }.lexicographicallyPrecedes(s) } }
        let plan = TaskPlan(alphabet: 4, maxLength: 7, symmetry: TokenSymmetry(elements: s4))
        let depth = try #require(plan.prefixes.first?.count)
        #expect(first.filter { $0.count == depth - 1 }.count < TaskPlan.wanted)
        #expect(plan.prefixes == first.filter { $0.count == depth }, "in enumeration order")
        #expect(plan.count >= TaskPlan.wanted)
        let sizes = plan.prefixes.map { p in Double(first.filter { $0.count >= p.count && Array($0.prefix(p.count)) == p }.count) }
        let shares = try #require(plan.shares)
        let total = sizes.reduce(0, +)
        for (share, size) in zip(shares, sizes) { #expect(abs(share - size / total) < 1e-12, "\(share) vs \(size / total)") }
        // Induction's 720 relabellings over 6 tokens, 11 slots: two of the 36 two-token prefixes are first in their
        // orbits, and A B alone held five sixths of the walk; now no task holds a tenth.
        let s6 = try #require(TokenSymmetry.closure(of: [[1, 0, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]], n: 6))
        let induction = TaskPlan(alphabet: 6, maxLength: 11, symmetry: TokenSymmetry(elements: s6))
        #expect(induction.count >= TaskPlan.wanted)
        #expect((induction.shares?.max() ?? 1) < 0.1, "\(induction.shares ?? [])")
        // So a walk under the symmetry fits a work limit a little above its own work. (Split into the 36 two-token
        // prefixes with equal shares, the task of A B, with most of the walk, ran out at 2/36 of the limit.)
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/induction-pos.json"))
        let walk = PrefixWalk(try ExhaustiveVerifier(spec: spec, model: model, maxLength: 9, limit: Int.max))
        #expect(walk.symmetry?.elements.count == 720)
        let (result, work) = walk.counting()
        #expect(result?.verified == true)
        #expect(identical(walk.run(workLimit: 1.1 * work), result))
        #expect(walk.run(workLimit: 0.999 * work) == nil)
    }

    @Test("every bundled reference: the walk under its token symmetry equals the walk of every sequence, bit for bit")
    func referencesUnderSymmetryEqualThePlainWalk() throws {
        var orders: [String: Int] = [:]
        for file in repoFiles("submissions/reference", suffix: ".json") {
            let (_, spec, model) = try loadModel(file)
            guard spec.defaultRule != nil else { continue }
            let maxLength = spec.vocab.count > 4 ? 6 : 8
            for (minLength, positions) in [(1, Set([GradedPositions.all])), (3, [.last]), (2, [.fired])] {
                let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: maxLength, minLength: minLength, positions: positions)
                let walk = PrefixWalk(verifier)
                let symmetric = walk.run(), plain = PrefixWalk(verifier, symmetric: false).run()
                #expect(
                    identical(symmetric, plain),
                    "\(spec.id) min \(minLength) \(positions): \(String(describing: symmetric)) vs \(String(describing: plain))")
                orders[spec.id] = walk.symmetry?.elements.count ?? 1
            }
        }
        // The induction references relabel all six tokens, the sinusoidal ones all four. The cycle's reference
        // turns its tokens with a rotation of its two head dims, (x, y) -> (y, -x): a signed permutation, which
        // the search does not try, so it is walked whole.
        for id in ["induction/pos", "induction-k/learned", "induction-k/shortformer", "induction-q/learned"] { #expect(orders[id] == 720, "\(id)") }
        for id in ["k-composition/sinusoidal", "pointer-arithmetic/sinusoidal"] { #expect(orders[id] == 24, "\(id)") }
        #expect(orders["cycle/pos"] == 1)
    }

    @Test(
        "symmetric random models, every positional mode, mask on and off: the walk under symmetry equals plain enumeration",
        arguments: PositionalMode.allCases)
    func symmetricModelsMatchPlainEnumeration(positional: PositionalMode) throws {
        let base = try repoCatalog().spec("current-token/pos")
        let tokens = base.vocab
        let rules: [PredictionRule] = [
            .induction(resolution: .skipIfConflicting), .currentToken(map: Dictionary(uniqueKeysWithValues: tokens.map { ($0, $0) })),
            .tokenAtOffset(offset: -1, map: Dictionary(uniqueKeysWithValues: tokens.map { ($0, $0) })),
            .currentToken(map: ["A": "B", "B": "C", "C": "D", "D": "A"]),
        ]
        var used = 0
        for rule in rules {
            let spec = withRule(base, rule)
            #expect(spec.outputs == tokens + [PredictionRule.none], "the model's columns are the tokens, then none")
            for causal in [true, false] {
                for seed in UInt64(1)...2 {
                    let model = symmetricModel(seed: seed, positional: positional, causal: causal)
                    for (minLength, positions) in [(1, Set([GradedPositions.all])), (2, [.last, .fired])] {
                        let verifier = try ExhaustiveVerifier(spec: spec, model: model, maxLength: 5, minLength: minLength, positions: positions)
                        let walk = PrefixWalk(verifier)
                        if walk.symmetry != nil { used += 1 }
                        let plain = PrefixWalk(verifier, symmetric: false).run()
                        #expect(identical(walk.run(), plain), "\(rule) causal \(causal) seed \(seed)")
                        #expect(identical(verifier.runNaive(), plain), "\(rule) causal \(causal) seed \(seed), naive")
                    }
                }
            }
        }
        #expect(used == rules.count * 2 * 2 * 2)
    }

    @Test("a broken circuit that keeps the symmetry: the walk finds plain enumeration's counterexample")
    func brokenSymmetricCircuitsFail() throws {
        let (_, spec, model) = try loadModel(repoPath("submissions/reference/induction-pos.json"))
        // The none logit raised: the reference stays symmetric, and predicts none where a short induction is due.
        var bU = model.bU
        bU[spec.outputs.firstIndex(of: PredictionRule.none) ?? 0] += 0.6
        let broken = Transformer(
            wE: model.wE, wPos: model.wPos, wU: model.wU, bU: bU, layers: model.layers, positional: model.positional,
            causal: model.causal, attentionScale: model.attentionScale)
        let verifier = try ExhaustiveVerifier(spec: spec, model: broken, maxLength: 7)
        let walk = PrefixWalk(verifier)
        #expect(walk.symmetry?.elements.count == 720)
        let result = try #require(walk.run())
        #expect(result.counterexample != nil)
        #expect(identical(result, PrefixWalk(verifier, symmetric: false).run()))
        // A counterexample late in enumeration order: none's logit pushed down at slot 2 (the second token), so
        // A A passes and A B (after the whole A A subtree) fails. Its counts come from a replay that computes
        // nothing, so the walk does a small part of the plain walk's work.
        let dim = try #require(spec.layout.index(of: "pos:2")), none = try #require(spec.outputs.firstIndex(of: PredictionRule.none))
        var wU = model.wU.nested
        wU[dim][none] = -50
        let late = Transformer(
            wE: model.wE, wPos: model.wPos, wU: Matrix(wU), bU: model.bU, layers: model.layers, positional: model.positional,
            causal: model.causal, attentionScale: model.attentionScale)
        let lateVerifier = try ExhaustiveVerifier(spec: spec, model: late, maxLength: 7)
        let symmetric = PrefixWalk(lateVerifier).counting(), plain = PrefixWalk(lateVerifier, symmetric: false).counting()
        #expect(PrefixWalk(lateVerifier).symmetry?.elements.count == 720)
        #expect(symmetric.result?.counterexample?.sequence == ["A", "B"])
        #expect(identical(symmetric.result, plain.result))
        #expect(symmetric.work * 10 < plain.work, "\(symmetric.work) against \(plain.work)")
        // Under a work limit the walk under the symmetry fits, the same counterexample, with the same counts.
        let first = walk.countingOnceForTests()
        #expect(first.result?.counterexample == result.counterexample)
        #expect(identical(walk.run(workLimit: first.work), result))
    }
}
