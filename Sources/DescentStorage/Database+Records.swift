import Foundation

/// Reading and writing the records. Every write is one transaction: it is all on disk, or none of it is.
extension Database {
    // MARK: Datasets

    package func insert(_ dataset: StoredDataset) throws(StorageError) {
        try write { () throws(SQLiteError) in
            try connection.prepare(
                """
                INSERT INTO datasets (id, sequence, name, created_at, bytes, sha256, content_key, rows, columns,
                    feature_names, element_size, features, targets, sample_weights, tenant)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ).run([
                .text(dataset.id), .integer(Int64(dataset.sequence)), dataset.name.map(SQLiteValue.text) ?? .null,
                .real(dataset.createdAt.timeIntervalSince1970), .integer(Int64(dataset.bytes)), .text(dataset.sha256),
                .text(dataset.contentKey), .integer(Int64(dataset.rows)), .integer(Int64(dataset.columns)),
                .text(Self.encodeNames(dataset.featureNames)), .integer(Int64(dataset.elementSize)),
                .blob(dataset.features), .blob(Self.bytes(of: dataset.targets)),
                dataset.sampleWeights.map { .blob(Self.bytes(of: $0)) } ?? .null, .text(dataset.tenant),
            ])
        }
    }

    package func datasets() throws(StorageError) -> [StoredDataset] {
        try read { () throws(SQLiteError) in
            let statement = try connection.prepare(
                """
                SELECT id, sequence, name, created_at, bytes, sha256, content_key, rows, columns, feature_names,
                    element_size, features, targets, sample_weights, deleted_at, tenant
                FROM datasets ORDER BY sequence
                """)
            var datasets: [StoredDataset] = []
            while try statement.step() {
                datasets.append(
                    StoredDataset(
                        id: statement.text(0) ?? "", sequence: Int(statement.int64(1)), name: statement.text(2),
                        createdAt: Date(timeIntervalSince1970: statement.double(3)), bytes: Int(statement.int64(4)),
                        sha256: statement.text(5) ?? "", contentKey: statement.text(6) ?? "",
                        rows: Int(statement.int64(7)), columns: Int(statement.int64(8)),
                        featureNames: Self.decodeNames(statement.text(9) ?? ""),
                        elementSize: Int(statement.int64(10)), features: statement.blob(11),
                        targets: Self.doubles(statement.blob(12)),
                        sampleWeights: statement.isNull(13) ? nil : Self.doubles(statement.blob(13)),
                        deletedAt: statement.isNull(14) ? nil : Date(timeIntervalSince1970: statement.double(14)),
                        tenant: statement.text(15) ?? ""))
            }
            return datasets
        }
    }

    /// Deletes the dataset, or — while jobs refer to it — marks it deleted (its content key freed, so the
    /// same content can be uploaded again as a new dataset).
    package func deleteDataset(_ id: String, at date: Date = Date()) throws(StorageError) {
        try write { () throws(SQLiteError) in
            let used = try connection.prepare("SELECT count(*) FROM jobs WHERE dataset_id = ?")
            try used.bind([.text(id)])
            guard try used.step(), used.int64(0) > 0 else {
                return try connection.prepare("DELETE FROM datasets WHERE id = ?").run([.text(id)])
            }
            try connection.prepare(
                "UPDATE datasets SET deleted_at = ?, content_key = 'deleted:' || id WHERE id = ?"
            ).run([.real(date.timeIntervalSince1970), .text(id)])
        }
    }

    // MARK: Jobs

    /// A new job's row (its later states are written by `saveCheckpoint` and `finish`).
    package func insert(_ job: StoredJob) throws(StorageError) {
        try write { () throws(SQLiteError) in
            try connection.prepare(
                """
                INSERT INTO jobs (id, sequence, dataset_id, spec, idempotency_key, body_sha256, status,
                    created_at, started_at, finished_at, result, error, tenant)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ).run([
                .text(job.id), .integer(Int64(job.sequence)), .text(job.datasetID), .text(job.spec),
                job.idempotencyKey.map(SQLiteValue.text) ?? .null, job.bodySHA256.map(SQLiteValue.text) ?? .null,
                .text(job.status), .real(job.createdAt.timeIntervalSince1970),
                job.startedAt.map { .real($0.timeIntervalSince1970) } ?? .null,
                job.finishedAt.map { .real($0.timeIntervalSince1970) } ?? .null,
                job.result.map(SQLiteValue.text) ?? .null, job.error.map(SQLiteValue.text) ?? .null,
                .text(job.tenant),
            ])
        }
    }

    /// Records the end of a job — its state and its whole history — in one transaction.
    package func finish(
        jobID: String, status: String, startedAt: Date?, finishedAt: Date, result: String?, error: String?,
        history: some Sequence<StoredProgress>
    ) throws(StorageError) {
        try write { () throws(SQLiteError) in
            try connection.prepare(
                "UPDATE jobs SET status = ?, started_at = ?, finished_at = ?, result = ?, error = ? WHERE id = ?"
            ).run([
                .text(status), startedAt.map { .real($0.timeIntervalSince1970) } ?? .null,
                .real(finishedAt.timeIntervalSince1970), result.map(SQLiteValue.text) ?? .null,
                error.map(SQLiteValue.text) ?? .null, .text(jobID),
            ])
            try insertHistory(history, jobID: jobID)
            try connection.prepare("DELETE FROM checkpoints WHERE job_id = ?").run([.text(jobID)])
        }
    }

