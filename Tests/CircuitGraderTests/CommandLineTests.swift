import Foundation
import Testing
@testable import Batch
@testable import CLI
@testable import Exercises
@testable import Formats
@testable import Grading
@testable import Model
@testable import Numerics
@testable import Reports

/// One command line and everything it must give: exit status, standard output and standard error, exactly.
struct CommandLineCase: CustomTestStringConvertible, Sendable {
    var id: String
    var arguments: [String]
    var status: Int32
    var out: String = ""
    var err: String = ""
    var testDescription: String { id }
}

/// Runs `arguments` in-process as given (no `--exercises` added), with `environment`.
func runExactly(_ arguments: [String], environment: [String: String] = [:], isTerminal: Bool = false) -> (status: Int32, out: String, err: String) {
    let capture = Capture()
    var output = capture.output
    output.environment = environment
    output.isTerminal = isTerminal
    let status = CommandLineTool.run(arguments: arguments, output: output)
    return (status, capture.out, capture.err)
}

/// The declarations, the parser generated from them and the help generated from them.
struct CommandLineTests {
    static let reference = repoPath("submissions/reference/current-token-nopos.json")

    static let refusals: [CommandLineCase] = [
        CommandLineCase(
            id: "a surplus positional names the command", arguments: ["list", "extra"], status: 2,
            err: "error: list takes no arguments, found \"extra\"; see `circuit-grader list --help`\n"),
        CommandLineCase(
            id: "an unknown option suggests the closest", arguments: ["check", "x.json", "--budgets", "5"], status: 2,
            err: "error: check has no option --budgets (did you mean --budget?); see `circuit-grader check --help`\n"),
        CommandLineCase(
            id: "an option of other commands says whose it is", arguments: ["list", "--budget", "5"], status: 2,
            err: "error: list has no option --budget; it is an option of check and grade; see `circuit-grader list --help`\n"),
        CommandLineCase(
            id: "a near miss is suggested and its owners named", arguments: ["list", "--exercise", "x"], status: 2,
            err:
                "error: list has no option --exercise (did you mean --exercises?); it is an option of check, explain, circuits and grade; see `circuit-grader list --help`\n"
        ),
        CommandLineCase(
            id: "an option nobody has and nothing is close to", arguments: ["check", "x.json", "--colour"], status: 2,
            err: "error: check has no option --colour; see `circuit-grader check --help`\n"),
        CommandLineCase(
            id: "a single-dash option", arguments: ["check", "x.json", "-x"], status: 2,
            err: "error: check has no option -x; see `circuit-grader check --help`\n"),
        CommandLineCase(
            id: "a value outside the allowed ones lists them", arguments: ["validate", "spec.json", "--format", "xml"], status: 2,
            err: "error: --format \"xml\" is not available for validate; use text; see `circuit-grader validate --help`\n"),
        CommandLineCase(
            id: "a format another command has", arguments: ["list", "--format", "junit"], status: 2,
            err: "error: --format \"junit\" is not available for list; use text or json; see `circuit-grader list --help`\n"),
        CommandLineCase(
            id: "an option missing its value", arguments: ["explain", "x.json", "--sequence"], status: 2,
            err: "error: --sequence needs a value: --sequence TOKENS; see `circuit-grader explain --help`\n"),
        CommandLineCase(
            id: "an option followed by another option has no value", arguments: ["check", "x.json", "--seed", "--prove"], status: 2,
            err: "error: --seed needs a value: --seed S; see `circuit-grader check --help`\n"),
        CommandLineCase(
            id: "a switch given a value", arguments: ["check", "x.json", "--prove=yes"], status: 2,
            err: "error: --prove is a switch and takes no value; see `circuit-grader check --help`\n"),
        CommandLineCase(
            id: "an option given twice with different values", arguments: ["check", "x.json", "--seed", "1", "--seed=2"], status: 2,
            err: "error: --seed is given twice, as \"1\" and \"2\"; give it once; see `circuit-grader check --help`\n"),
        CommandLineCase(
            id: "a missing positional", arguments: ["check"], status: 2,
            err: "error: check needs at least one submission file; see `circuit-grader check --help`\n"),
        CommandLineCase(
            id: "a missing single positional", arguments: ["circuits"], status: 2,
            err: "error: circuits needs one submission file; see `circuit-grader circuits --help`\n"),
        CommandLineCase(
            id: "two positionals where one is taken", arguments: ["show", "a", "b"], status: 2,
            err: "error: show takes one exercise id, found 2: \"a\" \"b\"; see `circuit-grader show --help`\n"),
        CommandLineCase(
            id: "an unquoted sequence is pointed out", arguments: ["explain", "x.json", "A", "B", "--sequence", "A"], status: 2,
            err:
                "error: explain takes one submission file, found 3: \"x.json\" \"A\" \"B\"; quote a sequence with spaces: --sequence \"A B A\"; see `circuit-grader explain --help`\n"
        ),
        CommandLineCase(
            id: "a missing required option", arguments: ["grade", "class"], status: 2,
            err: "error: grade needs --out OUT: the folder for the gradebook, outside DIR; see `circuit-grader grade --help`\n"),
        CommandLineCase(
            id: "explain without a sequence", arguments: ["explain", "x.json"], status: 2,
            err: "error: explain needs --sequence TOKENS: the tokens to run, quoted: --sequence \"A B A\"; see `circuit-grader explain --help`\n"),
        CommandLineCase(
            id: "init's --csv and another --format disagree", arguments: ["init", "current-token/nopos", "--csv", "--format", "transformerlens"], status: 2,
            err: "error: --csv and --format transformerlens ask for different templates; give one of them; see `circuit-grader init --help`\n"),
        CommandLineCase(
            id: "version takes nothing", arguments: ["version", "--exercises", "x"], status: 2,
            err:
                "error: version has no option --exercises; it is an option of list, show, init, check, explain, circuits and grade; see `circuit-grader version --help`\n"
        ),
        CommandLineCase(
            id: "no command", arguments: [], status: 2, err: "error: no command given; see `circuit-grader help`\n"),
        CommandLineCase(
            id: "an unknown command suggests the closest", arguments: ["grde"], status: 2,
            err: "error: unknown command \"grde\" (did you mean grade?); see `circuit-grader help`\n"),
        CommandLineCase(
            id: "an option before the command", arguments: ["--no-color", "check", "x.json"], status: 2,
            err: "error: \"--no-color\" is not a command; give the command first, then its options; see `circuit-grader help`\n"),
        CommandLineCase(
            id: "help for an unknown command", arguments: ["help", "chek"], status: 2,
            err: "error: unknown command \"chek\" (did you mean check?); see `circuit-grader help`\n"),
        CommandLineCase(
            id: "the benchmark is its own executable", arguments: ["bench"], status: 2,
            err:
                "error: bench is its own executable: swift build -c release && .build/release/circuit-grader-bench; see `circuit-grader-bench --help`\n"),
        CommandLineCase(
            id: "an argument holding control characters is escaped", arguments: ["list", "a\u{1B}[31mb\nc"], status: 2,
            err: "error: list takes no arguments, found \"a\\u{1B}[31mb c\"; see `circuit-grader list --help`\n"),
    ]

