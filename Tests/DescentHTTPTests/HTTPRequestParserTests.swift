import Testing

@testable import DescentHTTP

/// A well-formed input and the events it must give.
struct ValidFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var events: [ParsedEvent]

    var testDescription: String { name }

    init(_ name: String, _ text: String, _ events: [ParsedEvent]) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.events = events
    }

    static let host = Field("Host", "example.com")

    static let all: [ValidFixture] = [
        ValidFixture(
            "simple GET",
            "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n\r\n",
            [.head(HeadSnapshot(.GET, "/", headers: [host, Field("User-Agent", "test/1.0")])), .end]),
        ValidFixture(
            "GET with a query",
            "GET /v1/jobs?limit=10&cursor=a%20b HTTP/1.1\r\nHost: example.com\r\nAccept: application/json\r\n\r\n",
            [
                .head(
                    HeadSnapshot(
                        .GET, "/v1/jobs?limit=10&cursor=a%20b", path: "/v1/jobs", query: "limit=10&cursor=a%20b",
                        headers: [host, Field("Accept", "application/json")])),
                .end,
            ]),
        ValidFixture(
            "POST with a Content-Length body",
            "POST /v1/jobs HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n"
                + "Content-Length: 13\r\n\r\n{\"a\": [1, 2]}",
            [
                .head(
                    HeadSnapshot(
                        .POST, "/v1/jobs",
                        headers: [host, Field("Content-Type", "application/json"), Field("Content-Length", "13")],
                        framing: .contentLength(13))),
                .bodyText("{\"a\": [1, 2]}"),
                .end,
            ]),
        ValidFixture(
            "chunked body with extensions and trailers",
            "POST /v1/uploads HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n7 ; a=b;c=\"d\"\r\n, world\r\nA\r\n0123456789\r\n"
                + "0;last\r\nX-Checksum: abc123\r\nX-Count:  2 \r\n\r\n",
            [
                .head(
                    HeadSnapshot(
                        .POST, "/v1/uploads", headers: [host, Field("Transfer-Encoding", "chunked")],
                        framing: .chunked)),
                .bodyText("hello, world0123456789"),
                .end(trailers: [Field("X-Checksum", "abc123"), Field("X-Count", "2")]),
            ]),
        ValidFixture(
            "pipelined pair of requests",
            "GET /first HTTP/1.1\r\nHost: example.com\r\n\r\n"
                + "POST /second HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            [
                .head(HeadSnapshot(.GET, "/first", headers: [host])),
                .end,
                .head(
                    HeadSnapshot(
                        .POST, "/second",
                        headers: [host, Field("Content-Length", "2"), Field("Connection", "close")],
                        framing: .contentLength(2), keepAlive: false)),
                .bodyText("ok"),
                .end,
            ]),
        ValidFixture(
            "pipelined requests with empty lines between them",
            "POST /a HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
                + "\r\n\r\nGET /b HTTP/1.1\r\nHost: example.com\r\n\r\n",
            [
                .head(
                    HeadSnapshot(
                        .POST, "/a", headers: [host, Field("Transfer-Encoding", "chunked")], framing: .chunked)),
                .bodyText("x"),
                .end,
                .head(HeadSnapshot(.GET, "/b", headers: [host])),
                .end,
            ]),
        ValidFixture(
            "HTTP/1.0 request",
            "GET /legacy HTTP/1.0\r\nUser-Agent: old\r\n\r\n",
            [
                .head(
                    HeadSnapshot(
                        .GET, "/legacy", version: .http1_0, headers: [Field("User-Agent", "old")], keepAlive: false)),
                .end,
            ]),
        ValidFixture(
            "Expect: 100-continue",
            "PUT /v1/things/1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
            [
                .head(
                    HeadSnapshot(
                        .PUT, "/v1/things/1",
                        headers: [host, Field("Content-Length", "3"), Field("Expect", "100-continue")],
                        framing: .contentLength(3), expectsContinue: true)),
                .bodyText("abc"),
                .end,
            ]),
        ValidFixture(
            "absolute-form target",
            "GET http://example.com:8080/v1/jobs?state=done HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
            [
                .head(
                    HeadSnapshot(
                        .GET, "http://example.com:8080/v1/jobs?state=done", path: "/v1/jobs", query: "state=done",
                        headers: [Field("Host", "example.com:8080")])),
                .end,
            ]),
        ValidFixture(
            "leading empty line before the request line",
            "\r\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
            [.head(HeadSnapshot(.GET, "/", headers: [host])), .end]),
    ]
}

