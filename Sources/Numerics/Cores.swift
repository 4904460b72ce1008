import Foundation

/// How many cores the work may be spread over, read once per process: on Linux the answer comes from
/// reading the cgroup's CPU quota, which costs more than a small batch of forward passes.
package enum Cores {
    package static let active = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