    @Test(arguments: refusals)
    func refusalsExitTwoWithOneExactLine(_ c: CommandLineCase) {
        let r = runExactly(c.arguments)
        #expect(r.status == c.status)
        #expect(r.out == c.out)
        #expect(r.err == c.err)
    }

    static let helps: [CommandLineCase] = [
        CommandLineCase(id: "--help lists the commands", arguments: ["--help"], status: 0, out: CommandLineTool.overview),
        CommandLineCase(id: "-h lists the commands", arguments: ["-h"], status: 0, out: CommandLineTool.overview),
        CommandLineCase(id: "help lists the commands", arguments: ["help"], status: 0, out: CommandLineTool.overview),
        CommandLineCase(id: "check --help", arguments: ["check", "--help"], status: 0, out: checkHelp),
        CommandLineCase(id: "-h after a file", arguments: ["check", "FILE", "-h"], status: 0, out: checkHelp),
        CommandLineCase(id: "-h among bad options still helps", arguments: ["check", "--budgets", "x", "-h", "extra"], status: 0, out: checkHelp),
        CommandLineCase(id: "help check", arguments: ["help", "check"], status: 0, out: checkHelp),
        CommandLineCase(id: "explain --help", arguments: ["explain", "--help"], status: 0, out: explainHelp),
        CommandLineCase(id: "list -h", arguments: ["list", "-h"], status: 0, out: listHelp),
        CommandLineCase(id: "version", arguments: ["version"], status: 0, out: "circuit-grader \(graderVersion)\n"),
        CommandLineCase(id: "--version", arguments: ["--version"], status: 0, out: "circuit-grader \(graderVersion)\n"),
        CommandLineCase(
            id: "-h after -- is a file, not a request for help", arguments: ["check", "--exercises", repoPath("exercises"), "--", "-h"], status: 2,
            err: "error: -h: no such file or folder\n"),
    ]

