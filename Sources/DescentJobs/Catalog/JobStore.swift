import DescentJSON
import DescentMath
import DescentStorage
import Dispatch
import Foundation
import Synchronization

/// The catalog's durable side: every dataset and job written to SQLite (issue 5) before the API answers for
/// it, and read back at start-up. The one `Database` connection is confined to `queue`, a serial queue, as
/// SQLite connections must be (each call here runs `queue.sync`).
package final class JobStore: @unchecked Sendable {
    // @unchecked: `database` is only touched on `queue`; `writeFailure` is a Mutex.
    private let database: Database
    private let queue = DispatchQueue(label: "descent.store")

    package init(directory: String) throws(StorageError) {
        database = try Database(directory: directory)
    }

    package var path: String { database.path }

    /// The last write's failure when the disk is full or read-only, until a write succeeds again: what
    /// `/readyz` reports while storage cannot take writes.
    private let writeFailure = Mutex<StorageError?>(nil)

    package var unusableReason: String? { writeFailure.withLock { $0.map { "Storage cannot be written: \($0)." } } }

    private func onQueue<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        let result: Result<T, StorageError> = queue.sync {
            do throws(StorageError) {
                return .success(try body())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success: writeFailure.withLock { $0 = nil }
        case .failure(let error):
            if case .sqlite(let failure) = error, failure.isFull || failure.isReadOnly {
                writeFailure.withLock { $0 = error }
            }
        }
        return try result.get()
    }

    // MARK: Writes

    func insert(_ record: DatasetRecord) throws(StorageError) {
        let stored = Self.stored(record)
        try onQueue { () throws(StorageError) in try database.insert(stored) }
    }

    func deleteDataset(_ id: String) throws(StorageError) {
        try onQueue { () throws(StorageError) in try database.deleteDataset(id) }
    }

    /// A new job's row, before the API answers 202 for it.
    func insert(_ job: Job, idempotencyKey: String?, bodyHash: String?) throws(StorageError) {
        let row = StoredJob(
            id: job.id, sequence: job.sequence, datasetID: job.dataset?.id ?? "", spec: JSONWriter.string(job.specJSON),
            idempotencyKey: idempotencyKey, bodySHA256: bodyHash, status: JobStatus.queued.rawValue,
            createdAt: job.createdAt, tenant: job.tenant)
        try onQueue { () throws(StorageError) in try database.insert(row) }
    }

    /// A job's end — status, result or error, and the history its checkpoints have not stored (from position
    /// `storedEvents` on) — before anyone is told of it.
    func finish(
        _ job: Job, _ status: JobStatus, startedAt: Date?, finishedAt: Date, outcome: JobOutcome?,
        failure: JobFailure?, storedEvents: Int = 0
    ) throws(StorageError) {
        let softmax = job.spec.model == .softmax
        let result = outcome.map { JSONWriter.string($0.storedJSON(softmax: softmax)) }
        let error = failure.map { JSONWriter.string($0.json) }
        let history = job.history(from: storedEvents).lazy.map(Self.stored)
        try onQueue { () throws(StorageError) in
            try database.finish(
                jobID: job.id, status: status.rawValue, startedAt: startedAt, finishedAt: finishedAt, result: result,
                error: error, history: history)
        }
    }

    /// A running job's checkpoint and the progress events it reported since the last one.
    func saveCheckpoint(
        _ job: Job, _ checkpoint: TrainerCheckpoint, newEvents: ArraySlice<ProgressEvent>
    ) throws(StorageError) {
        let state = checkpoint.encoded()
        let history = newEvents.lazy.map(Self.stored)
        try onQueue { () throws(StorageError) in
            try database.saveCheckpoint(
                jobID: job.id, iteration: checkpoint.iteration, state: state, savedAt: Date(), history: history)
        }
    }

    func deleteJob(_ id: String) throws(StorageError) {
        try onQueue { () throws(StorageError) in try database.deleteJob(id) }
    }

    // MARK: Start-up

    /// What the store holds: the datasets (with the deleted ones that finished jobs still refer to) and the
    /// jobs, each with its idempotency key and body hash. Each dataset, now in memory again, holds its share
    /// of `memory` whatever its limit (the jobs that use it share that reservation).
    package func load(version: String, memory: MemoryBudget? = nil) throws(StorageError) -> (
        datasets: [(record: DatasetRecord, deleted: Bool)], jobs: [(job: Job, key: String?, bodyHash: String?)]
    ) {
        try onQueue { () throws(StorageError) in
            var datasets: [(record: DatasetRecord, deleted: Bool)] = []
            var byID: [String: DatasetRecord] = [:]
            for stored in try database.datasets() {
                guard var record = Self.record(stored) else { continue }
                record.memory = memory?.reserveRegardless(MemoryEstimate.bytes(of: record.dataset))
                datasets.append((record, stored.deletedAt != nil))
                byID[record.id] = record
            }
            var jobs: [(job: Job, key: String?, bodyHash: String?)] = []
            for stored in try database.jobs() {
                // Objective-mode jobs have no dataset (stored as an empty id).
                let dataset = byID[stored.datasetID]
                guard dataset != nil || stored.datasetID.isEmpty,
                    let job = try Self.job(stored, dataset: dataset, version: version, database: database)
                else { continue }
                jobs.append((job, stored.idempotencyKey, stored.bodySHA256))
            }
            return (datasets, jobs)
        }
    }

    // MARK: Conversions

    static func stored(_ record: DatasetRecord) -> StoredDataset {
        let (elementSize, features): (Int, [UInt8]) =
            switch record.dataset.features {
            case .float64(let values): (8, values.withUnsafeBytes { Array($0) })
            case .float32(let values): (4, values.withUnsafeBytes { Array($0) })
            }
        return StoredDataset(
            id: record.id, sequence: record.sequence, name: record.name, createdAt: record.createdAt,
            bytes: record.bytes, sha256: record.sha256, contentKey: record.contentKey, rows: record.dataset.rows,
            columns: record.dataset.columns, featureNames: record.featureNames, elementSize: elementSize,
            features: features, targets: record.dataset.targets, sampleWeights: record.dataset.sampleWeights,
            tenant: record.tenant)
    }

    static func record(_ stored: StoredDataset) -> DatasetRecord? {
        let count = stored.rows * stored.columns
        guard stored.features.count == count * stored.elementSize else { return nil }
        let features: FeatureStorage =
            stored.elementSize == 8
            ? FeatureStorage.makeFloat64(count: count) { buffer in
                stored.features.withUnsafeBytes { _ = memcpy(buffer.baseAddress!, $0.baseAddress!, $0.count) }
            }
            : FeatureStorage.makeFloat32(count: count) { buffer in
                stored.features.withUnsafeBytes { _ = memcpy(buffer.baseAddress!, $0.baseAddress!, $0.count) }
            }
        guard
            let dataset = try? Dataset(
                rows: stored.rows, columns: stored.columns, features: features, targets: stored.targets,
                sampleWeights: stored.sampleWeights, featureNames: stored.featureNames)
        else { return nil }
        var record = DatasetRecord(
            id: stored.id, name: stored.name, dataset: dataset, createdAt: stored.createdAt, bytes: stored.bytes,
            sha256: stored.sha256, contentKey: stored.contentKey, tenant: stored.tenant)
        record.sequence = stored.sequence
        return record
    }

    static func stored(_ event: ProgressEvent) -> StoredProgress {
        StoredProgress(
            iteration: event.iteration, loss: event.loss, gradientNorm: event.gradientNorm, stepNorm: event.stepNorm,
            learningRate: event.learningRate, validationLoss: event.validationLoss, elapsedSeconds: event.elapsedSeconds
        )
    }

    private static func progress(of jobID: String, _ database: Database) throws(StorageError) -> [ProgressEvent] {
        try database.history(of: jobID).map { row in
            ProgressEvent(
                iteration: row.iteration, loss: row.loss, gradientNorm: row.gradientNorm, stepNorm: row.stepNorm,
                learningRate: row.learningRate, validationLoss: row.validationLoss, elapsedSeconds: row.elapsedSeconds)
        }
    }

    /// A job as it was stored. A finished one comes back finished, with its history; a queued or running one
    /// comes back queued, to go on from its last checkpoint (or from the start without one) — either way it
    /// ends with the weights the interrupted run would have had, bit for bit.
    private static func job(
        _ stored: StoredJob, dataset: DatasetRecord?, version: String, database: Database
    ) throws(StorageError) -> Job? {
        guard case .object(let body)? = try? JSONParser.parse(Array(stored.spec.utf8)),
            let spec = try? JobSpec.decode(body, datasetID: stored.datasetID)
        else { return nil }
        let job = Job(
            id: stored.id, spec: spec, dataset: dataset, createdAt: stored.createdAt, sequence: stored.sequence,
            version: version, tenant: stored.tenant)
        guard let status = JobStatus(rawValue: stored.status), status.isFinished, let finishedAt = stored.finishedAt
        else {
            // Unfinished: it goes on from its last checkpoint, with the history reported before it.
            if let (iteration, bytes) = try database.checkpoint(of: stored.id),
                let checkpoint = TrainerCheckpoint(decoding: bytes)
            {
                let history = try progress(of: stored.id, database).filter { $0.iteration < iteration }
                job.restoreProgress(history: history, checkpoint: checkpoint)
            }
            return job
        }
        let outcome = stored.result.flatMap { try? JSONParser.parse(Array($0.utf8)) }.flatMap(JobOutcome.init(stored:))
        let failure = stored.error.flatMap { try? JSONParser.parse(Array($0.utf8)) }.flatMap(JobFailure.init(json:))
        let history = try progress(of: stored.id, database)
        job.restoreFinished(
            status, startedAt: stored.startedAt, finishedAt: finishedAt, history: history, outcome: outcome,
            failure: failure)
        return job
    }
}
