import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `list`: every exercise and variant with its status and source.
package enum ListCommand {
    /// What the command accepts: its parser, refusals and `--help` are generated from this.
    package static let spec = CommandSpec(
        "list", summary: "every exercise and variant, with its status and its source in the seed documents",
        options: [CommonOptions.format(["text", "json"]), CommonOptions.exercises],
        exitStatus: "0 done, 2 some spec could not be read (it is named on standard error)")

    /// The declaration with the code it runs.
    package static let command = Command(spec, run: run)

    /// Runs on arguments parsed against `spec`; returns the exit status.
    package static func run(_ c: Context) throws -> Int32 {
        let format = c.args.format
        let catalog = try c.catalog()
        let specs = catalog.specs
        for problem in catalog.problems { c.report(problem) }
        if format == "json" {
            c.output.out(
                JSONWriter.write(
                    .obj([
                        ("schema", .string("circuit-grader/list@1")),
                        (
                            "exercises",
                            .array(
                                specs.map { s in
                                    .obj([
                                        ("id", .string(s.id)), ("exercise", .string(s.exercise)), ("variant", .string(s.variant)),
                                        ("title", .string(s.title)), ("status", .string(s.isExploratory ? "exploratory" : "graded")),
                                        ("source", .string(s.origin)), ("file", .string(s.file)),
                                    ])
                                })
                        ),
                    ])))
            return catalog.problems.isEmpty ? ExitStatus.success : ExitStatus.inputError
        }
        let width = specs.map(\.id.count).max() ?? 0
        for s in specs {
            let pad = String(repeating: " ", count: width - s.id.count)
            c.output.out("\(s.id)\(pad)  \(s.isExploratory ? "[exploratory] " : "")\(s.title)  (\(s.origin))\n")
        }
        return catalog.problems.isEmpty ? ExitStatus.success : ExitStatus.inputError
    }
}
