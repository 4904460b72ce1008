import Numerics
import Model
import Formats

/// The declarative rule that labels a sequence: for each position, the token the model must predict next,
/// `none` when the rule does not fire, or nil when the position is not graded (an ambiguous case).
///
/// Positions are 0-based over the student's tokens (BOS excluded). "Current" means the token at the
/// position being predicted from; offset `-1` is the token before it.
public enum PredictionRule: Equatable, Sendable {
    /// `map[token[t]]`, else `none`. A cycle is a map that closes on itself.
    case currentToken(map: [String: String])
    /// `map[token[t + offset]]` (offset < 0), else `none`; `none` when `t + offset < 0`.
    case tokenAtOffset(offset: Int, map: [String: String])
    /// `map[a]` when some earlier position `s < t` holds a key `a`; if earlier keys map to different
    /// outputs the position is not graded.
    case seenBefore(map: [String: String])
    /// `map[[token[t-1], token[t]]]`, else `none`.
    case bigram(map: [[String]: String])
    /// Induction: the token that followed an earlier occurrence of `token[t]`, i.e. `token[s + 1]` for
    /// `s < t` with `token[s] == token[t]`; `none` without such an `s`. When the occurrences were followed
    /// by different tokens, `resolution` says which wins.
    case induction(resolution: InductionResolution)

    /// The label at every position of `tokens`.
    public func labels(_ tokens: [String]) -> [String?] {
        tokens.indices.map { label(tokens, at: $0) }
    }

    /// The label at position `t`.
    public func label(_ tokens: [String], at t: Int) -> String? {
        switch self {
        case .currentToken(let map):
            return map[tokens[t]] ?? Self.none
        case .tokenAtOffset(let offset, let map):
            let s = t + offset
            return s >= 0 && s < tokens.count ? map[tokens[s]] ?? Self.none : Self.none
        case .seenBefore(let map):
            let outputs = Set(tokens[..<t].compactMap { map[$0] })
            if outputs.count > 1 { return nil }
            return outputs.first ?? Self.none
        case .bigram(let map):
            return t >= 1 ? map[[tokens[t - 1], tokens[t]]] ?? Self.none : Self.none
        case .induction(let resolution):
            let followers = (0..<t).filter { tokens[$0] == tokens[t] }.map { tokens[$0 + 1] }
            guard let last = followers.last else { return Self.none }
            switch resolution {
            case .mostRecent: return last
            case .skipIfConflicting: return Set(followers).count == 1 ? last : nil
            }
        }
    }

    /// The output class meaning "predict nothing".
    public static let none = "none"

    /// Every label the rule can give some sequence over `vocab` (of at least two slots), `none` included.
    public func possibleOutputs(vocab: [String]) -> Set<String> {
        switch self {
        case .currentToken(let map):
            let unmapped = vocab.contains { map[$0] == nil }
            return Set(map.values).union(unmapped ? [Self.none] : [])
        case .tokenAtOffset(_, let map): return Set(map.values).union([Self.none])
        case .seenBefore(let map): return Set(map.values).union([Self.none])
        case .bigram(let map): return Set(map.values).union([Self.none])
        case .induction: return Set(vocab).union([Self.none])
        }
    }
}

/// Which earlier occurrence decides an induction label when they disagree.
public enum InductionResolution: String, Equatable, Sendable, CaseIterable {
    /// The occurrence closest to the current position wins.
    case mostRecent = "most_recent"
    /// The position is not graded (the spec states the ambiguity instead of picking a winner).
    case skipIfConflicting = "skip_if_conflicting"
}

/// Where a named head's attention must go from each query position, as a set of key positions.
///
/// Positions are over the student's tokens; `-1` is BOS (present only when the exercise prepends one).
public enum AttentionRule: String, Equatable, Sendable, CaseIterable {
    /// The query position itself.
    case `self` = "self"
    /// The position before the query (BOS at position 0, when there is one).
    case previous
    /// Every position `s <= t` holding the same token, the query included.
    case sameToken = "same_token"
    /// Every position `s < t` holding the same token (not the query itself).
    case sameTokenEarlier = "same_token_earlier"
    /// Every position `s + 1` where `s < t` holds the same token as the query and `s + 1 <= t`.
    case afterEarlierCopy = "after_earlier_copy"
    /// The BOS position.
    case bos

    /// The allowed key positions for query `t`; empty means the query is not graded.
    public func keys(_ tokens: [String], query t: Int, hasBOS: Bool) -> [Int] {
        switch self {
        case .self: return [t]
        case .previous: return t >= 1 ? [t - 1] : (hasBOS ? [-1] : [])
        case .sameToken: return (0...t).filter { tokens[$0] == tokens[t] }
        case .sameTokenEarlier: return (0..<t).filter { tokens[$0] == tokens[t] }
        case .afterEarlierCopy: return (0..<t).filter { tokens[$0] == tokens[t] }.map { $0 + 1 }
        case .bos: return hasBOS ? [-1] : []
        }
    }
}