    @Test(arguments: helps)
    func helpsAndVersionsExitZeroWithExactText(_ c: CommandLineCase) {
        let r = runExactly(c.arguments)
        #expect(r.status == c.status)
        #expect(r.out == c.out)
        #expect(r.err == c.err)
    }

    static let checkHelp = """
        usage: circuit-grader check FILE... [options]

        grade submissions: a verdict per family, the worst counterexample, the domain check

        arguments:
          FILE...                   submissions: JSON, .npz, .safetensors, or a folder of CSV or .npy files

        options:
          --exercise ID             the exercise, for submissions that do not name it
          --seed S                  seed for the generated cases: a whole number, or text to hash (default:
                                    $CIRCUIT_GRADER_SEED or 2024)
          --format FORMAT           the output format: text, json, junit, markdown, gradescope or html
                                    (default: text)
          --out FILE                write the report to FILE, not standard output (text without colour)
          --budget N                model evaluations for the adversarial search, 0 (off) to 1000000
                                    (default: 300)
          --proof-budget SECONDS    seconds of whole-domain enumeration, 0 to 3600 (default: the spec's
                                    proof_budget, else 1)
          --prove                   enumerate the whole domain, however long it takes
          --exercises DIR           where the exercise specs are (default: $CIRCUIT_GRADER_EXERCISES or
                                    exercises)
          --no-color                no ANSI colour, even on a terminal (as NO_COLOR does)
          -h, --help                show this help

        exit status: 0 all passed, 1 some target failed, 2 an input could not be graded

        """

    static let explainHelp = """
        usage: circuit-grader explain FILE --sequence TOKENS [options]

        one sequence through the model: per position the logits, prediction and heads' attention

        arguments:
          FILE                      the submission

        options:
          --sequence TOKENS         the tokens to run, quoted: --sequence "A B A"
          --exercise ID             the exercise, for submissions that do not name it
          --format FORMAT           the output format: text or json (default: text)
          --exercises DIR           where the exercise specs are (default: $CIRCUIT_GRADER_EXERCISES or
                                    exercises)
          --no-color                no ANSI colour, even on a terminal (as NO_COLOR does)
          -h, --help                show this help

        exit status: 0 done, 2 the input could not be used

        """

    static let listHelp = """
        usage: circuit-grader list [options]

        every exercise and variant, with its status and its source in the seed documents

        options:
          --format FORMAT           the output format: text or json (default: text)
          --exercises DIR           where the exercise specs are (default: $CIRCUIT_GRADER_EXERCISES or
                                    exercises)
          -h, --help                show this help

        exit status: 0 done, 2 some spec could not be read (it is named on standard error)

        """

    @Test func theOverviewListsEveryCommandWithItsSummary() {
        let text = CommandLineTool.overview
        #expect(text.hasPrefix("circuit-grader \(graderVersion): grades hand-written attention-only transformer weights\n"))
        for command in CommandLineTool.commands {
            let line = text.split(separator: "\n").first { $0.hasPrefix("  \(command.spec.name) ") }
            #expect(line?.hasSuffix(command.spec.summary) == true, "\(command.spec.name)")
        }
        #expect(text.contains("  check     grade submissions: a verdict per family"))
    }

