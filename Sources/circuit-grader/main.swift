import Foundation
import CLI

let status = CommandLineTool.run(arguments: Array(CommandLine.arguments.dropFirst()), output: .standard)
exit(status)
