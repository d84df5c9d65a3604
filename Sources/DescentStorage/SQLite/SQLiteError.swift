import CSQLite

/// A failed SQLite call: the result code, SQLite's message, and the database file, so that a start-up error
/// can name the file and what to do about it.
package struct SQLiteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The extended result code (`SQLITE_FULL`, `SQLITE_READONLY`, `SQLITE_NOTADB`, …).
    package var code: Int32
    package var message: String
    package var path: String

    /// The primary result code (the low byte of the extended one).
    package var primaryCode: Int32 { code & 0xFF }

    /// The disk (or the quota) is full: a write that cannot be stored, HTTP 507.
    package var isFull: Bool { primaryCode == SQLITE_FULL }

    /// The file or its directory cannot be written.
    package var isReadOnly: Bool { primaryCode == SQLITE_READONLY || primaryCode == SQLITE_CANTOPEN }

    /// The file is not a database, or is damaged.
    package var isCorrupt: Bool { primaryCode == SQLITE_NOTADB || primaryCode == SQLITE_CORRUPT }

    package var description: String { "\(path): \(message) (SQLite error \(code))" }
}
