import Dispatch
import Foundation
import Numerics
import Model
import Formats
import Exercises

// The prefix-sharing walk of ExhaustiveVerifier.run() for a causal model: the tree of prefixes, depth first, one
// new position per node (Model/WalkForward.swift), split into subtrees that the cores walk with no shared state
// but the read-only model and tables, and a flag that lets later subtrees stop once an earlier one has failed.
//
// What a node grades, for a rule that reads only the prefix: its last position t (= depth - 1) has the same
// logits and label in every extension, so it is checked once, here, when some sequence of the domain grades it:
//   - as the last position of the node itself, when depth >= minLength (any of all, last, fired applies);
//   - as an inner position of an extension, when depth < maxLength (all, or fired with a label other than none).
// A node shallower than minLength is not a sequence of the domain; when its check fails the counterexample is
// the first sequence of the domain through it, the node followed by first tokens up to minLength, which is also
// the first failing sequence of naive enumeration (every sequence before it in preorder lies before this node).
// Counts: a sequence of the domain adds its graded positions (inner ones counted at its ancestors, kept per
// depth); a counterexample adds its sequence and its graded positions up to the failing one.
// Rules that read ahead (a positive token offset) grade every position of every sequence of the domain here.
// Only graded positions are unembedded, and a leaf (depth maxLength) that is not graded is not computed at all:
// nothing reads it (with a rule such as induction's skip_if_conflicting, about half the leaves).

