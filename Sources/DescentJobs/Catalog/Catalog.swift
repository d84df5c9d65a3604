import DescentMath
import DescentStorage
import Foundation
import Synchronization

/// The datasets and jobs the service knows. They are served from memory; with a `JobStore` every change is
/// also written to SQLite before the call returns (so before the API answers), and `restore` reads them
/// back at start-up. Listings are newest first and paginate by an opaque cursor: the creation sequence
/// number of the last item returned, so a page boundary stays put when items before it are deleted.
package final class Catalog: Sendable {
    private let state = Mutex(State())
    private let storeBox = Mutex<JobStore?>(nil)
    private var store: JobStore? { storeBox.withLock { $0 } }

    private struct State {
        var datasets: [String: DatasetRecord] = [:]
        var datasetOrder: [String] = []
        var datasetByContent: [String: String] = [:]
        var jobs: [String: Job] = [:]
        var jobOrder: [String] = []
        /// Idempotency-Key → (the request body's hash, the job it made).
        var idempotency: [String: (bodyHash: String, jobID: String)] = [:]
        var sequence = 0
    }

    package init() {}

    /// Writes every change to `store` from now on.
    package func useStore(_ store: JobStore) { storeBox.withLock { $0 = store } }

    /// Puts back what the store held: datasets (deleted ones only for their jobs' sake) and jobs. Returns the
    /// jobs that had not finished, in submission order, for the scheduler to run again.
    package func restore(
        datasets: [(record: DatasetRecord, deleted: Bool)], jobs: [(job: Job, key: String?, bodyHash: String?)]
    ) -> [Job] {
        state.withLock { state in
            for (record, deleted) in datasets {
                state.sequence = max(state.sequence, record.sequence)
                guard !deleted else { continue }
                state.datasets[record.id] = record
                state.datasetOrder.append(record.id)
                state.datasetByContent[record.contentKey] = record.id
            }
            var unfinished: [Job] = []
            for (job, key, bodyHash) in jobs {
                state.sequence = max(state.sequence, job.sequence)
                state.jobs[job.id] = job
                state.jobOrder.append(job.id)
                if let key { state.idempotency[key] = (bodyHash ?? "", job.id) }
                if !job.status.isFinished { unfinished.append(job) }
            }
            return unfinished
        }
    }

    // MARK: Datasets

    /// Adds `record` (stored first), or returns the dataset already stored with the same content key (and
    /// false).
    package func addDataset(_ record: DatasetRecord) throws(StorageError) -> (record: DatasetRecord, created: Bool) {
        var record = record
        let existing: DatasetRecord? = state.withLock { state in
            if let id = state.datasetByContent[record.contentKey], let existing = state.datasets[id] { return existing }
            state.sequence += 1
            record.sequence = state.sequence
            return nil
        }
        if let existing { return (existing, false) }
        // Written outside the lock: a large dataset takes a while, and other requests need the catalog.
        do {
            try store?.insert(record)
        } catch {
            // The same content uploaded twice at once: the other upload's row won the unique content key.
            if let winner = state.withLock({ state in
                state.datasetByContent[record.contentKey].flatMap { state.datasets[$0] }
            }) {
                return (winner, false)
            }
            throw error
        }
        return state.withLock { state in
            if let id = state.datasetByContent[record.contentKey], let existing = state.datasets[id] {
                return (existing, false)
            }
            state.datasets[record.id] = record
            state.datasetOrder.append(record.id)
            state.datasetByContent[record.contentKey] = record.id
            return (record, true)
        }
    }

    package func dataset(_ id: String) -> DatasetRecord? { state.withLock { $0.datasets[id] } }

    package var datasetCount: Int { state.withLock { $0.datasets.count } }

    package enum DeleteOutcome: Equatable, Sendable {
        case deleted
        case notFound
        /// Datasets: a queued or running job uses it. Jobs: the job has not finished.
        case inUse(String)
    }

    package func deleteDataset(_ id: String) throws(StorageError) -> DeleteOutcome {
        let store = self.store
        return try state.withLock { state throws(StorageError) in
            guard let record = state.datasets[id] else { return .notFound }
            if let user = state.jobs.values.first(where: { $0.dataset?.id == id && !$0.status.isFinished }) {
                return .inUse(user.id)
            }
            try store?.deleteDataset(id)
            state.datasets[id] = nil
            state.datasetByContent[record.contentKey] = nil
            state.datasetOrder.removeAll { $0 == id }
            return .deleted
        }
    }

    package func datasets(limit: Int, before cursor: Int?) -> (items: [DatasetRecord], next: Int?) {
        state.withLock { state in
            page(state.datasetOrder, limit: limit, before: cursor) { state.datasets[$0].map { ($0, $0.sequence) } }
        }
    }

    // MARK: Jobs

    package func nextSequence() -> Int {
        state.withLock { state in
            state.sequence += 1
            return state.sequence
        }
    }

    /// Adds `job` (stored first). With an idempotency key that another request took first (two retries
    /// racing), the job is not added and the answer is that request's job (or the conflict): the key is checked
    /// and taken under one lock.
    package func addJob(
        _ job: Job, idempotencyKey: String? = nil, bodyHash: String = ""
    ) throws(StorageError) -> IdempotentLookup {
        let store = self.store
        return try state.withLock { state throws(StorageError) in
            if let idempotencyKey, let entry = state.idempotency[idempotencyKey], let first = state.jobs[entry.jobID] {
                return entry.bodyHash == bodyHash ? .replay(first) : .conflict(jobID: entry.jobID)
            }
            try store?.insert(job, idempotencyKey: idempotencyKey, bodyHash: bodyHash)
            state.jobs[job.id] = job
            state.jobOrder.append(job.id)
            if let idempotencyKey { state.idempotency[idempotencyKey] = (bodyHash, job.id) }
            return .none
        }
    }

    /// Takes a job back out (its submission was refused after all, e.g. the queue was full).
    package func removeJob(_ job: Job, idempotencyKey: String?) {
        try? store?.deleteJob(job.id)
        state.withLock { state in
            state.jobs[job.id] = nil
            state.jobOrder.removeAll { $0 == job.id }
            if let idempotencyKey, state.idempotency[idempotencyKey]?.jobID == job.id {
                state.idempotency[idempotencyKey] = nil
            }
        }
    }

    package enum IdempotentLookup {
        case none
        case replay(Job)
        /// The key was used with another body.
        case conflict(jobID: String)
    }

    package func lookup(idempotencyKey: String, bodyHash: String) -> IdempotentLookup {
        state.withLock { state in
            guard let entry = state.idempotency[idempotencyKey] else { return .none }
            guard entry.bodyHash == bodyHash else { return .conflict(jobID: entry.jobID) }
            guard let job = state.jobs[entry.jobID] else { return .none }
            return .replay(job)
        }
    }

    package func job(_ id: String) -> Job? { state.withLock { $0.jobs[id] } }

    package func deleteJob(_ id: String) throws(StorageError) -> DeleteOutcome {
        let store = self.store
        return try state.withLock { state throws(StorageError) in
            guard let job = state.jobs[id] else { return .notFound }
            guard job.status.isFinished else { return .inUse(job.id) }
            try store?.deleteJob(id)
            state.jobs[id] = nil
            state.jobOrder.removeAll { $0 == id }
            state.idempotency = state.idempotency.filter { $0.value.jobID != id }
            return .deleted
        }
    }

    package func jobs(
        status: JobStatus?, datasetID: String?, limit: Int, before cursor: Int?
    ) -> (items: [Job], next: Int?) {
        state.withLock { state in
            page(state.jobOrder, limit: limit, before: cursor) { id in
                guard let job = state.jobs[id] else { return nil }
                if let status, job.status != status { return nil }
                if let datasetID, job.dataset?.id != datasetID { return nil }
                return (job, job.sequence)
            }
        }
    }

    /// Deletes the jobs that finished before `date`, with their history (retention). Returns their ids.
    @discardableResult
    package func purgeJobs(finishedBefore date: Date) -> [String] {
        let store = self.store
        return state.withLock { state in
            var purged: [String] = []
            for (id, job) in state.jobs {
                guard job.status.isFinished, let finished = job.snapshot.finishedAt, finished < date else { continue }
                if let store {
                    // A job the store cannot delete now stays, and is tried again at the next sweep.
                    do { try store.deleteJob(id) } catch { continue }
                }
                state.jobs[id] = nil
                purged.append(id)
            }
            guard !purged.isEmpty else { return purged }
            let gone = Set(purged)
            state.jobOrder.removeAll { gone.contains($0) }
            state.idempotency = state.idempotency.filter { !gone.contains($0.value.jobID) }
            return purged
        }
    }

    /// Jobs by status, for `/metrics`.
    package var jobCounts: [JobStatus: Int] {
        let jobs = state.withLock { Array($0.jobs.values) }
        var counts: [JobStatus: Int] = [:]
        for job in jobs { counts[job.status, default: 0] += 1 }
        return counts
    }

    /// Newest first: walks `order` (oldest first) from the end, from just before the cursor's item.
    private func page<Item>(
        _ order: [String], limit: Int, before cursor: Int?, _ resolve: (String) -> (Item, Int)?
    ) -> (items: [Item], next: Int?) {
        var items: [Item] = []
        var lastSequence: Int?
        for id in order.reversed() {
            guard let (item, sequence) = resolve(id) else { continue }
            if let cursor, sequence >= cursor { continue }
            if items.count == limit { return (items, lastSequence) }
            items.append(item)
            lastSequence = sequence
        }
        return (items, nil)
    }
}
