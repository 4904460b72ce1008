import Numerics

// Remembered head outputs for the exhaustive walk (WalkForward.swift), exact to the bit.
//
// A head's output at a query position (z W_O, [dModel]) is a function of the bits of its query row q and of the
// sequence of its keys' (k, v) rows, in key order, and of nothing else: each score is the dot of q and one k
// (skipping terms by the bits of q and k), the softmax runs over the scores in key order, pattern · v skips
// entries by the bits of v, and W_O is fixed. So two query positions with equal q rows and equal key sequences,
// row for row and bit for bit, get equal outputs. A walk meets the same pair again and again when a head reads
// little: a head that reads only BOS sees one key sequence per length, whatever the tokens. HeadMemo computes
// each pair once:
//   - each distinct (k, v) row of the head gets a key class, each distinct q row a query class (RowClasses);
//   - key sequences form a trie over key classes, one node per distinct sequence; position p's node is the
//     child of position p - 1's by p's key class (the root, node 0, is the empty sequence);
//   - the output of (node, query class) is kept once computed, and copied when met again.
// A head whose rows are all distinct gains nothing and pays the lookups: after `trialLookups` lookups, a memo
// with more misses than hits stops (`isOn` false) and its head computes every position as if it had none. The
// sizes are bounded (`classLimit`, `nodeLimit`, `entryLimit`): past them a sequence gets no node and is computed.

/// An open-addressing map from a pair of non-negative `Int32` to an `Int32`, with a fixed capacity and no
/// removal; its storage is raw memory the owner frees with `deallocate()`.
package struct PairMap {
    private let keys: UnsafeMutablePointer<UInt64>
    private let values: UnsafeMutablePointer<Int32>
    private let mask: Int
    private static let empty = UInt64.max

    /// A map with room for `capacity` pairs (kept at most half full, so `2 * capacity` slots, a power of 2).
    package init(capacity: Int) {
        var slots = 16
        while slots < 2 * capacity { slots <<= 1 }
        mask = slots - 1
        keys = .allocate(capacity: slots)
        keys.initialize(repeating: Self.empty, count: slots)
        values = .allocate(capacity: slots)
        values.initialize(repeating: -1, count: slots)
    }

    package func deallocate() {
        keys.deallocate()
        values.deallocate()
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// The value of `(a, b)`, or -1.
    @inline(__always)
    package func value(_ a: Int32, _ b: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty { return -1 }
            i = (i &+ 1) & mask
        }
    }

    /// Sets the value of `(a, b)`, which must be absent; the caller keeps the count within the capacity.
    @inline(__always)
    package func insert(_ a: Int32, _ b: Int32, _ value: Int32) {
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        var i = slot(key)
        while keys[i] != Self.empty { i = (i &+ 1) & mask }
        keys[i] = key
        values[i] = value
    }
}

