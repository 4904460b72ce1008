/// "Did you mean" for a dimension name a submission misspelt: the known names closest to it.
enum NameSuggestion {
    /// ` (did you mean "tok:A"?)` when some of `known` are close to `name` (the same text ignoring case, else
    /// within an edit distance of about a third of its length), else an empty string.
    static func hint(_ name: String, among known: [String]) -> String {
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