    /// Every declared option is accepted by its command and shown in its help; every positional declaration
    /// is in the usage line.
    @Test(arguments: CommandLineTool.commands.map(\.spec.name))
    func everyDeclaredOptionParsesAndIsInTheHelp(_ name: String) throws {
        let spec = try #require(CommandLineTool.commands.first { $0.spec.name == name }?.spec)
        let help = Help.text(spec)
        #expect(help.hasPrefix(Help.usage(spec) + "\n\n" + spec.summary + "\n"))
        if let positional = spec.positional { #expect(Help.usage(spec).contains(" \(positional.synopsis)")) }
        let positionals = spec.positional.map { $0.arity == .one || $0.arity == .oneOrMore ? ["x"] : [] } ?? []
        let required = spec.options.filter(\.isRequired).flatMap { ["--\($0.name)", $0.allowed.first ?? "v"] }
        for option in spec.options {
            #expect(help.contains("\n  \(option.synopsis) "), "\(name) --\(option.name)")
            let given: [String]
            switch option.kind {
            case .flag: given = ["--\(option.name)"]
            case .value: given = ["--\(option.name)=\(option.allowed.last ?? "7")"]
            }
            let extra = option.isRequired ? [] : given
            guard case .run(let args) = try Arguments.parse(positionals + required + extra, for: spec) else {
                Issue.record("\(name) --\(option.name) asked for help")
                continue
            }
            if case .flag = option.kind { #expect(args.flags.contains(option.name)) } else { #expect(args.options[option.name] != nil) }
        }
    }

    @Test func defaultsComeFromTheDeclarationAndOnlyGivenOptionsAreRecorded() throws {
        guard case .run(let args) = try Arguments.parse(["dir", "--out", "o"], for: GradeCommand.spec) else {
            Issue.record("help")
            return
        }
        #expect(args.value("limit") == "60")
        #expect(args.options["limit"] == nil)
        #expect(args.format == "text")
        #expect(args.positional == ["dir"])
        guard case .run(let tail) = try Arguments.parse(["--", "--out", "-h"], for: CheckCommand.spec) else {
            Issue.record("help")
            return
        }
        #expect(tail.positional == ["--out", "-h"] && tail.options.isEmpty)
    }

    @Test func positionalValuesAreCheckedAgainstTheirDeclaration() {
        let spec = CommandSpec(
            "bench", invocation: "circuit-grader-bench", summary: "s",
            positional: PositionalSpec("SECTION", noun: "section", arity: .zeroOrMore, allowed: ["forward", "check"], help: "h"), options: [])
        #expect(throws: UsageError(message: "bench has no section \"forwrd\"; use forward or check", helpCommand: "circuit-grader-bench --help")) {
            try Arguments.parse(["forward", "forwrd"], for: spec)
        }
        #expect(throws: Never.self) { try Arguments.parse([], for: spec) }
    }

    // MARK: Behaviour the declarations must not have changed

    @Test func checkWritesTheTextReportToOut() throws {
        let folder = try temporaryFolder("cli-out")
        let file = folder + "/report/check.txt"
        let r = runCLI(["check", Self.reference, "--out", file])
        #expect(r.status == 0)
        #expect(r.out.isEmpty && r.err.isEmpty)
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(written == runCLI(["check", Self.reference]).out)
        #expect(written.contains("PASS random"))
    }

    @Test func checkWithOutStillNamesUnreadableInputsOnStandardError() throws {
        let folder = try temporaryFolder("cli-out-error")
        let r = runCLI(["check", Self.reference, repoPath("no/such.json"), "--out", folder + "/r.txt"])
        #expect(r.status == 2)
        #expect(r.out.isEmpty)
        #expect(r.err == "error: \(repoPath("no/such.json")): no such file or folder\n")
        #expect(try String(contentsOfFile: folder + "/r.txt", encoding: .utf8).contains("PASS random"))
    }

    @Test func theSeedFallsBackToTheEnvironmentAndAnEmptyVariableIsThePublicSeed() {
        let exercises = ["--exercises", repoPath("exercises")]
        let given = runExactly(["check", Self.reference, "--format", "json", "--seed", "12345"] + exercises)
        let fromEnvironment = runExactly(["check", Self.reference, "--format", "json"] + exercises, environment: ["CIRCUIT_GRADER_SEED": "12345"])
        let empty = runExactly(["check", Self.reference, "--format", "json"] + exercises, environment: ["CIRCUIT_GRADER_SEED": ""])
        let none = runExactly(["check", Self.reference, "--format", "json"] + exercises)
        #expect(given.status == 0 && fromEnvironment.status == 0)
        #expect(given.out == fromEnvironment.out)
        #expect(empty.out == none.out)
        #expect(given.out != none.out)
    }

    @Test func theExercisesFallBackToTheEnvironment() {
        let r = runExactly(["show", "current-token/nopos"], environment: ["CIRCUIT_GRADER_EXERCISES": repoPath("exercises")])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("current-token/nopos"))
        let flag = runExactly(["show", "current-token/nopos", "--exercises", "/no/such"], environment: ["CIRCUIT_GRADER_EXERCISES": repoPath("exercises")])
        #expect(flag.status == 2)
    }