/// Class numbers of rows of doubles, equal rows (bit for bit) getting equal numbers: at most `limit` classes
/// of `width` doubles each, in raw memory the owner frees with `deallocate()`.
package struct RowClasses {
    package let width: Int
    package let limit: Int
    private let rows: UnsafeMutablePointer<UInt64>
    private let hashes: UnsafeMutablePointer<UInt64>
    private let ids: UnsafeMutablePointer<Int32>
    private let mask: Int
    private let counter: UnsafeMutablePointer<Int>

    package init(width: Int, limit: Int) {
        self.width = width
        self.limit = limit
        var slots = 16
        while slots < 2 * limit { slots <<= 1 }
        mask = slots - 1
        rows = .allocate(capacity: max(1, width * limit))
        hashes = .allocate(capacity: slots)
        hashes.initialize(repeating: 0, count: slots)
        ids = .allocate(capacity: slots)
        ids.initialize(repeating: -1, count: slots)
        counter = .allocate(capacity: 1)
        counter.initialize(to: 0)
    }

    package func deallocate() {
        rows.deallocate()
        hashes.deallocate()
        ids.deallocate()
        counter.deallocate()
    }

    /// Classes so far.
    package var count: Int { counter[0] }

    /// The class of the row `first[0..<n] ++ second[0..<(width - n)]`, numbered in order of first sight;
    /// -1 when it is new and `limit` classes exist.
    @inline(__always)
    package func id(_ first: UnsafePointer<Double>, _ n: Int, _ second: UnsafePointer<Double>) -> Int32 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for c in 0..<n { hash = (hash ^ first[c].bitPattern) &* 0x100_0000_01B3 }
        for c in 0..<(width - n) { hash = (hash ^ second[c].bitPattern) &* 0x100_0000_01B3 }
        // Finish with a full mixer (fmix64): the slot takes the low bits, which the multiply-xor steps leave
        // depending only on the inputs' low bits (all zero for 0, ±1, 0.5 and other short binary fractions).
        hash = (hash ^ (hash >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        hash = (hash ^ (hash >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = ids[i]
            if id < 0 { break }
            if hashes[i] == hash && equal(Int(id), first, n, second) { return id }
            i = (i &+ 1) & mask
        }
        let id = counter[0]
        guard id < limit else { return -1 }
        counter[0] = id + 1
        let row = rows + id &* width
        for c in 0..<n { row[c] = first[c].bitPattern }
        for c in 0..<(width - n) { row[n + c] = second[c].bitPattern }
        hashes[i] = hash
        ids[i] = Int32(id)
        return Int32(id)
    }

    @inline(__always)
    private func equal(_ id: Int, _ first: UnsafePointer<Double>, _ n: Int, _ second: UnsafePointer<Double>) -> Bool {
        let row = rows + id &* width
        for c in 0..<n where row[c] != first[c].bitPattern { return false }
        for c in 0..<(width - n) where row[n + c] != second[c].bitPattern { return false }
        return true
    }
}

/// One head's remembered outputs in one walk (see the top of HeadMemo.swift): the trie of key sequences and the
/// output `[dModel]` of each (node, query class) met so far, in raw memory its owner frees with `deallocate()`.
/// Not thread-safe: one per walk and head.
package struct HeadMemo {
    package let dModel: Int
    /// Classes of the head's (k, v) rows and q rows, for a head past the first layer (layer 0's are tabulated).
    package let keyClasses: RowClasses, queryClasses: RowClasses
    private let trie: PairMap
    private let entries: PairMap
    private let outputs: UnsafeMutablePointer<Double>
    /// nodes, entries, lookups, misses, on (1) or off (0).
    private let state: UnsafeMutablePointer<Int>

    package static let trialLookups = 4096
    // Sizes per walk task and head: every task makes its own memos (filled at setup, about 0.3 MB per head).
    package static let classLimit = 1 << 11
    package static let nodeLimit = 1 << 13
    package static let entryLimit = 1 << 13

    /// A memo for a head with `dHead`-wide q and k rows and `dValue`-wide v rows in a `dModel`-wide stream.
    package init(dModel: Int, dHead: Int, dValue: Int) {
        self.dModel = dModel
        keyClasses = RowClasses(width: dHead + dValue, limit: Self.classLimit)
        queryClasses = RowClasses(width: dHead, limit: Self.classLimit)
        trie = PairMap(capacity: Self.nodeLimit)
        entries = PairMap(capacity: Self.entryLimit)
        outputs = .allocate(capacity: max(1, Self.entryLimit * dModel))
        state = .allocate(capacity: 5)
        state.initialize(repeating: 0, count: 5)
        state[0] = 1  // the root
        state[4] = 1
    }

    package func deallocate() {
        keyClasses.deallocate()
        queryClasses.deallocate()
        trie.deallocate()
        entries.deallocate()
        outputs.deallocate()
        state.deallocate()
    }

    /// Lookups that found a remembered output, and lookups in all (for tests and the bench).
    package var hits: Int { state[2] - state[3] }
    package var lookups: Int { state[2] }

    /// Whether the memo is still used (it stops after a trial with more misses than hits).
    @inline(__always)
    package var isOn: Bool { state[4] != 0 }

    /// The node of key sequence `parent` followed by a key of class `keyClass`; -1 when either is unknown, the
    /// memo is off, or the trie is full.
    @inline(__always)
    package func child(of parent: Int32, _ keyClass: Int32) -> Int32 {
        guard parent >= 0, keyClass >= 0, state[4] != 0 else { return -1 }
        let found = trie.value(parent, keyClass)
        if found >= 0 { return found }
        let node = state[0]
        guard node < Self.nodeLimit else { return -1 }
        state[0] = node + 1
        trie.insert(parent, keyClass, Int32(node))
        return Int32(node)
    }

    /// The remembered output of a query of class `queryClass` over key sequence `node`, or nil (a miss, counted).
    @inline(__always)
    package func output(_ node: Int32, _ queryClass: Int32) -> UnsafePointer<Double>? {
        state[2] &+= 1
        let entry = entries.value(node, queryClass)
        if entry < 0 { state[3] &+= 1 }
        // The trial ends at its last lookup, hit or miss.
        if state[2] == Self.trialLookups && 2 &* state[3] > state[2] { state[4] = 0 }
        return entry >= 0 ? UnsafePointer(outputs + Int(entry) &* dModel) : nil
    }

    /// Remembers `out[0..<dModel]` as the output of a query of class `queryClass` over key sequence `node` (absent),
    /// unless the memo is full.
    @inline(__always)
    package func remember(_ node: Int32, _ queryClass: Int32, _ out: UnsafePointer<Double>) {
        let entry = state[1]
        guard entry < Self.entryLimit else { return }
        state[1] = entry + 1
        entries.insert(node, queryClass, Int32(entry))
        ForwardKernels.copy(out, dModel, to: outputs + entry &* dModel)
    }
}

/// A layer's projections remembered by input row (for a layer past the first, in the walk): q, k and v of each
/// of its heads are functions of the bits of the layer's input row x (and of x + the position's row of W_pos
/// when positions enter only q and k), so equal inputs get their rows copied instead of projected again, with
/// what the walk derives from them (k's finiteness, v's and q's non-zero entries, the head memos' classes).
/// Raw memory its owner frees with `deallocate()`.
package struct ProjectionMemo {
    /// Classes of input rows (`x`, or `x ++ qkInput`).
    package let inputs: RowClasses
    /// Per class: every head's q, k, v (`doubleWidth` doubles), and its k-finite flag, v count, q count, key
    /// class, query class, v list and q list (`intWidth` Int32).
    private let doubles: UnsafeMutablePointer<Double>
    private let ints: UnsafeMutablePointer<Int32>
    package let doubleWidth: Int, intWidth: Int
    /// lookups, misses, on (1) or off (0): like HeadMemo, the memo stops after a trial with more misses than hits.
    private let state: UnsafeMutablePointer<Int>

    package static let classLimit = 1 << 10

    /// A memo for heads of `(dHead, dValue)` shapes reading `inputWidth`-wide input rows.
    package init(inputWidth: Int, heads: [(dHead: Int, dValue: Int)]) {
        inputs = RowClasses(width: inputWidth, limit: heads.isEmpty ? 1 : Self.classLimit)  // (layer 0, or no heads: unused)
        doubleWidth = heads.reduce(0) { $0 + 2 * $1.dHead + $1.dValue }
        intWidth = heads.reduce(0) { $0 + 5 + $1.dHead + $1.dValue }
        doubles = .allocate(capacity: max(1, Self.classLimit * doubleWidth))
        ints = .allocate(capacity: max(1, Self.classLimit * intWidth))
        state = .allocate(capacity: 3)
        state.initialize(repeating: 0, count: 3)
        state[2] = 1
    }

    package func deallocate() {
        inputs.deallocate()
        doubles.deallocate()
        ints.deallocate()
        state.deallocate()
    }

    /// Whether the memo is still used.
    @inline(__always)
    package var isOn: Bool { state[2] != 0 }

    /// Counts a lookup (a miss when `found` is false), and stops the memo after a trial with more misses than hits.
    @inline(__always)
    package func count(found: Bool) {
        state[0] &+= 1
        if !found { state[1] &+= 1 }
        if state[0] == HeadMemo.trialLookups && 2 &* state[1] > state[0] { state[2] = 0 }
    }

    /// The doubles and Int32 of class `id`.
    @inline(__always)
    package func record(_ id: Int32) -> (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Int32>) {
        (doubles + Int(id) &* doubleWidth, ints + Int(id) &* intWidth)
    }
}
