import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `explain FILE --sequence "A C A"`: per position, the logits, the prediction and every head's attention row.
package enum ExplainCommand {
    /// What the command accepts: its parser, refusals and `--help` are generated from this.
    package static let spec = CommandSpec(
        "explain", summary: "one sequence through the model: per position the logits, prediction and heads' attention",
        positional: PositionalSpec(
            "FILE", noun: "submission file", arity: .one, help: "the submission", surplusHint: "quote a sequence with spaces: --sequence \"A B A\""),
        options: [
            OptionSpec("sequence", .value(placeholder: "TOKENS"), required: true, help: "the tokens to run, quoted: --sequence \"A B A\""),
            CommonOptions.exercise, CommonOptions.format(["text", "json"]), CommonOptions.exercises, CommonOptions.noColor,
        ])

    /// The declaration with the code it runs.
    package static let command = Command(spec, run: run)

    /// Runs on arguments parsed against `spec`; returns the exit status.
    package static func run(_ c: Context) throws -> Int32 {
        let format = c.args.format
        guard let text = c.args.options["sequence"] else { throw UsageError(Self.spec, "explain needs --sequence TOKENS") }
        let (submission, spec) = try c.load(try c.args.only(), catalog: try c.catalog())
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
