import DescentJSON
import DescentMath
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import DescentJobs

/// Counts calls from any thread.
private final class CallCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// Every wait is bounded (see `eventually`), so a scheduler that loses a job fails the test instead of hanging it.
/// Serialized: the jobs of one test would otherwise take the cores (and Dispatch's threads) of another.
@Suite("JobScheduler and Job", .serialized)
struct JobSchedulerTests {
    let small = JobsTestData.record(JobsTestData.linear(rows: 200), id: "ds_small")
    /// Big enough that a run of ten million iterations lasts far longer than any test.
    let big = JobsTestData.record(JobsTestData.linear(rows: 2000), id: "ds_big")

    /// Runs until cancelled (or, should cancellation fail, for at most 30 s).
    static let longSpec = #"{"stopping": {"max_iterations": 10000000, "weight_tolerance": 0, "max_seconds": 30}}"#
    static let shortSpec = #"{"stopping": {"max_iterations": 100, "weight_tolerance": 0}}"#

    private func scheduler(workers: Int, maxQueue: Int = 16, cores: Int = 1) -> (JobScheduler, JobMetrics) {
        let metrics = JobMetrics()
        let scheduler = JobScheduler(
            workers: workers, maxQueue: maxQueue, cores: cores, metrics: metrics, logger: JobsTestData.logger())
        return (scheduler, metrics)
    }

    private func job(_ body: String, on record: DatasetRecord, id: String? = nil) throws -> Job {
        let spec = try JobsTestData.spec(body, datasetID: record.id)
        guard let id else { return JobsTestData.job(spec, on: record) }
        return JobsTestData.job(spec, on: record, id: id)
    }

    /// Cancels `jobs` and waits for them to finish, so no test leaves a worker busy.
    private func cancelAndWait(_ jobs: [Job], on scheduler: JobScheduler) {
        for job in jobs { scheduler.cancel(job) }
        for job in jobs { waitUntilFinished(job) }
    }

    // MARK: Queueing

