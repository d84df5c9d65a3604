import Testing

@testable import DescentHTTP2

@Suite("libnghttp2")
struct NGHTTP2LibraryTests {
    @Test("the linked libnghttp2 reports a dotted version and the h2c protocol id")
    func reportsVersion() {
        let parts = NGHTTP2Library.version.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil })
        #expect(NGHTTP2Library.cleartextProtocolID == "h2c")
    }
}
