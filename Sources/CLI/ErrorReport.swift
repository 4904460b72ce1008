import Numerics

/// The one place an error becomes what the user reads and the exit status the process ends with.
///
/// A bad submission or spec (`GraderError`), a command line its declaration refuses (`UsageError`) and anything
/// else all print one line, `error: …`, on standard error and exit 2: the input could not be used.
package enum ErrorReport {
    /// The line printed for `error`, newline included.
    package static func message(_ error: any Error) -> String {
        switch error {
        case let error as GraderError: "error: \(error.description)\n"
        case let error as UsageError: "error: \(SafeText.oneLine(error.description))\n"
        default: "error: \(SafeText.oneLine(String(describing: error)))\n"
        }
    }

    /// The exit status for `error`.
    package static func status(_ error: any Error) -> Int32 { ExitStatus.inputError }

    /// Runs `body`; any error it throws is printed on `output`'s standard error and gives its exit status.
    package static func exitStatus(_ output: Output, _ body: () throws -> Int32) -> Int32 {
        do { return try body() } catch {
            output.err(message(error))
            return status(error)
        }
    }
}
