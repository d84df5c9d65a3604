import CSQLite

/// The SQLite library Descent links, as it reports itself at run time.
package enum SQLiteLibrary {
    /// The version string, e.g. "3.40.1".
    package static var version: String { String(cString: sqlite3_libversion()) }

    /// Whether the library was built thread-safe; the store relies on serialized or multi-thread mode.
    package static var isThreadSafe: Bool { sqlite3_threadsafe() != 0 }
}
