import Dispatch
import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch
import CLI

/// A program run to completion with its output captured: used by `bench` (python3, the grader's own binary).
package struct ChildProcess {
    /// What the program did.
    package struct Outcome {
        package var status: Int32
        package var stdout: Data
        package var stderr: Data
        /// Wall time from launch to exit, in seconds.
        package var seconds: Double
    }

    /// Runs `executable` with `arguments`; stdout is kept unless `discardOutput`. Throws when it cannot start.
    package static func run(_ executable: String, _ arguments: [String], discardOutput: Bool = false) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = discardOutput ? FileHandle.nullDevice : out
        process.standardError = err
        let errors = Collected()
        let group = DispatchGroup()
        let start = DispatchTime.now()
        do { try process.run() } catch {
            throw GraderError(file: executable, "cannot start: \(error.localizedDescription)")
        }
        // Drain stderr on another thread so that neither pipe can fill up and stall the child.
        DispatchQueue.global().async(group: group) { errors.set(err.fileHandleForReading.readDataToEndOfFile()) }
        let stdout = discardOutput ? Data() : out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        group.wait()
        return Outcome(status: process.terminationStatus, stdout: stdout, stderr: errors.data, seconds: seconds)
    }

    /// Data handed over from the thread that read it.
    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Data()

        package func set(_ data: Data) { lock.withLock { value = data } }
        package var data: Data { lock.withLock { value } }
    }
}
