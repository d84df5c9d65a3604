/// Why the store cannot open or write, in words an operator can act on.
package enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// SQLite failed; the error names the file.
    case sqlite(SQLiteError)
    /// The file is a SQLite database of some other program.
    case foreign(path: String)
    /// The file was written by a newer Descent, with a schema this one does not know.
    case newerSchema(path: String, version: Int64, supported: Int64)

    package var description: String {
        switch self {
        case .sqlite(let error) where error.isCorrupt:
            "\(error.path) is not a Descent database or is damaged (\(error.message)); move it away to start "
                + "with an empty store, or point --data-dir elsewhere"
        case .sqlite(let error) where error.isReadOnly:
            "\(error.path) cannot be written (\(error.message)); give the service's user write access to its "
                + "directory, or point --data-dir elsewhere"
        case .sqlite(let error) where error.isFull:
            "\(error.path): the disk is full (\(error.message)); free space or point --data-dir elsewhere"
        case .sqlite(let error): "\(error)"
        case .foreign(let path):
            "\(path) is a SQLite database of another program; Descent will not write into it. Point --data-dir "
                + "at a directory of its own"
        case .newerSchema(let path, let version, let supported):
            "\(path) has schema version \(version), newer than the \(supported) this Descent knows; run a "
                + "newer Descent, or point --data-dir elsewhere"
        }
    }
}