@Suite("HTTPRequestParser: well-formed requests")
struct HTTPRequestParserTests {
    @Test("a valid request fed whole gives the expected events", arguments: ValidFixture.all)
    func wholeRequest(_ fixture: ValidFixture) {
        #expect(parse(fixture.bytes) == ParseOutcome(events: fixture.events, error: nil))
    }

    @Test(
        "a valid request gives the same events split at every byte and fed one byte at a time",
        arguments: ValidFixture.all)
    func splitRequest(_ fixture: ValidFixture) {
        expectSameOutcomeHoweverSplit(fixture.bytes, expected: ParseOutcome(events: fixture.events, error: nil))
    }

    @Test("a partial request line is left in the caller's buffer, not consumed")
    func partialRequestLine() throws {
        var parser = HTTPRequestParser()
        var events: [ParsedEvent] = []
        let consumed = try parser.parse(Array("GET / HT".utf8)) { events.append(ParsedEvent($0)) }
        #expect(consumed == 0)
        #expect(events.isEmpty)
        #expect(parser.isAtMessageStart)
    }

    @Test("complete lines are consumed and a partial header line is left")
    func partialHeaderLine() throws {
        var parser = HTTPRequestParser()
        var events: [ParsedEvent] = []
        let consumed = try parser.parse(Array("GET / HTTP/1.1\r\nHost: exa".utf8)) { events.append(ParsedEvent($0)) }
        #expect(consumed == "GET / HTTP/1.1\r\n".utf8.count)
        #expect(events.isEmpty)
        #expect(!parser.isAtMessageStart)
    }

    @Test("parsing stops after a complete message and goes on with the next only after reset")
    func stopsAfterEachMessage() throws {
        let first = "GET /first HTTP/1.1\r\nHost: example.com\r\n\r\n"
        let buffer = Array((first + "GET /second HTTP/1.1\r\nHost: example.com\r\n\r\n").utf8)
        var parser = HTTPRequestParser()
        var events: [ParsedEvent] = []

        let consumed = try parser.parse(buffer) { events.append(ParsedEvent($0)) }
        #expect(consumed == first.utf8.count)
        #expect(events.map(\.kind) == ["head", "end"])
        #expect(parser.isComplete)
        #expect(parser.head?.target == "/first")

        events = []
        #expect(try parser.parse(buffer, from: consumed) { events.append(ParsedEvent($0)) } == 0)
        #expect(events.isEmpty)

        parser.reset()
        #expect(parser.head == nil)
        #expect(parser.isAtMessageStart)
        let rest = try parser.parse(buffer, from: consumed) { events.append(ParsedEvent($0)) }
        #expect(consumed + rest == buffer.count)
        #expect(parser.head?.target == "/second")
        #expect(events.map(\.kind) == ["head", "end"])
    }

    @Test("a head the caller keeps is not changed by the next request, which the parser writes into a head of its own")
    func keptHeadIsUnchanged() throws {
        var parser = HTTPRequestParser()
        let first = Array(
            "POST /first?a=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi".utf8)
        _ = try parser.parse(first) { _ in }
        let kept = try #require(parser.head)
        parser.reset()
        _ = try parser.parse(Array("GET /second HTTP/1.1\r\nHost: other.example\r\n\r\n".utf8)) { _ in }

        #expect(kept.method == .POST && kept.target == "/first?a=1" && kept.path == "/first" && kept.query == "a=1")
        #expect(kept.headers.fields.map(\.name) == ["Host", "Content-Length", "Expect"])
        #expect(kept.framing == .contentLength(2) && kept.expectsContinue)
        let second = try #require(parser.head)
        #expect(second.method == .GET && second.target == "/second" && second.query == nil)
        #expect(second.headers.fields.map(\.value) == ["other.example"])
    }