/// The prefix-sharing exhaustive walk of one verifier.
package struct PrefixWalk {
    package let verifier: ExhaustiveVerifier
    package let grading: ExhaustiveGrading
    package let tables: FirstLayerTables
    /// Per label id of a prefix rule: whether a position with it is graded inside a longer sequence, whether
    /// as a sequence's last position, and its output class (-1: not an output class).
    package let innerGraded: [Bool], lastGraded: [Bool], expected: [Int]

    /// When the children of a node are computed together in SIMD lanes (Model/SiblingLanes.swift).
    package let lanes: SiblingLanePolicy
    /// The token relabellings that change no verdict (TokenSymmetry.swift): the walk then visits one sequence per
    /// orbit. Nil when there are none, or when the walk was asked to visit every sequence.
    package let symmetry: TokenSymmetry?
    /// A replay (see `counting`): the counterexample already found, and the token indices of its failing node.
    /// The walk then computes nothing, only counts, up to that node.
    let replay: (counterexample: ExhaustiveCounterexample, node: [Int])?

    /// The walk of `verifier`'s domain; with `symmetric`, one sequence per orbit of its token symmetries.
    package init(_ verifier: ExhaustiveVerifier, lanes: SiblingLanePolicy = .auto, symmetric: Bool = true) {
        self.init(verifier, lanes: lanes, symmetric: symmetric, replaying: nil)
    }

    private init(_ verifier: ExhaustiveVerifier, lanes: SiblingLanePolicy, symmetric: Bool, replaying: ExhaustiveCounterexample?) {
        self.verifier = verifier
        self.lanes = lanes
        symmetry = symmetric ? TokenSymmetry(verifier) : nil
        replay = replaying.map { c in (c, c.sequence[...c.position].compactMap { verifier.tokens.firstIndex(of: $0) }) }
        let grading = ExhaustiveGrading(verifier)
        self.grading = grading
        let packed = PackedModel(verifier.model)
        tables = FirstLayerTables(packed, capacity: grading.offset + verifier.maxLength, tokens: grading.bos + grading.tokenRows)
        let labels = PrefixLabels(verifier.rule, tokens: verifier.tokens, maxLength: verifier.maxLength)?.labels ?? []
        innerGraded = labels.map { grading.all || (grading.fired && $0 != PredictionRule.none) }
        lastGraded = labels.map { grading.all || grading.last || (grading.fired && $0 != PredictionRule.none) }
        // A label the rule could give that is no output class (say `none` in an exercise without it) is -1
        // here, and stops the walk only if a graded position gets it (the spec parser rules that out).
        let scorer = grading.scorer
        expected = labels.map { scorer.outputs.contains($0) ? scorer.column(of: $0) : -1 }
    }

    /// The walk's result; with a `workLimit` (WalkCost units), nil when the walk needs more: when a task before
    /// the first counterexample spends more than twice its share of it (TaskPlan.quota), or when no task found a counterexample and
    /// all of them together spent more than `workLimit`. The tasks do not depend on the machine and each counts
    /// its own work, so the same inputs give the same answer everywhere; a counterexample found within the
    /// shares is always reported.
    package func run(workLimit: Double? = nil) -> ExhaustiveResult? { counting(workLimit: workLimit).result }

    /// `run(workLimit:)`, and the work the tasks it reports counted (WalkCost units; for the bench's calibration).
    ///
    /// With a token symmetry, a counterexample is the plain enumeration's too: the first failing sequence in
    /// enumeration order is the first of its orbit (its orbit's first member fails too, and comes no later), so
    /// it is the one the walk under the symmetry found. Only its counts (the sequences and positions before it)
    /// are the plain walk's to give: a replay walks every sequence up to it, with labels only and no forward pass,
    /// and without a work limit, so that a counterexample once found is never lost to the budget. (A rule that
    /// reads ahead, or a model without a mask, is walked again whole instead: those grade whole sequences.) The
    /// work is then both walks'.
    package func counting(workLimit: Double? = nil) -> (result: ExhaustiveResult?, work: Double) {
        let walked = countingOnce(workLimit: workLimit)
        guard symmetry != nil, let found = walked.result?.counterexample else { return walked }
        let replayable = verifier.rule.readsOnlyPrefix && verifier.model.causal
        let plain = PrefixWalk(verifier, lanes: lanes, symmetric: false, replaying: replayable ? found : nil).counting()
        return (plain.result, walked.work + plain.work)
    }

    /// The walk under the symmetry alone, without its second walk (tests).
    package func countingOnceForTests() -> (result: ExhaustiveResult?, work: Double) { countingOnce(workLimit: nil) }

    private func countingOnce(workLimit: Double?) -> (result: ExhaustiveResult?, work: Double) {
        let plan = TaskPlan(alphabet: verifier.tokens.count, maxLength: verifier.maxLength, symmetry: symmetry)
        let outcomes = UnsafeSendableBox<ExhaustiveTally>(count: plan.count)
        let failed = FirstFailure()
        DispatchQueue.concurrentPerform(iterations: plan.count) { task in
            outcomes.set(task, walk(task: task, plan: plan, failed: failed, quota: plan.quota(of: task, workLimit: workLimit)))
        }
        // The tasks' tallies in enumeration order, up to and including the first with a counterexample.
        var total = ExhaustiveTally()
        for tally in outcomes.values {
            total.work += tally.work
            if tally.overBudget { return (nil, total.work) }
            total.sequences += tally.sequences
            total.positions += tally.positions
            total.worstMargin = min(total.worstMargin, tally.worstMargin)
            if let c = tally.counterexample {
                total.counterexample = c
                break
            }
        }
        if total.counterexample == nil, let workLimit, total.work > workLimit { return (nil, total.work) }
        return (verifier.result(total), total.work)
    }

    /// Walks task `task`'s part of the tree in enumeration order; stops at its first counterexample, or
    /// early (the partial tally is then discarded) once an earlier task has failed.
    private func walk(task: Int, plan: TaskPlan, failed: FirstFailure, quota: Double) -> ExhaustiveTally {
        var walker = TaskWalker(self)
        let prefix = plan.prefixes[task]
        // The task's own prefix: a node on it belongs to this task when the rest of the prefix is all first tokens.
        // Under a symmetry, a prefix that is not first in its orbit leaves the task nothing to walk.
        for (depth, index) in prefix.enumerated() {
            if walker.canonical?.allows(index) == false { return walker.result }
            let owned = prefix[(depth + 1)...].allSatisfy { $0 == 0 }
            if !walker.descend(index, visit: owned) {
                failed.record(task)
                return walker.result
            }
        }
        // Depth-first below the prefix: next[level] is the next child to try at that level below it. A node
        // whose children are leaves (depth maxLength - 1) grades them all in one loop (`leaves`).
        let alphabet = verifier.tokens.count, maxLength = verifier.maxLength
        let nextBuffer = ScratchBuffer<Int>(count: maxLength + 2)
        let next = nextBuffer.pointer
        var level = 0, steps = 0
        while true {
            let child = next[level]
            if child == 0 && walker.depth == maxLength - 1 {
                steps &+= alphabet
                if steps & ~4095 != 0 {
                    steps &= 4095
                    if walker.mustStop(task, failed, quota) { return walker.result }
                }
                if !walker.leaves(alphabet) {
                    failed.record(task)
                    return walker.result
                }
                next[level] = alphabet
                continue
            }
            if child == alphabet || walker.depth == maxLength {
                if level == 0 { break }
                level -= 1
                walker.ascend()
                continue
            }
            next[level] = child + 1
            if walker.canonical?.allows(child) == false { continue }
            steps &+= 1
            if steps & ~4095 != 0 {
                steps &= 4095
                if walker.mustStop(task, failed, quota) { return walker.result }
            }
            if !walker.descend(child, visit: true, siblings: walker.allChildren) {
                failed.record(task)
                return walker.result
            }
            level += 1
            next[level] = 0
        }
        return walker.result
    }
}

