import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `explain FILE --sequence "A C A"`: per position, the logits, the prediction and every head's attention row.
package enum ExplainCommand {
    package static func run(_ c: Context) throws -> Int32 {
        let format = try c.args.format(["text", "json"])
        guard c.args.positional.count == 1 else {
            let hint = c.args.positional.count > 1 ? "; quote a sequence with spaces: --sequence \"A B A\"" : ""
            throw GraderError(file: "", "explain needs one submission file, found \(c.args.positional.count)\(hint)")
        }
        guard let text = c.args.options["sequence"] else { throw GraderError(file: "", "explain needs --sequence \"A B A\"") }
        let (submission, spec) = try c.load(c.args.positional[0], catalog: try c.catalog())
        let tokens = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !tokens.isEmpty else { throw GraderError(file: "", location: "--sequence", "the sequence is empty") }
        for t in tokens where !spec.vocab.contains(t) {
            throw GraderError(file: "", location: "--sequence", "\"\(t)\" is not in the vocabulary of \(spec.id) (\(spec.vocab.joined(separator: " ")))")
        }
        guard tokens.count <= spec.maxSequenceLength else {
            throw GraderError(
                file: "", location: "--sequence", "\(plural(tokens.count, "token")) is longer than the \(spec.maxSequenceLength) that \(spec.id) allows")
        }
        let model = try ModelBuilder.build(submission, spec: spec)
        let explanation = Explanation(spec: spec, model: model, tokens: tokens)
        c.output.out(format == "json" ? JSONWriter.write(explanation.json) : explanation.text(colour: c.colour))
        return ExitStatus.success
    }
}
