/// The database's schema, as a list of migrations: migration k (1-based) takes `PRAGMA user_version` from
/// k − 1 to k, in one transaction. A migration, once released, is never edited: a change is a new one.
enum Schema {
    /// `PRAGMA application_id`: marks a file as Descent's ("DSCT"), so a foreign SQLite file is refused
    /// rather than written into.
    static let applicationID: Int64 = 0x4453_4354

    static let migrations: [String] = [
        // 1: datasets, jobs, their history, and checkpoints.
        """
        CREATE TABLE datasets (
            id TEXT PRIMARY KEY,
            sequence INTEGER NOT NULL,
            name TEXT,
            created_at REAL NOT NULL,
            bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            content_key TEXT NOT NULL UNIQUE,
            rows INTEGER NOT NULL,
            columns INTEGER NOT NULL,
            feature_names TEXT NOT NULL,
            element_size INTEGER NOT NULL CHECK (element_size IN (4, 8)),
            features BLOB NOT NULL,
            targets BLOB NOT NULL,
            sample_weights BLOB,
            -- A deleted dataset stays while finished jobs refer to it (their manifest and predictions need it).
            deleted_at REAL
        );
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            sequence INTEGER NOT NULL,
            dataset_id TEXT NOT NULL,
            spec TEXT NOT NULL,
            idempotency_key TEXT UNIQUE,
            body_sha256 TEXT,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            result TEXT,
            error TEXT
        );
        CREATE INDEX jobs_by_status ON jobs (status, sequence);
        CREATE TABLE history (
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            iteration INTEGER NOT NULL,
            loss REAL,
            gradient_norm REAL,
            step_norm REAL,
            learning_rate REAL,
            validation_loss REAL,
            elapsed_seconds REAL,
            PRIMARY KEY (job_id, iteration)
        ) WITHOUT ROWID;
        CREATE TABLE checkpoints (
            job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
            iteration INTEGER NOT NULL,
            state BLOB NOT NULL,
            saved_at REAL NOT NULL
        );
        """,
        // 2: the tenant that owns each dataset and job ('' when the service runs without API keys). Content and
        // idempotency keys are stored scoped by tenant (the Jobs layer prefixes them), so their UNIQUE
        // constraints hold per tenant without rebuilding the tables.
        """
        ALTER TABLE datasets ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
        ALTER TABLE jobs ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
        """,
    ]
}
