/// SplitMix64: a small, fast generator whose output depends only on its seed, on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one named stream under a run seed (e.g. one case family of one exercise).
    public init(seed: UInt64, stream: String) {
        self.init(seed: seed ^ fnv1a64(stream))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range` (rejection sampling, no modulo bias); any range, `Int.min...Int.max` included.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        // The span as unsigned bits: `upperBound - lowerBound` never overflows in UInt64.
        let width = UInt64(bitPattern: Int64(range.upperBound)) &- UInt64(bitPattern: Int64(range.lowerBound))
        guard width < UInt64.max else { return Int(truncatingIfNeeded: next()) }
        let span = width + 1
        let limit = UInt64.max - UInt64.max % span
        var x = next()
        while x >= limit { x = next() }
        return Int(truncatingIfNeeded: UInt64(bitPattern: Int64(range.lowerBound)) &+ x % span)
    }

    /// A uniform element of a non-empty array (callers check: `SequenceGenerator` never passes an empty one).
    public mutating func element<T>(of items: [T]) -> T {
        precondition(!items.isEmpty, "SeededRandom.element(of:) needs a non-empty array")
        return items[int(in: 0...(items.count - 1))]
    }
}

/// The 64-bit FNV-1a hash of a string's UTF-8 bytes.
public func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}
