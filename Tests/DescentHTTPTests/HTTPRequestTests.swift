import Testing

@testable import DescentHTTP

@Suite("HTTPRequest, HTTPRequestHead and PercentDecoding")
struct HTTPRequestTests {
    static func request(target: String) -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: .GET, target: target))
    }

    @Test("a head is a value: changing a copy leaves the original as it was")
    func headIsAValue() {
        let original = HTTPRequestHead(method: .GET, target: "/a?b", headers: ["Host": "example.com"])
        var changed = original
        changed.headers.add("X-Extra", "1")
        changed.framing = .chunked
        changed.keepAlive = false
        changed.method = .POST
        #expect(original.headers.count == 1 && original.framing == .none && original.keepAlive)
        #expect(original.method == .GET && original.path == "/a" && original.query == "b")
        #expect(
            changed.headers.count == 2 && changed.framing == .chunked && !changed.keepAlive && changed.method == .POST)
    }

    @Test(
        "a target is split into path and query, and an absolute-form target gives its path",
        arguments: [
            ("/", "/", nil), ("/a/b", "/a/b", nil), ("/a?b=c", "/a", "b=c"), ("/a?", "/a", ""),
            ("/a?b?c", "/a", "b?c"), ("/?x", "/", "x"), ("*", "*", nil),
            ("http://example.com/p?q", "/p", "q"), ("http://example.com", "/", nil),
            ("http://example.com?q=1", "/", "q=1"), ("https://example.com:8443/a/b", "/a/b", nil),
            ("http://user@example.com/a", "/a", nil),
        ] as [(String, String, String?)])
    func splitTarget(_ target: String, _ path: String, _ query: String?) {
        let head = HTTPRequestHead(method: .GET, target: target)
        #expect(head.path == path)
        #expect(head.query.map(String.init) == query)
        #expect(head.target == target)
    }

    @Test("a query parameter is found by its decoded name and its value is form-decoded")
    func queryParameters() {
        let request = Self.request(
            target: "/v1/jobs?limit=10&cursor=a%20b&flag&name=J%C3%BCrgen&plus=a+b&empty=&enc%5Bkey%5D=v&x+y=z")
        #expect(request.queryParameter("limit") == "10")
        #expect(request.queryParameter("cursor") == "a b")
        #expect(request.queryParameter("flag") == "")
        #expect(request.queryParameter("name") == "Jürgen")
        #expect(request.queryParameter("plus") == "a b")
        #expect(request.queryParameter("empty") == "")
        #expect(request.queryParameter("enc[key]") == "v")
        #expect(request.queryParameter("x y") == "z")
        #expect(request.queryParameter("missing") == nil)
        #expect(request.queryParameter("Limit") == nil, "names are case-sensitive")
    }

    @Test("the first of repeated query parameters wins")
    func firstParameterWins() {
        #expect(Self.request(target: "/?a=1&a=2").queryParameter("a") == "1")
    }

    @Test("a value may contain = and an encoded &")
    func valueWithSeparators() {
        let request = Self.request(target: "/?q=a=b&r=c%26d")
        #expect(request.queryParameter("q") == "a=b")
        #expect(request.queryParameter("r") == "c&d")
        #expect(request.queryParameter("d") == nil)
    }

    @Test("without a query every parameter is absent")
    func noQuery() {
        #expect(Self.request(target: "/v1/jobs").queryParameter("limit") == nil)
        #expect(Self.request(target: "/v1/jobs?").queryParameter("limit") == nil)
    }

    @Test("a value with a malformed escape reads as empty, never as its raw bytes")
    func malformedValue() {
        #expect(Self.request(target: "/?limit=%zz").queryParameter("limit") == "")
        #expect(Self.request(target: "/?limit=%FF").queryParameter("limit") == "")
    }

    @Test("the request exposes the method, path and headers of its head")
    func conveniences() {
        let head = HTTPRequestHead(method: .PUT, target: "/a/b?c", headers: ["X-A": "1"])
        let request = HTTPRequest(head: head, body: [1, 2], requestID: "r1")
        #expect(request.method == .PUT)
        #expect(request.path == "/a/b")
        #expect(request.headers["x-a"] == "1")
        #expect(request.body == [1, 2])
        #expect(request.requestID == "r1")
        #expect(request.pathParameters.isEmpty)
    }

    @Test(
        "percent-decoding turns escapes into UTF-8 and leaves + alone unless asked",
        arguments: [
            ("plain", false, "plain"), ("", false, ""), ("a%20b", false, "a b"), ("%41%42%43", false, "ABC"),
            ("%c3%a9", false, "é"), ("%C3%A9", false, "é"), ("a+b", false, "a+b"), ("a+b", true, "a b"),
            ("a%2Bb", true, "a+b"), ("%25", false, "%"), ("%2525", false, "%25"), ("%00", false, "\u{0}"),
            ("%F0%9F%99%82", false, "🙂"), ("Jürgen", false, "Jürgen"), ("a+b%20c", false, "a+b c"),
            ("a+b%20c", true, "a b c"),
        ] as [(String, Bool, String?)])
    func decode(_ text: String, _ plusAsSpace: Bool, _ expected: String?) {
        #expect(PercentDecoding.decode(Substring(text), plusAsSpace: plusAsSpace) == expected)
    }

    @Test(
        "percent-decoding fails on a malformed escape or on bytes that are not UTF-8",
        arguments: ["%", "%4", "a%", "%zz", "%4g", "%g4", "%FF", "%C3", "%C3%28", "%ED%A0%80", "%C0%AF"])
    func decodeFailure(_ text: String) {
        #expect(PercentDecoding.decode(Substring(text)) == nil)
        #expect(PercentDecoding.decode(Substring(text), plusAsSpace: true) == nil)
    }
}
