import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// The CLI's logic, callable in-process: parse, run, turn any error into one line and exit status 2.
public enum CommandLineTool {
    /// Runs `arguments` (without the program name), writing to `output`; returns the exit status.
    public static func run(arguments: [String], output: Output) -> Int32 {
        do {
            let args = try Arguments(arguments)
            if args.flags.contains("help") { output.out(usage); return ExitStatus.success }
            let context = Context(args: args, output: output)
            switch args.command {
            case "check": return try CheckCommand.run(context)
            case "grade": return try GradeCommand.run(context)
            case "explain": return try ExplainCommand.run(context)
            case "show": return try ShowCommand.run(context)
            case "list": return try ListCommand.run(context)
            case "validate": return try ValidateCommand.run(context)
            case "circuits": return try CircuitsCommand.run(context)
            case "init": return try InitCommand.run(context)
            case "help", "--help", "-h": output.out(usage); return ExitStatus.success
            case "version", "--version": output.out("circuit-grader \(graderVersion)\n"); return ExitStatus.success
            default: throw GraderError(file: "", "unknown command \"\(args.command)\"; \(Arguments.usageHint)")
            }
        } catch let error as GraderError {
            output.err("error: \(error.description)\n")
            return ExitStatus.inputError
        } catch {
            output.err("error: \(error)\n")
            return ExitStatus.inputError
        }
    }

    public static let usage = """
        circuit-grader \(graderVersion): grades hand-written attention-only transformer weights

        usage:
          circuit-grader list [--format text|json]
          circuit-grader show ID [--format text|json]
          circuit-grader check FILE... [--exercise ID] [--seed S] [--format text|json] [--budget N] [--proof-budget SECONDS] [--prove]
          circuit-grader check FILE... --format junit|markdown|gradescope|html [--out FILE]
          circuit-grader grade DIR --out OUT [--seed S] [--exercise ID] [--limit SECONDS] [--format text|json]
          circuit-grader explain FILE --sequence "A B A" [--exercise ID] [--format text|json]
          circuit-grader validate SPEC... [--format text|json]
          circuit-grader circuits FILE [--exercise ID] [--format text|json]
          circuit-grader init ID [--csv | --format json|csv|transformerlens] [--out PATH]

        options:
          --exercises DIR   where the exercise specs are (default: ./exercises)
          --exercise ID     the exercise, for submissions that do not name it
          --seed S          seed for generated cases (or CIRCUIT_GRADER_SEED); default \(Grader.publicSeed)
          --no-color        no ANSI colour even on a terminal

        exit status: 0 all passed, 1 some target failed, 2 the input could not be graded

        """
}

/// What every command needs: its arguments and where to write.
package struct Context {
    package let args: Arguments
    package let output: Output

    package init(args: Arguments, output: Output) {
        self.args = args
        self.output = output
    }

    package var colour: Bool { output.isTerminal && !args.flags.contains("no-color") && output.environment["NO_COLOR"] == nil }

    /// The exercise catalogue (`--exercises`, `CIRCUIT_GRADER_EXERCISES`, or `./exercises`).
    package func catalog() throws -> ExerciseCatalog {
        try ExerciseCatalog(root: args.options["exercises"] ?? output.environment["CIRCUIT_GRADER_EXERCISES"] ?? "exercises")
    }

    /// The submission at `path` and the spec it is graded against.
    package func load(_ path: String, catalog: ExerciseCatalog) throws -> (Submission, ExerciseSpec) {
        let submission = try SubmissionLoader.load(path)
        let session = GradingSession(catalog: catalog, seed: Grader.publicSeed, exercise: args.options["exercise"])
        return (submission, try session.resolveSpec(submission, path: path))
    }
}
