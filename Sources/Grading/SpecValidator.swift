import Foundation
import Numerics
import Model
import Formats
import Exercises

/// The checks `validate` adds to parsing: hand-written labels agree with the rule, every head named by a
/// target exists within the limits, and the reference solution passes every family.
public enum SpecValidator {
    /// Validates `spec`; `root` is the folder `spec.reference` is relative to. Returns a one-line summary.
    public static func validate(_ spec: ExerciseSpec, root: String, seeds: [UInt64] = [Grader.publicSeed, 1, 99]) throws -> String {
        for family in spec.families { try checkFamily(family, spec: spec) }
        guard let reference = spec.reference else {
            if spec.isExploratory { return "exploratory, no reference" }
            throw GraderError(file: spec.file, location: "reference", "a graded exercise needs a reference solution that proves it solvable")
        }
        let path = reference.hasPrefix("/") ? reference : (root as NSString).appendingPathComponent(reference)
        let submission = try SubmissionLoader.load(path)
        if let named = submission.exercise, named != spec.id {
            throw GraderError(file: path, location: "exercise", "the reference names \"\(named)\" but is the reference of \"\(spec.id)\"")
        }
        let model = try ModelBuilder.build(submission, spec: spec)
        var worst: Double = 1
        for (i, seed) in seeds.enumerated() {
            // The domain check does not depend on the seed: it runs once.
            let report = Grader(spec: spec, seed: seed, domain: i == 0 ? .standard : .familiesOnly).grade(model, submission: submission)
            if let failing = report.families.first(where: { !$0.passed }), !spec.isExploratory {
                var detail = failing.counterexample.map(\.summary) ?? ""
                let minMargin = spec.families.first { $0.id == failing.id }?.minMargin ?? 0
                if let m = failing.counterexample?.margin, m > 0, m < minMargin {
                    detail += " — correct, but below the family's min_margin of \(NumberText.exact(minMargin))"
                }
                throw GraderError(
                    file: spec.file, location: "reference",
                    "the reference \(reference) fails family \"\(failing.id)\" with seed \(seed): \(detail)")
            }
            worst = min(worst, report.families.compactMap(\.worstMargin).min() ?? 1)
        }
        if spec.isExploratory { return "exploratory; reference graded" }
        return
            "reference passes all \(spec.families.count) families on seeds \(seeds.map(String.init).joined(separator: ", ")) (worst margin \(NumberText.rounded(worst)))"
    }

    private static func checkFamily(_ family: ExerciseSpec.Family, spec: ExerciseSpec) throws {
        let location = "families.\(family.id)"
        func checkHead(_ head: HeadRef) throws {
            guard head.layer < spec.limits.layers, head.head < spec.limits.headsPerLayer else {
                throw GraderError(
                    file: spec.file, location: location,
                    "names head \(head), beyond the limits (\(spec.limits.layers) layers × \(spec.limits.headsPerLayer) heads)")
            }
        }
        switch family.source {
        case .explicit(let cases):
            for c in cases {
                for target in c.targets {
                    if case .attention(let head, _, _, _, _, _) = target { try checkHead(head) }
                }
            }
            try checkLabels(cases, family: family, spec: spec)
        case .generated(_, let plan):
            for a in plan.attention { try checkHead(a.head) }
            if Grader(spec: spec).cases(of: family).allSatisfy(\.targets.isEmpty) {
                throw GraderError(
                    file: spec.file, location: location,
                    "no generated sequence has a graded target (check the rule, \"positions\" and the tokens)")
            }
        case .circuits(let checks):
            for check in checks { for f in check.product { try checkHead(f.head) } }
        case .questions:
            break
        }
    }

    /// Explicit `predict` labels must agree with the spec's rule wherever the rule gives a label.
    private static func checkLabels(_ cases: [GradingCase], family: ExerciseSpec.Family, spec: ExerciseSpec) throws {
        guard let rule = spec.defaultRule else { return }
        for (i, c) in cases.enumerated() {
            let labels = rule.labels(c.tokens)
            for target in c.targets {
                guard case .predict(let p, let expected) = target, let label = labels[p], label != expected else { continue }
                throw GraderError(
                    file: spec.file, location: "families.\(family.id).cases[\(i)]",
                    "position \(p) of \"\(c.tokens.joined(separator: " "))\" is labelled \(expected) but the exercise's rule gives \(label)")
            }
        }
    }
}
