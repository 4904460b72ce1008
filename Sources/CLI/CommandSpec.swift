/// One `--name` a command accepts: a switch, or an option that takes a value (perhaps one of a fixed list).
///
/// The parser, the help text and the refusal messages are all generated from these declarations, so what
/// `COMMAND --help` says is what `COMMAND` accepts.
package struct OptionSpec: Sendable {
    /// A switch (`--prove`), or an option followed by a value (`--seed S` or `--seed=S`).
    package enum Kind: Sendable, Equatable {
        /// Present or not, never with a value.
        case flag
        /// `placeholder` names the value in the usage line and help (`S`, `FILE`, `SECONDS`).
        case value(placeholder: String)
    }

    /// The name without its dashes: `format` for `--format`.
    package var name: String
    /// A switch or a valued option.
    package var kind: Kind
    /// The values allowed, in the order the help lists them; empty means any value.
    package var allowed: [String]
    /// The default as the help shows it (`text`, `2024`), nil when there is none worth showing.
    package var defaultValue: String?
    /// The environment variable read when the option is not given, shown in the help.
    package var environment: String?
    /// Whether the command cannot run without it.
    package var isRequired: Bool
    /// One line for the help.
    package var help: String

    package init(
        _ name: String, _ kind: Kind, allowed: [String] = [], default defaultValue: String? = nil, environment: String? = nil,
        required isRequired: Bool = false, help: String
    ) {
        self.name = name
        self.kind = kind
        self.allowed = allowed
        self.defaultValue = defaultValue
        self.environment = environment
        self.isRequired = isRequired
        self.help = help
    }

    /// `--seed S`, `--prove`.
    package var synopsis: String {
        switch kind {
        case .flag: "--\(name)"
        case .value(let placeholder): "--\(name) \(placeholder)"
        }
    }
}

/// A positional argument: its name in the usage line, what it is, and how many a command takes.
package struct PositionalSpec: Sendable {
    /// How many values a positional takes.
    package enum Arity: Sendable, Equatable {
        /// Exactly one.
        case one
        /// None or one.
        case optional
        /// At least one.
        case oneOrMore
        /// Any number, none included.
        case zeroOrMore
    }

    /// The name in the usage line: `FILE`, `ID`.
    package var name: String
    /// What one value is, for messages: `submission file` gives "check needs at least one submission file".
    package var noun: String
    /// How many values it takes.
    package var arity: Arity
    /// The values allowed (the bench's sections); empty means any value.
    package var allowed: [String]
    /// One line for the help.
    package var help: String
    /// Added to the refusal of surplus values: what the user probably meant.
    package var surplusHint: String?

    package init(_ name: String, noun: String, arity: Arity, allowed: [String] = [], help: String, surplusHint: String? = nil) {
        self.name = name
        self.noun = noun
        self.arity = arity
        self.allowed = allowed
        self.help = help
        self.surplusHint = surplusHint
    }

    /// `FILE`, `[ID]`, `FILE...`, `[SECTION...]`.
    package var synopsis: String {
        switch arity {
        case .one: name
        case .optional: "[\(name)]"
        case .oneOrMore: "\(name)..."
        case .zeroOrMore: "[\(name)...]"
        }
    }
}

/// What a command accepts and says about itself: the declaration its parser and help are generated from.
package struct CommandSpec: Sendable {
    /// The name the messages use: `check`, `bench`.
    package var name: String
    /// How it is invoked, for the usage line and hints: `circuit-grader check`, `circuit-grader-bench`.
    package var invocation: String
    /// One line for the list of commands and the top of the help.
    package var summary: String
    /// At most one positional declaration per command (the parser gives it every positional argument).
    package var positional: PositionalSpec?
    /// The options, in the order the help lists them (`-h, --help` is implied).
    package var options: [OptionSpec]
    /// What the exit statuses mean for this command.
    package var exitStatus: String

    package init(
        _ name: String, invocation: String? = nil, summary: String, positional: PositionalSpec? = nil, options: [OptionSpec],
        exitStatus: String = "0 done, 2 the input could not be used"
    ) {
        self.name = name
        self.invocation = invocation ?? "circuit-grader \(name)"
        self.summary = summary
        self.positional = positional
        self.options = options
        self.exitStatus = exitStatus
    }

    /// The declaration of `--name`, if this command has one.
    package func option(_ name: String) -> OptionSpec? { options.first { $0.name == name } }
}

/// A command: its declaration and what runs once its arguments parsed.
package struct Command: Sendable {
    /// What it accepts.
    package var spec: CommandSpec
    /// Runs on arguments parsed against `spec`; returns the exit status (0 success, 1 a target failed, 2 the
    /// input could not be used) or throws, and `ErrorReport` prints the error.
    package var run: @Sendable (Context) throws -> Int32

    package init(_ spec: CommandSpec, run: @escaping @Sendable (Context) throws -> Int32) {
        self.spec = spec
        self.run = run
    }
}