    @Test("with one worker, jobs start in the order they were submitted, each after the previous one ended")
    func fifoOrder() throws {
        let (scheduler, metrics) = scheduler(workers: 1)
        let jobs = try (0..<5).map { try job(Self.shortSpec, on: small, id: "job_\($0)") }
        for job in jobs { #expect(scheduler.submit(job)) }
        for job in jobs { waitUntilFinished(job) }
        let snapshots = jobs.map(\.snapshot)
        #expect(snapshots.allSatisfy { $0.status == .succeeded })
        for (earlier, later) in zip(snapshots, snapshots.dropFirst()) {
            let started = try #require(later.startedAt)
            #expect(try #require(earlier.startedAt) <= started)
            #expect(try #require(earlier.finishedAt) <= started, "a job started before the previous one ended")
        }
        #expect(eventually { scheduler.running == 0 && scheduler.depth == 0 })
        #expect(metrics.finishedByStatus == [.succeeded: 5])
        #expect(metrics.iterationsTotal == 500)
    }

    @Test("a full queue refuses a job, and the refused job is left untouched")
    func queueFull() throws {
        let (scheduler, _) = scheduler(workers: 1, maxQueue: 1)
        let running = try job(Self.longSpec, on: big)
        let waiting = try job(Self.longSpec, on: big)
        let refused = try job(Self.longSpec, on: big)
        #expect(scheduler.submit(running))
        #expect(eventually { running.status == .running })
        #expect(scheduler.submit(waiting))
        #expect(scheduler.depth == 1)
        #expect(scheduler.running == 1)
        #expect(!scheduler.submit(refused))
        #expect(scheduler.depth == 1)
        #expect(refused.status == .queued)
        cancelAndWait([waiting, running], on: scheduler)
        #expect(eventually { scheduler.running == 0 && scheduler.depth == 0 })
        // The queue has room again.
        let later = try job(Self.shortSpec, on: small)
        #expect(scheduler.submit(later))
        waitUntilFinished(later)
        #expect(later.status == .succeeded)
    }

    @Test("a queued job that is cancelled no longer counts against the queue")
    func cancelledJobFreesItsSlot() throws {
        let (scheduler, _) = scheduler(workers: 1, maxQueue: 1)
        let running = try job(Self.longSpec, on: big)
        let waiting = try job(Self.longSpec, on: big)
        let next = try job(Self.shortSpec, on: small)
        #expect(scheduler.submit(running))
        #expect(eventually { running.status == .running })
        #expect(scheduler.submit(waiting))
        scheduler.cancel(waiting)
        #expect(waiting.status == .cancelled)
        // The cancelled job waits for nothing: it should neither be counted as queued nor take the only slot.
        #expect(scheduler.depth == 0)
        let accepted = scheduler.submit(next)
        #expect(accepted)
        cancelAndWait([running], on: scheduler)
        if accepted { waitUntilFinished(next) }
    }

    // MARK: Cancelling

    @Test("cancelling a queued job ends it at once, and it never starts")
    func cancelQueued() throws {
        let (scheduler, metrics) = scheduler(workers: 1)
        let running = try job(Self.longSpec, on: big)
        let queued = try job(Self.shortSpec, on: small)
        #expect(scheduler.submit(running))
        #expect(eventually { running.status == .running })
        #expect(scheduler.submit(queued))
        #expect(queued.status == .queued)
        scheduler.cancel(queued)
        let snapshot = queued.snapshot
        #expect(snapshot.status == .cancelled)
        #expect(snapshot.finishedAt != nil)
        #expect(snapshot.startedAt == nil)
        #expect(snapshot.outcome == nil && snapshot.failure == nil)
        cancelAndWait([running], on: scheduler)
        #expect(eventually { scheduler.running == 0 && scheduler.depth == 0 })
        // The worker skipped it: still never started, and the running job was the only one that ran.
        #expect(queued.snapshot.startedAt == nil)
        #expect(queued.history.isEmpty)
        #expect(metrics.iterationsTotal == running.snapshot.outcome?.iterations)
        // Both ended cancelled, and both are counted: the queued one when it was cancelled, never run.
        #expect(metrics.finishedByStatus == [.cancelled: 2])
    }

    @Test("cancelling a running job ends it cancelled within a second")
    func cancelRunning() throws {
        let (scheduler, metrics) = scheduler(workers: 1)
        let running = try job(Self.longSpec, on: big)
        #expect(scheduler.submit(running))
        #expect(eventually { running.status == .running && !running.history.isEmpty })
        let requested = Date()
        scheduler.cancel(running)
        waitUntilFinished(running)
        let elapsed = Date().timeIntervalSince(requested)
        #expect(elapsed < 1, "took \(elapsed) s to stop")
        let snapshot = running.snapshot
        #expect(snapshot.status == .cancelled)
        #expect(snapshot.failure == nil)
        let outcome = try #require(snapshot.outcome)
        #expect(outcome.stopReason == .cancelled)
        #expect(outcome.iterations < 10_000_000)
        #expect(!outcome.converged)
        #expect(metrics.finishedByStatus == [.cancelled: 1])
        // A finished job ignores a second cancel.
        scheduler.cancel(running)
        #expect(running.status == .cancelled)
    }

    // MARK: Results

    static let reproducedSpecs = [
        #"{"stopping": {"max_iterations": 30, "weight_tolerance": 0}}"#,
        #"{"optimizer": {"method": "minibatch", "batch_size": 256, "learning_rate": 0.05}, "seed": 7, "#
            + #""stopping": {"max_iterations": 5}}"#,
        #"{"optimizer": {"method": "adam", "batch_size": 512, "learning_rate": 0.1}, "seed": 11, "#
            + #""stopping": {"max_iterations": 5}}"#,
        #"{"optimizer": {"method": "momentum", "learning_rate": "auto"}, "standardize": true, "#
            + #""regularization": {"l2": 0.01, "l1": 0.001}, "stopping": {"max_iterations": 20}}"#,
        #"{"init": {"type": "normal", "scale": 0.5}, "validation": {"fraction": 0.2}, "seed": 3, "#
            + #""schedule": {"type": "backtracking"}, "stopping": {"max_iterations": 20}}"#,
    ]

    @Test("a job's result is bit for bit what the trainer gives for the same spec", arguments: reproducedSpecs)
    func matchesDirectTrainer(body: String) throws {
        // More rows than one chunk of the objective, and four cores, so the job's passes run in parallel.
        let record = JobsTestData.record(JobsTestData.linear(rows: 5000), id: "ds_5000")
        let (scheduler, _) = scheduler(workers: 1, cores: 4)
        let job = try job(body, on: record)
        #expect(scheduler.submit(job))
        waitUntilFinished(job)

        let (model, configuration) = try job.spec.training(on: record.dataset)
        let expected = try Trainer(model: model, configuration: configuration).run()
        let snapshot = job.snapshot
        #expect(snapshot.status == .succeeded)
        let outcome = try #require(snapshot.outcome)
        #expect(outcome.weights.map { $0.map(\.bitPattern) } == expected.weights.map { $0.map(\.bitPattern) })
        #expect(outcome.intercepts.map(\.bitPattern) == expected.intercepts.map(\.bitPattern))
        #expect(outcome.loss.bitPattern == expected.loss.bitPattern)
        #expect(outcome.iterations == expected.iterations)
        #expect(outcome.stopReason == expected.stopReason)
        #expect(outcome.converged == expected.converged)
        #expect(outcome.validationLoss?.bitPattern == expected.validationLoss?.bitPattern)
    }

    @Test(
        "the history holds every report_every-th iteration and the last",
        arguments: [(10, [10, 20, 30, 40, 50]), (7, [7, 14, 21, 28, 35, 42, 49, 50]), (50, [50]), (1, Array(1...50))])
    func history(reportEvery: Int, iterations: [Int]) throws {
        let (scheduler, metrics) = scheduler(workers: 1)
        let job = try job(
            #"{"report_every": \#(reportEvery), "stopping": {"max_iterations": 50, "weight_tolerance": 0}}"#, on: small)
        #expect(scheduler.submit(job))
        waitUntilFinished(job)
        #expect(job.history.map(\.iteration) == iterations)
        let snapshot = job.snapshot
        #expect(snapshot.progress?.iteration == 50)
        let outcome = try #require(snapshot.outcome)
        #expect(outcome.iterations == 50)
        #expect(outcome.stopReason == .maxIterations)
        #expect(outcome.loss == job.history.last?.loss)
        // The loss goes down on this well-conditioned problem.
        let losses = job.history.map(\.loss)
        #expect(zip(losses, losses.dropFirst()).allSatisfy { $0 >= $1 })
        // One snapshot per iteration (ceil(50 / 1000) = 1), from iteration 0 to the last.
        #expect(outcome.trajectory.map(\.iteration) == Array(0...50))
        #expect(metrics.iterationsTotal == 50)
        // Reading the history from a cursor.
        let (events, status) = job.events(after: iterations[0], limit: 2)
        #expect(events.map(\.iteration) == Array(iterations.dropFirst().prefix(2)))
        #expect(status == .succeeded)
        #expect(job.events(after: 50, limit: 10).events.isEmpty)
    }

    @Test("a job whose loss diverges ends failed, with the diverged result and a detail naming a learning rate")
    func diverging() throws {
        let (scheduler, metrics) = scheduler(workers: 1)
        let job = try job(#"{"optimizer": {"learning_rate": 1e6}}"#, on: small)
        #expect(scheduler.submit(job))
        waitUntilFinished(job)
        let snapshot = job.snapshot
        #expect(snapshot.status == .failed)
        let failure = try #require(snapshot.failure)
        #expect(failure.status == 422)
        #expect(failure.detail.contains("learning rate"))
        let outcome = try #require(snapshot.outcome)
        #expect(outcome.stopReason == .diverged)
        #expect(!outcome.converged)
        #expect(outcome.lipschitz != nil)
        #expect(outcome.weights.allSatisfy { $0.allSatisfy(\.isFinite) })
        #expect(metrics.finishedByStatus == [.failed: 1])
    }

    @Test("a job whose spec does not fit its data ends failed with the pointer in the detail")
    func dataMismatch() throws {
        let (scheduler, _) = scheduler(workers: 1)
        // Logistic regression on real-valued targets.
        let job = try job(#"{"model": "logistic"}"#, on: small)
        #expect(scheduler.submit(job))
        waitUntilFinished(job)
        let snapshot = job.snapshot
        #expect(snapshot.status == .failed)
        #expect(snapshot.outcome == nil)
        #expect(snapshot.startedAt != nil && snapshot.finishedAt != nil)
        let failure = try #require(snapshot.failure)
        #expect(failure.status == 422)
        #expect(failure.detail.contains("/dataset_id"))
    }

    @Test("several workers run jobs at the same time, a job beyond them waits, and all of them finish")
    func severalWorkers() throws {
        let workers = 2
        let (scheduler, metrics) = scheduler(workers: workers)
        let long = try (0..<workers).map { _ in try job(Self.longSpec, on: big) }
        for job in long { #expect(scheduler.submit(job)) }
        #expect(eventually { long.allSatisfy { $0.status == .running } })
        #expect(scheduler.running == workers)
        let short = try job(Self.shortSpec, on: small)
        #expect(scheduler.submit(short))
        #expect(short.status == .queued)
        #expect(scheduler.depth == 1)
        cancelAndWait(long, on: scheduler)
        waitUntilFinished(short)
        #expect(short.status == .succeeded)
        #expect(eventually { scheduler.running == 0 && scheduler.depth == 0 })
        #expect(metrics.finishedByStatus == [.cancelled: workers, .succeeded: 1])
    }

    @Test(
        "with more workers than cores, every worker still runs a job")
    func moreWorkersThanCores() throws {
        let workers = ProcessInfo.processInfo.activeProcessorCount + 1
        let (scheduler, _) = scheduler(workers: workers)
        let long = try (0..<workers).map { _ in try job(Self.longSpec, on: big) }
        for job in long { #expect(scheduler.submit(job)) }
        let allRunning = eventually { long.allSatisfy { $0.status == .running } }
        #expect(allRunning, "\(long.filter { $0.status == .running }.count) of \(workers) jobs running")
        cancelAndWait(long, on: scheduler)
    }

    @Test(
        "running jobs leave Dispatch's global pool free for other work")
    func globalPoolNotStarved() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let (scheduler, _) = scheduler(workers: cores)
        let long = try (0..<cores).map { _ in try job(Self.longSpec, on: big) }
        for job in long { #expect(scheduler.submit(job)) }
        #expect(eventually { long.allSatisfy { $0.status == .running } })
        // What the service sends to the global queue while jobs run: uploads, submissions, predictions.
        let ran = CallCounter()
        DispatchQueue.global().async { ran.increment() }
        let waited = Date()
        let served = eventually(timeout: 2) { ran.value == 1 }
        #expect(served, "a block on DispatchQueue.global() waited \(Date().timeIntervalSince(waited)) s for the jobs")
        cancelAndWait(long, on: scheduler)
        #expect(eventually { ran.value == 1 })
    }

    // MARK: Job

    @Test("finish watchers are called once when the job ends, or at once when it has ended")
    func finishWatchers() throws {
        let (scheduler, _) = scheduler(workers: 1)
        let job = try job(Self.shortSpec, on: small)
        let counter = CallCounter()
        #expect(job.whenFinished { counter.increment() } != nil)
        let dropped = CallCounter()
        if let token = job.whenFinished({ dropped.increment() }) { job.unwatch(token) }
        #expect(scheduler.submit(job))
        waitUntilFinished(job)
        #expect(eventually { counter.value == 1 })
        let late = CallCounter()
        #expect(job.whenFinished { late.increment() } == nil)
        #expect(late.value == 1)
        #expect(counter.value == 1)
        #expect(dropped.value == 0)
    }

    @Test("the manifest names the seed, the data's hash, the echoed spec's hash and the version")
    func manifest() throws {
        let job = JobsTestData.job(try JobsTestData.spec("{}"), on: small, id: "job_1", sequence: 4)
        #expect(job.specJSON == job.spec.json)
        #expect(
            job.manifest
                == [
                    "seed": 0, "data_sha256": .string(small.sha256),
                    "spec_sha256": "c6c0ddb36bea4273a377d162d68d6f169bdbfb878af4bc6c4b00a012d1b20139",
                    "version": "test",
                ])
        let snapshot = job.snapshot
        #expect(snapshot.status == .queued)
        #expect(snapshot.startedAt == nil && snapshot.finishedAt == nil && snapshot.progress == nil)
    }
}
