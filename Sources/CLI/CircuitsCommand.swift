import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `circuits FILE`: every head's QK and OV circuits as labelled tables, full circuits through the embedding,
/// composition scores and virtual heads.
package enum CircuitsCommand {
    /// What the command accepts: its parser, refusals and `--help` are generated from this.
    package static let spec = CommandSpec(
        "circuits", summary: "every head's QK and OV circuits as labelled tables, composition scores, virtual heads",
        positional: PositionalSpec("FILE", noun: "submission file", arity: .one, help: "the submission"),
        options: [
            CommonOptions.exercise, CommonOptions.format(["text", "json"]),
            CommonOptions.out("FILE", help: "write the tables to FILE instead of standard output"), CommonOptions.exercises, CommonOptions.noColor,
        ])

    /// The declaration with the code it runs.
    package static let command = Command(spec, run: run)

    /// Runs on arguments parsed against `spec`; returns the exit status.
    package static func run(_ c: Context) throws -> Int32 {
        let format = c.args.format
        let (submission, spec) = try c.load(try c.args.only(), catalog: try c.catalog())
        let analysis = CircuitAnalysis(spec: spec, model: try ModelBuilder.build(submission, spec: spec))
        try c.write(format == "json" ? JSONWriter.write(analysis.json) : analysis.text(colour: c.colour && c.args.options["out"] == nil))
        return ExitStatus.success
    }
}
