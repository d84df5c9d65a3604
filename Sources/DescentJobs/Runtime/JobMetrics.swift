import Synchronization

/// Counters the workers keep for `/metrics`.
package final class JobMetrics: Sendable {
    private let iterations = Atomic<Int>(0)
    private let finished = Mutex<[JobStatus: Int]>([:])

    package init() {}

    /// Iterations completed by every job since start.
    package var iterationsTotal: Int { iterations.load(ordering: .relaxed) }

    /// Jobs that ended, by how they ended.
    package var finishedByStatus: [JobStatus: Int] { finished.withLock { $0 } }

    func iterationsDone(_ count: Int) { iterations.add(count, ordering: .relaxed) }

    func jobFinished(_ status: JobStatus) { finished.withLock { $0[status, default: 0] += 1 } }
}
