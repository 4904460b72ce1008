/// Help texts generated from the declarations: a command's usage, positionals and options, and the list of
/// commands.
package enum Help {
    /// `usage: circuit-grader explain FILE --sequence TOKENS [options]`.
    package static func usage(_ spec: CommandSpec) -> String {
        var parts = [spec.invocation]
        if let positional = spec.positional { parts.append(positional.synopsis) }
        parts += spec.options.filter(\.isRequired).map(\.synopsis)
        if spec.options.contains(where: { !$0.isRequired }) { parts.append("[options]") }
        return "usage: " + parts.joined(separator: " ")
    }

    /// `COMMAND --help`: summary, usage, positionals, options with their help and defaults, exit statuses.
    package static func text(_ spec: CommandSpec) -> String {
        var rows: [(String, String)] = []
        if let p = spec.positional {
            rows.append((p.synopsis, p.help + (p.allowed.isEmpty ? "" : ": \(alternatives(p.allowed))")))
        }
        let positionalCount = rows.count
        for option in spec.options { rows.append((option.synopsis, line(option))) }
        rows.append(("-h, --help", "show this help"))
        let render = { (row: (String, String)) in table(row.0, row.1, nameWidth: 24) }
        var text = usage(spec) + "\n\n" + spec.summary + "\n"
        if positionalCount > 0 { text += "\narguments:\n" + rows[..<positionalCount].map(render).joined() }
        text += "\noptions:\n" + rows[positionalCount...].map(render).joined()
        text += "\nexit status: \(spec.exitStatus)\n"
        return text
    }

    /// The help's width in characters: a row's description wraps at it.
    package static let width = 100

    /// One row of a two-column table: `  name   description`, the description wrapped at `width` and indented
    /// under itself; a name wider than `nameWidth` gets its description on the next line.
    static func table(_ name: String, _ description: String, nameWidth: Int) -> String {
        let indent = String(repeating: " ", count: nameWidth + 4)
        let lines = wrap(description, width: width - indent.count)
        let first = name.count > nameWidth ? "  \(name)\n" + indent : "  " + name + String(repeating: " ", count: nameWidth - name.count + 2)
        return first + lines.joined(separator: "\n" + indent) + "\n"
    }

    /// `text` in lines of at most `width` characters where it has spaces to break at.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = String(word)
            } else {
                current += (current.isEmpty ? "" : " ") + word
            }
        }
        return lines + [current]
    }

    /// An option's help line: its help, its allowed values, its default and environment variable.
    static func line(_ option: OptionSpec) -> String {
        var text = option.help
        if !option.allowed.isEmpty { text += ": \(alternatives(option.allowed))" }
        switch (option.environment, option.defaultValue) {
        case (let variable?, let value?): text += " (default: $\(variable) or \(value))"
        case (let variable?, nil): text += " (default: $\(variable))"
        case (nil, let value?) where !option.isRequired: text += " (default: \(value))"
        default: break
        }
        return text
    }

    /// `circuit-grader help`: every command with its summary.
    package static func overview(_ specs: [CommandSpec], version: String) -> String {
        let nameWidth = specs.map(\.name.count).max() ?? 0
        let list = specs.map { table($0.name, $0.summary, nameWidth: nameWidth) }.joined()
        return """
            circuit-grader \(version): grades hand-written attention-only transformer weights

            usage: circuit-grader COMMAND [ARGUMENTS] [OPTIONS]

            commands:
            \(list)
            Run `circuit-grader COMMAND --help` (or `circuit-grader help COMMAND`) for a command's arguments and options.
            The benchmark is its own executable: `swift run -c release circuit-grader-bench --help`.

            exit status: 0 all passed, 1 some target failed, 2 the input could not be graded

            """
    }
}
