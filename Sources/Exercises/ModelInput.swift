import Numerics

extension ExerciseSpec {
    /// The rows of `W_E` a graded sequence starts with: `[vocab.count]` (BOS) when the exercise prepends one.
    public var bosPrefix: [Int] { bos == nil ? [] : [vocab.count] }

    /// The row of `W_E` for a student token, nil when it is not in the vocabulary.
    public func tokenIndex(_ token: String) -> Int? { vocab.firstIndex(of: token) }

    /// A sequence of student tokens as the model's input: BOS first (when the exercise has one), then each
    /// token's row of `W_E`. The spec parser admits only vocabulary tokens into cases, generators and the
    /// domain, and the CLI checks `--sequence` before it gets here, so an unknown token is a bug in the grader,
    /// never a student's mistake: it stops the program and names the token rather than grading another input.
    public func modelInput(_ tokens: [String]) -> [Int] { bosPrefix + tokenRows(tokens) }

    /// Each token's row of `W_E`, without BOS; an unknown token stops the program, as in `modelInput`.
    public func tokenRows(_ tokens: [String]) -> [Int] {
        tokens.map { token in
            guard let row = tokenIndex(token) else {
                preconditionFailure("\"\(token)\" is not in the vocabulary of \(id) (\(vocab.joined(separator: " ")))")
            }
            return row
        }
    }
}