    @Test func colourOnlyOnATerminalWithoutNoColorOrNO_COLOR() {
        let args = ["check", Self.reference, "--exercises", repoPath("exercises"), "--budget", "0"]
        let escape = "\u{1B}["
        #expect(runExactly(args, isTerminal: true).out.contains(escape))
        #expect(!runExactly(args, isTerminal: false).out.contains(escape))
        #expect(!runExactly(args + ["--no-color"], isTerminal: true).out.contains(escape))
        #expect(!runExactly(args, environment: ["NO_COLOR": "1"], isTerminal: true).out.contains(escape))
    }

    /// The invocations of README.md, docs/ci.md, gradescope/run_autograder and .ci/run, with their placeholders
    /// filled in: each parses against its command's declaration (DocumentedPathsTests runs several of them).
    static let documented: [[String]] = [
        ["grade", "submissions", "--out", "out"],
        ["check", "submissions/reference/induction-pos.json"],
        ["list", "--format", "json"],
        ["show", "ID", "--format", "json"],
        ["check", "a.json", "b.json", "--exercise", "ID", "--seed", "S", "--format", "json", "--proof-budget", "1", "--prove", "--budget", "5"],
        ["explain", "FILE", "--sequence", "A C A", "--format", "json"],
        ["grade", "DIR", "--out", "OUT", "--seed", "S", "--exercise", "ID", "--limit", "30"],
        ["check", "FILE", "--format", "gradescope", "--out", "FILE"],
        ["check", "FILE", "--format", "junit", "--out", "FILE"],
        ["check", "FILE", "--format", "markdown", "--out", "FILE"],
        ["circuits", "FILE", "--format", "json"],
        ["init", "ID", "--csv", "--out", "PATH"],
        ["init", "ID", "--format", "transformerlens", "--out", "PATH"],
        ["check", "FILE", "--format", "html", "--out", "report.html"],
        ["validate", "SPEC", "SPEC2"],
        ["init", "current-token/nopos", "--format", "transformerlens"],
        ["check", "current-token-nopos.safetensors"],
        ["check", "solutions/a.json", "--exercises", "circuit-grader/exercises", "--format", "junit", "--out", "reports/circuits.xml"],
        ["check", "solutions/a.json", "--exercises", "circuit-grader/exercises", "--format", "markdown", "--out", "reports/summary.md"],
        ["check", "solutions/a.json", "solutions/b.json", "--exercises", "circuit-grader/exercises"],
        ["check", "FILE", "--exercise", "EXERCISE", "--exercises", "SOURCE/exercises", "--seed", "SEED", "--format", "gradescope", "--out", "results.json"],
        ["check", "FILE", "--format", "gradescope", "--out", "tmp/results.json"],
        ["validate", "exercises/current-token/nopos.json", "--root", "."],
    ]

