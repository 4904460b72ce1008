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
    package static func run(_ c: Context) throws -> Int32 {
        let format = try c.args.format(["text", "json"])
        guard c.args.positional.count == 1 else { throw GraderError(file: "", "circuits needs one submission file") }
        let (submission, spec) = try c.load(c.args.positional[0], catalog: try c.catalog())
        let analysis = CircuitAnalysis(spec: spec, model: try ModelBuilder.build(submission, spec: spec))
        try c.write(format == "json" ? JSONWriter.write(analysis.json) : analysis.text(colour: c.colour && c.args.options["out"] == nil))
        return ExitStatus.success
    }
}
