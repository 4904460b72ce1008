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
    package static func run(_ c: Context) throws -> Int32 {
        guard !c.args.positional.isEmpty else { throw GraderError(file: "", "validate needs at least one spec file") }
        var status = ExitStatus.success
        for path in c.args.positional {
            do {
                let spec = try SpecParser.parse(try SubmissionLoader.readFile(path), file: path)
                let note = try SpecValidator.validate(spec, root: c.args.options["root"] ?? ".")
                c.output.out("\(path): ok: \(spec.id): \(note)\n")
            } catch let error as GraderError {
                status = ExitStatus.inputError
                c.output.err("error: \(error.description)\n")
            }
        }
        return status
    }
}