/// When the walk computes the children of a node together, in SIMD lanes (Model/SiblingLanes.swift); either way
/// every bit of the result is the same.
package enum SiblingLanePolicy: Sendable {
    /// Once every memo of the task has stopped (HeadMemo.swift), so that nothing the memos would remember is lost.
    case auto
    /// Always (for tests: the memos then remember nothing below a node computed in lanes).
    case always
    /// Never.
    case never
}

/// One task's walk: the forward pass, the labels and the counts along the current path.
private struct TaskWalker {
    let walk: PrefixWalk
    let forward: WalkForward
    let offset: Int, minLength: Int, maxLength: Int, nOutputs: Int
    let labels: PrefixLabels?
    /// Per label id: whether graded as an inner position, as a last position (0 or 1), and its output class.
    let innerGraded: UnsafeMutablePointer<Int>, lastGraded: UnsafeMutablePointer<Int>, expected: UnsafeMutablePointer<Int>
    let flags: ScratchBuffer<Int>
    /// inner[d]: positions among the first d graded as inner positions (prefix rules), `[maxLength + 1]`.
    let inner: UnsafeMutablePointer<Int>
    /// Token indices of the current node, `[maxLength]`.
    let path: UnsafeMutablePointer<Int>
    /// Label id of each position of the current node (prefix rules), `[maxLength]`.
    let labelIds: UnsafeMutablePointer<Int>
    /// Whether the model has a causal mask (else every node is graded whole: `gradeWholeSequence`).
    let causal: Bool
    /// Without a mask, one layer: the (sequence class, table row, label id) of positions that passed
    /// (WalkForward.sequenceClass).
    let passed: PassedPositions
    let buffers: ScratchBuffer<Int>
    /// `W_E` row of each enumerated token.
    let tokenRows: UnsafeMutablePointer<Int>
    /// A replay's failing node (PrefixWalk.replay): nothing is computed, and the walk stops there.
    let replayNode: [Int]?
    /// siblingsReady[t]: whether the children at depth t + 1 of the current node are computed in lanes.
    let siblingsReady: UnsafeMutablePointer<Int>
    let alphabet: Int
    /// Whether lanes are wanted (`SiblingLanePolicy`); `.auto` switches on once and stays on.
    var lanesOn: Bool
    let lanesAuto: Bool
    var depth = 0
    var tally = ExhaustiveTally()
    /// Under a token symmetry, the prefixes first in their orbits (nil: every prefix is walked).
    let canonical: CanonicalPrefixes?
    /// The number of sequences the current node stands for: its orbit's size (1 without a symmetry).
    var orbit = 1

