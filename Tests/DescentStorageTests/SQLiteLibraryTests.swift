import Testing

@testable import DescentStorage

@Suite("SQLite library")
struct SQLiteLibraryTests {
    @Test("the linked SQLite is version 3 and thread-safe")
    func reportsVersion() {
        #expect(SQLiteLibrary.version.hasPrefix("3."))
        #expect(SQLiteLibrary.isThreadSafe)
    }
}