    @Test("a head reused for the next request keeps nothing of the last one: fields, framing, expectation, close")
    func reusedHeadStartsEmpty() throws {
        var parser = HTTPRequestParser()
        let first =
            "POST /a?q HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1\r\nExpect: 100-continue\r\n"
            + "Connection: close\r\nX-Extra: 1\r\n\r\nx"
        _ = try parser.parse(Array(first.utf8)) { _ in }
        #expect(parser.isComplete)
        parser.reset()
        var heads: [HeadSnapshot] = []
        _ = try parser.parse(Array("GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)) { event in
            if case .head(let head) = ParsedEvent(event) { heads.append(head) }
        }
        #expect(heads == [HeadSnapshot(.GET, "/b", headers: [ValidFixture.host])])
        let head = try #require(parser.head)
        #expect(head.framing == .none && !head.expectsContinue && head.keepAlive && head.query == nil)
    }

    @Test("parsing starts at the given offset and counts consumed bytes from there")
    func parsesFromOffset() throws {
        let message = Array("GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)
        var parser = HTTPRequestParser()
        var events: [ParsedEvent] = []
        let consumed = try parser.parse(Array("junk".utf8) + message, from: 4) { events.append(ParsedEvent($0)) }
        #expect(consumed == message.count)
        #expect(parser.isComplete)
        #expect(events.first == .head(HeadSnapshot(.GET, "/x", headers: [ValidFixture.host])))
    }

    @Test("body bytes are reported as they arrive, before the whole body is there")
    func bodyIsStreamed() throws {
        var feeder = ParserFeeder()
        try feeder.feed(request("POST / HTTP/1.1", ["Host: example.com", "Content-Length: 5"], body: "ab"))
        #expect(feeder.events.last == .bodyText("ab"))
        #expect(feeder.unconsumed.isEmpty)
        #expect(!feeder.parser.isComplete)
        try feeder.feed(Array("cde".utf8))
        #expect(feeder.events.suffix(2) == [.bodyText("abcde"), .end])
    }

    @Test("the head of a chunked request is reported before any chunk arrives")
    func chunkedHeadFirst() throws {
        var feeder = ParserFeeder()
        try feeder.feed(request("POST / HTTP/1.1", ["Host: example.com", "Transfer-Encoding: chunked"]))
        #expect(feeder.events.map(\.kind) == ["head"])
        try feeder.feed(Array("3\r\nabc\r\n0\r\n\r\n".utf8))
        #expect(feeder.events.map(\.kind) == ["head", "body", "end"])
    }

    @Test("every method Descent knows is parsed", arguments: HTTPMethod.allCases)
    func knownMethods(_ method: HTTPMethod) {
        let outcome = parse(request("\(method.rawValue) /x HTTP/1.1", ["Host: example.com"]))
        #expect(outcome.error == nil)
        #expect(outcome.head?.method == method)
    }

    @Test("OPTIONS * is accepted with * as its path")
    func asteriskForm() {
        let outcome = parse(request("OPTIONS * HTTP/1.1", ["Host: example.com"]))
        #expect(outcome.head?.path == "*")
        #expect(outcome.head?.query == nil)
    }

    @Test(
        "an absolute-form target whose authority is not a host with an optional port is a bad request",
        arguments: [
            "http:///healthz", "https:///", "http://", "http://?q=1", "http://[::1/healthz", "http://[::1]x/",
            "http://user@example.com/", "http://example.com:http/", "http://example.com:80:80/",
            "http://a.example,b.example/", "http://:8080/", "http://[]/", "http://exa%zzmple/",
        ])
    func absoluteFormBadAuthority(_ target: String) {
        #expect(
            parse(request("GET \(target) HTTP/1.1", ["Host: example.com"])).error
                == .badRequest("the authority of the absolute-form request-target is not a host with an optional port"))
    }

    @Test(
        "an absolute-form target with a host and an optional port gives its path and query",
        arguments: [
            ("http://127.0.0.1/healthz", "/healthz", nil), ("http://[::1]:8080/a?b", "/a", "b"),
            ("https://example.com", "/", nil), ("http://example.com:?q", "/", "q"),
            ("http://[2001:db8::1]", "/", nil),
        ] as [(String, String, String?)])
    func absoluteFormGoodAuthority(_ target: String, _ path: String, _ query: String?) {
        let outcome = parse(request("GET \(target) HTTP/1.1", ["Host: example.com"]))
        #expect(outcome.error == nil)
        #expect(outcome.head?.path == path)
        #expect(outcome.head?.query == query)
    }

    @Test(
        "a target with a fragment is a bad request, in every form",
        arguments: ["/healthz#top", "/#", "/a?b=c#d", "/a?b=c#", "http://example.com/#x", "http://example.com#x", "*#"])
    func fragment(_ target: String) {
        #expect(
            parse(request("GET \(target) HTTP/1.1", ["Host: example.com"])).error
                == .badRequest("the request-target has a fragment (#), which no request-target may carry"))
    }

