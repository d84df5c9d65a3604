import DescentMath
import Foundation
import Testing

@testable import DescentJobs

@Suite("Memory budget")
struct MemoryBudgetTests {
    @Test("reservations fit under the limit, and are given back when released")
    func reserveAndRelease() {
        let budget = MemoryBudget(limit: 1000)
        var first: MemoryReservation? = budget.reserve(600)
        #expect(first != nil && budget.inUse == 600)
        #expect(budget.reserve(401) == nil)
        #expect(budget.inUse == 600)
        let second = budget.reserve(400)
        #expect(second != nil && budget.inUse == 1000)
        first = nil
        #expect(budget.inUse == 400)
        _ = second
    }

    @Test("what is already in memory is counted even past the limit, and then leaves no room")
    func regardless() {
        let budget = MemoryBudget(limit: 100)
        let held = budget.reserveRegardless(150)
        #expect(budget.inUse == 150)
        #expect(budget.reserve(1) == nil)
        _ = held
    }

    @Test("a job's memory follows its run: the run's share is given back when it finishes, the kept share stays")
    func jobHoldsItsMemory() throws {
        let budget = MemoryBudget(limit: 1 << 20)
        let record = JobsTestData.record(JobsTestData.linear(rows: 10))
        let job = JobsTestData.job(try JobsTestData.spec("{}"), on: record)
        job.hold(run: budget.reserve(300), kept: budget.reserve(200))
        #expect(budget.inUse == 500)
        #expect(job.requestCancel(at: Date()))
        #expect(budget.inUse == 200)
    }

    @Test("a dataset's estimate is its arrays; a job's grows with its history")
    func estimates() throws {
        let dataset = JobsTestData.linear(rows: 10)
        #expect(MemoryEstimate.bytes(of: dataset) >= dataset.rows * dataset.columns * 8 + dataset.rows * 8)
        let short = try JobsTestData.spec(#"{"stopping": {"max_iterations": 100}}"#)
        let long = try JobsTestData.spec(#"{"stopping": {"max_iterations": 10000000}}"#)
        let sparse = try JobsTestData.spec(#"{"stopping": {"max_iterations": 10000000}, "report_every": 100000}"#)
        let estimate = { (spec: JobSpec) in MemoryEstimate.job(spec, parameters: 3, rows: 10, cores: 2).kept }
        #expect(estimate(long) > 10_000_000 * 48)
        #expect(estimate(short) < 100_000)
        #expect(estimate(sparse) < 1_000_000)
    }
}
