import Testing

@testable import DescentServer

@Suite("Request ids")
struct RequestIdentifierTests {
    @Test("made ids are 15 lowercase hex digits, short enough to be stored inline, and all different")
    func madeIds() {
        let identifier = RequestIdentifier()
        let ids = (0..<10_000).map { _ in identifier.next() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            #expect(id.utf8.count == 15)
            #expect(id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) })
        }
    }

    @Test("a client's visible-ASCII id of at most 128 bytes is kept; anything else is replaced")
    func clientIds() {
        let identifier = RequestIdentifier()
        #expect(identifier.resolve("trace-1") == "trace-1")
        #expect(identifier.resolve(String(repeating: "a", count: 128)) == String(repeating: "a", count: 128))
        #expect(identifier.resolve(String(repeating: "a", count: 129)).utf8.count == 15)
        #expect(identifier.resolve("has space").utf8.count == 15)
        #expect(identifier.resolve("é").utf8.count == 15)
        #expect(identifier.resolve("").utf8.count == 15)
        #expect(identifier.resolve(nil).utf8.count == 15)
    }
}
