import DescentMath
import DescentStorage
import Foundation
import Synchronization

/// The datasets and jobs the service knows. They are served from memory; with a `JobStore` every change is
/// also written to SQLite before the call returns (so before the API answers), and `restore` reads them
/// back at start-up. Listings are newest first and paginate by an opaque cursor: the creation sequence
/// number of the last item returned, so a page boundary stays put when items before it are deleted.
///
/// Every dataset and job belongs to a tenant (an API key's; "" without keys), and every lookup names the tenant
/// asking: another tenant's item is simply not found. Content and idempotency keys come in scoped by tenant
/// (`TenantScope.key`), so one tenant's upload is never answered with another's dataset.
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
        /// Bytes of uploads being stored right now, by tenant: counted against the quota before they land.
        var pendingBytes: [String: Int] = [:]

        func storedBytes(of tenant: String) -> Int {
            datasets.values.reduce(pendingBytes[tenant, default: 0]) { $0 + ($1.tenant == tenant ? $1.bytes : 0) }
        }
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

    package enum AddDatasetOutcome: Sendable {
        case created(DatasetRecord)
        /// The same content (same tenant, same parsing parameters) was stored before: that dataset.
        case existing(DatasetRecord)
        /// Storing it would take its tenant's uploads past `limit` bytes (`stored` are stored already).
        case overQuota(stored: Int, limit: Int)
    }

    /// Adds `record` (stored first), or returns the dataset its tenant already stored with the same content key.
    /// With `maxTenantBytes`, a new dataset that would take its tenant's stored uploads past it is refused.
    package func addDataset(
        _ record: DatasetRecord, maxTenantBytes: Int? = nil
    ) throws(StorageError) -> AddDatasetOutcome {
        var record = record
        let tenant = record.tenant
        let admitted: AddDatasetOutcome? = state.withLock { state in
            if let id = state.datasetByContent[record.contentKey], let existing = state.datasets[id] {
                return .existing(existing)
            }
            if let maxTenantBytes {
                let stored = state.storedBytes(of: tenant)
                guard stored + record.bytes <= maxTenantBytes else {
                    return .overQuota(stored: stored, limit: maxTenantBytes)
                }
            }
            state.pendingBytes[tenant, default: 0] += record.bytes
            state.sequence += 1
            record.sequence = state.sequence
            return nil
        }
        if let admitted { return admitted }
        let bytes = record.bytes
        let settle = { (state: inout State) in
            state.pendingBytes[tenant, default: 0] -= bytes
            if state.pendingBytes[tenant] == 0 { state.pendingBytes[tenant] = nil }
        }
        // Written outside the lock: a large dataset takes a while, and other requests need the catalog.
        do {
            try store?.insert(record)
        } catch {
            // The same content uploaded twice at once: the other upload's row won the unique content key.
            if let winner = state.withLock({ state in
                settle(&state)
                return state.datasetByContent[record.contentKey].flatMap { state.datasets[$0] }
            }) {
                return .existing(winner)
            }
            throw error
        }
        return state.withLock { state in
            settle(&state)
            if let id = state.datasetByContent[record.contentKey], let existing = state.datasets[id] {
                return .existing(existing)
            }
            state.datasets[record.id] = record
            state.datasetOrder.append(record.id)
            state.datasetByContent[record.contentKey] = record.id
            return .created(record)
        }
    }

    /// The dataset `id` if `tenant` owns it.
    package func dataset(_ id: String, tenant: String) -> DatasetRecord? {
        state.withLock { $0.datasets[id] }.flatMap { $0.tenant == tenant ? $0 : nil }
    }

    /// The bytes of the uploads `tenant` has stored (its quota's measure).
    package func storedBytes(of tenant: String) -> Int { state.withLock { $0.storedBytes(of: tenant) } }

    package var datasetCount: Int { state.withLock { $0.datasets.count } }

    package enum DeleteOutcome: Equatable, Sendable {
        case deleted
        case notFound
        /// Datasets: a queued or running job uses it. Jobs: the job has not finished.
        case inUse(String)
    }

    package func deleteDataset(_ id: String, tenant: String) throws(StorageError) -> DeleteOutcome {
        let store = self.store
        return try state.withLock { state throws(StorageError) in
            guard let record = state.datasets[id], record.tenant == tenant else { return .notFound }
            if let user = state.jobs.values.first(where: { $0.dataset?.id == id && !$0.status.isFinished }) {
                return .inUse(user.id)
            }
            try store?.deleteDataset(id)
            state.datasets[id] = nil
            state.datasetByContent[record.contentKey] = nil
            state.datasetOrder.removeAll { $0 == id }
            // Finished jobs may still use its arrays (predictions); its memory is given back with the last one.
            Self.releaseMemoryIfUnused(record, state)
            return .deleted
        }
    }

    package func datasets(tenant: String, limit: Int, before cursor: Int?) -> (items: [DatasetRecord], next: Int?) {
        state.withLock { state in
            page(state.datasetOrder, limit: limit, before: cursor) { id in
                guard let record = state.datasets[id], record.tenant == tenant else { return nil }
                return (record, record.sequence)
            }
        }
    }

    // MARK: Jobs

    package func nextSequence() -> Int {
        state.withLock { state in
            state.sequence += 1
            return state.sequence
        }
    }

    package enum AddJobOutcome {
        case added
        /// The idempotency key was taken first by this job, with the same body.
        case replay(Job)
        /// The key was used with another body.
        case conflict(jobID: String)
        /// The job's tenant already has `unfinished` jobs queued or running, the most it may.
        case overQuota(unfinished: Int, limit: Int)
    }

    /// Adds `job` (stored first). With an idempotency key (scoped by tenant) that another request took first
    /// (two retries racing), the job is not added and the answer is that request's job (or the conflict): the
    /// key is checked and taken under one lock, as is the tenant's quota of unfinished jobs, `maxUnfinished`.
    package func addJob(
        _ job: Job, idempotencyKey: String? = nil, bodyHash: String = "", maxUnfinished: Int? = nil
    ) throws(StorageError) -> AddJobOutcome {
        let store = self.store
        return try state.withLock { state throws(StorageError) in
            if let idempotencyKey, let entry = state.idempotency[idempotencyKey], let first = state.jobs[entry.jobID] {
                return entry.bodyHash == bodyHash ? .replay(first) : .conflict(jobID: entry.jobID)
            }
            if let maxUnfinished {
                let unfinished = state.jobs.values.count { $0.tenant == job.tenant && !$0.status.isFinished }
                guard unfinished < maxUnfinished else {
                    return .overQuota(unfinished: unfinished, limit: maxUnfinished)
                }
            }
            try store?.insert(job, idempotencyKey: idempotencyKey, bodyHash: bodyHash)
            state.jobs[job.id] = job
            state.jobOrder.append(job.id)
            if let idempotencyKey { state.idempotency[idempotencyKey] = (bodyHash, job.id) }
            return .added
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

    /// The job `id` if `tenant` owns it.
    package func job(_ id: String, tenant: String) -> Job? {
        state.withLock { $0.jobs[id] }.flatMap { $0.tenant == tenant ? $0 : nil }
    }

    package func deleteJob(_ id: String, tenant: String) throws(StorageError) -> DeleteOutcome {
        let store = self.store
        return try state.withLock { state throws(StorageError) in
            guard let job = state.jobs[id], job.tenant == tenant else { return .notFound }
            guard job.status.isFinished else { return .inUse(job.id) }
            try store?.deleteJob(id)
            state.jobs[id] = nil
            state.jobOrder.removeAll { $0 == id }
            state.idempotency = state.idempotency.filter { $0.value.jobID != id }
            Self.forget(job, state)
            return .deleted
        }
    }

    /// Gives back a deleted job's memory, and its dataset's when the dataset was deleted and this job was the
    /// last to use it.
    private static func forget(_ job: Job, _ state: State) {
        job.releaseMemory()
        if let record = job.dataset, state.datasets[record.id] == nil { releaseMemoryIfUnused(record, state) }
    }

    private static func releaseMemoryIfUnused(_ record: DatasetRecord, _ state: State) {
        guard !state.jobs.values.contains(where: { $0.dataset?.id == record.id }) else { return }
        record.memory?.release()
    }

    package func jobs(
        tenant: String, status: JobStatus?, datasetID: String?, limit: Int, before cursor: Int?
    ) -> (items: [Job], next: Int?) {
        state.withLock { state in
            page(state.jobOrder, limit: limit, before: cursor) { id in
                guard let job = state.jobs[id], job.tenant == tenant else { return nil }
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
                Self.forget(job, state)
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
