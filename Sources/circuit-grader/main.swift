import CircuitGrader
import Foundation

let status = CommandLineTool.run(arguments: Array(CommandLine.arguments.dropFirst()), output: .standard)
exit(status)
