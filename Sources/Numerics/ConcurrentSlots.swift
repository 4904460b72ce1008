import Foundation

/// Uninitialized slots that concurrent workers initialize, each at indices no other worker touches.
package struct DisjointSlots<Element>: @unchecked Sendable {
    private let base: UnsafeMutablePointer<Element>

    package init(_ base: UnsafeMutablePointer<Element>) { self.base = base }

    /// Initializes slot `i`; every slot exactly once, by one worker.
    package func initialize(_ i: Int, to value: Element) { (base + i).initialize(to: value) }
}

/// A fixed-size array that concurrent workers fill at distinct indices.
package final class UnsafeSendableBox<Element>: @unchecked Sendable {
    private var storage: [Element?]
    private let lock = NSLock()

    package init(count: Int) { storage = Array(repeating: nil, count: count) }

    package func set(_ i: Int, _ value: Element) {
        lock.withLock { storage[i] = value }
    }

    package var values: [Element] {
        storage.map { value in
            guard let value else { preconditionFailure("a batch slot was never filled") }
            return value
        }
    }
}