    @Test(
        "a malformed request line is a bad request",
        arguments: [
            "GET  / HTTP/1.1", "GET / HTTP/1.1 ", " GET / HTTP/1.1", "GET /", "GET / HTTP/1.1 extra",
            "GET\t/\tHTTP/1.1", "GET", "/ HTTP/1.1", "G(T / HTTP/1.1", "GET v1/jobs HTTP/1.1", "GET ftp://x/ HTTP/1.1",
        ])
    func malformedRequestLine(_ line: String) {
        #expect(parse(request(line, ["Host: example.com"])).isBadRequest)
    }

    @Test("optional whitespace around a field value is not part of the value")
    func fieldValueTrimmed() {
        let outcome = parse(request("GET / HTTP/1.1", ["Host: example.com", "X-A:\t \tspaced out \t ", "X-B:"]))
        #expect(outcome.head?.headers == [ValidFixture.host, Field("X-A", "spaced out"), Field("X-B", "")])
    }

    @Test("header names keep their case, order and repetitions")
    func fieldsKeepOrder() {
        let outcome = parse(request("GET / HTTP/1.1", ["x-b: 1", "Host: example.com", "X-B: 2", "X-a: 3"]))
        #expect(
            outcome.head?.headers == [
                Field("x-b", "1"), ValidFixture.host, Field("X-B", "2"), Field("X-a", "3"),
            ])
    }
}

@Suite("HTTPRequestParser: connection and expectation semantics")
struct HTTPRequestParserSemanticsTests {
    struct KeepAliveCase: Sendable, CustomTestStringConvertible {
        var version: String
        var connection: [String]
        var keepAlive: Bool
        var testDescription: String { "\(version) Connection: \(connection) → keepAlive \(keepAlive)" }
    }

    @Test(
        "keep-alive follows the version's default unless Connection says otherwise",
        arguments: [
            KeepAliveCase(version: "HTTP/1.1", connection: [], keepAlive: true),
            KeepAliveCase(version: "HTTP/1.1", connection: ["close"], keepAlive: false),
            KeepAliveCase(version: "HTTP/1.1", connection: ["Close"], keepAlive: false),
            KeepAliveCase(version: "HTTP/1.1", connection: ["keep-alive"], keepAlive: true),
            KeepAliveCase(version: "HTTP/1.1", connection: ["upgrade, close"], keepAlive: false),
            KeepAliveCase(version: "HTTP/1.1", connection: ["upgrade"], keepAlive: true),
            KeepAliveCase(version: "HTTP/1.0", connection: [], keepAlive: false),
            KeepAliveCase(version: "HTTP/1.0", connection: ["keep-alive"], keepAlive: true),
            KeepAliveCase(version: "HTTP/1.0", connection: ["Keep-Alive"], keepAlive: true),
            KeepAliveCase(version: "HTTP/1.0", connection: ["close"], keepAlive: false),
            KeepAliveCase(version: "HTTP/1.0", connection: ["keep-alive", "close"], keepAlive: false),
            KeepAliveCase(version: "HTTP/1.0", connection: ["closed"], keepAlive: false),
            KeepAliveCase(version: "HTTP/1.1", connection: ["closed"], keepAlive: true),
        ])
    func keepAlive(_ example: KeepAliveCase) throws {
        let fields = ["Host: example.com"] + example.connection.map { "Connection: \($0)" }
        let head = try #require(parse(request("GET / \(example.version)", fields)).head)
        #expect(head.keepAlive == example.keepAlive)
    }

