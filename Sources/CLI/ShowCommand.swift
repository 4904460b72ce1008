import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `show ID`: the exercise, with its fixed matrices as numbers in JSON.
package enum ShowCommand {
    package static func run(_ c: Context) throws -> Int32 {
        let format = try c.args.format(["text", "json"])
        guard c.args.positional.count == 1 else { throw GraderError(file: "", "show needs one exercise id") }
        let spec = try c.catalog().spec(c.args.positional[0])
        c.output.out(format == "json" ? JSONWriter.write(ExerciseDescription.json(spec)) : ExerciseDescription.text(spec))
        return ExitStatus.success
    }
}