    init(_ walk: PrefixWalk) {
        self.walk = walk
        forward = WalkForward(walk.tables)
        for token in walk.grading.bos { forward.push(token) }
        offset = walk.grading.offset
        minLength = walk.verifier.minLength
        maxLength = walk.verifier.maxLength
        nOutputs = walk.tables.model.nOutputs
        labels = PrefixLabels(walk.verifier.rule, tokens: walk.verifier.tokens, maxLength: walk.verifier.maxLength)
        let ids = walk.expected.count
        flags = ScratchBuffer(count: 3 * ids)
        innerGraded = flags.pointer
        lastGraded = flags.pointer + ids
        expected = flags.pointer + 2 * ids
        for id in 0..<ids {
            innerGraded[id] = walk.innerGraded[id] ? 1 : 0
            lastGraded[id] = walk.lastGraded[id] ? 1 : 0
            expected[id] = walk.expected[id]
        }
        alphabet = walk.grading.tokenRows.count
        buffers = ScratchBuffer(count: 4 * maxLength + 1 + alphabet)
        inner = buffers.pointer
        path = buffers.pointer + maxLength + 1
        labelIds = buffers.pointer + 2 * maxLength + 1
        tokenRows = buffers.pointer + 3 * maxLength + 1
        siblingsReady = buffers.pointer + 3 * maxLength + 1 + alphabet
        let lanesPossible = alphabet <= SiblingStore.lanes && forward.siblingLanesAvailable
        lanesOn = lanesPossible && walk.lanes == .always
        lanesAuto = lanesPossible && walk.lanes == .auto
        causal = walk.tables.model.causal
        passed = PassedPositions(limit: !causal && walk.tables.model.layers.count == 1 ? PassedPositions.defaultLimit : 0)
        for (i, row) in walk.grading.tokenRows.enumerated() { tokenRows[i] = row }
        let longest = maxLength
        canonical = walk.symmetry.map { CanonicalPrefixes($0, maxLength: longest) }
        replayNode = walk.replay?.node
    }

    /// Whether every child of the current node is walked (no symmetry, or only the identity leaves the node as
    /// it is): only then are they worth computing together in lanes.
    var allChildren: Bool { canonical?.fixesOnlyIdentity ?? true }

    /// Pushes token `index` and grades the new node when `visit`; returns false at a counterexample. With
    /// `siblings` (the walk takes the children of the node in order, from the first), the children may be computed
    /// together when the first is pushed (SiblingLanes.swift).
    @inline(__always)
    mutating func descend(_ index: Int, visit: Bool, siblings: Bool = false) -> Bool {
        orbit = canonical?.push(index) ?? 1
        path[depth] = index
        depth += 1
        guard let id = labels?.push(index) else {
            forward.push(tokenRows[index])
            return visit ? gradeEveryPosition() : true
        }
        let d = depth, t = d - 1
        guard causal else {
            forward.push(tokenRows[index])
            labelIds[t] = id
            return visit ? gradeWholeSequence() : true
        }
        let innerGraded = id >= 0 ? self.innerGraded[id] : 0
        inner[d] = inner[t] &+ innerGraded
        let domain = d >= minLength
        let lastGraded = id >= 0 ? self.lastGraded[id] : 0
        let graded = visit && (domain ? lastGraded != 0 : innerGraded != 0)
        let replaying = replayNode != nil
        if siblings && index == 0 && !replaying { siblingsReady[t] = lanesWanted() && forward.pushSiblings(tokenRows, alphabet) ? 1 : 0 }
        // Only a graded position's logits are read; a leaf that is not graded is read by nothing.
        if replaying {
            // A replay computes nothing.
        } else if !graded && d == maxLength {
            forward.skip()
        } else if siblings && siblingsReady[t] != 0 {
            forward.takeSibling(index, logits: graded, keys: d < maxLength)
        } else {
            forward.push(tokenRows[index], logits: graded)
        }
        guard visit else { return true }
        if domain {
            tally.sequences &+= orbit
            tally.positions &+= orbit &* (inner[t] &+ lastGraded)
        }
        guard graded else { return true }
        if let replayNode {
            if !isNode(replayNode) { return true }
        } else if passes(margin(at: t, label: id)) {
            return true
        }
        if !domain {
            tally.sequences += 1
            tally.positions += inner[t] + 1
        }
        tally.counterexample = walk.replay?.counterexample ?? counterexample(t, label: labels?.labels[id] ?? PredictionRule.none)
        return false
    }

    /// Every child of the current node in turn (each a leaf: the node is at depth maxLength - 1), as
    /// `descend` then `ascend` on each; returns false at a counterexample (the walk stops inside it).
    @inline(__always)
    mutating func leaves(_ alphabet: Int) -> Bool {
        // Lanes only when some leaf is graded: the others are not computed at all.
        var anyGraded = labels == nil
        let lanes = allChildren
        if let labels, lanes, lanesWanted() {
            for child in 0..<alphabet where !anyGraded {
                let id = labels.push(child)
                labels.pop()
                anyGraded = id >= 0 && lastGraded[id] != 0
            }
        }
        for child in 0..<alphabet where canonical?.allows(child) ?? true {
            if !descend(child, visit: true, siblings: anyGraded && lanes) { return false }
            ascend()
        }
        return true
    }

