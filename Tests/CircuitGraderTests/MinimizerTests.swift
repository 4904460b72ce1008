import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

/// The shortened counterexample still fails, and no shorter subsequence of the original (ending in the
/// same query token) fails: checked by an independent bitmask enumeration.
struct MinimizerTests {
    @Test func subsetsAreAllSubsetsInOrder() {
        #expect(CounterexampleMinimizer.subsets(of: 4, size: 2) == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])
        #expect(CounterexampleMinimizer.subsets(of: 3, size: 0) == [[]])
        #expect(CounterexampleMinimizer.subsets(of: 5, size: 3).count == 10)
    }

    @Test func minimizedCounterexamplesFailAndNoShorterSubsequenceDoes() throws {
        var checked = 0
        for path in repoFiles("submissions/examples", suffix: ".json") {
            let (submission, spec, model) = try loadModel(path)
            guard spec.causal else { continue }
            let grader = Grader(spec: spec)
            for family in grader.grade(model, submission: submission).families {
                guard let c = family.counterexample, let short = c.minimized, let p = c.position, let q = short.position,
                    let rule = spec.families.first(where: { $0.id == family.id })?.rule ?? spec.defaultRule
                else { continue }
                func fails(_ tokens: [String], _ at: Int) -> Bool {
                    guard let label = rule.label(tokens, at: at) else { return false }
                    let r = grader.evaluate([GradingCase(tokens: tokens, targets: [.predict(position: at, expected: label)])], on: model)
                    return r.first?.correct == false
                }
                #expect(fails(short.sequence, q), "\(path) \(family.id): the shortened sequence must still fail")
                #expect(short.sequence.count < c.sequence.count)
                // Brute force: every subset of the tokens before p, by bitmask, keeping the query token.
                let earlier = Array(c.sequence[..<p])
                guard earlier.count <= 12 else { continue }
                var shortest = Int.max
                for mask in 0..<(1 << earlier.count) {
                    let kept = earlier.indices.filter { mask & (1 << $0) != 0 }.map { earlier[$0] }
                    if kept.count + 1 < shortest, fails(kept + [c.sequence[p]], kept.count) { shortest = kept.count + 1 }
                }
                #expect(short.sequence.count == shortest, "\(path) \(family.id): minimiser gave \(short.sequence), brute force \(shortest)")
                checked += 1
            }
        }
        #expect(checked >= 3)
    }
}
