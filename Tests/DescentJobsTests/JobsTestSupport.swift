import DescentJSON
import DescentLog
import DescentMath
import Foundation
import Testing

@testable import DescentJobs

/// Small deterministic datasets and helpers shared by the jobs tests.
enum JobsTestData {
    /// y = 3·x₀ − 2·x₁ + 0.5·x₂ + 1 plus a little deterministic noise; features in [−1, 1].
    static func linear(rows: Int, columns: Int = 3) -> Dataset {
        let weights = [3.0, -2.0, 0.5, 1.5, -0.75]
        var features: [[Double]] = []
        var targets: [Double] = []
        for row in 0..<rows {
            let x = (0..<columns).map { column in sin(Double(row * (column + 1)) * 0.37 + Double(column)) }
            features.append(x)
            let signal = zip(x, weights).reduce(1.0) { $0 + $1.0 * $1.1 }
            targets.append(signal + 0.01 * cos(Double(row) * 1.3))
        }
        return try! Dataset(rows: features, targets: targets)
    }

    /// Two features with the given labels, one row per label.
    static func labelled(_ labels: [Double]) -> Dataset {
        let rows = labels.indices.map { [sin(Double($0)), cos(Double($0) * 0.7)] }
        return try! Dataset(rows: rows, targets: labels)
    }

    static func record(
        _ dataset: Dataset, id: String = "ds_test", contentKey: String? = nil, tenant: String = "", bytes: Int = 100
    ) -> DatasetRecord {
        DatasetRecord(
            id: id, name: nil, dataset: dataset, createdAt: Date(), bytes: bytes,
            sha256: String(repeating: "ab", count: 32),
            contentKey: TenantScope.key(contentKey ?? "key-\(id)", tenant: tenant), tenant: tenant)
    }

    static func spec(_ body: String, datasetID: String = "ds_test") throws -> JobSpec {
        let object = try #require(try JSONParser.parse(Array(body.utf8)).objectValue)
        return try JobSpec.decode(object, datasetID: datasetID)
    }

    static func job(
        _ spec: JobSpec, on record: DatasetRecord, id: String = ResourceID.make(prefix: ResourceID.jobPrefix).rawValue,
        sequence: Int = 0
    ) -> Job {
        Job(
            id: id, spec: spec, dataset: record, createdAt: Date(), sequence: sequence, version: "test",
            tenant: record.tenant)
    }

    /// A logger that keeps its lines in memory instead of writing them to standard error.
    static func logger() -> Logger { Logger(level: .info, sink: MemorySink()) }
}

/// Polls `condition` every few milliseconds until it holds or `timeout` seconds pass; returns whether it held.
///
/// It sleeps on the test's own thread rather than awaiting: on Linux, Swift concurrency shares Dispatch's
/// global pool with the scheduler's workers, so an `await` could wait for as long as busy jobs hold that pool,
/// and a scheduler bug could then hang the test run instead of failing it.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { return false }
        Thread.sleep(forTimeInterval: 0.002)
    }
    return true
}

/// Waits (at most `timeout` seconds) for `job` to finish; records an issue when it does not.
@discardableResult
func waitUntilFinished(_ job: Job, timeout: Double = 10, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    let finished = eventually(timeout: timeout) { job.status.isFinished }
    if !finished {
        Issue.record(
            "job \(job.id) did not finish within \(timeout) s (status \(job.status))", sourceLocation: sourceLocation)
    }
    return finished
}

extension Catalog.AddDatasetOutcome {
    /// Whether a new dataset was stored (tests that set no quota never see `overQuota`).
    var created: Bool {
        if case .created = self { true } else { false }
    }

    var record: DatasetRecord {
        switch self {
        case .created(let record), .existing(let record): record
        case .overQuota: preconditionFailure("over quota in a test without one")
        }
    }
}