    /// Whether the children of the current node go into lanes (`SiblingLanePolicy`): `.auto` switches them on
    /// once every memo has stopped, and they stay on.
    @inline(__always)
    mutating func lanesWanted() -> Bool {
        if lanesAuto && !lanesOn { lanesOn = forward.memosOff }
        return lanesOn
    }

    /// Whether the current node is `node` (token indices).
    private func isNode(_ node: [Int]) -> Bool {
        depth == node.count && (0..<depth).allSatisfy { path[$0] == node[$0] }
    }

    /// The tally, with the work counted.
    var result: ExhaustiveTally {
        var t = tally
        t.work = forward.work
        return t
    }

    /// Whether task `task` should stop now: an earlier task has failed, or this one has spent more than `quota`
    /// (its tally is then marked over budget, and later tasks are told to stop).
    mutating func mustStop(_ task: Int, _ failed: FirstFailure, _ quota: Double) -> Bool {
        if failed.isBefore(task) { return true }
        guard forward.work > quota else { return false }
        tally.overBudget = true
        failed.record(task)
        return true
    }

    /// The margin of the node's position `t` for label id `id` (stops with the label's name when it is no
    /// output class: the spec parser rules that out for graded positions).
    @inline(__always)
    private func margin(at t: Int, label id: Int) -> Double {
        if expected[id] < 0 { _ = walk.grading.outputIndex(labels?.labels[id] ?? "") }
        return Margin.logitGap(forward.logitRow(at: t &+ offset), nOutputs, expected: expected[id])
    }

    /// Whether a graded position of margin `margin` is right; if so, it lowers the worst margin.
    @inline(__always)
    private mutating func passes(_ margin: Double) -> Bool {
        guard margin > 0 else { return false }
        if margin < tally.worstMargin { tally.worstMargin = margin }
        return true
    }

    /// Comes back up to the node's parent.
    @inline(__always)
    mutating func ascend() {
        depth -= 1
        if replayNode == nil { forward.truncate(to: offset + depth) }
        labels?.pop()
        canonical?.pop()
    }

    /// Without a causal mask, a prefix rule: every graded position of the node, when it is a sequence of the
    /// domain, after the whole sequence is computed (appending a token changes every position's logits).
    /// With one layer, a position whose (sequence class, table row, label) was graded before has that margin
    /// (> 0, or the walk would have stopped): it is counted without computing the sequence.
    private mutating func gradeWholeSequence() -> Bool {
        guard depth >= minLength else { return true }
        tally.sequences &+= orbit
        let sequenceClass = forward.sequenceClass(), labelCount = walk.expected.count
        var computed = false
        for t in 0..<depth {
            let id = labelIds[t]
            guard id >= 0, (t == depth - 1 ? lastGraded[id] : innerGraded[id]) != 0 else { continue }
            tally.positions &+= orbit
            let key = Int32(truncatingIfNeeded: forward.cell(at: t &+ offset) &* labelCount &+ id)
            if sequenceClass >= 0 && passed.contains(sequenceClass, key) {
                forward.addWork(WalkCost.memoLookupWork)
                continue
            }
            if !computed {
                forward.computeWithoutMask()
                computed = true
            }
            if passes(margin(at: t, label: id)) {
                if sequenceClass >= 0 { passed.insert(sequenceClass, key) }
                continue
            }
            tally.counterexample = counterexample(t, label: labels?.labels[id] ?? PredictionRule.none)
            return false
        }
        return true
    }

    /// A rule that reads ahead: every graded position of the node, when it is a sequence of the domain.
    private mutating func gradeEveryPosition() -> Bool {
        guard depth >= minLength else { return true }
        if !causal { forward.computeWithoutMask() }
        tally.sequences &+= orbit
        let names = (0..<depth).map { walk.verifier.tokens[path[$0]] }
        for t in names.indices {
            guard let label = walk.verifier.rule.label(names, at: t), walk.grading.graded(t, count: depth, label: label) else { continue }
            tally.positions &+= orbit
            if passes(Margin.logitGap(forward.logits(at: t + offset), expected: walk.grading.outputIndex(label))) { continue }
            tally.counterexample = counterexample(t, label: label)
            return false
        }
        return true
    }

