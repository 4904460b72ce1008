import Dispatch
import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch
import CLI

/// `bench [--out FILE]`: in one run, times (1) the batched forward pass against a NumPy implementation of
/// the same forward pass on the same weights and sequences, (2) exhaustive verification with prefix sharing
/// against naive enumeration, (3) `check` of one submission end to end, process start included. Prints the
/// ratios and writes them as JSON to `--out` (default `bench-results.json`). Build with `-c release` first.
package enum BenchCommand {
    /// Sequences in the forward-pass batch.
    package static let batchSize = 4096
    /// Rounds of the forward-pass timing: each round times NumPy, then every Swift variant, `runsPerRound`
    /// runs each, so that both sides meet the same moments of a shared machine; the best run counts.
    package static let forwardRounds = 6
    package static let runsPerRound = 4
    /// Wall-time samples of `check` (the median counts).
    package static let checkRuns = 7

    package static func run(_ c: Context) throws -> Int32 {
        let catalog = try c.catalog()
        let root = c.args.options["root"] ?? "."
        let outPath = c.args.options["out"] ?? "bench-results.json"
        let cores = Cores.active
        c.output.out("circuit-grader bench: \(cores) cores, ratios against references measured in this run\n\n")
        var failed = false
        // `short` (for profilers): the `four` frames to length 8 only, one run each, without the peak loop.
        let short = c.args.positional.contains("short")
        let peak = short ? 1 : machinePeak()
        c.output.out("machine peak: \(rate(peak)) multiply-adds/s (\(cores) cores, 8 chains of SIMD2<Double> a = a * m + c each)\n\n")
        let subject = try benchSubject(catalog, root: root)
        // Positional arguments pick sections: forward, exhaustive (with naive enumeration), walk (the walk's
        // frames alone), four (every causal 4-token reference over lengths 1-11), scaling, check; none runs them all. `proof` adds the whole-domain proof of
        // induction/pos's reference (435 M prefix nodes: minutes), `small` a frame for profilers.
        let sections = Set(c.args.positional)
        func wanted(_ name: String) -> Bool { sections.isEmpty || sections.contains(name) }
        let skipped = object([("skipped", .string("not asked for"))])
        let forwardResult = wanted("forward") ? try forward(subject, root: root, c, peak: peak, failed: &failed) : skipped
        let exhaustiveResult =
            wanted("exhaustive") || !sections.isDisjoint(with: ["walk", "four", "proof", "small"])
            ? try exhaustive(catalog, root: root, c, naive: wanted("exhaustive"), proof: sections.contains("proof"), peak: peak, failed: &failed)
            : skipped
        let scalingResult = wanted("scaling") ? scaling(c) : skipped
        let symmetryResult = sections.contains("symmetry") ? try symmetry(catalog, root: root, c, failed: &failed) : skipped
        let checkResult = wanted("check") ? try check(subject, catalog: catalog, c, failed: &failed) : skipped
        let document = object([
            ("grader_version", .string(graderVersion)),
            ("cores", .number(Double(cores))),
            ("forward", forwardResult),
            ("exhaustive", exhaustiveResult),
            ("check", checkResult),
            ("scaling", scalingResult),
            ("symmetry", symmetryResult),
            ("machine_peak_multiply_adds_per_second", .number(peak)),
            ("peak_rss_bytes", .number(peakResidentBytes())),
        ])
        c.output.out("\npeak RSS \(String(format: "%.1f", peakResidentBytes() / 1_048_576)) MiB\n")
        do { try Data(JSONWriter.write(document).utf8).write(to: URL(fileURLWithPath: outPath)) } catch {
            throw GraderError(file: outPath, "cannot write the benchmark results: \(error.localizedDescription)")
        }
        c.output.out("\nwrote \(outPath)\n")
        return failed ? ExitStatus.failed : ExitStatus.success
    }

    // MARK: - What is measured

    /// An exercise, its reference solution's path and the model built from it.
    struct Subject {
        var spec: ExerciseSpec
        var referencePath: String
        var model: Transformer
    }

    /// The induction exercise's reference if present, else current-token's.
    private static func benchSubject(_ catalog: ExerciseCatalog, root: String) throws -> Subject {
        for id in ["induction-k/learned", "current-token/nopos"] {
            if let subject = try? reference(of: id, catalog, root: root) { return subject }
        }
        throw GraderError(file: catalog.root, "bench needs the exercise induction-k/learned or current-token/nopos with its reference solution")
    }

    static func reference(of id: String, _ catalog: ExerciseCatalog, root: String) throws -> Subject {
        let spec = try catalog.spec(id)
        guard let reference = spec.reference else { throw GraderError(file: spec.file, "\(id) has no reference") }
        let path = reference.hasPrefix("/") ? reference : (root as NSString).appendingPathComponent(reference)
        let model = try ModelBuilder.build(try SubmissionLoader.load(path), spec: spec)
        return Subject(spec: spec, referencePath: path, model: model)
    }

    // MARK: (1) forward pass against NumPy

    /// The same sequences in two ways: one call for the whole batch, and calls of one family's size (the
    /// grader runs a family at a time, 32 to 96 cases); NumPy makes the same calls.
    private static let familySize = 96

    private static func forward(_ subject: Subject, root: String, _ c: Context, peak: Double, failed: inout Bool) throws -> JSONValue {
        let spec = subject.spec
        var random = SeededRandom(seed: Grader.publicSeed, stream: "bench/forward")
        let bos = spec.bosPrefix
        let batch = (0..<batchSize).map { _ in
            bos + (0..<random.int(in: 1...spec.maxSequenceLength)).map { _ in random.int(in: 0...(spec.vocab.count - 1)) }
        }
        c.output.out(
            "forward pass: \(spec.id) reference, \(batchSize) random sequences of 1-\(spec.maxSequenceLength) tokens\(bos.isEmpty ? "" : " after BOS"), best of \(forwardRounds * runsPerRound) runs in \(forwardRounds) alternating rounds\n"
        )
        let numpy = NumPyForward(script: (root as NSString).appendingPathComponent("Tools/bench_forward.py"))
        let unavailable = numpy.unavailableReason()
        if let unavailable { c.output.out("  NumPy reference skipped: \(unavailable)\n") }
        var configurations: [JSONValue] = []
        for size in [nil, familySize] {
            let calls = stride(from: 0, to: batch.count, by: size ?? batch.count).map { Array(batch[$0..<min($0 + (size ?? batch.count), batch.count)]) }
            let label = size.map { "\(calls.count) calls of \($0) (family-sized)" } ?? "one call of \(batch.count)"
            var fields: [(String, JSONValue)] = [("calls", .string(label))]
            var numpyVersion: String? = nil
            if unavailable == nil {
                let run = try numpy.run(subject.model, sequences: batch, runs: 1, batchSize: size)
                let difference = largestRelativeDifference(calls.flatMap { subject.model.forward(batch: $0) }, run.logits)
                fields.append(("max_relative_difference", .number(difference)))
                if difference <= 1e-9 {
                    numpyVersion = run.numpyVersion
                } else {
                    failed = true
                    c.output.out("  \(label): Swift and NumPy logits differ by \(difference) (relative) > 1e-9: no ratio\n")
                }
            }
            // Swift variants: logits only (what NumPy returns, and what the grader runs for prediction
            // families), the same without sharing prefixes between sequences (each computed from its first
            // token, as NumPy does), and full traces (what explain and attention targets need).
            let variants: [(name: String, detail: TraceDetail, sharing: Bool)] = [
                ("logits", .logits, true), ("logits_no_prefix_sharing", .logits, false), ("full_trace", .full, true),
            ]
            for call in calls { _ = subject.model.forward(batch: call) }  // warm-up
            var numpySeconds = Double.infinity
            var swiftSeconds = Array(repeating: Double.infinity, count: variants.count)
            for _ in 0..<forwardRounds {
                if numpyVersion != nil {
                    let run = try numpy.run(subject.model, sequences: batch, runs: runsPerRound, batchSize: size, returningLogits: false)
                    numpySeconds = min(numpySeconds, run.seconds)
                }
                for (v, variant) in variants.enumerated() {
                    swiftSeconds[v] = min(
                        swiftSeconds[v],
                        best(of: runsPerRound) {
                            for call in calls { _ = subject.model.forward(batch: call, detail: variant.detail, sharingPrefixes: variant.sharing) }
                        })
                }
            }
            // Useful work: the dense multiply-adds of every position of the batch (what NumPy computes).
            let positions = Double(batch.reduce(0) { $0 + $1.count })
            let keys =
                subject.model.causal
                ? Double(batch.reduce(0) { $0 + $1.count * ($1.count + 1) / 2 }) / positions : Double(batch.reduce(0) { $0 + $1.count * $1.count }) / positions
            let perPosition = ExhaustiveVerifier.multiplyAdds(model: subject.model, keys: keys)
            for (variant, seconds) in zip(variants, swiftSeconds) {
                let achieved = positions * perPosition / seconds
                fields += [
                    ("swift_\(variant.name)_seconds", .number(seconds)), ("swift_\(variant.name)_multiply_adds_per_second", .number(achieved)),
                    ("swift_\(variant.name)_ratio_to_peak", .number(achieved / peak)),
                ]
            }
            fields.append(("useful_multiply_adds_per_position", .number(perPosition)))
            fields.append(("swift_sequences_per_second", .number(Double(batch.count) / swiftSeconds[0])))
            var line =
                "  \(label): swift \(milliseconds(swiftSeconds[0])) logits only (\(milliseconds(swiftSeconds[1])) without prefix sharing), \(milliseconds(swiftSeconds[2])) full traces"
            if let numpyVersion {
                let ratios = swiftSeconds.map { numpySeconds / $0 }
                fields += [("numpy_version", .string(numpyVersion)), ("numpy_seconds", .number(numpySeconds))]
                for (variant, ratio) in zip(variants, ratios) { fields.append(("ratio_vs_numpy_\(variant.name)", .number(ratio))) }
                fields += [
                    ("target_ratio", .number(10)), ("target_ratio_full_trace", .number(5)),
                    ("meets_target", .bool(ratios[0] >= 10 && ratios[2] >= 5)),
                ]
                line +=
                    "; numpy \(milliseconds(numpySeconds))\n    throughput vs numpy: \(format(ratios[0]))x logits only (target >= 10x), \(format(ratios[1]))x without prefix sharing, \(format(ratios[2]))x full traces (target >= 5x)"
            }
            line +=
                "\n    \(Int(perPosition)) useful multiply-adds per position: \(rate(positions * perPosition / swiftSeconds[0]))/s logits only, \(format(100 * positions * perPosition / swiftSeconds[0] / peak))% of peak"
            c.output.out(line + "\n")
            configurations.append(object(fields))
        }
        var fields: [(String, JSONValue)] = [
            ("exercise", .string(spec.id)), ("sequences", .number(Double(batchSize))),
            ("rounds", .number(Double(forwardRounds))), ("runs_per_round", .number(Double(runsPerRound))),
            ("configurations", .array(configurations)),
        ]
        if let unavailable { fields.append(("numpy_skipped", .string(unavailable))) }
        return object(fields)
    }

    /// `max |swift - numpy| / max(1, |numpy|)` over every logit (infinity on a shape mismatch).
    private static func largestRelativeDifference(_ traces: [ForwardTrace], _ logits: [[[Double]]]) -> Double {
        guard traces.count == logits.count else { return .infinity }
        var worst = 0.0
        for (trace, rows) in zip(traces, logits) {
            guard rows.count == trace.logits.rows else { return .infinity }
            for (i, row) in rows.enumerated() {
                guard row.count == trace.logits.columns else { return .infinity }
                for (j, expected) in row.enumerated() {
                    let d = abs(trace.logits[i, j] - expected) / max(1, abs(expected))
                    worst = d.isNaN ? .infinity : max(worst, d)
                }
            }
        }
        return worst
    }

    // MARK: (2) exhaustive verification, prefix sharing against naive

    /// One exhaustive frame timed: an exercise's reference over some tokens and lengths.
    private struct Frame {
        var name: String
        var subject: Subject
        var tokens: [String]
        var maxLength: Int
        var runs: Int
    }

    private static func exhaustive(
        _ catalog: ExerciseCatalog, root: String, _ c: Context, naive: Bool, proof: Bool, peak: Double, failed: inout Bool
    ) throws -> JSONValue {
        var rows: [JSONValue] = []
        // (a) the frame of earlier benches, with naive enumeration for the ratio and the agreement check.
        if naive, let (subject, tokens, frame) = exhaustiveFrame(catalog, root: root) {
            let verifier = try ExhaustiveVerifier(spec: subject.spec, model: subject.model, maxLength: 8, tokens: tokens)
            c.output.out("exhaustive: \(frame), lengths 1-8, \(verifier.sequenceCount) sequences, prefix sharing best of 5 runs, naive best of 2\n")
            var prefixResult = verifier.run()
            let prefixSeconds = best(of: 5) { prefixResult = verifier.run() }
            var naiveResult = prefixResult
            let naiveSeconds = best(of: 2) { naiveResult = verifier.runNaive() }
            let agree = naiveResult == prefixResult
            if !agree { failed = true }
            let ratio = naiveSeconds / prefixSeconds
            let nodes = Double(verifier.sequenceCount)
            c.output.out("  \(prefixResult.summary)\n")
            c.output.out(
                "  prefix sharing \(seconds(prefixSeconds)) (\(rate(nodes / prefixSeconds)) positions/s)   naive \(seconds(naiveSeconds))   naive/prefix \(format(ratio))x (target >= 4x)\(agree ? "" : "   RESULTS DIFFER")\n"
            )
            rows.append(
                object([
                    ("frame", .string(frame)), ("exercise", .string(subject.spec.id)), ("tokens", .array(tokens.map(JSONValue.string))),
                    ("max_length", .number(8)), ("sequences", .number(Double(prefixResult.sequences))),
                    ("positions", .number(Double(prefixResult.positions))), ("verified", .bool(prefixResult.verified)),
                    ("summary", .string(prefixResult.summary)), ("naive_equals_prefix", .bool(agree)),
                    ("prefix_seconds", .number(prefixSeconds)), ("naive_seconds", .number(naiveSeconds)),
                    ("new_positions_per_second", .number(nodes / prefixSeconds)),
                    ("ratio_naive_over_prefix", .number(ratio)), ("target_ratio", .number(4)), ("meets_target", .bool(ratio >= 4)),
                ]))
        } else if naive {
            c.output.out("exhaustive: no induction exercise with a reference and at least 5 tokens\n")
        }
        // (b) larger frames, prefix sharing only: new positions (prefix nodes) per second.
        var frames: [Frame] = []
        if c.args.positional.contains("small"), let subject = try? reference(of: "induction/pos", catalog, root: root) {
            let length = try length(c, default: 6)
            frames.append(
                Frame(
                    name: "induction/pos reference, 6 tokens, lengths 1-\(length) (for profilers)", subject: subject, tokens: subject.spec.vocab,
                    maxLength: length, runs: 1)
            )
            return .array(try exhaustiveFrames(frames, c, peak: peak, failed: &failed))
        }
        if c.args.positional.contains("four") {
            // Every 4-token exercise with at most 11 slots, mask or not: the default `check` must prove them.
            let only = c.args.options["exercise"]
            // (`--exercise ID` also takes a longer 4-token exercise, walked to length 11.)
            for spec in catalog.specs
            where spec.vocab.count == 4 && (spec.maxSequenceLength <= 11 || only == spec.id) && spec.defaultRule != nil && (only ?? spec.id) == spec.id {
                guard let subject = try? reference(of: spec.id, catalog, root: root) else { continue }
                let length = c.args.positional.contains("short") ? try length(c, default: 8) : 11
                frames.append(
                    Frame(
                        name: "\(spec.id) reference, 4 tokens, lengths 1-\(length)", subject: subject, tokens: spec.vocab, maxLength: length,
                        runs: length == 11 ? 3 : 1))
            }
            return .array(try exhaustiveFrames(frames, c, peak: peak, failed: &failed))
        }
        if let subject = try? reference(of: "previous-token/nopos", catalog, root: root) {
            frames.append(
                Frame(name: "previous-token/nopos reference, 4 tokens, lengths 1-11", subject: subject, tokens: subject.spec.vocab, maxLength: 11, runs: 3))
        }
        if let subject = try? reference(of: "induction/pos", catalog, root: root) {
            frames.append(
                Frame(
                    name: "induction/pos reference (the induction frame), 6 tokens, lengths 1-8", subject: subject, tokens: subject.spec.vocab, maxLength: 8,
                    runs: 3))
            if !proof {
                let estimate = ExhaustiveVerifier.estimatedSeconds(spec: subject.spec, model: subject.model, maxLength: 11)
                c.output.out(
                    "exhaustive: whole-domain proof of induction/pos's reference (lengths 1-11) skipped, estimated \(seconds(estimate)); `bench proof` runs it\n"
                )
            } else {
                frames.append(
                    Frame(
                        name: "whole-domain proof of induction/pos's reference, 6 tokens, lengths 1-11", subject: subject, tokens: subject.spec.vocab,
                        maxLength: 11, runs: 1))
            }
        }
        return .array(rows + (try exhaustiveFrames(frames, c, peak: peak, failed: &failed)))
    }

    /// Times `frames`: new positions (prefix nodes) per second of `run()`.
    private static func exhaustiveFrames(_ frames: [Frame], _ c: Context, peak: Double, failed: inout Bool) throws -> [JSONValue] {
        var rows: [JSONValue] = []
        for frame in frames {
            let verifier = try ExhaustiveVerifier(
                spec: frame.subject.spec, model: frame.subject.model, maxLength: frame.maxLength, limit: Int.max, tokens: frame.tokens)
            let estimate = ExhaustiveVerifier.estimatedSeconds(
                spec: frame.subject.spec, model: frame.subject.model, maxLength: frame.maxLength, tokens: frame.tokens)
            let nodes = Double(ExhaustiveVerifier.sequenceCount(alphabet: frame.tokens.count, maxLength: frame.maxLength))
            c.output.out("exhaustive: \(frame.name), \(Int(nodes)) prefix nodes, best of \(frame.runs) (estimate \(seconds(estimate)))\n")
            // Timed through PrefixWalk.counting (what `run()` calls), which also gives the work the walk counted.
            // Alternating with the same walk without sibling lanes (Model/SiblingLanes.swift), for their ratio in
            // the same minutes; the two results must be equal.
            // (A frame timed once, such as the whole-domain proof, is not warmed up first: it takes minutes.)
            // These walks visit every sequence (no token symmetry): the rate is of positions computed. The walk under
            // the frame's token symmetry (TokenSymmetry.swift), timed after them, must give the same result.
            var counted: (result: ExhaustiveResult?, work: Double) = (nil, 0), scalar = counted
            var time = Double.infinity, scalarTime = Double.infinity, symmetricTime = Double.infinity
            if frame.runs > 1 { counted = PrefixWalk(verifier, symmetric: false).counting() }
            for _ in 0..<frame.runs {
                time = min(time, best(of: 1) { counted = PrefixWalk(verifier, symmetric: false).counting() })
                if frame.runs > 1 {
                    scalarTime = min(scalarTime, best(of: 1) { scalar = PrefixWalk(verifier, lanes: .never, symmetric: false).counting() })
                }
            }
            guard let result = counted.result else { throw GraderError(file: "", "the walk of \(frame.name) gave no result") }
            if frame.runs > 1 {
                let agree = scalar.result == result && scalar.work == counted.work
                let ratio = format(scalarTime / time)
                c.output.out("  without sibling lanes \(seconds(scalarTime)): the lanes \(ratio)x faster\(agree ? "" : "   RESULTS DIFFER")\n")
            }
            let symmetricWalk = PrefixWalk(verifier)
            var symmetric: ExhaustiveResult?
            for _ in 0..<max(3, frame.runs) { symmetricTime = min(symmetricTime, best(of: 1) { symmetric = symmetricWalk.run() }) }
            if let group = symmetricWalk.symmetry {
                let walked = group.representatives(maxLength: frame.maxLength).reduce(0, +)
                let agree = symmetric?.isIdentical(to: result) ?? false
                if !agree { failed = true }
                c.output.out(
                    "  under its \(group.elements.count) token relabellings: \(Int(walked)) nodes walked in \(seconds(symmetricTime)) "
                        + "(\(format(time / symmetricTime))x faster; every sequence's positions graded at \(rate(nodes / symmetricTime))/s)"
                        + (agree ? ", the same result bit for bit" : "   RESULTS DIFFER") + "\n")
            }
            let work = counted.work
            // Positions computed: one per prefix node with the mask; every position of every node without.
            let offset = frame.subject.spec.bos == nil ? 0 : 1, causal = frame.subject.model.causal
            var keys = 0.0, positions = 0.0, power = 1.0
            for k in 1...frame.maxLength {
                power *= Double(frame.tokens.count)
                positions += causal ? power : power * Double(k + offset)
                keys += (causal ? power : power * Double(k + offset)) * Double(k + offset)
            }
            let perPosition = ExhaustiveVerifier.multiplyAdds(model: frame.subject.model, keys: keys / positions)
            let achieved = positions * perPosition / time
            let least = ExhaustiveVerifier.leastSeconds(
                spec: frame.subject.spec, model: frame.subject.model, maxLength: frame.maxLength, tokens: frame.tokens)
            c.output.out(
                "  \(result.summary)\n  \(seconds(time)): \(rate(positions / time)) positions/s (target >= 20 M/s on the induction frame); "
                    + "\(Int(perPosition)) useful multiply-adds per position, \(rate(achieved))/s, \(format(100 * achieved / peak))% of peak\n"
                    + "  work counted \(rate(work)) units, \(rate(work / time)) units/s (nominal \(rate(ExhaustiveVerifier.nominalWalkRate))); "
                    + "the cost model (one sequence per orbit under a symmetry): \(seconds(least)) at least, \(seconds(estimate)) at most\n")
            rows.append(
                object([
                    ("frame", .string(frame.name)), ("exercise", .string(frame.subject.spec.id)),
                    ("tokens", .array(frame.tokens.map(JSONValue.string))), ("max_length", .number(Double(frame.maxLength))),
                    ("prefix_nodes", .number(nodes)), ("sequences", .number(Double(result.sequences))),
                    ("positions", .number(Double(result.positions))), ("verified", .bool(result.verified)),
                    ("summary", .string(result.summary)), ("seconds", .number(time)), ("estimated_seconds", .number(estimate)),
                    ("positions_per_second", .number(positions / time)), ("work_units", .number(work)),
                    ("least_estimated_seconds", .number(least)), ("useful_multiply_adds_per_position", .number(perPosition)),
                    ("multiply_adds_per_second", .number(achieved)), ("ratio_to_peak", .number(achieved / peak)),
                    ("symmetric_seconds", .number(symmetricTime)),
                ]))
        }
        return rows
    }

    /// An induction exercise with a reference over 5 tokens: one whose vocabulary has exactly 5 if there is
    /// one, else the first 5 tokens of one with more (the frame is then made here, and says so).
    private static func exhaustiveFrame(_ catalog: ExerciseCatalog, root: String) -> (Subject, [String], String)? {
        let induction = catalog.specs.filter { spec in
            if case .induction = spec.defaultRule { return spec.causal && spec.maxSequenceLength >= 8 && spec.vocab.count >= 5 }
            return false
        }
        let ordered = induction.filter { $0.vocab.count == 5 } + induction.filter { $0.id == "induction-k/learned" } + induction
        for spec in ordered {
            guard let subject = try? reference(of: spec.id, catalog, root: root) else { continue }
            let tokens = Array(spec.vocab.prefix(5))
            let frame =
                spec.vocab.count == 5
                ? "\(spec.id) reference over its 5 tokens"
                : "\(spec.id) reference over \(tokens.joined(separator: " ")) (frame made in code: 5 of its \(spec.vocab.count) tokens)"
            return (subject, tokens, frame)
        }
        return nil
    }

    // MARK: (3) check end to end

    private static func check(_ subject: Subject, catalog: ExerciseCatalog, _ c: Context, failed: inout Bool) throws -> JSONValue {
        // The grader built beside this bench (the same `.build/<configuration>/` folder).
        let bench = Bundle.main.executablePath ?? CommandLine.arguments.first ?? ""
        let executable = URL(fileURLWithPath: bench).deletingLastPathComponent().appendingPathComponent("circuit-grader").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            let reason = "no circuit-grader executable beside the bench (\(executable)); build both with swift build -c release"
            c.output.out("check: skipped, \(reason)\n")
            return object([("skipped", .string(reason))])
        }
        let arguments = ["check", subject.referencePath, "--exercises", catalog.root]
        c.output.out("check: circuit-grader \(arguments.joined(separator: " ")), median wall time of \(checkRuns), process start included\n")
        _ = try ChildProcess.run(executable, arguments, discardOutput: true)  // warm-up (page cache)
        var checkTimes: [Double] = [], startTimes: [Double] = []
        var status: Int32 = 0
        for _ in 0..<checkRuns {
            let outcome = try ChildProcess.run(executable, arguments, discardOutput: true)
            status = max(status, outcome.status)
            checkTimes.append(outcome.seconds)
            startTimes.append(try ChildProcess.run(executable, ["version"], discardOutput: true).seconds)
        }
        let checkSeconds = median(checkTimes), startSeconds = median(startTimes)
        if status != 0 { failed = true }
        c.output.out(
            "  \(seconds(checkSeconds)) (target < 0.3 s: \(format(checkSeconds / 0.3)) of it)   "
                + "process start alone (version) \(seconds(startSeconds)), check/start \(format(checkSeconds / startSeconds))x"
                + (status == 0 ? "\n" : "   check exited \(status)\n"))
        return object([
            ("arguments", .array(arguments.map(JSONValue.string))), ("exit_status", .number(Double(status))),
            ("check_seconds", .number(checkSeconds)), ("process_start_seconds", .number(startSeconds)),
            ("ratio_check_over_process_start", .number(checkSeconds / startSeconds)),
            ("target_seconds", .number(0.3)), ("ratio_to_target", .number(checkSeconds / 0.3)),
            ("meets_target", .bool(checkSeconds < 0.3)),
        ])
    }

    // MARK: (4) the machine's peak, and how the walk scales

    /// Multiply-adds per second of a loop with no memory traffic on every core: 8 independent chains of
    /// `a = a * m + c` over SIMD2<Double> (what the compiler emits without target flags), best of 3.
    private static func machinePeak() -> Double {
        let iterations = 4_000_000, cores = Cores.active
        let sinks = UnsafeSendableBox<Double>(count: cores)
        let time = best(of: 3) {
            DispatchQueue.concurrentPerform(iterations: cores) { core in
                let m = SIMD2<Double>(repeating: 0.999_999_9), c = SIMD2<Double>(repeating: 1e-7)
                var a0 = SIMD2<Double>(1, 2), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7
                for _ in 0..<iterations {
                    a0 = a0 * m + c
                    a1 = a1 * m + c
                    a2 = a2 * m + c
                    a3 = a3 * m + c
                    a4 = a4 * m + c
                    a5 = a5 * m + c
                    a6 = a6 * m + c
                    a7 = a7 * m + c
                }
                let total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
                sinks.set(core, total.sum())
            }
        }
        _ = sinks.values
        return Double(cores * iterations * 8 * 2) / time
    }

    /// The process's peak resident set, in bytes (getrusage).
    private static func peakResidentBytes() -> Double {
        var usage = rusage()
        #if os(Linux)
            guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .nan }
            return Double(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
            guard getrusage(RUSAGE_SELF, &usage) == 0 else { return .nan }
            return Double(usage.ru_maxrss)  // bytes on Darwin
        #endif
    }

    /// How the walk's time per new position grows with the vocabulary, the length, the heads and the layers:
    /// random sparse models (d_model 16, d_head 4), every prefix walked with the walk's forward pass.
    private static func scaling(_ c: Context) -> JSONValue {
        c.output.out("scaling: the walk's forward pass over every prefix, random half-zero models, d_model 16, d_head 4\n")
        c.output.out("  vocab length heads layers      nodes   ns/position   in sibling lanes\n")
        let base = (vocab: 4, length: 8, heads: 1, layers: 2)
        var configurations = [base]
        for vocab in [2, 6] { configurations.append((vocab, base.length, base.heads, base.layers)) }
        for length in [6, 10] { configurations.append((base.vocab, length, base.heads, base.layers)) }
        for heads in [2, 4] { configurations.append((base.vocab, base.length, heads, base.layers)) }
        for layers in [1, 3] { configurations.append((base.vocab, base.length, base.heads, layers)) }
        var rows: [JSONValue] = []
        for (vocab, length, heads, layers) in configurations {
            let model = scalingModel(vocab: vocab, length: length, heads: heads, layers: layers)
            let nodes = ExhaustiveVerifier.sequenceCount(alphabet: vocab, maxLength: length)
            var time = Double.infinity, laneTime = Double.infinity
            for _ in 0..<2 {
                time = min(time, best(of: 1) { walkEveryPrefix(model, alphabet: vocab, maxLength: length, lanes: false) })
                laneTime = min(laneTime, best(of: 1) { walkEveryPrefix(model, alphabet: vocab, maxLength: length, lanes: true) })
            }
            let perPosition = time / Double(nodes) * 1e9, perLanePosition = laneTime / Double(nodes) * 1e9
            c.output.out(String(format: "  %5d %6d %5d %6d %10d %13.1f %18.1f\n", vocab, length, heads, layers, nodes, perPosition, perLanePosition))
            rows.append(
                object([
                    ("vocab", .number(Double(vocab))), ("length", .number(Double(length))), ("heads", .number(Double(heads))),
                    ("layers", .number(Double(layers))), ("nodes", .number(Double(nodes))), ("seconds", .number(time)),
                    ("nanoseconds_per_position", .number(perPosition)), ("nanoseconds_per_position_in_lanes", .number(perLanePosition)),
                ]))
        }
        return .array(rows)
    }

    /// A random causal model with learned positions: half its weights exactly zero, the rest in [-1, 1].
    private static func scalingModel(vocab: Int, length: Int, heads: Int, layers: Int) -> Transformer {
        var random = SeededRandom(seed: 13, stream: "bench/scaling/\(vocab)/\(length)/\(heads)/\(layers)")
        let d = 16, dHead = 4
        func matrix(_ rows: Int, _ columns: Int) -> Matrix {
            Matrix(
                rows: rows, columns: columns,
                values: (0..<(rows * columns)).map { _ in random.int(in: 0...1) == 0 ? 0 : Double(random.int(in: -100...100)) / 100 })
        }
        let blocks = (0..<layers).map { _ in
            AttentionLayer(
                heads: (0..<heads).map { _ in AttentionHead(wQ: matrix(d, dHead), wK: matrix(d, dHead), wV: matrix(d, dHead), wO: matrix(dHead, d)) },
                bO: Array(repeating: 0, count: d))
        }
        return Transformer(
            wE: matrix(vocab, d), wPos: matrix(length, d), wU: matrix(d, vocab), bU: Array(repeating: 0, count: vocab),
            layers: blocks, positional: .learned, causal: true, attentionScale: 0.5)
    }

    /// Every prefix of every sequence over `alphabet` tokens up to `maxLength`, depth first, on one core; with
    /// `lanes`, the children of each node computed together (Model/SiblingLanes.swift).
    private static func walkEveryPrefix(_ model: Transformer, alphabet: Int, maxLength: Int, lanes: Bool) {
        let forward = WalkForward(FirstLayerTables(PackedModel(model), capacity: maxLength, tokens: Array(0..<alphabet)))
        let tokens = Array(0..<alphabet)
        var next = [0], inLanes = [false]
        while let child = next.last {
            if child == alphabet || forward.count == maxLength {
                next.removeLast()
                inLanes.removeLast()
                if forward.count > 0 { forward.truncate(to: forward.count - 1) }
                continue
            }
            next[next.count - 1] = child + 1
            if lanes && child == 0 && alphabet <= SiblingStore.lanes {
                inLanes[inLanes.count - 1] = tokens.withUnsafeBufferPointer { $0.baseAddress.map { forward.pushSiblings($0, alphabet) } ?? false }
            }
            if inLanes[inLanes.count - 1] {
                forward.takeSibling(child, logits: true, keys: forward.count + 1 < maxLength)
            } else {
                forward.push(child)
            }
            next.append(0)
            inLanes.append(false)
        }
    }

    // MARK: - Helpers

    /// `--length N` (a walk's longest sequence, 1 to 15), or `fallback`.
    static func length(_ c: Context, default fallback: Int) throws -> Int {
        guard let text = c.args.options["length"] else { return fallback }
        guard let n = Int(text), (1...15).contains(n) else { throw GraderError(file: "", "--length expects a whole number from 1 to 15, got '\(text)'") }
        return n
    }

    /// The shortest wall time of `runs` runs of `body`, in seconds.
    static func best(of runs: Int, _ body: () -> Void) -> Double {
        var shortest = Double.infinity
        for _ in 0..<max(1, runs) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            shortest = min(shortest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return shortest
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[(sorted.count - 1) / 2]
    }

    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { ($0.0, $0.1, 0) }))
    }

    static func format(_ x: Double) -> String { String(format: "%.2f", x) }
    private static func milliseconds(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }
    static func seconds(_ s: Double) -> String { String(format: "%.3f s", s) }
    static func rate(_ r: Double) -> String { String(format: "%.2f M", r / 1e6) }
}
