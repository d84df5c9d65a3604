import Testing

@testable import DescentHTTP

/// An input the parser must refuse. Each one differs from an accepted base request (see the first tests
/// of the suite) only by the defect it is named after, so that it cannot pass by failing for another reason.
struct RejectedRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    /// The error expected; nil means any `badRequest`.
    var error: HTTPParseError?

    var testDescription: String { name }

    init(_ name: String, _ bytes: [UInt8], _ error: HTTPParseError? = nil) {
        self.name = name
        self.bytes = bytes
        self.error = error
    }

    init(_ name: String, _ text: String, _ error: HTTPParseError? = nil) {
        self.init(name, Array(text.utf8), error)
    }

    /// The base request with `fields` as its field lines.
    static func post(_ fields: [String], body: String = "hello") -> [UInt8] {
        request("POST /v1/jobs HTTP/1.1", fields, body: body)
    }

    /// A chunked request whose body is `body`, framing included.
    static func chunked(_ body: String) -> [UInt8] {
        request("POST /v1/jobs HTTP/1.1", ["Host: example.com", "Transfer-Encoding: chunked"], body: body)
    }
}

@Suite("HTTPRequestParser: request smuggling and malformed framing")
struct HTTPRequestParserSmugglingTests {
    static let host = "Host: example.com"

    @Test("the base request with Content-Length that the cases vary is accepted")
    func baseContentLength() {
        let outcome = parse(RejectedRequest.post([Self.host, "Content-Length: 5"]))
        #expect(outcome.error == nil)
        #expect(outcome.events.suffix(2) == [.bodyText("hello"), .end])
    }

    @Test("the base chunked request that the cases vary is accepted")
    func baseChunked() {
        let outcome = parse(RejectedRequest.chunked("5\r\nhello\r\n0\r\n\r\n"))
        #expect(outcome.error == nil)
        #expect(outcome.events.suffix(2) == [.bodyText("hello"), .end])
    }

