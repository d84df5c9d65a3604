import DescentMath
import Foundation
import Testing

@testable import DescentJobs

@Suite("Catalog: tenants and quotas")
struct CatalogTenancyTests {
    let dataset = JobsTestData.linear(rows: 10)

    private func job(_ catalog: Catalog, on record: DatasetRecord, id: String) throws -> Job {
        JobsTestData.job(
            try JobsTestData.spec("{}", datasetID: record.id), on: record, id: id, sequence: catalog.nextSequence())
    }

    @Test("a tenant finds, lists and deletes only its own datasets; another's id is not found")
    func datasetsAreIsolated() throws {
        let catalog = Catalog()
        _ = try catalog.addDataset(JobsTestData.record(dataset, id: "ds_a", tenant: "alice"))
        _ = try catalog.addDataset(JobsTestData.record(dataset, id: "ds_b", tenant: "bob"))
        #expect(catalog.dataset("ds_a", tenant: "alice")?.id == "ds_a")
        #expect(catalog.dataset("ds_a", tenant: "bob") == nil)
        #expect(catalog.dataset("ds_a", tenant: "") == nil)
        #expect(catalog.datasets(tenant: "bob", limit: 10, before: nil).items.map(\.id) == ["ds_b"])
        #expect(try catalog.deleteDataset("ds_a", tenant: "bob") == .notFound)
        #expect(catalog.dataset("ds_a", tenant: "alice") != nil)
        #expect(try catalog.deleteDataset("ds_a", tenant: "alice") == .deleted)
    }

    @Test("the same content uploaded by two tenants is two datasets; by one tenant, one")
    func contentIsScopedByTenant() throws {
        let catalog = Catalog()
        let first = try catalog.addDataset(
            JobsTestData.record(dataset, id: "ds_1", contentKey: "same", tenant: "alice"))
        let other = try catalog.addDataset(JobsTestData.record(dataset, id: "ds_2", contentKey: "same", tenant: "bob"))
        let again = try catalog.addDataset(
            JobsTestData.record(dataset, id: "ds_3", contentKey: "same", tenant: "alice"))
        #expect(first.created && other.created && !again.created)
        #expect(again.record.id == "ds_1")
        #expect(other.record.id == "ds_2")
    }

    @Test("jobs are isolated, and idempotency keys are scoped by tenant")
    func jobsAreIsolated() throws {
        let catalog = Catalog()
        let alices = try catalog.addDataset(JobsTestData.record(dataset, id: "ds_a", tenant: "alice")).record
        let bobs = try catalog.addDataset(JobsTestData.record(dataset, id: "ds_b", tenant: "bob")).record
        let first = try job(catalog, on: alices, id: "job_a")
        let second = try job(catalog, on: bobs, id: "job_b")
        guard case .added = try catalog.addJob(first, idempotencyKey: TenantScope.key("k", tenant: "alice")) else {
            Issue.record("alice's job was not added")
            return
        }
        guard case .added = try catalog.addJob(second, idempotencyKey: TenantScope.key("k", tenant: "bob")) else {
            Issue.record("bob's job with the same key was not added")
            return
        }
        #expect(catalog.job("job_a", tenant: "bob") == nil)
        #expect(catalog.job("job_a", tenant: "alice") === first)
        #expect(
            catalog.jobs(tenant: "alice", status: nil, datasetID: nil, limit: 10, before: nil).items.map(\.id) == [
                "job_a"
            ])
        #expect(try catalog.deleteJob("job_b", tenant: "alice") == .notFound)
    }

    @Test("a tenant's stored bytes are capped, counted per tenant, and freed by deleting")
    func storedBytesQuota() throws {
        let catalog = Catalog()
        let add = { (id: String, tenant: String) in
            try catalog.addDataset(
                JobsTestData.record(self.dataset, id: id, tenant: tenant, bytes: 400), maxTenantBytes: 1000)
        }
        #expect(try add("ds_1", "alice").created)
        #expect(try add("ds_2", "alice").created)
        guard case .overQuota(let stored, let limit) = try add("ds_3", "alice") else {
            Issue.record("a third 400-byte upload fitted a 1000-byte quota")
            return
        }
        #expect(stored == 800 && limit == 1000)
        #expect(catalog.storedBytes(of: "alice") == 800)
        #expect(try add("ds_4", "bob").created)
        #expect(try catalog.deleteDataset("ds_1", tenant: "alice") == .deleted)
        #expect(try add("ds_3", "alice").created)
    }

    @Test("a tenant's unfinished jobs are capped; finished ones and other tenants' do not count")
    func unfinishedJobsQuota() throws {
        let catalog = Catalog()
        let alices = try catalog.addDataset(JobsTestData.record(dataset, id: "ds_a", tenant: "alice")).record
        let bobs = try catalog.addDataset(JobsTestData.record(dataset, id: "ds_b", tenant: "bob")).record
        let first = try job(catalog, on: alices, id: "job_1")
        guard case .added = try catalog.addJob(first, maxUnfinished: 1) else {
            Issue.record("the first job was refused")
            return
        }
        guard
            case .overQuota(let unfinished, let limit) = try catalog.addJob(
                try job(catalog, on: alices, id: "job_2"), maxUnfinished: 1)
        else {
            Issue.record("a second unfinished job fitted a quota of one")
            return
        }
        #expect(unfinished == 1 && limit == 1)
        guard case .added = try catalog.addJob(try job(catalog, on: bobs, id: "job_3"), maxUnfinished: 1) else {
            Issue.record("bob was refused for alice's job")
            return
        }
        #expect(first.requestCancel(at: Date()))
        guard case .added = try catalog.addJob(try job(catalog, on: alices, id: "job_4"), maxUnfinished: 1) else {
            Issue.record("a finished job still counted")
            return
        }
    }
}
