import Foundation
import Testing

@testable import DescentStorage

/// The store on real files in a fresh directory: schema, round trips, reopening, and the files it must refuse.
@Suite("SQLite database")
struct DatabaseTests {
    private func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("descent-db-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func dataset(_ id: String = "ds_1", sequence: Int = 1) -> StoredDataset {
        StoredDataset(
            id: id, sequence: sequence, name: "weird: names, 1:2",
            createdAt: Date(timeIntervalSince1970: 1_800_000_000.25),
            bytes: 123, sha256: String(repeating: "ab", count: 32), contentKey: "key-\(id)", rows: 2, columns: 2,
            featureNames: ["a:b", "", "é😀"].prefix(2).map { $0 }, elementSize: 8,
            features: Database.bytes(of: [1.5, -0.0, .pi, 1e-310]), targets: [0.1, -2],
            sampleWeights: [1, 0.5])
    }

    private func job(_ id: String = "job_1", status: String = "queued") -> StoredJob {
        StoredJob(
            id: id, sequence: 2, datasetID: "ds_1", spec: #"{"model":"linear"}"#, idempotencyKey: "key-1",
            bodySHA256: "00", status: status, createdAt: Date(timeIntervalSince1970: 1_800_000_001))
    }

    /// Progress rows reach the store with a job's checkpoints (and its end); a checkpoint with a dummy state.
    private func store(history rows: [StoredProgress], in database: Database, for jobID: String) throws {
        try database.saveCheckpoint(
            jobID: jobID, iteration: rows.last?.iteration ?? 0, state: [1, 2, 3], savedAt: Date(), history: rows)
    }

    @Test("a new directory gets a WAL database at the newest schema version, marked as Descent's")
    func creates() throws {
        let path = try directory()
        let database = try Database(directory: path)
        #expect(FileManager.default.fileExists(atPath: path + "/descent.sqlite"))
        #expect(try database.connection.integer("PRAGMA user_version") == Database.schemaVersion)
        #expect(try database.connection.integer("PRAGMA application_id") == Schema.applicationID)
        let mode = try database.connection.prepare("PRAGMA journal_mode")
        #expect(try mode.step())
        #expect(mode.text(0) == "wal")
    }

    @Test("datasets, jobs and history round-trip exactly, and survive reopening")
    func roundTrip() throws {
        let path = try directory()
        do {
            let database = try Database(directory: path)
            try database.insert(dataset())
            try database.insert(job())
            try store(
                history: [
                    StoredProgress(
                        iteration: 1, loss: 0.5, gradientNorm: 1, stepNorm: 0.1, learningRate: 0.01,
                        validationLoss: nil, elapsedSeconds: 0.001)
                ], in: database, for: "job_1")
            #expect(try database.checkpoint(of: "job_1")?.state == [1, 2, 3])
            try database.finish(
                jobID: "job_1", status: "succeeded", startedAt: Date(timeIntervalSince1970: 1_800_000_002),
                finishedAt: Date(timeIntervalSince1970: 1_800_000_003.5), result: #"{"weights":[1,2]}"#, error: nil,
                history: [
                    StoredProgress(
                        iteration: 2, loss: 0.25, gradientNorm: 0.5, stepNorm: 0.05, learningRate: 0.01,
                        validationLoss: 0.3, elapsedSeconds: 0.002)
                ])
            // A finished job needs no checkpoint any more.
            #expect(try database.checkpoint(of: "job_1") == nil)
        }
        let reopened = try Database(directory: path)
        let datasets = try reopened.datasets()
        #expect(datasets == [dataset()])
        #expect(Database.doubles(datasets[0].features).map(\.bitPattern) == [1.5, -0.0, .pi, 1e-310].map(\.bitPattern))
        let jobs = try reopened.jobs()
        #expect(jobs.count == 1)
        #expect(jobs.first?.status == "succeeded")
        #expect(jobs.first?.result == #"{"weights":[1,2]}"#)
        #expect(jobs.first?.finishedAt == Date(timeIntervalSince1970: 1_800_000_003.5))
        let history = try reopened.history(of: "job_1")
        #expect(history.map(\.iteration) == [1, 2])
        #expect(history[1].validationLoss == 0.3 && history[0].validationLoss == nil)
    }

    @Test("deleting a job deletes its history; a dataset jobs refer to is only marked deleted")
    func deletes() throws {
        let database = try Database(directory: try directory())
        try database.insert(dataset())
        try database.insert(job())
        try store(
            history: [
                StoredProgress(
                    iteration: 1, loss: 1, gradientNorm: 1, stepNorm: 1, learningRate: 1, validationLoss: nil,
                    elapsedSeconds: 0)
            ], in: database, for: "job_1")
        try database.deleteDataset("ds_1", at: Date(timeIntervalSince1970: 1_900_000_000))
        #expect(try database.datasets().first?.deletedAt == Date(timeIntervalSince1970: 1_900_000_000))
        // Its content key is free: the same content uploaded again is a new dataset.
        var again = dataset("ds_2", sequence: 3)
        again.contentKey = dataset().contentKey
        try database.insert(again)
        #expect(try database.datasets().count == 2)
        try database.deleteJob("job_1")
        #expect(try database.history(of: "job_1").isEmpty)
        try database.deleteDataset("ds_2")
        #expect(try database.datasets().map(\.id) == ["ds_1"])
    }

