import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// The CLI's logic, callable in-process: find the command, parse its arguments against its declaration, run it,
/// and turn any error into one line and exit status 2 (`ErrorReport`).
public enum CommandLineTool {
    /// Every command, in the order `circuit-grader help` lists them.
    package static let commands: [Command] = [
        ListCommand.command, ShowCommand.command, InitCommand.command, CheckCommand.command, ExplainCommand.command,
        CircuitsCommand.command, GradeCommand.command, ValidateCommand.command, helpCommand, versionCommand,
    ]

    /// Runs `arguments` (without the program name), writing to `output`; returns the exit status.
    public static func run(arguments: [String], output: Output) -> Int32 {
        ErrorReport.exitStatus(output) {
            guard let name = arguments.first else { throw UsageError(message: "no command given", helpCommand: "circuit-grader help") }
            switch name {
            case "-h", "--help": output.out(overview); return ExitStatus.success
            case "--version": return try run(versionCommand, arguments: Array(arguments.dropFirst()), output: output)
            default: return try run(try command(named: name), arguments: Array(arguments.dropFirst()), output: output)
            }
        }
    }

    /// Runs `command` on `arguments` (what follows its name): its help when they ask for it, else the command.
    /// `others` are named when an option belongs to one of them. Errors are left to the caller's
    /// `ErrorReport.exitStatus`.
    package static func run(_ command: Command, arguments: [String], output: Output, others: [CommandSpec] = commands.map(\.spec)) throws -> Int32 {
        switch try Arguments.parse(arguments, for: command.spec, others: others) {
        case .help:
            output.out(Help.text(command.spec))
            return ExitStatus.success
        case .run(let args):
            return try command.run(Context(args: args, output: output))
        }
    }

    /// The command called `name`, or a refusal that suggests the closest names.
    package static func command(named name: String) throws -> Command {
        if let command = commands.first(where: { $0.spec.name == name }) { return command }
        if name == "bench" {
            throw UsageError(
                message: "bench is its own executable: swift build -c release && .build/release/circuit-grader-bench",
                helpCommand: "circuit-grader-bench --help")
        }
        if name.hasPrefix("-") {
            throw UsageError(message: "\(quoted(name)) is not a command; give the command first, then its options", helpCommand: "circuit-grader help")
        }
        let names = commands.map(\.spec.name)
        let close = names.filter { editDistance(name.lowercased(), $0) <= max(1, name.count / 3) }
        let hint = close.isEmpty ? "" : " (did you mean \(alternatives(close))?)"
        throw UsageError(message: "unknown command \(quoted(name))\(hint)", helpCommand: "circuit-grader help")
    }

    /// `circuit-grader help`: the commands, one line each.
    package static var overview: String { Help.overview(commands.map(\.spec), version: graderVersion) }

    /// `help [COMMAND]`: the list of commands, or one command's help.
    package static let helpCommand = Command(
        CommandSpec(
            "help", summary: "the list of commands, or with COMMAND that command's help (as COMMAND --help)",
            positional: PositionalSpec("COMMAND", noun: "command", arity: .optional, help: "the command to describe"), options: [],
            exitStatus: "0 done, 2 no such command")
    ) { c in
        guard let name = c.args.positional.first else {
            c.output.out(overview)
            return ExitStatus.success
        }
        c.output.out(Help.text(try command(named: name).spec))
        return ExitStatus.success
    }

    /// `version` (or `--version`).
    package static let versionCommand = Command(CommandSpec("version", summary: "the grader's version", options: [], exitStatus: "0")) { c in
        c.output.out("circuit-grader \(graderVersion)\n")
        return ExitStatus.success
    }
}

/// What every command needs: its parsed arguments and where to write.
package struct Context {
    package let args: Arguments
    package let output: Output

    package init(args: Arguments, output: Output) {
        self.args = args
        self.output = output
    }

    /// Colour on a terminal, unless `--no-color` or `NO_COLOR` (set to anything) says no.
    package var colour: Bool { output.isTerminal && !args.flags.contains("no-color") && output.environment["NO_COLOR"] == nil }

    /// The exercise catalogue: `--exercises`, else `CIRCUIT_GRADER_EXERCISES`, else `./exercises`.
    package func catalog() throws -> ExerciseCatalog {
        try ExerciseCatalog(
            root: args.options["exercises"] ?? output.environment[CommonOptions.exercisesVariable] ?? CommonOptions.exercises.defaultValue ?? "exercises")
    }

    /// The submission at `path` and the spec it is graded against.
    package func load(_ path: String, catalog: ExerciseCatalog) throws -> (Submission, ExerciseSpec) {
        let submission = try SubmissionLoader.load(path)
        let session = GradingSession(catalog: catalog, seed: Grader.publicSeed, exercise: args.options["exercise"])
        return (submission, try session.resolveSpec(submission, path: path))
    }

    /// Prints `error` on standard error as `ErrorReport` words it (for commands that report an input and go on).
    package func report(_ error: any Error) { output.err(ErrorReport.message(error)) }

    /// Writes `text` to `--out` when given, else to standard output.
    package func write(_ text: String) throws {
        guard let out = args.options["out"] else { output.out(text); return }
        let url = URL(fileURLWithPath: out)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        do { try Data(text.utf8).write(to: url) } catch {
            throw GraderError(file: out, "cannot write the output file: \(error.localizedDescription)")
        }
    }
}
