import Testing

@testable import DescentHTTP

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    static func fields(_ headers: HTTPHeaders) -> [Field] { headers.map { Field($0.name, $0.value) } }

    @Test("a dictionary literal keeps its order")
    func literalOrder() {
        let headers: HTTPHeaders = ["B": "2", "A": "1", "C": "3"]
        #expect(Self.fields(headers) == [Field("B", "2"), Field("A", "1"), Field("C", "3")])
        #expect(headers.count == 3)
    }

    @Test("lookup by name ignores case and gives the first value")
    func subscriptLookup() {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain")
        headers.add("content-type", "application/json")
        #expect(headers["CONTENT-TYPE"] == "text/plain")
        #expect(headers["content-type"] == "text/plain")
        #expect(headers["Content-Length"] == nil)
        #expect(headers.contains("CoNtEnT-tYpE"))
        #expect(!headers.contains("Content"))
    }

    @Test("values gives every value of a name in order, whatever the case of each field")
    func allValues() {
        var headers = HTTPHeaders()
        headers.add("Host", "a")
        headers.add("X-Other", "b")
        headers.add("HOST", "c")
        #expect(headers.values("host") == ["a", "c"])
        #expect(headers.values("missing") == [])
    }

    @Test("list elements are split at commas across fields, trimmed, and empty ones dropped")
    func listElements() {
        var headers = HTTPHeaders()
        headers.add("Connection", " keep-alive ,, Upgrade\t")
        headers.add("X-Other", "close")
        headers.add("connection", "\tclose,")
        #expect(headers.listElements("Connection") == ["keep-alive", "Upgrade", "close"])
        #expect(headers.listElements("Missing") == [])
        #expect(HTTPHeaders(dictionaryLiteral: ("A", " , ,\t")).listElements("A") == [])
    }

    @Test("set replaces every field of the name, whatever its case, with one at the end")
    func set() {
        var headers: HTTPHeaders = ["X-A": "1", "Other": "o", "x-a": "2"]
        headers.set("X-A", "3")
        #expect(Self.fields(headers) == [Field("Other", "o"), Field("X-A", "3")])
        headers.set("New", "n")
        #expect(Self.fields(headers) == [Field("Other", "o"), Field("X-A", "3"), Field("New", "n")])
    }

    @Test("remove deletes every field of the name and keeps the others in order")
    func remove() {
        var headers: HTTPHeaders = ["A": "1", "b": "2", "C": "3", "B": "4"]
        headers.remove("B")
        #expect(Self.fields(headers) == [Field("A", "1"), Field("C", "3")])
        headers.remove("missing")
        #expect(headers.count == 2)
    }

    @Test(
        "equalsIgnoringCase folds exactly the ASCII letters",
        arguments: [
            ("Content-Length", "content-length", true), ("A", "a", true), ("Z", "z", true), ("", "", true),
            ("@", "`", false), ("[", "{", false), ("]", "}", false), ("^", "~", false),
            ("abc", "abcd", false), ("abcd", "abc", false), ("É", "é", false), ("ß", "SS", false),
        ])
    func equalsIgnoringCase(_ lhs: String, _ rhs: String, _ equal: Bool) {
        #expect(HTTPHeaders.equalsIgnoringCase(lhs, rhs) == equal)
        #expect(HTTPHeaders.equalsIgnoringCase(rhs, lhs) == equal)
    }

    @Test("equalsIgnoringCase agrees with ASCII lowercasing on every pair of ASCII bytes")
    func equalsIgnoringCaseSweep() {
        func lower(_ byte: UInt8) -> UInt8 { (65...90).contains(byte) ? byte + 32 : byte }
        var mismatches: [(UInt8, UInt8)] = []
        for a in UInt8(0)..<128 {
            for b in UInt8(0)..<128 {
                let result = HTTPHeaders.equalsIgnoringCase(String(UnicodeScalar(a)), String(UnicodeScalar(b)))
                if result != (lower(a) == lower(b)) { mismatches.append((a, b)) }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}
