/// Which searches beyond the graded families a run adds to each report (see `Probe`).
public struct ProbeSettings: Sendable {
    /// Model evaluations for the adversarial search; 0 turns it off.
    public var adversarialBudget: Int
    /// Verify exhaustively even when the whole space is larger than the spec's `exhaustive_limit`
    /// (then up to the longest length that fits `exhaustiveLimit`).
    public var forceExhaustive: Bool
    /// Overrides the spec's limit on enumerated sequences.
    public var exhaustiveLimit: Int?

    public init(adversarialBudget: Int, forceExhaustive: Bool = false, exhaustiveLimit: Int? = nil) {
        self.adversarialBudget = adversarialBudget
        self.forceExhaustive = forceExhaustive
        self.exhaustiveLimit = exhaustiveLimit
    }

    /// No probes (batch grading).
    public static let none = ProbeSettings(adversarialBudget: 0)
    /// `check`'s default: a small adversarial search, and exhaustive verification where the space is small.
    public static let check = ProbeSettings(adversarialBudget: AdversarialSearch.defaultBudget)

    /// The probes for `model` on `spec`; exercises without a single prediction rule get none.
    public func run(spec: ExerciseSpec, model: Transformer, seed: UInt64) -> [Probe] {
        var out: [Probe] = []
        if let exhaustive = exhaustive(spec: spec, model: model) { out.append(exhaustive) }
        if adversarialBudget > 0, let search = try? AdversarialSearch(spec: spec, model: model, seed: seed, budget: adversarialBudget) {
            let result = search.run()
            out.append(Probe(kind: .adversarial, summary: "adversarial search: " + result.summary, foundFailure: result.foundFailure))
        }
        return out
    }

    private func exhaustive(spec: ExerciseSpec, model: Transformer) -> Probe? {
        guard spec.defaultRule != nil else { return nil }
        let whole = ExhaustiveVerifier.sequenceCount(alphabet: spec.vocab.count, maxLength: spec.maxSequenceLength)
        let limit = exhaustiveLimit ?? (forceExhaustive ? ExhaustiveVerifier.defaultLimit : spec.exhaustiveLimit)
        guard forceExhaustive || whole <= limit else { return nil }
        do {
            let result = try ExhaustiveVerifier(spec: spec, model: model, limit: limit).run()
            let partial = result.maxLength < spec.maxSequenceLength ? " (lengths beyond \(result.maxLength) not enumerated)" : ""
            return Probe(kind: .exhaustive, summary: "exhaustive: " + result.summary + partial, foundFailure: !result.verified)
        } catch {
            return Probe(kind: .exhaustive, summary: "exhaustive: not run: \(error)", foundFailure: false)
        }
    }
}
