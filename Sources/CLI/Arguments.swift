import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// A parsed command line: the command, its positional arguments and its `--name value` options.
public struct Arguments: Sendable {
    public var command: String
    public var positional: [String] = []
    public var options: [String: String] = [:]
    public var flags: Set<String> = []

    /// Options that take a value.
    package static let valued: Set<String> = ["format", "seed", "exercise", "sequence", "exercises", "out", "budget", "limit", "root", "proof-budget"]
    /// Options that are switches.
    package static let switches: Set<String> = ["help", "no-color", "csv", "prove"]

    /// Parses `arguments` (without the program name).
    public init(_ arguments: [String]) throws {
        guard let first = arguments.first else { throw GraderError(file: "", "no command given; \(Arguments.usageHint)") }
        command = first
        var i = 1
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("--") {
                var name = String(a.dropFirst(2))
                var value: String? = nil
                if let eq = name.firstIndex(of: "=") {
                    value = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                if Self.switches.contains(name) {
                    flags.insert(name)
                } else if Self.valued.contains(name) {
                    if value == nil {
                        i += 1
                        guard i < arguments.count, !arguments[i].hasPrefix("--") else { throw GraderError(file: "", "--\(name) needs a value") }
                        value = arguments[i]
                    }
                    options[name] = value
                } else {
                    throw GraderError(file: "", "unknown option --\(name); \(Arguments.usageHint)")
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    package static let usageHint = "run `circuit-grader help` for usage"

    /// The output format, one of `allowed`.
    public func format(_ allowed: [String]) throws -> String {
        let f = options["format"] ?? "text"
        guard allowed.contains(f) else {
            throw GraderError(file: "", "--format \(f) is not available for \(command); use one of \(allowed.joined(separator: ", "))")
        }
        return f
    }

    /// The seed: `--seed`, else `CIRCUIT_GRADER_SEED`, else the public seed.
    public func seed(environment: [String: String]) throws -> UInt64 {
        let fromEnvironment = environment["CIRCUIT_GRADER_SEED"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = options["seed"] ?? fromEnvironment else { return Grader.publicSeed }
        if let n = UInt64(text) { return n }
        return fnv1a64(text)
    }
}
