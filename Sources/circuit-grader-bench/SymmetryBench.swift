import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import CLI

extension BenchCommand {
    /// `bench symmetry [--exercise ID] [--length N]`: every bundled reference with one rule and a token symmetry
    /// (Grading/TokenSymmetry.swift), its whole domain (or lengths up to N) walked twice: one sequence per orbit,
    /// and every sequence. The two results must be equal, margins bit for bit (else the run fails); the times
    /// give the symmetry's speed-up, measured in the same minutes.
    static func symmetry(_ catalog: ExerciseCatalog, root: String, _ c: Context, failed: inout Bool) throws -> JSONValue {
        var rows: [JSONValue] = []
        let cap = c.args.options["length"] == nil ? nil : try length(c, default: 15)
        for id in catalog.specs.map(\.id) where c.args.options["exercise"].map({ $0 == id }) ?? true {
            guard let subject = try? reference(of: id, catalog, root: root), subject.spec.defaultRule != nil else { continue }
            let longest = min(cap ?? Int.max, subject.spec.maxSequenceLength)
            let verifier = try ExhaustiveVerifier(spec: subject.spec, model: subject.model, maxLength: longest, limit: Int.max)
            let walk = PrefixWalk(verifier)
            guard let symmetry = walk.symmetry else {
                c.output.out("symmetry: \(id): no token symmetry found, skipped\n")
                continue
            }
            let visited = symmetry.representatives(maxLength: longest).reduce(0, +)
            var reduced: ExhaustiveResult?, plain: ExhaustiveResult?
            let reducedTime = best(of: 1) { reduced = walk.run() }
            let plainTime = best(of: 1) { plain = PrefixWalk(verifier, symmetric: false).run() }
            let agree = reduced.map { r in plain.map(r.isIdentical) ?? false } ?? false
            if !agree { failed = true }
            c.output.out(
                "symmetry: \(id), lengths 1-\(longest), \(symmetry.elements.count) relabellings: \(Int(visited)) of \(verifier.sequenceCount) "
                    + "sequences walked in \(seconds(reducedTime)), every sequence in \(seconds(plainTime)) (\(format(plainTime / reducedTime))x)"
                    + (agree ? ", results equal bit for bit" : ", RESULTS DIFFER") + "\n  \(plain?.summary ?? "no result")\n")
            rows.append(
                object([
                    ("exercise", .string(id)), ("max_length", .number(Double(longest))), ("relabellings", .number(Double(symmetry.elements.count))),
                    ("sequences", .number(Double(verifier.sequenceCount))), ("walked", .number(visited)),
                    ("symmetric_seconds", .number(reducedTime)), ("plain_seconds", .number(plainTime)), ("equal", .bool(agree)),
                ]))
        }
        return .array(rows)
    }
}