    /// The counterexample at position `t` of the node: its sequence, completed to minLength with first tokens.
    private func counterexample(_ t: Int, label: String) -> ExhaustiveCounterexample {
        let row = forward.logits(at: t + offset)
        var sequence = (0..<depth).map { walk.verifier.tokens[path[$0]] }
        if sequence.count < minLength { sequence += Array(repeating: walk.verifier.tokens[0], count: minLength - sequence.count) }
        let margin = Margin.logitGap(row, expected: walk.grading.outputIndex(label))
        return walk.grading.counterexample(row, margin: margin, label: label, sequence: sequence, position: t)
    }
}

/// The split of the tree into tasks: task `i` owns the subtree of prefix number `i` (all of one length, in
/// enumeration order), and the shorter prefixes on its path that end in first tokens only.
///
/// A fixed number of at least 16 tasks, not one per core: the work limit's shares (`run(workLimit:)`) must not
/// depend on the machine. Without a symmetry the prefixes are every sequence of the shortest length that gives
/// enough of them, and their subtrees are all alike. Under a token symmetry only the prefixes first in their
/// orbits hold any work, and a prefix with a small stabiliser holds far more than one with a large stabiliser
/// (under induction's 720 relabellings, of the 36 two-token prefixes only A A and A B are first in their orbits,
/// and A B holds five sixths of the walk), so the prefixes are the first ones of the shortest length that gives
/// at least 16, and each task's share is its subtree's part of the walk's nodes.
package struct TaskPlan {
    /// Token indices of each task's prefix.
    package let prefixes: [[Int]]
    /// Each task's part of the walk (they add up to 1); nil when every task has the same part.
    package let shares: [Double]?
    package var count: Int { prefixes.count }

    package static let wanted = 16

    package init(alphabet: Int, maxLength: Int, symmetry: TokenSymmetry? = nil) {
        var depth = 1
        guard let symmetry else {
            var count = alphabet
            while depth < maxLength && count < Self.wanted && alphabet > 1 {
                depth += 1
                count *= alphabet
            }
            prefixes = (0..<count).map { i in Self.digits(of: i, alphabet: alphabet, depth: depth) }
            shares = nil
            return
        }
        var first = symmetry.longer([symmetry.emptyPrefix])
        while depth < maxLength && first.count < Self.wanted {
            depth += 1
            first = symmetry.longer(first)
        }
        prefixes = first.map(\.prefix)
        // The nodes of each task's subtree, itself included (its shorter prefixes are a few nodes at most).
        let sizes = first.map { 1 + symmetry.representatives(maxLength: maxLength - depth, below: $0.stabiliser).reduce(0, +) }
        let total = sizes.reduce(0, +)
        shares = sizes.map { $0 / total }
    }

    /// Task `i`'s quota of a work limit: twice its share, so that uneven subtrees can still fit while a hopeless
    /// walk stops early.
    package func quota(of i: Int, workLimit: Double?) -> Double {
        guard let workLimit else { return .infinity }
        return shares.map { 2 * workLimit * $0[i] } ?? 2 * workLimit / Double(count)
    }

    /// `i` as `depth` digits in base `alphabet`, the most significant first.
    private static func digits(of i: Int, alphabet: Int, depth: Int) -> [Int] {
        var digits = [Int](repeating: 0, count: depth)
        var rest = i
        for d in stride(from: depth - 1, through: 0, by: -1) {
            digits[d] = rest % alphabet
            rest /= alphabet
        }
        return digits
    }
}

/// The lowest task index that found a counterexample; later tasks may stop.
package final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var task = Int.max

    package func record(_ i: Int) { lock.withLock { task = min(task, i) } }
    package func isBefore(_ i: Int) -> Bool { lock.withLock { task < i } }
}

/// Keys (a pair of Int32) of graded positions that passed, up to a limit (past it, insertions are dropped and
/// those positions are computed again when met).
final class PassedPositions {
    static let defaultLimit = 1 << 16
    private let keys: PairMap
    private let limit: Int
    private var count = 0

    init(limit: Int) {
        self.limit = limit
        keys = PairMap(capacity: max(1, limit))
    }

    deinit { keys.deallocate() }

    @inline(__always)
    func contains(_ a: Int32, _ b: Int32) -> Bool { keys.value(a, b) >= 0 }

    /// Adds `(a, b)`, which must be absent.
    @inline(__always)
    func insert(_ a: Int32, _ b: Int32) {
        guard count < limit else { return }
        count += 1
        keys.insert(a, b, 0)
    }
}