    struct ExpectCase: Sendable, CustomTestStringConvertible {
        var name: String
        var version: String
        var fields: [String]
        var expectsContinue: Bool
        var testDescription: String { name }
    }

    @Test(
        "expectsContinue is true only for an HTTP/1.1 request that has a body",
        arguments: [
            ExpectCase(
                name: "1.1 with Content-Length", version: "HTTP/1.1", fields: ["Content-Length: 3"],
                expectsContinue: true),
            ExpectCase(
                name: "1.1 chunked", version: "HTTP/1.1", fields: ["Transfer-Encoding: chunked"],
                expectsContinue: true),
            ExpectCase(name: "1.1 without a body", version: "HTTP/1.1", fields: [], expectsContinue: false),
            ExpectCase(
                name: "1.1 with Content-Length: 0", version: "HTTP/1.1", fields: ["Content-Length: 0"],
                expectsContinue: false),
            ExpectCase(
                name: "1.0 with Content-Length", version: "HTTP/1.0", fields: ["Content-Length: 3"],
                expectsContinue: false),
        ])
    func expectsContinue(_ example: ExpectCase) throws {
        let fields = ["Host: example.com", "Expect: 100-continue"] + example.fields
        let head = try #require(parse(request("POST / \(example.version)", fields)).head)
        #expect(head.expectsContinue == example.expectsContinue)
    }

    @Test("the 100-continue expectation is matched without regard to case")
    func expectationCase() throws {
        let fields = ["Host: example.com", "Expect: 100-Continue", "Content-Length: 1"]
        let head = try #require(parse(request("POST / HTTP/1.1", fields, body: "x")).head)
        #expect(head.expectsContinue)
    }

    @Test("a request without Expect does not expect 100 Continue")
    func noExpectation() throws {
        let head = try #require(parse(request("POST / HTTP/1.1", ["Host: example.com", "Content-Length: 1"])).head)
        #expect(!head.expectsContinue)
    }

    @Test("HTTP/1.0 needs no Host header")
    func http10WithoutHost() {
        let outcome = parse(request("GET / HTTP/1.0", []))
        #expect(outcome.error == nil)
        #expect(outcome.head?.version == .http1_0)
    }

    @Test("an HTTP/1.0 request may carry a Content-Length body")
    func http10Body() {
        let outcome = parse(request("POST / HTTP/1.0", ["Content-Length: 2"], body: "hi"))
        #expect(
            outcome
                == ParseOutcome(
                    events: [
                        .head(
                            HeadSnapshot(
                                .POST, "/", version: .http1_0, headers: [Field("Content-Length", "2")],
                                framing: .contentLength(2), keepAlive: false)),
                        .bodyText("hi"), .end,
                    ],
                    error: nil))
    }

    @Test("Content-Length: 0 ends the message right after the head")
    func emptyBody() {
        let outcome = parse(request("POST / HTTP/1.1", ["Host: example.com", "Content-Length: 0"]))
        #expect(outcome.events.map(\.kind) == ["head", "end"])
        #expect(outcome.head?.framing == .contentLength(0))
    }

    @Test("a Content-Length with leading zeros is read as decimal")
    func leadingZeros() {
        let outcome = parse(
            request("POST / HTTP/1.1", ["Host: example.com", "Content-Length: 0010"], body: "0123456789"))
        #expect(outcome.head?.framing == .contentLength(10))
        #expect(outcome.events.last == .end)
    }

    @Test("Transfer-Encoding chunked is recognised without regard to case")
    func chunkedCase() {
        let outcome = parse(request("POST / HTTP/1.1", ["Host: example.com", "Transfer-Encoding: Chunked"]))
        #expect(outcome.head?.framing == .chunked)
    }
}

extension ParsedEvent {
    /// The kind of event, for tests that care about the sequence and not the contents.
    var kind: String {
        switch self {
        case .head: "head"
        case .body: "body"
        case .end: "end"
        }
    }
}
