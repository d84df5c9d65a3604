import DescentJSON
import DescentMath
import DescentStorage
import Foundation
import Synchronization

/// One submitted job: its spec, and its state as the worker advances it. Every field that changes lives in
/// one `Mutex`; readers take what they need under it (never the whole history, unless they ask for it).
///
/// Watchers are how streams and `?wait=` learn of changes without polling: a watcher is a one-shot closure,
/// called (outside the lock) at the next change — a progress event, a status change — and then dropped.
package final class Job: Sendable {
    package let id: String
    /// Who owns it (an API key's tenant; "" without API keys). Only its tenant sees it.
    package let tenant: String
    package let spec: JobSpec
    /// The echoed spec and the manifest, made once: every poll sends them.
    package let specJSON: JSONValue
    package let manifest: JSONValue
    /// The data it fits; nil in objective mode.
    package let dataset: DatasetRecord?
    package let createdAt: Date
    package let sequence: Int
    private let cancelFlag = Atomic<Bool>(false)
    /// Set when the service shuts down: the run saves a checkpoint and stops, and the job stays queued.
    private let suspendFlag = Atomic<Bool>(false)
    private let state = Mutex(State())
    /// The memory promised to the run (given back when it ends) and to what the job keeps (while it exists).
    private let memory = Mutex<(run: MemoryReservation?, kept: MemoryReservation?)>((nil, nil))

    struct State {
        var status = JobStatus.queued
        var startedAt: Date?
        var finishedAt: Date?
        var history: [ProgressEvent] = []
        var outcome: JobOutcome?
        var failure: JobFailure?
        var watchers: [Int: @Sendable () -> Void] = [:]
        var finishWatchers: [Int: @Sendable () -> Void] = [:]
        var nextWatcher = 0
        /// Where a restored job's run goes on from (its history up to there is already restored).
        var resume: TrainerCheckpoint?
    }

    package init(
        id: String, spec: JobSpec, dataset: DatasetRecord?, createdAt: Date, sequence: Int, version: String,
        tenant: String = ""
    ) {
        self.id = id
        self.tenant = tenant
        self.spec = spec
        self.dataset = dataset
        self.createdAt = createdAt
        self.sequence = sequence
        specJSON = spec.json
        manifest = [
            "seed": .number(Double(spec.seed)),
            "data_sha256": dataset.map { .string($0.sha256) } ?? .null,
            "spec_sha256": .string(SpecHash.of(specJSON)),
            "version": .string(version),
        ]
    }

    /// What a poll reads: everything but the history.
    package struct Snapshot: Sendable {
        package var status: JobStatus
        package var startedAt: Date?
        package var finishedAt: Date?
        package var progress: ProgressEvent?
        package var outcome: JobOutcome?
        package var failure: JobFailure?
    }

    package var snapshot: Snapshot {
        state.withLock {
            Snapshot(
                status: $0.status, startedAt: $0.startedAt, finishedAt: $0.finishedAt, progress: $0.history.last,
                outcome: $0.outcome, failure: $0.failure)
        }
    }

    package var status: JobStatus { state.withLock { $0.status } }

    /// The progress events with an iteration after `after`, at most `limit` of them, with the status now.
    package func events(after: Int, limit: Int) -> (events: ArraySlice<ProgressEvent>, status: JobStatus) {
        state.withLock { state in
            let start = Self.firstIndex(in: state.history, after: after)
            let end = min(state.history.count, start + limit)
            return (state.history[start..<end], state.status)
        }
    }

    package var history: [ProgressEvent] { state.withLock { $0.history } }

    /// Binary search: the history is in increasing order of iteration.
    private static func firstIndex(in history: [ProgressEvent], after iteration: Int) -> Int {
        var low = 0
        var high = history.count
        while low < high {
            let middle = (low + high) / 2
            if history[middle].iteration <= iteration { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Watching

    /// Calls `watcher` once, at the next change (now, if `isStale` says the caller's view is already out of
    /// date). Returns a token for `unwatch`.
    @discardableResult
    package func watch(unlessStale isStale: (JobStatus, Int) -> Bool, _ watcher: @escaping @Sendable () -> Void) -> Int?
    {
        let token: Int? = state.withLock { state in
            if isStale(state.status, state.history.last?.iteration ?? -1) { return nil }
            let token = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[token] = watcher
            return token
        }
        if token == nil { watcher() }
        return token
    }

    /// Calls `watcher` once, when the job has finished (now, if it has).
    @discardableResult
    package func whenFinished(_ watcher: @escaping @Sendable () -> Void) -> Int? {
        let token: Int? = state.withLock { state in
            if state.status.isFinished { return nil }
            let token = state.nextWatcher
            state.nextWatcher += 1
            state.finishWatchers[token] = watcher
            return token
        }
        if token == nil { watcher() }
        return token
    }

    package func unwatch(_ token: Int) {
        state.withLock { state in
            state.watchers[token] = nil
            state.finishWatchers[token] = nil
        }
    }

    /// Runs `change` under the lock, then wakes every watcher (and, once finished, every finish watcher).
    private func update(_ change: (inout State) -> Void) {
        let watchers = state.withLock { state in
            change(&state)
            var watchers = Array(state.watchers.values)
            state.watchers.removeAll(keepingCapacity: true)
            if state.status.isFinished {
                watchers += state.finishWatchers.values
                state.finishWatchers.removeAll()
            }
            return watchers
        }
        for watcher in watchers { watcher() }
    }

    // MARK: The worker's side

    package var isCancelRequested: Bool { cancelFlag.load(ordering: .relaxed) }

    var isSuspendRequested: Bool { suspendFlag.load(ordering: .relaxed) }

    func requestSuspend() { suspendFlag.store(true, ordering: .relaxed) }

    /// Marks the job running; false if it was cancelled while it waited.
    func start(at date: Date) -> Bool {
        var started = false
        update { state in
            guard state.status == .queued else { return }
            state.status = .running
            state.startedAt = date
            started = true
        }
        return started
    }

    func record(_ event: ProgressEvent) { update { $0.history.append(event) } }

    /// Puts back an unfinished job's progress read from the store: its history and the checkpoint its run
    /// resumes from.
    func restoreProgress(history: [ProgressEvent], checkpoint: TrainerCheckpoint) {
        update { state in
            state.history = history
            state.resume = checkpoint
        }
    }

    /// The checkpoint to resume from, once (the worker takes it when the job starts).
    func takeResumeCheckpoint() -> TrainerCheckpoint? {
        state.withLock { state in
            defer { state.resume = nil }
            return state.resume
        }
    }

    /// The events from position `index` of the history on (for writing what a checkpoint has not stored yet).
    /// A slice shares the history's storage: nothing is copied unless the history grows meanwhile.
    func history(from index: Int) -> ArraySlice<ProgressEvent> {
        state.withLock { state in state.history[min(index, state.history.count)...] }
    }

    /// Puts a finished job read from the store back in its final state.
    func restoreFinished(
        _ status: JobStatus, startedAt: Date?, finishedAt: Date, history: [ProgressEvent], outcome: JobOutcome?,
        failure: JobFailure?
    ) {
        update { state in
            state.status = status
            state.startedAt = startedAt
            state.finishedAt = finishedAt
            state.history = history
            state.outcome = outcome
            state.failure = failure
        }
    }

    func finish(_ status: JobStatus, outcome: JobOutcome?, failure: JobFailure?, at date: Date) {
        update { state in
            state.status = status
            state.outcome = outcome
            state.failure = failure
            state.finishedAt = date
        }
        memory.withLock { $0.run = nil }
    }

    /// Gives back all the memory promised to the job (it is being deleted).
    func releaseMemory() {
        let (run, kept) = memory.withLock { $0 }
        run?.release()
        kept?.release()
    }

    /// Holds the memory promised to the job: `run` until it finishes, `kept` for as long as it exists.
    package func hold(run: MemoryReservation?, kept: MemoryReservation?) {
        let finished = status.isFinished
        memory.withLock { $0 = (finished ? nil : run, kept) }
    }

    /// Asks the job to stop. A queued job ends `cancelled` at once (true); a running one at its next iteration.
    func requestCancel(at date: Date) -> Bool {
        cancelFlag.store(true, ordering: .relaxed)
        var cancelledNow = false
        update { state in
            guard state.status == .queued else { return }
            state.status = .cancelled
            state.finishedAt = date
            cancelledNow = true
        }
        if cancelledNow { memory.withLock { $0.run = nil } }
        return cancelledNow
    }
}

/// `manifest.spec_sha256`: the SHA-256 of the echoed spec's compact JSON.
enum SpecHash {
    static func of(_ spec: JSONValue) -> String {
        SHA256.hex(JSONWriter.bytes(spec))
    }
}
