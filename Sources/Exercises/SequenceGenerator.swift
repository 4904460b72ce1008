import Numerics
import Model
import Formats

/// Random sequences of the student's tokens, with patterns planted at chosen or random places.
///
/// A planted pattern may use variables (`$x`, `$y`): each variable takes one random token per sequence,
/// shared by every pattern of that sequence, so `["$x", "$y"]` planted twice and `["$x"]` at the end
/// builds "x y ... x y ... x". Variables listed in `distinct` take different tokens.
public struct SequenceGenerator: Equatable, Sendable {
    /// Where a pattern goes.
    public enum Placement: Equatable, Sendable {
        case random
        case start
        case end
        case index(Int)
    }

    /// One pattern to plant.
    public struct Plant: Equatable, Sendable {
        public var pattern: [String]
        public var placement: Placement
        public var times: Int
    }

    public var count: Int
    public var length: ClosedRange<Int>
    /// Tokens the random fill draws from.
    public var tokens: [String]
    /// Tokens variables draw from (defaults to `tokens`).
    public var variableTokens: [String]
    public var plants: [Plant]
    /// Variables that must take pairwise different tokens.
    public var distinct: [String]

    /// The sequences, determined by `random`'s state.
    public func sequences(using random: inout SeededRandom) -> [[String]] {
        (0..<count).map { _ in sequence(using: &random) }
    }

    private func sequence(using random: inout SeededRandom) -> [String] {
        guard !tokens.isEmpty else { return [] }  // the parser refuses this; a generator built in code may not
        let n = random.int(in: length)
        var tokensOut = (0..<n).map { _ in random.element(of: tokens) }
        let bindings = bindVariables(using: &random)
        var taken = [Bool](repeating: false, count: n)
        let ordered = plants.filter { $0.placement != .random } + plants.filter { $0.placement == .random }
        for plant in ordered {
            let pattern = plant.pattern.map { bindings[$0] ?? $0 }
            guard pattern.count <= n else { continue }
            for _ in 0..<plant.times {
                let start = place(pattern.count, plant.placement, length: n, taken: taken, using: &random)
                for (i, token) in pattern.enumerated() {
                    tokensOut[start + i] = token
                    taken[start + i] = true
                }
            }
        }
        return tokensOut
    }

    private func bindVariables(using random: inout SeededRandom) -> [String: String] {
        var bindings: [String: String] = [:]
        var used = Set<String>()
        let variables = plants.flatMap(\.pattern).filter { $0.hasPrefix("$") }
        for v in variables where bindings[v] == nil {
            var pool = variableTokens
            if distinct.contains(v) { pool = pool.filter { !used.contains($0) } }
            if pool.isEmpty { pool = variableTokens }
            if pool.isEmpty { pool = tokens }  // `"variable_tokens": []` is refused by the parser
            let token = random.element(of: pool)
            bindings[v] = token
            if distinct.contains(v) { used.insert(token) }
        }
        return bindings
    }

    private func place(
        _ width: Int, _ placement: Placement, length n: Int, taken: [Bool],
        using random: inout SeededRandom
    ) -> Int {
        switch placement {
        case .start: return 0
        case .end: return n - width
        case .index(let i): return min(max(0, i), n - width)
        case .random:
            var start = random.int(in: 0...(n - width))
            for _ in 0..<32 where taken[start..<(start + width)].contains(true) {
                start = random.int(in: 0...(n - width))
            }
            return start
        }
    }
}
