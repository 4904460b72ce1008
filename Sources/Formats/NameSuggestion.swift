import Numerics
import Model

/// "Did you mean" for a dimension name a submission misspelt: the known names closest to it.
package enum NameSuggestion {
    /// ` (did you mean "tok:A"?)` when some of `known` are close to `name` (the same text ignoring case, else
    /// within an edit distance of about a third of its length), else an empty string.
    package static func hint(_ name: String, among known: [String]) -> String {
        let lower = name.lowercased()
        var close = known.filter { $0.lowercased() == lower }
        if close.isEmpty {
            let limit = max(1, name.count / 3)
            close = known.map { ($0, editDistance(lower, $0.lowercased())) }.filter { $0.1 <= limit }
                .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
        }
        guard !close.isEmpty else { return "" }
        return " (did you mean " + close.prefix(3).map { "\"\($0)\"" }.joined(separator: " or ") + "?)"
    }
}

/// The Levenshtein distance between two strings (insertions, deletions, substitutions of characters).
///
/// An id from a file may be a megabyte long: strings longer than `InputLimits.maxComparedIDLength` are not
/// compared (their distance is taken as the longer length in bytes, "nothing alike"), so the table stays small.
package func editDistance(_ a: String, _ b: String) -> Int {
    let cap = InputLimits.maxComparedIDLength
    guard a.utf8.count <= 4 * cap, b.utf8.count <= 4 * cap, a.count <= cap, b.count <= cap else { return max(a.utf8.count, b.utf8.count) }
    let x = Array(a), y = Array(b)
    var previous = Array(0...y.count)
    for i in 1...max(x.count, 1) where !x.isEmpty {
        var current = [i] + Array(repeating: 0, count: y.count)
        for j in 1...max(y.count, 1) where !y.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return x.isEmpty ? y.count : previous[y.count]
}
