import Dispatch
import Foundation
import Numerics
import Model
import Formats
import Exercises
import Grading
import Reports

/// Grades every entry of a class folder in parallel; every entry gives exactly one row, in folder order.
public struct BatchGrader: Sendable {
    public let session: GradingSession
    /// Seconds one submission may take before it becomes an error row.
    public let timeLimit: Double

    public init(session: GradingSession, timeLimit: Double = 60) {
        self.session = session
        self.timeLimit = timeLimit
    }

    /// One gradebook row.
    public struct Row: Sendable {
        public var student: String
        public var outcome: GradingSession.Outcome
        /// The model, when it could be built (for similarity flags).
        public var model: Transformer?
    }

    /// Grades `folder`'s entries; `progress` is called with the number done so far (from any thread).
    public func grade(_ folder: ClassFolder, progress: @escaping @Sendable (Int) -> Void = { _ in }) -> [Row] {
        let entries = folder.entries
        let rows = UnsafeSendableBox<Row>(count: entries.count)
        let done = Counter()
        DispatchQueue.concurrentPerform(iterations: entries.count) { i in
            let entry = entries[i]
            if let problem = entry.problem {
                rows.set(i, Row(student: entry.student, outcome: .error(problem, exercise: session.exercise), model: nil))
            } else {
                let (outcome, model) = session.gradeKeepingModel(entry.path, timeLimit: timeLimit)
                rows.set(i, Row(student: entry.student, outcome: outcome, model: model))
            }
            progress(done.increment())
        }
        return rows.values
    }
}

/// A thread-safe counter.
package final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    package func increment() -> Int {
        lock.withLock {
            value += 1; return value
        }
    }
}
