import DescentMath
import Foundation
import Testing

@testable import DescentJobs

@Suite("Catalog")
struct CatalogTests {
    let dataset = JobsTestData.linear(rows: 10)

    private func record(_ id: String, contentKey: String? = nil) -> DatasetRecord {
        JobsTestData.record(dataset, id: id, contentKey: contentKey)
    }

    /// Adds datasets ds_0 … ds_{count−1}, each with its own content.
    private func catalog(datasets count: Int) throws -> Catalog {
        let catalog = Catalog()
        for index in 0..<count { _ = try catalog.addDataset(record("ds_\(index)")) }
        return catalog
    }

    // MARK: Datasets

    @Test("a dataset with a content key already stored is the stored one, not a new one")
    func datasetDedupe() throws {
        let catalog = Catalog()
        let first = try catalog.addDataset(record("ds_a", contentKey: "same"))
        #expect(first.created)
        #expect(first.record.id == "ds_a")
        let second = try catalog.addDataset(record("ds_b", contentKey: "same"))
        #expect(!second.created)
        #expect(second.record.id == "ds_a")
        #expect(second.record.sequence == first.record.sequence)
        #expect(catalog.dataset("ds_b", tenant: "") == nil)
        let other = try catalog.addDataset(record("ds_c", contentKey: "other"))
        #expect(other.created)
        #expect(other.record.sequence > first.record.sequence)
        #expect(catalog.datasetCount == 2)
    }

    @Test("a deleted dataset is gone, and its content can be added again as a new dataset")
    func datasetDelete() throws {
        let catalog = Catalog()
        _ = try catalog.addDataset(record("ds_a", contentKey: "content"))
        #expect(try catalog.deleteDataset("ds_a", tenant: "") == .deleted)
        #expect(catalog.dataset("ds_a", tenant: "") == nil)
        #expect(catalog.datasetCount == 0)
        #expect(try catalog.deleteDataset("ds_a", tenant: "") == .notFound)
        #expect(try catalog.deleteDataset("ds_never", tenant: "") == .notFound)
        let again = try catalog.addDataset(record("ds_b", contentKey: "content"))
        #expect(again.created && again.record.id == "ds_b")
        #expect(catalog.datasets(tenant: "", limit: 10, before: nil).items.map(\.id) == ["ds_b"])
    }

    @Test("a dataset used by an unfinished job cannot be deleted; once the job has finished it can")
    func datasetInUse() throws {
        let catalog = Catalog()
        let stored = try catalog.addDataset(record("ds_a")).record
        let job = JobsTestData.job(
            try JobsTestData.spec("{}"), on: stored, id: "job_1", sequence: catalog.nextSequence())
        try catalog.addJob(job)
        #expect(try catalog.deleteDataset("ds_a", tenant: "") == .inUse("job_1"))
        #expect(job.requestCancel(at: Date()))
        #expect(try catalog.deleteDataset("ds_a", tenant: "") == .deleted)
    }

    @Test("five datasets, two per page: three pages newest first, the last without a cursor")
    func datasetPaging() throws {
        let catalog = try catalog(datasets: 5)
        let first = catalog.datasets(tenant: "", limit: 2, before: nil)
        #expect(first.items.map(\.id) == ["ds_4", "ds_3"])
        let firstCursor = try #require(first.next)
        let second = catalog.datasets(tenant: "", limit: 2, before: firstCursor)
        #expect(second.items.map(\.id) == ["ds_2", "ds_1"])
        let secondCursor = try #require(second.next)
        let third = catalog.datasets(tenant: "", limit: 2, before: secondCursor)
        #expect(third.items.map(\.id) == ["ds_0"])
        #expect(third.next == nil)
        // A page that ends exactly at the oldest item has no cursor either.
        #expect(catalog.datasets(tenant: "", limit: 5, before: nil).next == nil)
        #expect(catalog.datasets(tenant: "", limit: 1000, before: nil).items.count == 5)
    }

