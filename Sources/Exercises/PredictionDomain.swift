import Numerics
import Model
import Formats

/// The set of (sequence, position) pairs on which a spec grades predictions: every sequence its generated
/// families admit, at every position they grade.
///
/// A spec's domain for one prediction rule is built from the generated families that use that rule:
/// - tokens: the union of their fill tokens, variable tokens and planted literal tokens, in vocabulary order;
/// - lengths: from the shortest of their minimum lengths to the longest of their maximum lengths;
/// - graded positions: a position is graded when any of the families' `positions` settings grades it.
/// Plants are not constraints of the domain: a family plants a pattern to make a case likely, not to forbid
/// the others. So every sequence of `tokens` with a length in `lengths` is in the domain, and a submission
/// that is wrong on one of them is wrong on the exercise.
public struct PredictionDomain: Equatable, Sendable {
    /// The rule that labels every sequence of the domain.
    public var rule: PredictionRule
    /// Student tokens the sequences are made of, in vocabulary order.
    public var tokens: [String]
    /// Sequence lengths (student tokens, BOS excluded).
    public var lengths: ClosedRange<Int>
    /// Which positions are graded (graded when any applies).
    public var positions: Set<GradedPositions>
    /// The generated families the domain was built from, in spec order.
    public var families: [String]

    /// Whether position `t` of a sequence of `count` tokens, labelled `label`, is graded.
    public func grades(_ t: Int, count: Int, label: String) -> Bool {
        lengths.contains(count) && positions.contains { $0.includes(t, count: count, label: label) }
    }

    /// Whether every labelled position of every sequence is graded (no `last` or `fired` restriction).
    public var gradesEveryPosition: Bool { positions.contains(.all) }

    /// One domain per distinct prediction rule of `spec`'s generated families, in the order the rules first appear.
    public static func domains(of spec: ExerciseSpec) -> [PredictionDomain] {
        var out: [PredictionDomain] = []
        for family in spec.families {
            guard case .generated(let generator, let plan) = family.source, let rule = plan.predict else { continue }
            let tokens = generator.alphabet
            if let i = out.firstIndex(where: { $0.rule == rule }) {
                out[i].merge(tokens: tokens, lengths: generator.length, positions: plan.positions, family: family.id, vocab: spec.vocab)
            } else {
                var d = PredictionDomain(rule: rule, tokens: [], lengths: generator.length, positions: [plan.positions], families: [])
                d.merge(tokens: tokens, lengths: generator.length, positions: plan.positions, family: family.id, vocab: spec.vocab)
                out.append(d)
            }
        }
        return out
    }

    private mutating func merge(tokens more: [String], lengths range: ClosedRange<Int>, positions p: GradedPositions, family: String, vocab: [String]) {
        let union = Set(tokens).union(more)
        tokens = vocab.filter(union.contains)
        lengths = min(lengths.lowerBound, range.lowerBound)...max(lengths.upperBound, range.upperBound)
        positions.insert(p)
        families.append(family)
    }

    /// The first generated family of `spec` with this rule whose lengths and tokens admit `sequence`, if any.
    public func family(admitting sequence: [String], in spec: ExerciseSpec) -> String? {
        for family in spec.families {
            guard case .generated(let generator, let plan) = family.source, plan.predict == rule,
                generator.length.contains(sequence.count)
            else { continue }
            let allowed = Set(generator.alphabet)
            if sequence.allSatisfy(allowed.contains) { return family.id }
        }
        return nil
    }

    /// "A B C D, lengths 1 to 11" (or "length 11").
    public var frame: String {
        let l = lengths.lowerBound == lengths.upperBound ? "length \(lengths.upperBound)" : "lengths \(lengths.lowerBound) to \(lengths.upperBound)"
        return "\(tokens.joined(separator: " ")), \(l)"
    }
}

/// The ids of the families the domain check adds: `domain` for a spec's first prediction domain, then
/// `domain-2`, `domain-3`… (reserved: a spec may not name a family so).
public enum DomainFamilyID {
    /// The id of domain `index` (0-based).
    public static func id(index: Int) -> String { index == 0 ? "domain" : "domain-\(index + 1)" }

    /// The 0-based domain index `id` names, or nil when it is not a domain family's id.
    public static func index(of id: String) -> Int? {
        if id == "domain" { return 0 }
        guard id.hasPrefix("domain-"), let n = Int(id.dropFirst(7)), n >= 2 else { return nil }
        return n - 1
    }
}

extension SequenceGenerator {
    /// Every token a generated sequence can hold: the fill tokens, the variables' tokens and the planted
    /// literals, without repeats, in order of appearance.
    public var alphabet: [String] {
        var out: [String] = []
        let planted = plants.flatMap(\.pattern).filter { !$0.hasPrefix("$") }
        let variables = plants.flatMap(\.pattern).contains { $0.hasPrefix("$") } ? variableTokens : []
        for t in tokens + variables + planted where !out.contains(t) { out.append(t) }
        return out
    }
}
