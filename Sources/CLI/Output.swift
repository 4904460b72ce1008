import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// Where the CLI writes: standard output, standard error, and whether output is a terminal (for colour
/// and progress). Tests pass capturing sinks instead of the process's streams.
public struct Output: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    public var isTerminal: Bool
    public var environment: [String: String]

    public init(
        out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
        isTerminal: Bool = false, environment: [String: String] = [:]
    ) {
        self.out = out
        self.err = err
        self.isTerminal = isTerminal
        self.environment = environment
    }

    /// The process's own streams.
    public static var standard: Output {
        Output(
            out: { FileHandle.standardOutput.write(Data($0.utf8)) },
            err: { FileHandle.standardError.write(Data($0.utf8)) },
            isTerminal: isatty(1) == 1, environment: ProcessInfo.processInfo.environment)
    }
}

/// Exit statuses: 0 success, 1 a target failed, 2 the input could not be graded.
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let failed: Int32 = 1
    public static let inputError: Int32 = 2
}