    @Test("a cursor stays put when items before it are deleted")
    func cursorStableAcrossDeletes() throws {
        let catalog = try catalog(datasets: 5)
        let first = catalog.datasets(tenant: "", limit: 2, before: nil)
        let cursor = try #require(first.next)
        // Delete both items of the page already read, the one the cursor names included.
        #expect(try catalog.deleteDataset("ds_3", tenant: "") == .deleted)
        #expect(try catalog.deleteDataset("ds_4", tenant: "") == .deleted)
        let second = catalog.datasets(tenant: "", limit: 2, before: cursor)
        #expect(second.items.map(\.id) == ["ds_2", "ds_1"])
        // A new dataset goes to the front, not into later pages.
        _ = try catalog.addDataset(record("ds_new"))
        let again = catalog.datasets(tenant: "", limit: 2, before: cursor)
        #expect(again.items.map(\.id) == ["ds_2", "ds_1"])
        // Deleting the next item to read moves the page on to the one after it.
        #expect(try catalog.deleteDataset("ds_2", tenant: "") == .deleted)
        let third = catalog.datasets(tenant: "", limit: 2, before: cursor)
        #expect(third.items.map(\.id) == ["ds_1", "ds_0"])
        #expect(third.next == nil)
    }

    @Test("an empty catalog lists nothing")
    func emptyListing() throws {
        let listing = Catalog().datasets(tenant: "", limit: 50, before: nil)
        #expect(listing.items.isEmpty && listing.next == nil)
    }

    // MARK: Jobs

