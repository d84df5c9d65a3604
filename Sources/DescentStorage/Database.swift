import Foundation

/// Descent's SQLite database file: opened, checked and migrated. One connection; the caller confines it to one
/// serial queue.
///
/// Durability settings (argued in the README): WAL journal, `synchronous = NORMAL` — a commit survives the
/// process being killed at any moment (the WAL is written before the commit returns; only an OS crash or power
/// loss can take the last commits back) — and `foreign_keys = ON`.
package final class Database {
    package static let fileName = "descent.sqlite"

    package let connection: SQLiteConnection
    package var path: String { connection.path }

    /// The newest schema version this build knows.
    package static var schemaVersion: Int64 { Int64(Schema.migrations.count) }

    /// Opens `directory/descent.sqlite`, creating it if needed, refusing a foreign or newer file, and applying
    /// the migrations it lacks.
    package init(directory: String) throws(StorageError) {
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        do {
            connection = try SQLiteConnection(path: path)
        } catch {
            throw .sqlite(error)
        }
        let applicationID: Int64
        let version: Int64
        let tables: Int64
        do {
            // Reading the header is the first touch of the file: a non-database fails here (SQLITE_NOTADB).
            applicationID = try connection.integer("PRAGMA application_id")
            version = try connection.integer("PRAGMA user_version")
            tables = try connection.integer("SELECT count(*) FROM sqlite_schema")
        } catch {
            throw .sqlite(error)
        }
        if applicationID != Schema.applicationID && (applicationID != 0 || version != 0 || tables != 0) {
            throw .foreign(path: path)
        }
        if version > Self.schemaVersion {
            throw .newerSchema(path: path, version: version, supported: Self.schemaVersion)
        }
        do {
            try connection.execute("PRAGMA journal_mode = WAL")
            try connection.execute("PRAGMA synchronous = NORMAL")
            try connection.execute("PRAGMA foreign_keys = ON")
            try migrate(from: version)
        } catch {
            throw .sqlite(error)
        }
    }

    private func migrate(from version: Int64) throws(SQLiteError) {
        for (index, migration) in Schema.migrations.enumerated() where Int64(index) >= version {
            try connection.transaction { () throws(SQLiteError) in
                try connection.execute(migration)
                try connection.execute("PRAGMA application_id = \(Schema.applicationID)")
                try connection.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }
}