    static let lengthCases: [RejectedRequest] = [
        RejectedRequest(
            "Content-Length and Transfer-Encoding together",
            RejectedRequest.post(
                [host, "Content-Length: 5", "Transfer-Encoding: chunked"], body: "5\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest(
            "Transfer-Encoding and Content-Length together, in the other order",
            RejectedRequest.post(
                [host, "Transfer-Encoding: chunked", "Content-Length: 5"], body: "5\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest(
            "Transfer-Encoding with Content-Length: 0",
            RejectedRequest.post([host, "Content-Length: 0", "Transfer-Encoding: chunked"], body: "0\r\n\r\n")),
        RejectedRequest(
            "duplicate Content-Length with equal values",
            RejectedRequest.post([host, "Content-Length: 5", "Content-Length: 5"])),
        RejectedRequest(
            "duplicate Content-Length with different values",
            RejectedRequest.post([host, "Content-Length: 5", "Content-Length: 6"])),
        RejectedRequest(
            "duplicate Content-Length differing in the name's case",
            RejectedRequest.post([host, "Content-Length: 5", "content-length: 5"])),
        RejectedRequest("Content-Length: 5, 5", RejectedRequest.post([host, "Content-Length: 5, 5"])),
        RejectedRequest("Content-Length: +5", RejectedRequest.post([host, "Content-Length: +5"])),
        RejectedRequest("Content-Length: -1", RejectedRequest.post([host, "Content-Length: -1"])),
        RejectedRequest("Content-Length:  5x", RejectedRequest.post([host, "Content-Length:  5x"])),
        RejectedRequest("Content-Length: 5 5", RejectedRequest.post([host, "Content-Length: 5 5"])),
        RejectedRequest("Content-Length: 0x5", RejectedRequest.post([host, "Content-Length: 0x5"])),
        RejectedRequest("Content-Length: 5.0", RejectedRequest.post([host, "Content-Length: 5.0"])),
        RejectedRequest("Content-Length: 5e0", RejectedRequest.post([host, "Content-Length: 5e0"])),
        RejectedRequest("empty Content-Length", RejectedRequest.post([host, "Content-Length: "])),
        RejectedRequest(
            "Content-Length in non-ASCII digits", RejectedRequest.post([host, "Content-Length: \u{FF15}"])),
        RejectedRequest(
            "Content-Length with a vertical tab", RejectedRequest.post([host, "Content-Length: 5\u{0B}"])),
        RejectedRequest(
            "space before the colon of Content-Length", RejectedRequest.post([host, "Content-Length : 5"])),
    ]

    static let transferEncodingCases: [RejectedRequest] = [
        RejectedRequest(
            "Transfer-Encoding: chunked, identity (chunked is not last)",
            RejectedRequest.post([host, "Transfer-Encoding: chunked, identity"], body: "5\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest(
            "Transfer-Encoding: identity", RejectedRequest.post([host, "Transfer-Encoding: identity"], body: "")),
        RejectedRequest("Transfer-Encoding: gzip", RejectedRequest.post([host, "Transfer-Encoding: gzip"], body: "")),
        RejectedRequest("empty Transfer-Encoding", RejectedRequest.post([host, "Transfer-Encoding: "], body: "")),
        RejectedRequest(
            "Transfer-Encoding: xchunked", RejectedRequest.post([host, "Transfer-Encoding: xchunked"], body: "")),
        RejectedRequest(
            "Transfer-Encoding split over two fields with chunked first",
            RejectedRequest.post([host, "Transfer-Encoding: chunked", "Transfer-Encoding: gzip"], body: "")),
        RejectedRequest(
            "Transfer-Encoding in an HTTP/1.0 request",
            request("POST /v1/jobs HTTP/1.0", ["Transfer-Encoding: chunked"], body: "5\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest(
            "space before the colon of Transfer-Encoding",
            RejectedRequest.post([host, "Transfer-Encoding : chunked"], body: "5\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest(
            "Transfer-Encoding: chunked, chunked (chunked applied twice)",
            RejectedRequest.post([host, "Transfer-Encoding: chunked, chunked"], body: "5\r\nhello\r\n0\r\n\r\n"),
            .badRequest("Transfer-Encoding applies chunked more than once")),
        RejectedRequest(
            "chunked twice in separate fields",
            RejectedRequest.post(
                [host, "Transfer-Encoding: chunked", "transfer-encoding: CHUNKED"], body: "5\r\nhello\r\n0\r\n\r\n"),
            .badRequest("Transfer-Encoding applies chunked more than once")),
        RejectedRequest(
            "chunked twice with an unimplemented coding between them",
            RejectedRequest.post([host, "Transfer-Encoding: chunked, gzip, chunked"], body: ""),
            .badRequest("Transfer-Encoding applies chunked more than once")),
        RejectedRequest(
            "a coding before chunked is not implemented",
            RejectedRequest.post([host, "Transfer-Encoding: gzip, chunked"], body: ""),
            .unsupportedTransferCoding("gzip")),
        RejectedRequest(
            "codings before chunked in separate fields are not implemented",
            RejectedRequest.post(
                [host, "Transfer-Encoding: gzip", "Transfer-Encoding: deflate", "Transfer-Encoding: chunked"],
                body: ""),
            .unsupportedTransferCoding("gzip, deflate")),
    ]

    static let lineCases: [RejectedRequest] = [
        RejectedRequest(
            "obsolete line folding with a space",
            RejectedRequest.post([host, "X-A: a", " folded", "Content-Length: 5"])),
        RejectedRequest(
            "obsolete line folding with a tab",
            RejectedRequest.post([host, "X-A: a", "\tfolded", "Content-Length: 5"])),
        RejectedRequest(
            "obsolete line folding of Content-Length",
            RejectedRequest.post([host, "Content-Length:", " 5"])),
        RejectedRequest(
            "whitespace before the first header field", RejectedRequest.post([" " + host, "Content-Length: 5"])),
        RejectedRequest("whitespace before the colon: Host : x", RejectedRequest.post(["Host : example.com"])),
        RejectedRequest("a tab before the colon", RejectedRequest.post(["Host\t: example.com", "Content-Length: 5"])),
        RejectedRequest("a header line without a colon", RejectedRequest.post([host, "NoColon", "Content-Length: 5"])),
        RejectedRequest("an empty header name", RejectedRequest.post([host, ": value", "Content-Length: 5"])),
        RejectedRequest(
            "bare LF line endings throughout", "POST /v1/jobs HTTP/1.1\nHost: example.com\nContent-Length: 5\n\nhello"),
        RejectedRequest(
            "bare LF after the request line",
            "POST /v1/jobs HTTP/1.1\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"),
        RejectedRequest(
            "bare LF after a header line", "POST /v1/jobs HTTP/1.1\r\nHost: example.com\nContent-Length: 5\r\n\r\nhello"
        ),
        RejectedRequest(
            "bare LF ending the header section",
            "POST /v1/jobs HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\nhello"),
        RejectedRequest("bare LF before the request line", "\nPOST /v1/jobs HTTP/1.1\r\nHost: example.com\r\n\r\n"),
        RejectedRequest(
            "bare CR inside a header line",
            "POST /v1/jobs HTTP/1.1\r\nHost: example.com\rContent-Length: 5\r\n\r\nhello"),
        RejectedRequest(
            "bare CR at the end of the request line",
            "POST /v1/jobs HTTP/1.1\r\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"),
        RejectedRequest(
            "bare CR as the line ending the header section",
            "POST /v1/jobs HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\r\nhello"),
        RejectedRequest(
            "bare CR before the request line", "\rPOST /v1/jobs HTTP/1.1\r\nHost: example.com\r\n\r\n"),
        RejectedRequest("NUL in a header value", RejectedRequest.post([host, "X-A: a\u{0}b", "Content-Length: 5"])),
    ]

    static let hostCases: [RejectedRequest] = [
        RejectedRequest("missing Host in HTTP/1.1", RejectedRequest.post(["Content-Length: 5"])),
        RejectedRequest(
            "two Host headers", RejectedRequest.post(["Host: a.example", "Host: b.example", "Content-Length: 5"])),
        RejectedRequest(
            "two equal Host headers", RejectedRequest.post([host, host, "Content-Length: 5"])),
        RejectedRequest(
            "two Host headers in HTTP/1.0",
            request("POST /v1/jobs HTTP/1.0", [host, "host: b.example", "Content-Length: 5"], body: "hello")),
    ]

    /// Host values that are not uri-host [":" port] (RFC 9112 §3.2, RFC 3986 §3.2.2).
    static let invalidHosts = [
        "a b", "example.com/evil", "user@example.com", "a.example, b.example", "a.example,b.example", "[::1",
        "example.com:http", "example.com:80:80", "example.com:-1", ":8080", "[]", "[::1]x", "[::1]:8o",
        "[1:2:3:4:5:6:7:8:9]", "[1::2::3]", "[:1]", "[1:2:3:4:5:6:7]", "[12345::1]", "[::1%25eth0]",
        "[::256.0.0.1]", "[::1.2.3]", "[v1]", "[v.x]", "exa%2", "exa%zzmple", "exa\"mple", "example.com?", "a\\b",
        "exam\u{E9}ple.com",
    ]

    /// Host values that are: reg-names (with percent-encoding and sub-delims), IPv4, IPv6 and IPvFuture
    /// literals, each with and without a port, which may be empty.
    static let validHosts = [
        "example.com", "example.com:8080", "example.com:", "localhost", "127.0.0.1:443", "EXAMPLE.com",
        "xn--bcher-kva.example", "ex%41mple.com", "a-b_c~d!$&'()*+;=", "[::1]", "[::1]:8080", "[::]", "[::]:",
        "[2001:db8::8a2e:370:7334]", "[1:2:3:4:5:6:7:8]", "[1:2:3:4:5:6:7::]", "[::ffff:192.0.2.1]:80",
        "[1:2:3:4:5:6:1.2.3.4]", "[v7.a:b]", "256.1.1.1",
    ]

    @Test("a Host that is not a host with an optional port is a bad request", arguments: invalidHosts)
    func invalidHost(_ value: String) {
        let outcome = parse(request("GET / HTTP/1.1", ["Host: \(value)"]))
        #expect(outcome.error == .badRequest("the Host header is not a host with an optional port"), "\(value)")
        // HTTP/1.0 needs no Host, but one that is sent must be valid.
        #expect(parse(request("GET / HTTP/1.0", ["Host: \(value)"])).isBadRequest, "\(value) in HTTP/1.0")
    }

    @Test("a Host that is a host with an optional port is accepted", arguments: validHosts)
    func validHost(_ value: String) {
        let outcome = parse(request("GET / HTTP/1.1", ["Host: \(value)"]))
        #expect(outcome.error == nil, "\(value)")
        #expect(outcome.head?.headers == [Field("Host", value)])
    }

    @Test("on one connection, a Host is still checked after a valid one (only a repeat of it is passed over)")
    func hostCheckedAfterValidOne() throws {
        var parser = HTTPRequestParser()
        func next(_ host: String) -> HTTPParseError? {
            parser.reset()
            let bytes = Array("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n".utf8)
            do {
                _ = try parser.parse(bytes) { _ in }
                return nil
            } catch {
                return error
            }
        }
        #expect(next("example.com:8080") == nil)
        #expect(next("example.com:8080") == nil)
        #expect(next("example.com:80a") == .badRequest("the Host header is not a host with an optional port"))
        #expect(next("a@example.com") == .badRequest("the Host header is not a host with an optional port"))
        #expect(next("example.com:8080") == nil)
    }

    @Test("an empty Host is accepted, as for a target without an authority (RFC 9112 §3.2)")
    func emptyHost() {
        #expect(parse(request("GET / HTTP/1.1", ["Host:"])).error == nil)
        #expect(parse(request("GET / HTTP/1.1", ["Host:  "])).error == nil)
    }

    static let contentTypeCases: [RejectedRequest] = [
        RejectedRequest(
            "two Content-Type headers with different values",
            RejectedRequest.post([
                host, "Content-Type: text/csv", "Content-Type: application/json", "Content-Length: 5",
            ]),
            .badRequest("more than one Content-Type header")),
        RejectedRequest(
            "two equal Content-Type headers differing in the name's case",
            RejectedRequest.post(
                [host, "Content-Type: application/json", "content-type: application/json", "Content-Length: 5"]),
            .badRequest("more than one Content-Type header")),
        RejectedRequest(
            "two Content-Type headers on a request without a body",
            request("GET / HTTP/1.1", [host, "Content-Type: text/csv", "Content-Type: text/csv"]),
            .badRequest("more than one Content-Type header")),
    ]

    static let chunkCases: [RejectedRequest] = [
        RejectedRequest("chunk size 0x5", RejectedRequest.chunked("0x5\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest("chunk size -1", RejectedRequest.chunked("-1\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest("empty chunk size", RejectedRequest.chunked("\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest("empty chunk size where the last chunk belongs", RejectedRequest.chunked("\r\n\r\n")),
        RejectedRequest("a chunk extension without a chunk size", RejectedRequest.chunked(";a=b\r\n\r\n")),
        RejectedRequest("chunk size 5 x", RejectedRequest.chunked("5 x\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest("chunk size with a leading space", RejectedRequest.chunked(" 5\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest("chunk size +5", RejectedRequest.chunked("+5\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest("chunk size 5g", RejectedRequest.chunked("5g\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest(
            "chunk size of 16 hex digits", RejectedRequest.chunked("0000000000000005\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest(
            "chunk size that would overflow 64 bits",
            RejectedRequest.chunked("10000000000000005\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest("chunk data not followed by CRLF", RejectedRequest.chunked("5\r\nhelloX\r\n0\r\n\r\n")),
        RejectedRequest("a chunk longer than its size", RejectedRequest.chunked("3\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest("chunk data followed by a bare LF", RejectedRequest.chunked("5\r\nhello\n0\r\n\r\n")),
        RejectedRequest("chunk data followed by a bare CR", RejectedRequest.chunked("5\r\nhello\r0\r\n\r\n")),
        RejectedRequest(
            "chunk data followed by CR and a byte other than LF", RejectedRequest.chunked("5\r\nhello\rX0\r\n\r\n")),
        RejectedRequest(
            "chunk data followed by LF and CR", RejectedRequest.chunked("5\r\nhello\n\r0\r\n\r\n")),
        RejectedRequest("chunk size line ending in a bare LF", RejectedRequest.chunked("5\nhello\r\n0\r\n\r\n")),
        RejectedRequest("last chunk line ending in a bare LF", RejectedRequest.chunked("5\r\nhello\r\n0\n\r\n")),
        RejectedRequest("NUL in a chunk extension", RejectedRequest.chunked("5;a=\u{0}\r\nhello\r\n0\r\n\r\n")),
        RejectedRequest(
            "obsolete line folding in the trailers",
            RejectedRequest.chunked("5\r\nhello\r\n0\r\nX-A: a\r\n folded\r\n\r\n")),
        RejectedRequest(
            "a control byte in a trailer value", RejectedRequest.chunked("5\r\nhello\r\n0\r\nX-A: \u{1}\r\n\r\n")),
        RejectedRequest(
            "a trailer section ended by a bare LF", RejectedRequest.chunked("5\r\nhello\r\n0\r\nX-A: a\r\n\n")),
    ]

    static func check(_ example: RejectedRequest, sourceLocation: SourceLocation = #_sourceLocation) {
        let outcome = parse(example.bytes)
        if let error = example.error {
            #expect(outcome.error == error, sourceLocation: sourceLocation)
        } else {
            #expect(outcome.isBadRequest, "got \(outcome)", sourceLocation: sourceLocation)
        }
        expectSameOutcomeHoweverSplit(example.bytes, expected: outcome, sourceLocation: sourceLocation)
    }

    @Test("an ambiguous body length is rejected however the request is split", arguments: lengthCases)
    func ambiguousLength(_ example: RejectedRequest) { Self.check(example) }

    @Test(
        "a Transfer-Encoding that does not end in chunked is a bad request; other codings are not implemented",
        arguments: transferEncodingCases)
    func transferEncoding(_ example: RejectedRequest) { Self.check(example) }

    @Test("a line that other parsers could split differently is rejected", arguments: lineCases)
    func lineSyntax(_ example: RejectedRequest) { Self.check(example) }

    @Test("an HTTP/1.1 request needs exactly one Host, and no request may have two", arguments: hostCases)
    func host(_ example: RejectedRequest) { Self.check(example) }

    @Test(
        "a repeated Content-Type is rejected: which one applies would be up to the reader", arguments: contentTypeCases)
    func repeatedContentType(_ example: RejectedRequest) { Self.check(example) }

    @Test("a single Content-Type, parameters and all, is left to the application")
    func singleContentType() {
        let outcome = parse(
            RejectedRequest.post([Self.host, "Content-Type: text/csv; charset=utf-8", "Content-Length: 5"]))
        #expect(outcome.error == nil)
        #expect(outcome.events.suffix(2) == [.bodyText("hello"), .end])
    }

    @Test("malformed chunk framing is rejected however the body is split", arguments: chunkCases)
    func chunkFraming(_ example: RejectedRequest) { Self.check(example) }

    @Test("chunk data followed by a byte other than CR is rejected at once, without waiting for another byte")
    func earlyChunkEndError() {
        let outcome = parse(pieces: [RejectedRequest.chunked("5\r\nhelloX")])
        #expect(outcome.isBadRequest)
        #expect(outcome.events.map(\.kind) == ["head", "body"])
        #expect(parse(pieces: [RejectedRequest.chunked("5\r\nhello\r")]).error == nil, "CR alone may be followed by LF")
    }

    @Test("bytes after a rejected request are not consumed as a new message")
    func nothingAfterAnError() throws {
        var feeder = ParserFeeder()
        let bad = RejectedRequest.post([Self.host, "Content-Length: 5", "Content-Length: 5"], body: "")
        let smuggled = Array("GET /admin HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)
        #expect(throws: HTTPParseError.self) { try feeder.feed(bad + smuggled) }
        #expect(!feeder.events.contains { $0.kind == "head" })
        #expect(!feeder.parser.isComplete)
    }

    @Test("a body is read by its Content-Length and what follows is parsed as the next request")
    func bodyBoundary() {
        // A body that looks like a request must stay body: it is the classic smuggling payload.
        let inner = "GET /admin HTTP/1.1\r\nHost: example.com\r\n\r\n"
        let bytes =
            request("POST /v1/jobs HTTP/1.1", [Self.host, "Content-Length: \(inner.utf8.count)"], body: inner)
            + request("GET /next HTTP/1.1", [Self.host])
        let outcome = parse(bytes)
        #expect(outcome.error == nil)
        #expect(outcome.events.map(\.kind) == ["head", "body", "end", "head", "end"])
        #expect(outcome.events[1] == .bodyText(inner))
        #expect(outcome.events[3] == .head(HeadSnapshot(.GET, "/next", headers: [Field("Host", "example.com")])))
    }
}
