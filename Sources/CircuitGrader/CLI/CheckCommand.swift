/// `check FILE...`: grade submissions, print a verdict per family; exit 0 / 1 / 2.
enum CheckCommand {
    static func run(_ c: Context) throws -> Int32 {
        let format = try c.args.format(["text", "json"])
        guard !c.args.positional.isEmpty else { throw GraderError(file: "", "check needs at least one submission file") }
        let seed = try c.args.seed(environment: c.output.environment)
        let catalog = try c.catalog()
        var status = ExitStatus.success
        var items: [JSONValue] = []
        for path in c.args.positional {
            do {
                let (submission, spec) = try c.load(path, catalog: catalog)
                let model = try ModelBuilder.build(submission, spec: spec)
                let report = Grader(spec: spec, seed: seed).grade(model, submission: submission)
                if !report.passed && report.exploratory == nil { status = max(status, ExitStatus.failed) }
                if format == "json" { items.append(JSONReport.value(report)) } else { c.output.out(TextReport.render(report, colour: c.colour)) }
            } catch let error as GraderError {
                status = ExitStatus.inputError
                if format == "json" { items.append(JSONReport.error(error)) } else { c.output.err("error: \(error.description)\n") }
            }
        }
        if format == "json" { c.output.out(JSONWriter.write(JSONReport.document(items))) }
        return status
    }
}
