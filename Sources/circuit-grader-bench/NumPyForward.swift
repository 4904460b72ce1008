import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch
import CLI

/// The NumPy side of `bench`: runs `Tools/bench_forward.py` on the same weights and sequences as the Swift
/// forward pass and reads back its logits (`[sequence][position][output]`) and its best time per run.
package struct NumPyForward {
    /// The script's path.
    package let script: String

    /// What the script reported.
    package struct Run {
        package var numpyVersion: String
        /// Best wall time of one run over every sequence, in seconds.
        package var seconds: Double
        /// `logits[s]` is `[T_s][nOutputs]`.
        package var logits: [[[Double]]]
    }

    /// Why the NumPy reference cannot run here (no script, no python3, no numpy), or nil when it can.
    package func unavailableReason() -> String? {
        guard FileManager.default.fileExists(atPath: script) else { return "\(script) not found" }
        let probe = try? ChildProcess.run("/usr/bin/env", ["python3", "-c", "import numpy"])
        guard let probe else { return "/usr/bin/env could not be started" }
        if probe.status == 0 { return nil }
        let detail = String(decoding: probe.stderr, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return "python3 with numpy is not available (\(detail.isEmpty ? "exit status \(probe.status)" : detail))"
    }

    /// Runs the script `runs` times over `sequences` (token indices, BOS included) on `model`, in calls of
    /// `batchSize` consecutive sequences (one call for all when nil); the logits come back only when
    /// `returningLogits` (otherwise `logits` is empty: timing rounds skip the output).
    package func run(_ model: Transformer, sequences: [[Int]], runs: Int, batchSize: Int?, returningLogits: Bool = true) throws -> Run {
        let input = FileManager.default.temporaryDirectory
            .appendingPathComponent("circuit-grader-bench-\(ProcessInfo.processInfo.processIdentifier).json")
        defer { try? FileManager.default.removeItem(at: input) }
        let document = JSONValue.object(
            JSONObject([
                ("model", Self.json(model), 0),
                ("sequences", .array(sequences.map { .array($0.map { .number(Double($0)) }) }), 0),
                ("runs", .number(Double(runs)), 0),
                ("batch_size", batchSize.map { .number(Double($0)) } ?? .null, 0),
                ("emit_logits", .bool(returningLogits), 0),
            ]))
        do { try Data(JSONWriter.write(document, pretty: false).utf8).write(to: input) } catch {
            throw GraderError(file: input.path, "cannot write the benchmark input: \(error.localizedDescription)")
        }
        let outcome = try ChildProcess.run("/usr/bin/env", ["python3", script, input.path])
        guard outcome.status == 0 else {
            throw GraderError(file: script, "exited with status \(outcome.status): \(String(decoding: outcome.stderr, as: UTF8.self))")
        }
        let root = try JSONParser.parse([UInt8](outcome.stdout), file: script)
        guard let object = root.object, let seconds = object["seconds"]?.number,
            let rows = object["logits"]?.array, rows.count == (returningLogits ? sequences.count : 0)
        else {
            throw GraderError(file: script, "expected {\"seconds\", \"logits\"} with one entry per sequence")
        }
        let logits = try rows.map { sequence in
            try (sequence.array ?? []).map { position in
                try (position.array ?? []).map { value in
                    guard let number = value.number else { throw GraderError(file: script, "a logit is not a number") }
                    return number
                }
            }
        }
        return Run(numpyVersion: object["numpy"]?.string ?? "?", seconds: seconds, logits: logits)
    }

    /// The model as the script reads it (TransformerLens names, row-vector convention).
    package static func json(_ model: Transformer) -> JSONValue {
        func matrix(_ m: Matrix) -> JSONValue { .array(m.nested.map { .array($0.map(JSONValue.number)) }) }
        func vector(_ v: [Double]) -> JSONValue { .array(v.map(JSONValue.number)) }
        func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(members.map { ($0.0, $0.1, 0) })) }
        return object([
            ("W_E", matrix(model.wE)),
            ("W_pos", model.wPos.map(matrix) ?? .null),
            ("positional", .string(model.positional.rawValue)),
            ("causal", .bool(model.causal)),
            ("attention_scale", .number(model.attentionScale)),
            ("W_U", matrix(model.wU)),
            ("b_U", vector(model.bU)),
            (
                "layers",
                .array(
                    model.layers.map { layer in
                        object([
                            ("b_O", vector(layer.bO)),
                            (
                                "heads",
                                .array(
                                    layer.heads.map { head in
                                        object([
                                            ("W_Q", matrix(head.wQ)), ("W_K", matrix(head.wK)), ("W_V", matrix(head.wV)),
                                            ("W_O", matrix(head.wO)), ("b_Q", vector(head.bQ)), ("b_K", vector(head.bK)),
                                            ("b_V", vector(head.bV)),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
        ])
    }
}
