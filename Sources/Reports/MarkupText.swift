import Numerics
import Model
import Formats
import Exercises
import Grading

/// Escaping shared by the XML (JUnit) and HTML reports.
package enum MarkupText {
    /// Text safe in XML 1.0 and HTML content and attribute values: markup characters as entities, newlines
    /// and tabs as character references (kept inside attributes), controls and format characters shown escaped
    /// (`\u{1B}`, as `SafeText.terminal` writes them), the noncharacters U+FFFE and U+FFFF dropped.
    package static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default:
                if u.value == 0xFFFE || u.value == 0xFFFF { continue }
                // Controls and format characters (bidi overrides) are shown, escaped, never passed on raw.
                if SafeText.needsEscape(u) { out += SafeText.terminal(String(u)) } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }
}
