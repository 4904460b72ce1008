import CLI
import Foundation
import Numerics

// The benchmark, its own executable so the library carries no timing code:
//   swift run -c release circuit-grader-bench [SECTION...] [--out FILE] [--root DIR]
let output = Output.standard
do {
    let args = try Arguments(["bench"] + CommandLine.arguments.dropFirst())
    exit(try BenchCommand.run(Context(args: args, output: output)))
} catch {
    output.err("error: \(error)\n")
    exit(ExitStatus.inputError)
}
