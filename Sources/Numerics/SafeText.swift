/// The escaping policy for text taken from input (file names, student names, exercise ids, keys and values
/// echoed into messages), applied where that text leaves the grader. Each output escapes for its own syntax:
///
/// | output | function | what is escaped |
/// | --- | --- | --- |
/// | terminal, text files, one-line errors | `terminal` | control characters (C0, DEL, C1), line/paragraph separators and format characters (bidi overrides, zero-width) as `\u{…}` |
/// | CSV cells a spreadsheet opens | `spreadsheetCell` | a leading `=`, `+`, `-`, `@`, tab or CR (formula injection) gets a `'`; then RFC 4180 quoting |
/// | Markdown | `markdown` | the terminal set, then Markdown and HTML punctuation with `\` or as entities |
/// | HTML, XML (JUnit) | `MarkupText.escape` | markup characters as entities, characters XML 1.0 cannot hold dropped |
/// | JSON | `JSONWriter.quoted` | `"`, `\`, C0, DEL and C1 controls, U+2028/9 as `\u` escapes |
///
/// So a submission cannot print `FAKE: all tests passed` over the real line of an instructor's terminal, nor
/// put a formula into a gradebook cell.
public enum SafeText {
    /// `s` with every character that could move the cursor, recolour or reorder a terminal line shown as a
    /// visible escape (`\u{1B}`); tab and carriage return as `\t` and `\r`. Newlines are kept (callers that
    /// need one line replace them first).
    public static func terminal(_ s: String) -> String { escaped(s, newline: "\n") }

    /// `terminal`, with each newline shown as a space: one line, for one-line errors.
    public static func oneLine(_ s: String) -> String { escaped(s, newline: " ") }

    private static func escaped(_ s: String, newline: Unicode.Scalar) -> String {
        guard s.unicodeScalars.contains(where: { $0 == "\n" ? newline != "\n" : needsEscape($0) }) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u {
            case "\n": out.append(newline)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if needsEscape(u) {
                    out.append(contentsOf: "\\u{\(String(u.value, radix: 16, uppercase: true))}".unicodeScalars)
                } else {
                    out.append(u)
                }
            }
        }
        return String(out)
    }

    /// Whether `u` is shown escaped on a terminal (newline aside).
    package static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        if u.value >= 0x20 && u.value < 0x7F || u == "\n" { return false }  // printable ASCII: the common case
        switch u.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse: return true
        default: return false
        }
    }

    /// A CSV cell holding text from input: never starting with a character a spreadsheet reads as a formula
    /// (`=`, `+`, `-`, `@`, tab, CR), which gets a leading `'`; controls escaped; quoted when needed.
    public static func spreadsheetCell(_ s: String) -> String {
        var text = terminal(s)
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) || text.hasPrefix("\\t") || text.hasPrefix("\\r") {
            text = "'" + text
        }
        return csvQuoted(text)
    }

    /// RFC 4180: quoted, with `"` doubled, when the text holds a comma, a quote or a line break.
    public static func csvQuoted(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Text safe in Markdown prose and table cells (GitHub-flavoured, which also renders HTML): controls
    /// escaped, newlines flattened, Markdown punctuation backslash-escaped, `<`, `>` and `&` as entities.
    public static func markdown(_ s: String) -> String {
        var out = ""
        for c in oneLine(s) {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\\", "`", "*", "_", "[", "]", "|": out += "\\" + String(c)
            default: out.append(c)
            }
        }
        return out
    }
}
