import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `validate SPEC...`: parse each spec, check explicit labels against its rule, and grade its reference.
package enum ValidateCommand {
    /// What the command accepts: its parser, refusals and `--help` are generated from this.
    package static let spec = CommandSpec(
        "validate", summary: "check exercise specs: they parse, hand labels agree with the rule, the reference passes",
        positional: PositionalSpec("SPEC", noun: "spec file", arity: .oneOrMore, help: "exercise spec files"),
        options: [
            OptionSpec("root", .value(placeholder: "DIR"), default: ".", help: "the folder a spec's reference path is relative to"),
            CommonOptions.format(["text"]),
        ],
        exitStatus: "0 every spec is valid, 2 some spec is not (each is named on standard error)")

    /// The declaration with the code it runs.
    package static let command = Command(spec, run: run)

    /// Runs on arguments parsed against `spec`; returns the exit status.
    package static func run(_ c: Context) throws -> Int32 {
        var status = ExitStatus.success
        for path in c.args.positional {
            do {
                let spec = try SpecParser.parse(try SubmissionLoader.readFile(path), file: path)
                let note = try SpecValidator.validate(spec, root: c.args.value("root") ?? ".")
                c.output.out("\(path): ok: \(spec.id): \(note)\n")
            } catch let error as GraderError {
                status = ExitStatus.inputError
                c.report(error)
            }
        }
        return status
    }
}
