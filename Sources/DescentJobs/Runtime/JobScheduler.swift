import DescentLog
import Dispatch
import Foundation
import Synchronization

/// The bounded job queue and its workers (issue 4, point 3).
///
/// Jobs wait in FIFO order, at most `maxQueue` of them (`submit` refuses more, which the service answers
/// with 429). Up to `workers` run at once, each on a thread of Dispatch's global pool: a worker is started
/// when a job arrives and fewer than `workers` run, and it keeps taking jobs until the queue is empty.
///
/// Cores: a job's full-batch passes may split rows across `parallelism` threads. A job gets
/// cores ÷ (jobs running, itself included) when it starts, so a job alone uses every core and several share
/// them instead of oversubscribing. The result does not depend on it: the kernels reduce over a fixed
/// partition of rows.
package final class JobScheduler: Sendable {
    package let workers: Int
    package let maxQueue: Int
    private let cores: Int
    private let metrics: JobMetrics
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var queue: [Job] = []
        var head = 0
        var running = 0
        var queued: Int { queue.count - head }
    }

    package init(workers: Int, maxQueue: Int, cores: Int, metrics: JobMetrics, logger: Logger) {
        self.workers = max(1, workers)
        self.maxQueue = max(1, maxQueue)
        self.cores = max(1, cores)
        self.metrics = metrics
        self.logger = logger
    }

    /// Jobs waiting for a worker.
    package var depth: Int { state.withLock { $0.queued } }

    package var running: Int { state.withLock { $0.running } }

    /// Queues `job`; false when the queue is full.
    package func submit(_ job: Job) -> Bool {
        let startWorker: Bool? = state.withLock { state in
            guard state.queued < maxQueue else { return nil }
            state.queue.append(job)
            guard state.running < workers else { return false }
            state.running += 1
            return true
        }
        guard let startWorker else { return false }
        if startWorker { DispatchQueue.global().async { self.work() } }
        return true
    }

    /// Cancels `job`: at once when it is still queued (it is then skipped), else within one iteration.
    package func cancel(_ job: Job) { _ = job.requestCancel(at: Date()) }

    /// A worker's loop: take the oldest job, run it, repeat until none is left.
    private func work() {
        while let (job, parallelism) = next() {
            JobRunner.run(job, parallelism: parallelism, metrics: metrics, logger: logger)
        }
    }

    private func next() -> (Job, Int)? {
        state.withLock { state in
            while state.head < state.queue.count {
                let job = state.queue[state.head]
                state.head += 1
                if state.head > 1024, state.head * 2 > state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                // A job cancelled while it waited is already finished; skip it.
                guard job.status == .queued else { continue }
                return (job, max(1, cores / state.running))
            }
            state.running -= 1
            return nil
        }
    }
}
