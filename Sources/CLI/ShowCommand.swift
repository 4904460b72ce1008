import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `show ID`: the exercise, with its fixed matrices as numbers in JSON.
package enum ShowCommand {
    /// What the command accepts: its parser, refusals and `--help` are generated from this.
    package static let spec = CommandSpec(
        "show", summary: "an exercise: frame, residual layout, families; with --format json its fixed matrices too",
        positional: PositionalSpec("ID", noun: "exercise id", arity: .one, help: "the exercise, as `circuit-grader list` names it"),
        options: [CommonOptions.format(["text", "json"]), CommonOptions.exercises])

    /// The declaration with the code it runs.
    package static let command = Command(spec, run: run)

    /// Runs on arguments parsed against `spec`; returns the exit status.
    package static func run(_ c: Context) throws -> Int32 {
        let format = c.args.format
        let spec = try c.catalog().spec(try c.args.only())
        c.output.out(format == "json" ? JSONWriter.write(ExerciseDescription.json(spec)) : ExerciseDescription.text(spec))
        return ExitStatus.success
    }
}
