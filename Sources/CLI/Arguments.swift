import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports
import Batch

/// A command line parsed against its command's declaration: the positional arguments, the options given with
/// their values, and the switches given. Parsing refuses whatever the declaration does not allow, so a command
/// only ever sees options it declared, values it allows and as many positionals as it takes.
package struct Arguments: Sendable {
    /// The declaration these arguments were parsed against.
    package let spec: CommandSpec
    /// The positional arguments, in order.
    package var positional: [String] = []
    /// The valued options given, by name without dashes; defaults are not filled in (`value(_:)` does that), so
    /// `options["out"] != nil` says whether `--out` was given.
    package var options: [String: String] = [:]
    /// The switches given, by name without dashes.
    package var flags: Set<String> = []

    /// The command's name.
    package var command: String { spec.name }

    /// What a command line asks for: a run with these arguments, or the command's help.
    package enum Parsed: Sendable {
        /// Run the command with these arguments.
        case run(Arguments)
        /// Print the command's help (`-h` or `--help` was given).
        case help
    }

    /// Arguments with nothing given (for tests and for commands run from code).
    package init(spec: CommandSpec) { self.spec = spec }

    /// Parses `arguments` (what follows the command's name) against `spec`. `-h` or `--help` anywhere before a
    /// `--` asks for the help, whatever else is there; everything after `--` is positional. `others` are the
    /// remaining commands, named in the refusal of an option that belongs to them.
    package static func parse(_ arguments: [String], for spec: CommandSpec, others: [CommandSpec] = []) throws -> Parsed {
        let options = arguments.prefix { $0 != "--" }
        if options.contains("-h") || options.contains("--help") { return .help }
        var parsed = Arguments(spec: spec)
        var i = 0
        var onlyPositional = false
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if onlyPositional || argument == "-" || !argument.hasPrefix("-") {
                parsed.positional.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositional = true
                continue
            }
            guard argument.hasPrefix("--") else { throw UsageError(spec, "\(spec.name) has no option \(quotedIfOdd(argument))") }
            var name = String(argument.dropFirst(2))
            var value: String? = nil
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = spec.option(name) else { throw unknownOption(name, spec: spec, others: others) }
            switch option.kind {
            case .flag:
                guard value == nil else { throw UsageError(spec, "--\(name) is a switch and takes no value") }
                parsed.flags.insert(name)
            case .value(let placeholder):
                if value == nil {
                    guard i < arguments.count, !arguments[i].hasPrefix("--") else {
                        throw UsageError(spec, "--\(name) needs a value: --\(name) \(placeholder)")
                    }
                    value = arguments[i]
                    i += 1
                }
                let given = value ?? ""
                if !option.allowed.isEmpty && !option.allowed.contains(given) {
                    throw UsageError(spec, "--\(name) \(quoted(given)) is not available for \(spec.name); use \(alternatives(option.allowed))")
                }
                if let earlier = parsed.options[name], earlier != given {
                    throw UsageError(spec, "--\(name) is given twice, as \(quoted(earlier)) and \(quoted(given)); give it once")
                }
                parsed.options[name] = given
            }
        }
        try parsed.checkPositionals()
        for option in spec.options where option.isRequired && parsed.options[option.name] == nil {
            throw UsageError(spec, "\(spec.name) needs \(option.synopsis): \(option.help)")
        }
        return .run(parsed)
    }

    /// Refuses too few or too many positionals, and values a declaration does not allow.
    private func checkPositionals() throws {
        let found = positional.map(quoted).joined(separator: " ")
        guard let declared = spec.positional else {
            if !positional.isEmpty { throw UsageError(spec, "\(spec.name) takes no arguments, found \(found)") }
            return
        }
        switch declared.arity {
        case .one where positional.isEmpty, .oneOrMore where positional.isEmpty:
            throw UsageError(spec, "\(spec.name) needs \(declared.arity == .one ? "one" : "at least one") \(declared.noun)")
        case .one where positional.count > 1, .optional where positional.count > 1:
            let hint = declared.surplusHint.map { "; \($0)" } ?? ""
            throw UsageError(spec, "\(spec.name) takes one \(declared.noun), found \(positional.count): \(found)\(hint)")
        default: break
        }
        for value in positional where !declared.allowed.isEmpty && !declared.allowed.contains(value) {
            throw UsageError(spec, "\(spec.name) has no \(declared.noun) \(quoted(value)); use \(alternatives(declared.allowed))")
        }
    }

    /// `check has no option --budgets (did you mean --budget?)`, and which other commands take it if some do.
    private static func unknownOption(_ name: String, spec: CommandSpec, others: [CommandSpec]) -> UsageError {
        let shown = quotedIfOdd("--" + name)
        let owners = others.filter { $0.name != spec.name && $0.option(name) != nil }.map(\.name)
        let whose = owners.isEmpty ? "" : "; it is an option of \(alternatives(owners, joiner: "and"))"
        let known = spec.options.map(\.name) + ["help"]
        let limit = max(1, name.count / 3)
        let close = known.map { ($0, editDistance(name.lowercased(), $0)) }.filter { $0.1 <= limit }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        let prefixed = known.filter { !name.isEmpty && $0.hasPrefix(name.lowercased()) }
        let suggestions = close.isEmpty ? prefixed : close.map(\.0)
        let hint = suggestions.isEmpty ? "" : " (did you mean \(alternatives(suggestions.prefix(3).map { "--" + $0 }, joiner: "or"))?)"
        return UsageError(spec, "\(spec.name) has no option \(shown)\(hint)\(whose)")
    }

    // MARK: Values, with their defaults and environment fallbacks

    /// The value of `--name`: as given, else its declared default.
    package func value(_ name: String) -> String? { options[name] ?? spec.option(name)?.defaultValue }

    /// The output format (already checked against the declaration's allowed values).
    package var format: String { value("format") ?? "text" }

    /// The seed: `--seed`, else `CIRCUIT_GRADER_SEED` (an empty variable counts as unset), else the public seed.
    /// A whole number is used as it is; any other text is hashed.
    package func seed(environment: [String: String]) -> UInt64 {
        let fromEnvironment = environment[CommonOptions.seedVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = options["seed"] ?? fromEnvironment else { return Grader.publicSeed }
        if let n = UInt64(text) { return n }
        return fnv1a64(text)
    }

    /// The single positional of a command declared with arity `.one`.
    package func only() throws -> String {
        guard positional.count == 1, let value = positional.first else {
            throw UsageError(spec, "\(spec.name) takes one \(spec.positional?.noun ?? "argument"), found \(positional.count)")
        }
        return value
    }
}

