/// "Did you mean" for a dimension name a submission misspelt: the known names closest to it.
enum NameSuggestion {
    /// ` (did you mean "tok:A"?)` when some of `known` are close to `name` (same text ignoring case, or
    /// within an edit distance of about a third of its length), else an empty string.
    static func hint(_ name: String, among known: [String]) -> String {
        let lower = name.lowercased()
        let limit = max(1, name.count / 3)
        let scored = known.map { ($0, $0.lowercased() == lower ? 0 : editDistance(lower, $0.lowercased())) }
            .filter { $0.1 <= limit }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        guard !scored.isEmpty else { return "" }
        return " (did you mean " + scored.prefix(3).map { "\"\($0.0)\"" }.joined(separator: " or ") + "?)"
    }
}
