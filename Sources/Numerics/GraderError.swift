/// An input the grader cannot use: a malformed submission, a bad exercise spec, or a bad command line.
///
/// It carries where the problem is (file, the matrix or JSON path, the line when known) and a message
/// saying what was expected and what was found. The CLI prints `description` on one line and exits 2.
public struct GraderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file at fault (empty for command-line problems).
    public var file: String
    /// The matrix, tensor or JSON path inside the file, e.g. `layers.0.heads.1.W_Q`.
    public var location: String?
    /// The 1-based line in a text file, when known.
    public var line: Int?
    /// What was expected and what was found.
    public var message: String

    /// An error in `file` at `location` (line `line`), described by `message`.
    public init(file: String, location: String? = nil, line: Int? = nil, _ message: String) {
        self.file = file
        self.location = location
        self.line = line
        self.message = message
    }

    /// One line: `file:line: location: message`, with text from input escaped for a terminal (`SafeText`).
    public var description: String {
        var head = file
        if let line { head += ":\(line)" }
        var parts: [String] = []
        if !head.isEmpty { parts.append(head) }
        if let location, !location.isEmpty { parts.append(location) }
        parts.append(message)
        // Long input echoed into a message (a huge number, a 50,000-character key) is cut before anything
        // else looks at it; then one line, whatever the input held: newlines flattened, control and escape
        // characters shown escaped.
        let joined = parts.joined(separator: ": ")
        let start = joined.prefix(Self.maxLength + 1)
        let isCut = start.count > Self.maxLength
        let line = SafeText.oneLine(String(isCut ? start.prefix(Self.maxLength) : start))
        return isCut ? line + "… (cut)" : line
    }

    /// The longest description printed, in characters.
    public static let maxLength = 600

    /// The same error, placed in `file` when it had none.
    public func inFile(_ file: String) -> GraderError {
        var copy = self
        if copy.file.isEmpty { copy.file = file }
        return copy
    }
}

/// Describes a count with its noun, e.g. `3 rows`, `1 row`.
package func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

/// Describes a shape as `[2, 3]`.
package func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
