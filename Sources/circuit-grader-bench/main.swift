import CLI
import Foundation
import Numerics

// The benchmark, its own executable so the library carries no timing code:
//   swift run -c release circuit-grader-bench [SECTION...] [--out FILE] [--root DIR] [--exercises DIR]
let bench = Command(
    CommandSpec(
        "bench", invocation: "circuit-grader-bench",
        summary: "(release build) times the forward pass against NumPy, exhaustive verification, and check end to end",
        positional: PositionalSpec(
            "SECTION", noun: "section", arity: .zeroOrMore,
            allowed: ["forward", "exhaustive", "walk", "four", "short", "scaling", "check", "proof", "small", "symmetry"],
            help:
                "the sections to run; none runs all but proof (a whole-domain proof: minutes), four (every 4-token reference over its whole domain; with short, to length 8), small (a frame for profilers) and symmetry (every reference's whole domain walked with and without its token symmetry: half an hour)"
        ),
        options: [
            CommonOptions.out("FILE", default: "bench-results.json", help: "where the results go, as JSON"),
            OptionSpec("root", .value(placeholder: "DIR"), default: ".", help: "the folder the exercises' reference paths are relative to"),
            CommonOptions.exercises,
            OptionSpec("exercise", .value(placeholder: "ID"), help: "with four: only this exercise"),
            OptionSpec(
                "length", .value(placeholder: "N"), help: "with small (default 6) or four short (default 8): walk to length N; with symmetry, at most N"),
        ],
        exitStatus: "0 done, 1 a measurement failed its check, 2 the input could not be used"),
    run: BenchCommand.run)
let output = Output.standard
exit(ErrorReport.exitStatus(output) { try CommandLineTool.run(bench, arguments: Array(CommandLine.arguments.dropFirst()), output: output, others: []) })