    @Test("a failed write leaves nothing half-written: the whole transaction rolls back")
    func atomicWrites() throws {
        let database = try Database(directory: try directory())
        try database.insert(dataset())
        // History of a job that does not exist fails its foreign key: none of the rows is stored.
        let row = StoredProgress(
            iteration: 1, loss: 1, gradientNorm: 1, stepNorm: 1, learningRate: 1, validationLoss: nil, elapsedSeconds: 0
        )
        #expect(throws: StorageError.self) { try store(history: [row], in: database, for: "job_missing") }
        // A transaction that fails after a good statement leaves no trace of that statement either.
        #expect(throws: SQLiteError.self) {
            try database.connection.transaction { () throws(SQLiteError) in
                try database.connection.prepare("DELETE FROM datasets").run()
                try database.connection.prepare("INSERT INTO jobs (id) VALUES (?)").run([.text("incomplete")])
            }
        }
        #expect(try database.datasets().count == 1)
        #expect(try database.jobs().isEmpty)
        #expect(try database.connection.integer("SELECT count(*) FROM history") == 0)
    }

    @Test("a file of schema 1 (before tenants) is migrated: its rows keep their data and belong to tenant \"\"")
    func migratesVersionOne() throws {
        let path = try directory()
        do {
            let raw = try SQLiteConnection(path: path + "/descent.sqlite")
            try raw.execute("PRAGMA application_id = \(Schema.applicationID)")
            try raw.execute(Schema.migrations[0])
            try raw.execute("PRAGMA user_version = 1")
            try raw.execute(
                """
                INSERT INTO datasets (id, sequence, created_at, bytes, sha256, content_key, rows, columns,
                    feature_names, element_size, features, targets)
                VALUES ('ds_old', 1, 0, 10, 'ab', 'key', 0, 1, '', 8, x'', x'');
                INSERT INTO jobs (id, sequence, dataset_id, spec, idempotency_key, status, created_at)
                VALUES ('job_old', 2, 'ds_old', '{}', 'retry-1', 'succeeded', 0)
                """)
        }
        let database = try Database(directory: path)
        #expect(try database.connection.integer("PRAGMA user_version") == Database.schemaVersion)
        let datasets = try database.datasets()
        #expect(datasets.map(\.id) == ["ds_old"] && datasets.map(\.tenant) == [""])
        let jobs = try database.jobs()
        #expect(jobs.map(\.id) == ["job_old"] && jobs.map(\.tenant) == [""])
        #expect(jobs.first?.idempotencyKey == "retry-1")
        var tenants = dataset("ds_new", sequence: 3)
        tenants.tenant = "alice"
        try database.insert(tenants)
        #expect(try database.datasets().last?.tenant == "alice")
    }

    @Test("a file written by a newer Descent is refused, naming the file and the versions")
    func newerSchema() throws {
        let path = try directory()
        _ = try Database(directory: path)
        let raw = try SQLiteConnection(path: path + "/descent.sqlite")
        try raw.execute("PRAGMA user_version = 99")
        #expect(
            throws: StorageError.newerSchema(
                path: path + "/descent.sqlite", version: 99, supported: Database.schemaVersion)
        ) {
            _ = try Database(directory: path)
        }
    }

    @Test("another program's SQLite file is refused, not written into")
    func foreign() throws {
        let path = try directory()
        let other = try SQLiteConnection(path: path + "/descent.sqlite")
        try other.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
        #expect(throws: StorageError.foreign(path: path + "/descent.sqlite")) { _ = try Database(directory: path) }
        #expect(try other.integer("SELECT count(*) FROM sqlite_schema") == 1)
    }

    @Test("a corrupt file is refused with a message that names it and says what to do")
    func corrupt() throws {
        let path = try directory()
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(
            to: URL(fileURLWithPath: path + "/descent.sqlite"))
        do {
            _ = try Database(directory: path)
            Issue.record("a corrupt file was opened")
        } catch {
            #expect("\(error)".contains(path + "/descent.sqlite"))
            #expect("\(error)".contains("move it away"))
        }
    }

    @Test("a directory that does not exist gives an error naming the file")
    func missingDirectory() throws {
        let path = try directory() + "/missing/deeper"
        do {
            _ = try Database(directory: path)
            Issue.record("opened a database in a missing directory")
        } catch {
            #expect("\(error)".contains(path))
            #expect("\(error)".contains("cannot be written"))
        }
    }
}