    @Test("jobs list newest first, filtered by status and dataset, with cursors")
    func jobPaging() throws {
        let catalog = Catalog()
        let a = try catalog.addDataset(record("ds_a")).record
        let b = try catalog.addDataset(record("ds_b")).record
        let spec = try JobsTestData.spec("{}")
        var jobs: [Job] = []
        for index in 0..<5 {
            let job = JobsTestData.job(
                spec, on: index.isMultiple(of: 2) ? a : b, id: "job_\(index)", sequence: catalog.nextSequence())
            try catalog.addJob(job)
            jobs.append(job)
        }
        _ = jobs[1].requestCancel(at: Date())
        _ = jobs[4].requestCancel(at: Date())

        let first = catalog.jobs(tenant: "", status: nil, datasetID: nil, limit: 2, before: nil)
        #expect(first.items.map(\.id) == ["job_4", "job_3"])
        let second = catalog.jobs(tenant: "", status: nil, datasetID: nil, limit: 2, before: first.next)
        #expect(second.items.map(\.id) == ["job_2", "job_1"])
        let third = catalog.jobs(tenant: "", status: nil, datasetID: nil, limit: 2, before: second.next)
        #expect(third.items.map(\.id) == ["job_0"] && third.next == nil)

        #expect(
            catalog.jobs(tenant: "", status: .cancelled, datasetID: nil, limit: 10, before: nil).items.map(\.id) == [
                "job_4", "job_1",
            ])
        #expect(
            catalog.jobs(tenant: "", status: .queued, datasetID: "ds_a", limit: 10, before: nil).items.map(\.id) == [
                "job_2", "job_0",
            ])
        #expect(
            catalog.jobs(tenant: "", status: nil, datasetID: "ds_b", limit: 1, before: nil).items.map(\.id) == ["job_3"]
        )
        #expect(catalog.jobs(tenant: "", status: .succeeded, datasetID: nil, limit: 10, before: nil).items.isEmpty)
        #expect(catalog.jobCounts == [.queued: 3, .cancelled: 2])
    }

    @Test("only a finished job can be deleted")
    func jobDelete() throws {
        let catalog = Catalog()
        let stored = try catalog.addDataset(record("ds_a")).record
        let job = JobsTestData.job(
            try JobsTestData.spec("{}"), on: stored, id: "job_1", sequence: catalog.nextSequence())
        try catalog.addJob(job)
        #expect(try catalog.deleteJob("job_1", tenant: "") == .inUse("job_1"))
        _ = job.requestCancel(at: Date())
        #expect(try catalog.deleteJob("job_1", tenant: "") == .deleted)
        #expect(catalog.job("job_1", tenant: "") == nil)
        #expect(try catalog.deleteJob("job_1", tenant: "") == .notFound)
    }

    // MARK: Idempotency

    @Test("an idempotency key finds nothing, the same body's job, or a conflict for another body")
    func idempotency() throws {
        let catalog = Catalog()
        let stored = try catalog.addDataset(record("ds_a")).record
        let job = JobsTestData.job(
            try JobsTestData.spec("{}"), on: stored, id: "job_1", sequence: catalog.nextSequence())

        guard case .none = catalog.lookup(idempotencyKey: "key-1", bodyHash: "h1") else {
            Issue.record("an unused key should find nothing")
            return
        }
        try catalog.addJob(job, idempotencyKey: "key-1", bodyHash: "h1")
        guard case .replay(let replayed) = catalog.lookup(idempotencyKey: "key-1", bodyHash: "h1") else {
            Issue.record("the same key and body should replay the job")
            return
        }
        #expect(replayed === job)
        guard case .conflict(let jobID) = catalog.lookup(idempotencyKey: "key-1", bodyHash: "h2") else {
            Issue.record("the same key with another body should conflict")
            return
        }
        #expect(jobID == "job_1")
        guard case .none = catalog.lookup(idempotencyKey: "key-2", bodyHash: "h1") else {
            Issue.record("another key should find nothing")
            return
        }
    }

    @Test("two first requests racing with one key: the second is not added, and gets the first's job")
    func idempotencyRace() throws {
        let catalog = Catalog()
        let stored = try catalog.addDataset(record("ds_a")).record
        let spec = try JobsTestData.spec("{}")
        let first = JobsTestData.job(spec, on: stored, id: "job_1", sequence: catalog.nextSequence())
        let second = JobsTestData.job(spec, on: stored, id: "job_2", sequence: catalog.nextSequence())
        let third = JobsTestData.job(spec, on: stored, id: "job_3", sequence: catalog.nextSequence())
        // Both looked the key up before either added its job; the adds decide.
        guard case .added = try catalog.addJob(first, idempotencyKey: "key", bodyHash: "h") else {
            Issue.record("the first add should be taken")
            return
        }
        guard case .replay(let replayed) = try catalog.addJob(second, idempotencyKey: "key", bodyHash: "h") else {
            Issue.record("the second add with the same body should replay the first job")
            return
        }
        #expect(replayed === first)
        guard case .conflict(let jobID) = try catalog.addJob(third, idempotencyKey: "key", bodyHash: "other") else {
            Issue.record("an add with another body should conflict")
            return
        }
        #expect(jobID == "job_1")
        #expect(catalog.job("job_2", tenant: "") == nil && catalog.job("job_3", tenant: "") == nil)
    }

    @Test("a job taken back out, or deleted, frees its idempotency key")
    func idempotencyReleased() throws {
        let catalog = Catalog()
        let stored = try catalog.addDataset(record("ds_a")).record
        let spec = try JobsTestData.spec("{}")
        let refused = JobsTestData.job(spec, on: stored, id: "job_1", sequence: catalog.nextSequence())
        try catalog.addJob(refused, idempotencyKey: "key", bodyHash: "h")
        catalog.removeJob(refused, idempotencyKey: "key")
        #expect(catalog.job("job_1", tenant: "") == nil)
        guard case .none = catalog.lookup(idempotencyKey: "key", bodyHash: "h") else {
            Issue.record("a removed job's key should be free")
            return
        }

        let finished = JobsTestData.job(spec, on: stored, id: "job_2", sequence: catalog.nextSequence())
        try catalog.addJob(finished, idempotencyKey: "key", bodyHash: "h")
        _ = finished.requestCancel(at: Date())
        #expect(try catalog.deleteJob("job_2", tenant: "") == .deleted)
        guard case .none = catalog.lookup(idempotencyKey: "key", bodyHash: "h") else {
            Issue.record("a deleted job's key should be free")
            return
        }
    }
}
