import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

/// The rule engine against independent brute-force definitions written differently (by scanning
/// backwards, by building explicit sets), on every sequence up to length 5 over 3 tokens.
struct RuleEngineTests {
    static let tokens = ["A", "B", "C"]

    /// Every sequence over `tokens` of length 1...maxLength.
    static func allSequences(maxLength: Int) -> [[String]] {
        var out: [[String]] = []
        var frontier: [[String]] = [[]]
        for _ in 1...maxLength {
            frontier = frontier.flatMap { prefix in tokens.map { prefix + [$0] } }
            out += frontier
        }
        return out
    }

    @Test func currentTokenMapsOnlyListedTokens() {
        let rule = PredictionRule.currentToken(map: ["A": "B", "B": "C"])
        #expect(rule.labels(["A", "C", "B", "A"]) == ["B", "none", "C", "B"])
    }

    @Test func previousTokenBruteForce() {
        let rule = PredictionRule.tokenAtOffset(offset: -1, map: ["A": "B"])
        for s in Self.allSequences(maxLength: 5) {
            for t in s.indices {
                let expected = (t > 0 && s[t - 1] == "A") ? "B" : "none"
                #expect(rule.label(s, at: t) == expected, "\(s) at \(t)")
            }
        }
    }

    @Test func seenBeforeBruteForce() {
        let rule = PredictionRule.seenBefore(map: ["A": "B"])
        for s in Self.allSequences(maxLength: 5) {
            var seenA = false
            for t in s.indices {
                #expect(rule.label(s, at: t) == (seenA ? "B" : "none"), "\(s) at \(t)")
                if s[t] == "A" { seenA = true }
            }
        }
    }

    @Test func bigramBruteForce() {
        let rule = PredictionRule.bigram(map: [["A", "B"]: "C"])
        for s in Self.allSequences(maxLength: 5) {
            for t in s.indices {
                let fires = t >= 1 && s[t - 1] == "A" && s[t] == "B"
                #expect(rule.label(s, at: t) == (fires ? "C" : "none"))
            }
        }
    }

    @Test func inductionBruteForce() {
        let mostRecent = PredictionRule.induction(resolution: .mostRecent)
        let skipping = PredictionRule.induction(resolution: .skipIfConflicting)
        for s in Self.allSequences(maxLength: 5) {
            for t in s.indices {
                // Scan backwards for the nearest earlier copy of s[t]; collect every follower.
                var nearest: String? = nil
                var followers = Set<String>()
                var k = t - 1
                while k >= 0 {
                    if s[k] == s[t] {
                        if nearest == nil { nearest = s[k + 1] }
                        followers.insert(s[k + 1])
                    }
                    k -= 1
                }
                #expect(mostRecent.label(s, at: t) == (nearest ?? "none"), "\(s) at \(t)")
                let unambiguous: String?? = followers.count > 1 ? .some(nil) : .some(nearest ?? "none")
                #expect(skipping.label(s, at: t) == unambiguous ?? nil, "\(s) at \(t)")
            }
        }
    }

    @Test func inductionExamplesByHand() {
        let rule = PredictionRule.induction(resolution: .skipIfConflicting)
        // A B C A: at the second A the earlier A was followed by B.
        #expect(rule.labels(["A", "B", "C", "A"]) == ["none", "none", "none", "B"])
        // A A: the earlier A is followed by the current A itself.
        #expect(rule.labels(["A", "A"]) == ["none", "A"])
        // A B A C A: followers B and C disagree: not graded.
        #expect(rule.labels(["A", "B", "A", "C", "A"])[4] == nil)
    }

    @Test func attentionRulesBruteForce() {
        for s in Self.allSequences(maxLength: 4) {
            for t in s.indices {
                #expect(AttentionRule.previous.keys(s, query: t, hasBOS: true) == (t == 0 ? [-1] : [t - 1]))
                #expect(AttentionRule.previous.keys(s, query: t, hasBOS: false) == (t == 0 ? [] : [t - 1]))
                #expect(AttentionRule.sameToken.keys(s, query: t, hasBOS: true) == s.indices.filter { $0 <= t && s[$0] == s[t] })
                #expect(AttentionRule.sameTokenEarlier.keys(s, query: t, hasBOS: true) == s.indices.filter { $0 < t && s[$0] == s[t] })
                let after = s.indices.filter { $0 >= 1 && $0 <= t && s[$0 - 1] == s[t] && $0 - 1 < t }
                #expect(AttentionRule.afterEarlierCopy.keys(s, query: t, hasBOS: true) == after)
            }
        }
    }

    /// Every generated case of every exercise is re-labelled by the brute-force definitions above.
    @Test func generatedCasesAgreeWithBruteForce() throws {
        for spec in try repoCatalog().specs {
            let grader = Grader(spec: spec)
            for family in spec.families {
                guard case .generated(_, let plan) = family.source, let rule = plan.predict else { continue }
                for c in grader.cases(of: family) {
                    for target in c.targets {
                        guard case .predict(let p, let expected) = target else { continue }
                        #expect(bruteForce(rule, c.tokens, p) == expected, "\(spec.id)/\(family.id): \(c.tokens) at \(p)")
                    }
                }
            }
        }
    }

    /// A second, loop-based statement of every rule.
    func bruteForce(_ rule: PredictionRule, _ s: [String], _ t: Int) -> String? {
        switch rule {
        case .currentToken(let map): return map[s[t]] ?? "none"
        case .tokenAtOffset(let k, let map): return t + k >= 0 ? (map[s[t + k]] ?? "none") : "none"
        case .seenBefore(let map):
            var outs = Set<String>()
            for k in 0..<t { if let o = map[s[k]] { outs.insert(o) } }
            return outs.count > 1 ? nil : (outs.first ?? "none")
        case .bigram(let map): return t >= 1 ? (map[[s[t - 1], s[t]]] ?? "none") : "none"
        case .induction(let resolution):
            var followers: [String] = []
            for k in 0..<t where s[k] == s[t] { followers.append(s[k + 1]) }
            if followers.isEmpty { return "none" }
            if resolution == .skipIfConflicting && Set(followers).count > 1 { return nil }
            return followers.last
        }
    }
}
