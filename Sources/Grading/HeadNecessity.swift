import Numerics
import Model
import Formats
import Exercises

/// Which student heads the verdict needs: each head is silenced in turn (its `W_O` set to zero, so it writes
/// nothing) and the behavioural families (explicit and generated cases) are graded again.
///
/// A head is *needed* when some behavioural family that passes with it fails without it. A head that is
/// never needed does no work the families can see ("L1H1 is never needed"); a spec's `necessary_heads`
/// turns that into a graded requirement for composition exercises, where a one-head shortcut must not pass.
public struct HeadNecessity: Equatable, Sendable {
    public var head: HeadRef
    /// Whether silencing the head makes a passing behavioural family fail.
    public var needed: Bool
    /// The first such family.
    public var failingFamily: String?
    /// The head already writes nothing (`W_O` or `W_V` is all zero).
    public var silent: Bool

    /// One line, e.g. "L0H0 needed (family random fails without it)".
    public var summary: String {
        if silent { return "\(head) writes nothing" }
        return needed ? "\(head) needed (family \(failingFamily ?? "?") fails without it)" : "\(head) is never needed"
    }

    /// Probes every head of `model` on `grader`'s behavioural families, against `graded` (the families'
    /// results on `model` itself, in spec order); none when the spec has no behavioural family.
    package static func probe(_ grader: Grader, model: Transformer, graded: [FamilyResult]) -> [HeadNecessity] {
        let behavioural = zip(grader.spec.families, graded).filter { !$0.0.isCheck }
        guard !behavioural.isEmpty else { return [] }
        let baseline = behavioural.map(\.1)
        let families = behavioural.map { (family: $0.0, cases: grader.cases(of: $0.0)) }  // generated once for every head
        var out: [HeadNecessity] = []
        for (l, layer) in model.layers.enumerated() {
            for (h, head) in layer.heads.enumerated() {
                let ref = HeadRef(layer: l, head: h)
                if head.wO.maxAbs == 0 || head.wV.maxAbs == 0 {
                    out.append(HeadNecessity(head: ref, needed: false, failingFamily: nil, silent: true))
                    continue
                }
                let without = grader.behaviouralResults(families, on: model.silencing(ref))
                let broken = zip(baseline, without).first { $0.passed && !$1.passed }
                out.append(HeadNecessity(head: ref, needed: broken != nil, failingFamily: broken?.0.id, silent: false))
            }
        }
        return out
    }

    /// The graded family `necessary-heads` when the spec names heads that must be needed.
    package static func requiredFamily(_ spec: ExerciseSpec, _ heads: [HeadNecessity]) -> [FamilyResult] {
        guard !spec.necessaryHeads.isEmpty else { return [] }
        let missing = spec.necessaryHeads.filter { ref in !heads.contains { $0.head == ref && $0.needed } }
        let passed = missing.isEmpty
        let names = spec.necessaryHeads.map(\.description).joined(separator: ", ")
        let found = missing.map { ref in heads.first { $0.head == ref }?.summary ?? "\(ref) is missing" }.joined(separator: "; ")
        let counterexample =
            passed
            ? nil
            : Counterexample(
                sequence: [], position: nil, what: "check necessary-heads", expected: "each of \(names) needed by some family",
                found: found, margin: nil)
        let total = spec.necessaryHeads.count
        return [
            FamilyResult(
                id: "necessary-heads", title: "every one of \(names) does work the families need", visibility: .visible, points: 1,
                earned: passed ? 1 : 0, passed: passed, total: total, correct: total - missing.count,
                accuracy: Double(total - missing.count) / Double(total), worstMargin: nil, medianMargin: nil, counterexample: counterexample)
        ]
    }
}