    @Test(arguments: documented)
    func documentedInvocationsParse(_ arguments: [String]) throws {
        let command = try CommandLineTool.command(named: arguments[0])
        guard case .run(let args) = try Arguments.parse(Array(arguments.dropFirst()), for: command.spec) else {
            Issue.record("asked for help")
            return
        }
        #expect(args.command == arguments[0])
        #expect(args.positional.count + args.options.count + args.flags.count == arguments.count - 1 - args.options.count)
    }
}

/// The built executable, run as a user runs it: exit status, standard output and standard error.
struct BuiltBinaryTests {
    func run(_ arguments: [String], executable: String = "circuit-grader") throws -> ShellResult {
        let process = Process()
        let binary = try builtBinary()
        process.executableURL = URL(fileURLWithPath: (binary as NSString).deletingLastPathComponent).appendingPathComponent(executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: repoRoot)
        process.environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ShellResult(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
    }

    @Test func commandHelpIsTheDeclarationsHelp() throws {
        let r = try run(["check", "submissions/reference/current-token-nopos.json", "-h"])
        #expect(r.status == 0)
        #expect(r.out == CommandLineTests.checkHelp)
        #expect(r.err.isEmpty)
    }

    @Test func helpListsTheCommands() throws {
        let r = try run(["help"])
        #expect(r.status == 0)
        #expect(r.out == CommandLineTool.overview)
        #expect(r.err.isEmpty)
    }

    @Test func refusalsExitTwo() throws {
        let surplus = try run(["list", "extra"])
        #expect(surplus.status == 2)
        #expect(surplus.out.isEmpty)
        #expect(surplus.err == "error: list takes no arguments, found \"extra\"; see `circuit-grader list --help`\n")
        let format = try run(["validate", "exercises/current-token/nopos.json", "--format", "xml"])
        #expect(format.status == 2)
        #expect(format.err == "error: --format \"xml\" is not available for validate; use text; see `circuit-grader validate --help`\n")
    }

    /// The bench's arguments are refused before anything is timed.
    @Test func theBenchDeclaresItsSectionsAndOptions() throws {
        let help = try run(["--help"], executable: "circuit-grader-bench")
        #expect(help.status == 0)
        #expect(help.out.hasPrefix("usage: circuit-grader-bench [SECTION...] [options]\n"))
        #expect(help.out.contains("\n  --root DIR                the folder the exercises' reference paths are relative to (default: .)\n"))
        let section = try run(["forward", "forwrd"], executable: "circuit-grader-bench")
        #expect(section.status == 2)
        #expect(section.out.isEmpty)
        #expect(
            section.err
                == "error: bench has no section \"forwrd\"; use forward, exhaustive, walk, four, short, scaling, check, proof, small or symmetry; see `circuit-grader-bench --help`\n"
        )
        let option = try run(["--seed", "3"], executable: "circuit-grader-bench")
        #expect(option.status == 2)
        #expect(option.err == "error: bench has no option --seed; see `circuit-grader-bench --help`\n")
    }

    @Test func checkRunsWithTheExitStatusesItDocuments() throws {
        let pass = try run(["check", "submissions/reference/current-token-nopos.json", "--budget", "0"])
        #expect(pass.status == 0, "\(pass.err)")
        #expect(pass.out.contains("PASS random"))
        let fail = try run(["check", "submissions/examples/current-token-nopos-no-default.json", "--budget", "0", "--format", "json"])
        #expect(fail.status == 1)
        #expect(fail.out.hasPrefix("{"))
        let folder = try temporaryFolder("bin-out")
        let written = try run(["check", "submissions/reference/current-token-nopos.json", "--budget", "0", "--out", folder + "/r.txt"])
        #expect(written.status == 0 && written.out.isEmpty)
        #expect(try String(contentsOfFile: folder + "/r.txt", encoding: .utf8) == pass.out)
    }
}
