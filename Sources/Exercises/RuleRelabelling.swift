import Numerics
import Model
import Formats

extension PredictionRule {
    /// Whether relabelling the tokens of every sequence by `sigma` relabels every label the same way:
    /// `label(σ s, t) == σ(label(s, t))` for every sequence `s` over `tokens` and every position `t`, a nil label
    /// staying nil.
    ///
    /// `sigma` maps each of `tokens` to one of `tokens` (a bijection); a label that is none of them (`none`, an
    /// output class that is no token) is left as it is, so the answer is false when `none` is one of `tokens`.
    public func commutes(with sigma: [String: String], tokens: [String]) -> Bool {
        guard Set(tokens.compactMap { sigma[$0] }) == Set(tokens), tokens.count == sigma.count,
            !tokens.contains(Self.none)
        else { return false }
        func moved(_ label: String?) -> String? { label.map { sigma[$0] ?? $0 } }
        func relabelled(_ a: String) -> String { sigma[a] ?? a }
        switch self {
        case .currentToken(let map), .tokenAtOffset(_, let map):
            return tokens.allSatisfy { (map[relabelled($0)] ?? Self.none) == moved(map[$0] ?? Self.none) }
        case .seenBefore(let map):
            // Keys stay keys, and their outputs move with them: the set of earlier outputs is relabelled whole.
            return tokens.allSatisfy { map[relabelled($0)] == moved(map[$0]) }
        case .bigram(let map):
            return tokens.allSatisfy { a in
                tokens.allSatisfy { b in (map[[relabelled(a), relabelled(b)]] ?? Self.none) == moved(map[[a, b]] ?? Self.none) }
            }
        case .induction:
            // The label is a token of the sequence (the follower of an earlier copy), or none.
            return true
        }
    }
}
