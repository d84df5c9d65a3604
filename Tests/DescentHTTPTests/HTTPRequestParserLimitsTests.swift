import Testing

@testable import DescentHTTP

@Suite("HTTPRequestParser: limits and unsupported features")
struct HTTPRequestParserLimitsTests {
    static let host = "Host: example.com"

    static func limits(
        requestLine: Int = 8 * 1024, headerBytes: Int = 32 * 1024, headerCount: Int = 100, body: Int = 1 << 30,
        chunkLine: Int = 1024
    ) -> HTTPParserLimits {
        var limits = HTTPParserLimits()
        limits.maxRequestLineBytes = requestLine
        limits.maxHeaderBytes = headerBytes
        limits.maxHeaderCount = headerCount
        limits.maxBodyBytes = body
        limits.maxChunkLineBytes = chunkLine
        return limits
    }

    /// Feeds `bytes` and checks that it fails with `error`, with the same outcome however it is split.
    static func expectError(
        _ error: HTTPParseError, _ bytes: [UInt8], limits: HTTPParserLimits,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let outcome = parse(bytes, limits: limits)
        #expect(outcome.error == error, sourceLocation: sourceLocation)
        expectSameOutcomeHoweverSplit(bytes, limits: limits, expected: outcome, sourceLocation: sourceLocation)
    }

    // MARK: Request line (414)

    @Test("a request line longer than the limit is 414 URI Too Long")
    func longTarget() {
        let bytes = request("GET /" + String(repeating: "a", count: 100) + " HTTP/1.1", [Self.host])
        Self.expectError(.uriTooLong(limit: 64), bytes, limits: Self.limits(requestLine: 64))
    }

    @Test("a long target is 414 before its line ends, so it is never buffered whole")
    func longTargetIncomplete() {
        let limits = Self.limits(requestLine: 64)
        let outcome = parse(pieces: [Array(("GET /" + String(repeating: "a", count: 100)).utf8)], limits: limits)
        #expect(outcome.error == .uriTooLong(limit: 64))
        let oneByOne = parse(
            pieces: Array(("GET /" + String(repeating: "a", count: 65)).utf8).map { [$0] },
            limits: limits)
        #expect(oneByOne.error == .uriTooLong(limit: 64))
    }

    @Test("a request line of exactly the limit is accepted however it is split")
    func requestLineAtLimit() {
        // "GET " + target + " HTTP/1.1" is 64 bytes.
        let target = "/" + String(repeating: "a", count: 50)
        let line = "GET \(target) HTTP/1.1"
        #expect(line.utf8.count == 64)
        let expected = ParseOutcome(
            events: [.head(HeadSnapshot(.GET, target, headers: [Field("Host", "example.com")])), .end], error: nil)
        expectSameOutcomeHoweverSplit(
            request(line, [Self.host]), limits: Self.limits(requestLine: 64), expected: expected)
        let longer = request("GET \(target)a HTTP/1.1", [Self.host])
        #expect(parse(longer, limits: Self.limits(requestLine: 64)).error == .uriTooLong(limit: 64))
    }

    @Test("a long line that does not start with a method is a bad request, not 414")
    func longJunk() {
        let limits = Self.limits(requestLine: 64)
        let junk = Array(String(repeating: "\u{16}\u{3}", count: 50).utf8)
        #expect(parse(junk + Array("\r\n".utf8), limits: limits).isBadRequest)
        #expect(parse(pieces: [junk], limits: limits).isBadRequest)
        #expect(parse(pieces: [Array(String(repeating: "A", count: 100).utf8)], limits: limits).isBadRequest)
    }

    // MARK: Header section (431)

    @Test("a header line longer than the header limit is 431")
    func longHeaderLine() {
        let bytes = request("GET / HTTP/1.1", [Self.host, "X-Big: " + String(repeating: "v", count: 200)])
        Self.expectError(.headerFieldsTooLarge(limit: 128), bytes, limits: Self.limits(headerBytes: 128))
    }

