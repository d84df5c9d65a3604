import DescentLog
import DescentPOSIX
import DescentStorage
import Dispatch
import Foundation
import Synchronization

/// The bounded job queue and its workers (issue 4, point 3).
///
/// Jobs wait in FIFO order, at most `maxQueue` of them (`submit` refuses more, which the service answers
/// with 429). Up to `workers` run at once, each on a worker thread of its own. Not on Dispatch's global pool:
/// on Linux it runs at most one busy block per core and adds no thread while they stay busy, so CPU-bound jobs
/// there would starve everything else sent to it — the service's uploads, `?wait=` timers, keep-alives.
/// Worker threads are started as jobs arrive, up to `workers`, and then stay, each waiting on a semaphore
/// that is signalled once per queued job.
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
    private let store = Mutex<JobStore?>(nil)

    private let jobsQueued = DispatchSemaphore(value: 0)

    private struct State {
        var queue: [Job] = []
        var head = 0
        /// Workers running a job now.
        var running = 0
        /// Worker threads started (busy or waiting).
        var threads = 0
        /// The jobs the workers run now.
        var runningJobs: [Job] = []
        /// Set by a shutdown: no queued job starts any more.
        var suspended = false
        var queued: Int { queue.count - head }
    }

    /// Seconds between a running job's checkpoints (once a store is in use).
    private let checkpointSeconds: Double

    package init(
        workers: Int, maxQueue: Int, cores: Int, metrics: JobMetrics, logger: Logger, checkpointSeconds: Double = 2
    ) {
        self.checkpointSeconds = checkpointSeconds
        self.workers = max(1, workers)
        self.maxQueue = max(1, maxQueue)
        self.cores = max(1, cores)
        self.metrics = metrics
        self.logger = logger
    }

    /// Makes finished jobs durable from now on.
    package func useStore(_ store: JobStore) { self.store.withLock { $0 = store } }

    /// Jobs waiting for a worker.
    package var depth: Int { state.withLock { $0.queued } }

    package var running: Int { state.withLock { $0.running } }

    /// Queues `job`; false when the queue is full. `ignoringLimit` is for jobs restored at start-up, which
    /// were accepted before and must run whatever the limit is now.
    package func submit(_ job: Job, ignoringLimit: Bool = false) -> Bool {
        let startThread: Bool? = state.withLock { state in
            guard ignoringLimit || state.queued < maxQueue else { return nil }
            state.queue.append(job)
            // A new thread when the waiting ones cannot take every queued job and the limit allows it.
            guard state.threads < workers, state.threads - state.running < state.queued else { return false }
            state.threads += 1
            return true
        }
        guard let startThread else { return false }
        if startThread {
            // The thread keeps the scheduler alive: the service has one for its whole life.
            let thread = Thread { [self] in work() }
            thread.name = "descent-worker"
            thread.start()
        }
        jobsQueued.signal()
        return true
    }

    /// Cancels `job`: at once when it is still queued (it then leaves the queue, freeing its place), else
    /// within one iteration.
    package func cancel(_ job: Job) {
        let date = Date()
        guard job.requestCancel(at: date) else { return }
        metrics.jobFinished(.cancelled)
        do throws(StorageError) {
            try store.withLock { $0 }?.finish(
                job, .cancelled, startedAt: nil, finishedAt: date, outcome: nil, failure: nil)
        } catch {
            logger.error("cannot store a cancelled job", ["job": .string(job.id), "error": .string("\(error)")])
        }
        state.withLock { state in
            if let index = state.queue[state.head...].firstIndex(where: { $0 === job }) {
                state.queue.remove(at: index)
            }
        }
    }

    /// For a shutdown: every running job saves a checkpoint at its next iteration and stops, staying queued on
    /// disk; no queued job starts any more. Calls `completion` when no job runs (or after `timeout` seconds).
    package func suspend(timeout: Double, completion: @escaping @Sendable () -> Void) {
        let running: [Job] = state.withLock { state in
            state.suspended = true
            return state.runningJobs
        }
        for job in running { job.requestSuspend() }
        whenIdle(deadline: Date().addingTimeInterval(timeout), completion)
    }

    private func whenIdle(deadline: Date, _ completion: @escaping @Sendable () -> Void) {
        if state.withLock({ $0.running == 0 }) || Date() >= deadline { return completion() }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(10)) { [self] in
            whenIdle(deadline: deadline, completion)
        }
    }

    /// The nice value of worker threads.
    static let workerNice: Int32 = 10

    /// A worker's loop: wait for a job, run it, repeat. Every queued job signals `jobsQueued` once, so a
    /// wake-up finds a job unless it was cancelled (and removed) meanwhile; then the worker waits again.
    private func work() {
        // Jobs are batch work: when requests and jobs want the same cores, requests go first. Without this, 4
        // jobs on 2 cores cut the polling endpoints to ~0.2× their req/s with 3–5× the p99 (bench/load.sh);
        // the jobs lose little, since the requests are short.
        ThreadPriority.lowerCurrentThread(nice: Self.workerNice)
        while true {
            jobsQueued.wait()
            guard let (job, parallelism) = next() else { continue }
            JobRunner.run(
                job, parallelism: parallelism, store: store.withLock { $0 }, checkpointSeconds: checkpointSeconds,
                metrics: metrics, logger: logger)
            state.withLock { state in
                state.running -= 1
                state.runningJobs.removeAll { $0 === job }
            }
        }
    }

    /// The oldest job still queued, with the threads its passes may use: cores ÷ jobs running.
    private func next() -> (Job, Int)? {
        state.withLock { state in
            while !state.suspended, state.head < state.queue.count {
                let job = state.queue[state.head]
                state.head += 1
                // Taken jobs leave the array once they are half of it (amortised O(1)): a slot kept would keep
                // its job — and the memory reserved for it and its dataset — alive after it is deleted.
                if state.head * 2 > state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                // A job cancelled while it waited has already finished; skip it.
                guard job.status == .queued else { continue }
                state.running += 1
                state.runningJobs.append(job)
                return (job, max(1, cores / state.running))
            }
            return nil
        }
    }
}