    /// A running job's checkpoint, with the iterations it reported since the last one, in one transaction.
    package func saveCheckpoint(
        jobID: String, iteration: Int, state: [UInt8], savedAt: Date, history: some Sequence<StoredProgress>
    ) throws(StorageError) {
        try write { () throws(SQLiteError) in
            try insertHistory(history, jobID: jobID)
            try connection.prepare(
                "INSERT OR REPLACE INTO checkpoints (job_id, iteration, state, saved_at) VALUES (?, ?, ?, ?)"
            ).run([.text(jobID), .integer(Int64(iteration)), .blob(state), .real(savedAt.timeIntervalSince1970)])
        }
    }

    /// The job's last checkpoint: the iteration it was taken at and its bytes.
    package func checkpoint(of jobID: String) throws(StorageError) -> (iteration: Int, state: [UInt8])? {
        try read { () throws(SQLiteError) in
            let statement = try connection.prepare("SELECT iteration, state FROM checkpoints WHERE job_id = ?")
            try statement.bind([.text(jobID)])
            guard try statement.step() else { return nil }
            return (Int(statement.int64(0)), statement.blob(1))
        }
    }

    package func jobs() throws(StorageError) -> [StoredJob] {
        try read { () throws(SQLiteError) in
            let statement = try connection.prepare(
                """
                SELECT id, sequence, dataset_id, spec, idempotency_key, body_sha256, status, created_at, started_at,
                    finished_at, result, error, tenant
                FROM jobs ORDER BY sequence
                """)
            var jobs: [StoredJob] = []
            while try statement.step() {
                jobs.append(
                    StoredJob(
                        id: statement.text(0) ?? "", sequence: Int(statement.int64(1)),
                        datasetID: statement.text(2) ?? "", spec: statement.text(3) ?? "",
                        idempotencyKey: statement.text(4), bodySHA256: statement.text(5),
                        status: statement.text(6) ?? "", createdAt: Date(timeIntervalSince1970: statement.double(7)),
                        startedAt: statement.isNull(8) ? nil : Date(timeIntervalSince1970: statement.double(8)),
                        finishedAt: statement.isNull(9) ? nil : Date(timeIntervalSince1970: statement.double(9)),
                        result: statement.text(10), error: statement.text(11), tenant: statement.text(12) ?? ""))
            }
            return jobs
        }
    }

    /// Deletes the job with its history and checkpoint (ON DELETE CASCADE).
    package func deleteJob(_ id: String) throws(StorageError) {
        try write { () throws(SQLiteError) in
            try connection.prepare("DELETE FROM jobs WHERE id = ?").run([.text(id)])
        }
    }

    // MARK: History

    /// Rows are read from `progress` one at a time, so a lazy sequence is never materialised.
    private func insertHistory(_ progress: some Sequence<StoredProgress>, jobID: String) throws(SQLiteError) {
        let statement = try connection.prepare(
            """
            INSERT OR REPLACE INTO history (job_id, iteration, loss, gradient_norm, step_norm, learning_rate,
                validation_loss, elapsed_seconds)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for event in progress {
            try statement.run([
                .text(jobID), .integer(Int64(event.iteration)), .real(event.loss), .real(event.gradientNorm),
                .real(event.stepNorm), .real(event.learningRate), event.validationLoss.map(SQLiteValue.real) ?? .null,
                .real(event.elapsedSeconds),
            ])
        }
    }

    package func history(of jobID: String) throws(StorageError) -> [StoredProgress] {
        try read { () throws(SQLiteError) in
            let statement = try connection.prepare(
                """
                SELECT iteration, loss, gradient_norm, step_norm, learning_rate, validation_loss, elapsed_seconds
                FROM history WHERE job_id = ? ORDER BY iteration
                """)
            try statement.bind([.text(jobID)])
            var rows: [StoredProgress] = []
            while try statement.step() {
                rows.append(
                    StoredProgress(
                        iteration: Int(statement.int64(0)), loss: statement.double(1),
                        gradientNorm: statement.double(2), stepNorm: statement.double(3),
                        learningRate: statement.double(4),
                        validationLoss: statement.isNull(5) ? nil : statement.double(5),
                        elapsedSeconds: statement.double(6)))
            }
            return rows
        }
    }

    // MARK: Plumbing

    private func write(_ body: () throws(SQLiteError) -> Void) throws(StorageError) {
        do {
            try connection.transaction(body)
        } catch {
            throw .sqlite(error)
        }
    }

    private func read<T>(_ body: () throws(SQLiteError) -> T) throws(StorageError) -> T {
        do {
            return try body()
        } catch {
            throw .sqlite(error)
        }
    }

    /// Doubles as their little-endian bytes (x86-64 and arm64 are little-endian; the format is fixed anyway).
    static func bytes(of values: [Double]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 8)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    static func doubles(_ bytes: [UInt8]) -> [Double] {
        stride(from: 0, to: bytes.count - 7, by: 8).map { offset in
            var pattern: UInt64 = 0
            for index in 0..<8 { pattern |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
            return Double(bitPattern: pattern)
        }
    }

    /// Feature names as one text: each name's UTF-8 length, a colon, the name (so any character is allowed).
    static func encodeNames(_ names: [String]) -> String {
        names.map { "\($0.utf8.count):\($0)" }.joined()
    }

    static func decodeNames(_ text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text).utf8[...]
        while let colon = rest.firstIndex(of: UInt8(ascii: ":")),
            let length = Int(String(decoding: rest[rest.startIndex..<colon], as: UTF8.self))
        {
            let start = rest.index(after: colon)
            let end = rest.index(start, offsetBy: length)
            names.append(String(decoding: rest[start..<end], as: UTF8.self))
            rest = rest[end...]
        }
        return names
    }
}