    @Test("a header line is 431 before it ends, so it is never buffered whole")
    func longHeaderLineIncomplete() {
        let limits = Self.limits(headerBytes: 128)
        let partial = Array(
            ("GET / HTTP/1.1\r\nHost: example.com\r\nX-Big: " + String(repeating: "v", count: 200)).utf8)
        #expect(parse(pieces: [partial], limits: limits).error == .headerFieldsTooLarge(limit: 128))
        #expect(parse(pieces: partial.map { [$0] }, limits: limits).error == .headerFieldsTooLarge(limit: 128))
    }

    @Test("many short header lines that together exceed the limit are 431")
    func manyShortHeaders() {
        let fields = [Self.host] + (0..<10).map { "X-\($0): 0123456789" }
        Self.expectError(
            .headerFieldsTooLarge(limit: 128), request("GET / HTTP/1.1", fields), limits: Self.limits(headerBytes: 128))
    }

    @Test("a header section of exactly the limit is accepted however it is split, one byte more is 431")
    func headerSectionAtLimit() {
        // The limit counts each field line with its CRLF: 19 bytes for Host, 109 for X-Fill.
        let fillValue = String(repeating: "f", count: 99)
        let fill = "X-Fill: " + fillValue
        let limits = Self.limits(headerBytes: 128)
        let headers = [Field("Host", "example.com"), Field("X-Fill", fillValue)]
        let expected = ParseOutcome(events: [.head(HeadSnapshot(.GET, "/", headers: headers)), .end], error: nil)
        expectSameOutcomeHoweverSplit(request("GET / HTTP/1.1", [Self.host, fill]), limits: limits, expected: expected)
        Self.expectError(
            .headerFieldsTooLarge(limit: 128), request("GET / HTTP/1.1", [Self.host, fill + "f"]), limits: limits)
    }

    @Test("more header fields than the limit is 431, and exactly the limit is accepted")
    func tooManyHeaders() {
        let limits = Self.limits(headerCount: 3)
        let three = request("GET / HTTP/1.1", [Self.host, "X-A: 1", "X-B: 2"])
        #expect(parse(three, limits: limits).error == nil)
        let four = request("GET / HTTP/1.1", [Self.host, "X-A: 1", "X-B: 2", "X-C: 3"])
        Self.expectError(.tooManyHeaderFields(limit: 3), four, limits: limits)
    }

    @Test("more trailer fields than the limit is 431, and exactly the limit is accepted")
    func tooManyTrailers() {
        let limits = Self.limits(headerCount: 3)
        let head = request("POST / HTTP/1.1", [Self.host, "Transfer-Encoding: chunked"])
        let three = head + Array("1\r\nx\r\n0\r\nT-A: 1\r\nT-B: 2\r\nT-C: 3\r\n\r\n".utf8)
        let accepted = parse(three, limits: limits)
        #expect(accepted.error == nil)
        #expect(accepted.events.last == .end(trailers: [Field("T-A", "1"), Field("T-B", "2"), Field("T-C", "3")]))
        let four = head + Array("1\r\nx\r\n0\r\nT-A: 1\r\nT-B: 2\r\nT-C: 3\r\nT-D: 4\r\n\r\n".utf8)
        Self.expectError(.tooManyHeaderFields(limit: 3), four, limits: limits)
    }

    // MARK: Body (413)

    @Test("a declared Content-Length above the body limit is 413 before any body byte is read")
    func contentLengthTooLarge() {
        let limits = Self.limits(body: 10)
        let bytes = request("POST / HTTP/1.1", [Self.host, "Content-Length: 11"], body: "0123456789a")
        Self.expectError(.contentTooLarge(limit: 10), bytes, limits: limits)
        #expect(parse(bytes, limits: limits).events.isEmpty)
        let atLimit = request("POST / HTTP/1.1", [Self.host, "Content-Length: 10"], body: "0123456789")
        #expect(parse(atLimit, limits: limits).events.suffix(2) == [.bodyText("0123456789"), .end])
    }

