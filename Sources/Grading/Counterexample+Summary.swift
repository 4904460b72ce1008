import Numerics
import Model
import Formats
import Exercises

extension Counterexample {
    /// One line saying what went wrong on a counterexample.
    public var summary: String {
        var s = ""
        if !sequence.isEmpty { s += "on \"\(sequence.joined(separator: " "))\", \(what): " }
        s += "expected \(expected), found \(found)"
        if let m = margin { s += " (margin \(NumberText.rounded(m)))" }
        if let short = minimized {
            s += "; shortest failing: \"\(short.sequence.joined(separator: " "))\" at position \(short.position ?? 0), found \(short.found)"
        }
        return s
    }
}