/// A command line its command's declaration refuses. Printed as one line, `error: MESSAGE; see `HELP``, and exit
/// status 2, like any input that cannot be used.
package struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, naming the command and the argument.
    package var message: String
    /// Where the right usage is: `circuit-grader check --help`.
    package var helpCommand: String

    package init(message: String, helpCommand: String) {
        self.message = message
        self.helpCommand = helpCommand
    }

    /// A refusal by `spec`'s declaration.
    package init(_ spec: CommandSpec, _ message: String) {
        self.init(message: message, helpCommand: "\(spec.invocation) --help")
    }

    package var description: String { "\(message); see `\(helpCommand)`" }
}

/// `"text"` in double quotes, cut to 60 characters (a refusal echoes the argument, never a megabyte of it).
func quoted(_ text: String) -> String {
    "\"" + (text.count > 60 ? text.prefix(60) + "…" : text) + "\""
}

/// An option as typed, quoted only when it holds something odd (spaces, quotes, or is long).
private func quotedIfOdd(_ text: String) -> String {
    let plain = text.count <= 60 && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    return plain ? text : quoted(text)
}

/// `a`, `a or b`, `a, b or c`.
func alternatives(_ items: [String], joiner: String = "or") -> String {
    guard let last = items.last else { return "" }
    return items.count == 1 ? last : items.dropLast().joined(separator: ", ") + " \(joiner) " + last
}