    @Test("a Content-Length too large for any integer is 413, not a crash or a 400")
    func hugeContentLength() {
        for length in ["9223372036854775807", "9223372036854775808", "99999999999999999999999999"] {
            let bytes = request("POST / HTTP/1.1", [Self.host, "Content-Length: \(length)"])
            #expect(parse(bytes).error == .contentTooLarge(limit: HTTPParserLimits().maxBodyBytes), "\(length)")
        }
    }

    @Test("the head stays available after a Content-Length error, so the answer can echo X-Request-Id")
    func headAfterContentLengthError() {
        var feeder = ParserFeeder(limits: Self.limits(body: 10))
        let bytes = request("POST /v1/jobs HTTP/1.1", [Self.host, "X-Request-Id: req-42", "Content-Length: 11"])
        #expect(throws: HTTPParseError.contentTooLarge(limit: 10)) { try feeder.feed(bytes) }
        #expect(feeder.parser.head?.headers["X-Request-Id"] == "req-42")
        #expect(feeder.parser.head?.target == "/v1/jobs")
    }

    @Test("the head stays available after a smuggling error, so the answer can echo X-Request-Id")
    func headAfterFramingError() {
        var feeder = ParserFeeder()
        let bytes = request(
            "POST / HTTP/1.1", [Self.host, "X-Request-Id: req-7", "Content-Length: 1", "Content-Length: 2"])
        #expect(throws: HTTPParseError.self) { try feeder.feed(bytes) }
        #expect(feeder.parser.head?.headers["X-Request-Id"] == "req-7")
    }

    @Test("chunks that together exceed the body limit are 413 at the chunk that crosses it")
    func chunkedTooLarge() throws {
        let limits = Self.limits(body: 10)
        let head = request("POST / HTTP/1.1", [Self.host, "X-Request-Id: req-9", "Transfer-Encoding: chunked"])
        let bytes = head + Array("6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n".utf8)
        Self.expectError(.contentTooLarge(limit: 10), bytes, limits: limits)
        let outcome = parse(bytes, limits: limits)
        #expect(outcome.events.map(\.kind) == ["head", "body"])
        #expect(outcome.events.last == .bodyText("abcdef"))

        var feeder = ParserFeeder(limits: limits)
        #expect(throws: HTTPParseError.contentTooLarge(limit: 10)) { try feeder.feed(bytes) }
        #expect(feeder.parser.head?.headers["X-Request-Id"] == "req-9")
    }

    @Test("a single chunk larger than the body limit is 413, and chunks adding up to the limit are accepted")
    func singleChunkTooLarge() {
        let limits = Self.limits(body: 10)
        let head = request("POST / HTTP/1.1", [Self.host, "Transfer-Encoding: chunked"])
        Self.expectError(
            .contentTooLarge(limit: 10), head + Array("b\r\n0123456789a\r\n0\r\n\r\n".utf8), limits: limits)
        let atLimit = head + Array("5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n".utf8)
        #expect(parse(atLimit, limits: limits).events.suffix(2) == [.bodyText("0123456789"), .end])
    }

    @Test("the largest chunk size the parser reads is 413 with the default limit, not an overflow")
    func largestChunkSize() {
        let bytes = request("POST / HTTP/1.1", [Self.host, "Transfer-Encoding: chunked"], body: "fffffffffffffff\r\n")
        #expect(parse(bytes).error == .contentTooLarge(limit: HTTPParserLimits().maxBodyBytes))
    }

