import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// `check FILE...`: grade submissions, print a verdict per family; exit 0 / 1 / 2.
package enum CheckCommand {
    /// What the command accepts: its parser, refusals and `--help` are generated from this.
    package static let spec = CommandSpec(
        "check", summary: "grade submissions: a verdict per family, the worst counterexample, the domain check",
        positional: PositionalSpec(
            "FILE", noun: "submission file", arity: .oneOrMore, help: "submissions: JSON, .npz, .safetensors, or a folder of CSV or .npy files"),
        options: [
            CommonOptions.exercise, CommonOptions.seed,
            CommonOptions.format(["text", "json", "junit", "markdown", "gradescope", "html"]),
            CommonOptions.out("FILE", help: "write the report to FILE, not standard output (text without colour)"),
            CommonOptions.budget, CommonOptions.proofBudget, CommonOptions.prove, CommonOptions.exercises, CommonOptions.noColor,
        ],
        exitStatus: "0 all passed, 1 some target failed, 2 an input could not be graded")

    /// The declaration with the code it runs.
    package static let command = Command(spec, run: run)

    /// Runs on arguments parsed against `spec`; returns the exit status.
    package static func run(_ c: Context) throws -> Int32 {
        let format = c.args.format
        let started = Date()
        let seed = c.args.seed(environment: c.output.environment)
        let outcomes: [GradingSession.Outcome]
        do {
            let session = GradingSession(catalog: try c.catalog(), seed: seed, exercise: c.args.options["exercise"], domain: try domainSettings(c))
            outcomes = c.args.positional.map(session.grade)
        } catch let error as GraderError where format == "gradescope" {
            // Gradescope must always get a results file, even when the grader itself is misconfigured.
            outcomes = c.args.positional.map { _ in .error(error, exercise: c.args.options["exercise"]) }
        }
        let elapsed = Date().timeIntervalSince(started)
        var status = ExitStatus.success
        for outcome in outcomes {
            switch outcome {
            case .error: status = ExitStatus.inputError
            case .graded(let r) where !r.passed: status = max(status, ExitStatus.failed)
            case .graded: break
            }
        }
        let rendered: String
        switch format {
        case "json": rendered = JSONWriter.write(JSONReport.document(outcomes.map(JSONReport.value)))
        case "junit": rendered = JUnitReport.render(outcomes)
        case "markdown": rendered = MarkdownReport.render(outcomes)
        case "gradescope": rendered = JSONWriter.write(GradescopeReport.results(outcomes, executionTime: elapsed))
        case "html": rendered = HTMLReport.render(outcomes)
        default:
            // Errors go to standard error as they come; the reports to standard output, or together to --out.
            let toFile = c.args.options["out"] != nil
            var text = ""
            for outcome in outcomes {
                switch outcome {
                case .graded(let r):
                    let report = TextReport.render(r, colour: c.colour && !toFile)
                    if toFile { text += report } else { c.output.out(report) }
                case .error(let e, _): c.report(e)
                }
            }
            rendered = toFile ? text : ""
        }
        if !rendered.isEmpty || c.args.options["out"] != nil { try c.write(rendered) }
        // Annotations go to the log: on standard output only when it does not carry a report (text, or --out),
        // so that `check --format markdown >> "$GITHUB_STEP_SUMMARY"` never puts them in the summary.
        if c.output.environment["GITHUB_ACTIONS"] == "true" && (format == "text" || c.args.options["out"] != nil) {
            c.output.out(GitHubAnnotations.render(outcomes))
        }
        return status
    }
}

/// `--budget N` (adversarial evaluations, 0 = off), `--proof-budget SECONDS`, `--prove`.
package func domainSettings(_ c: Context) throws -> DomainSettings {
    var settings = DomainSettings(prove: c.args.flags.contains("prove"))
    if let text = c.args.options["budget"] {
        guard let n = Int(text), (0...1_000_000).contains(n) else {
            throw GraderError(file: "", "--budget needs a whole number from 0 to 1000000, found \"\(text)\"")
        }
        settings.adversarialBudget = n
    }
    if let text = c.args.options["proof-budget"] {
        guard let x = Double(text), x.isFinite, (0...3600).contains(x) else {
            throw GraderError(file: "", "--proof-budget needs seconds from 0 to 3600, found \"\(text)\"")
        }
        settings.proofBudget = x
    }
    return settings
}