    @Test("each pipelined message has the whole header and body budget to itself")
    func limitsPerMessage() {
        // Each message has 87 bytes of field lines (trailers count towards the same budget) and 8 of body.
        let limits = Self.limits(headerBytes: 100, headerCount: 3, body: 10)
        let one = request(
            "POST / HTTP/1.1", [Self.host, "Transfer-Encoding: chunked", "X-Pad: 0123456"],
            body: "8\r\n01234567\r\n0\r\nT-A: 1\r\nT-B: 2\r\nT-C: 3\r\n\r\n")
        let outcome = parse(one + one + one, limits: limits)
        #expect(outcome.error == nil)
        #expect(outcome.events.filter { $0.kind == "end" }.count == 3)
    }

    // MARK: Chunk-size line (400)

    @Test("a chunk-size line longer than its limit is a bad request, also before it ends")
    func longChunkLine() {
        let limits = Self.limits(chunkLine: 16)
        let head = request("POST / HTTP/1.1", [Self.host, "Transfer-Encoding: chunked"])
        let long = Array(("5;" + String(repeating: "x", count: 30)).utf8)
        let whole = parse(head + long + Array("\r\nhello\r\n0\r\n\r\n".utf8), limits: limits)
        #expect(whole.isBadRequest)
        #expect(whole.events.map(\.kind) == ["head"])
        #expect(parse(pieces: [head + long], limits: limits).isBadRequest)
        #expect(parse(pieces: [head] + long.map { [$0] }, limits: limits).isBadRequest)
    }

    @Test("a chunk-size line of exactly its limit is accepted however it is split")
    func chunkLineAtLimit() {
        let limits = Self.limits(chunkLine: 16)
        let head = request("POST / HTTP/1.1", [Self.host, "Transfer-Encoding: chunked"])
        let line = "5;" + String(repeating: "x", count: 14)
        let bytes = head + Array((line + "\r\nhello\r\n0\r\n\r\n").utf8)
        let expected = ParseOutcome(
            events: [
                .head(
                    HeadSnapshot(
                        .POST, "/", headers: [Field("Host", "example.com"), Field("Transfer-Encoding", "chunked")],
                        framing: .chunked)),
                .bodyText("hello"),
                .end,
            ],
            error: nil)
        expectSameOutcomeHoweverSplit(bytes, limits: limits, expected: expected)
    }

    // MARK: Unsupported methods, versions, expectations

    @Test("a well-formed but unknown method is 501 Not Implemented", arguments: ["BREW", "get", "PROPFIND", "Get"])
    func unknownMethod(_ method: String) {
        Self.expectError(
            .unknownMethod(method), request("\(method) / HTTP/1.1", [Self.host]), limits: HTTPParserLimits())
    }

    @Test(
        "a well-formed version other than 1.0 and 1.1 is 505",
        arguments: ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9"])
    func unsupportedVersion(_ version: String) {
        Self.expectError(
            .unsupportedVersion(version), request("GET / \(version)", [Self.host]), limits: HTTPParserLimits())
    }

    @Test(
        "a malformed version is a bad request",
        arguments: [
            "HTTP/1.10", "HTTP/1", "HTTP/11", "http/1.1", "HTTP/1.x", "HTTP/1.1x", "HTTPS/1.1", "HTTP/2", "HTTP 1.1",
        ])
    func malformedVersion(_ version: String) {
        #expect(parse(request("GET / \(version)", [Self.host])).isBadRequest)
    }

    @Test(
        "an expectation other than 100-continue is 417",
        arguments: ["200-ok", "100-continue, foo", "", "100-continued"])
    func unsupportedExpectation(_ expectation: String) {
        let bytes = request("POST / HTTP/1.1", [Self.host, "Expect: \(expectation)", "Content-Length: 1"], body: "x")
        Self.expectError(.unsupportedExpectation(expectation), bytes, limits: HTTPParserLimits())
    }

    @Test("a transfer coding other than chunked before chunked is 501")
    func unsupportedTransferCoding() {
        let bytes = request("POST / HTTP/1.1", [Self.host, "Transfer-Encoding: gzip, chunked"], body: "0\r\n\r\n")
        Self.expectError(.unsupportedTransferCoding("gzip"), bytes, limits: HTTPParserLimits())
    }
}
