import Testing

@testable import DescentHTTP

@Suite("HTTPResponseEncoder")
struct HTTPResponseEncoderTests {
    /// IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func isIMFFixdate(_ text: Substring) -> Bool {
        text.wholeMatch(of: #/[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT/#) != nil
    }

    static func head(
        _ status: HTTPStatus = .ok, headers: HTTPHeaders = [:], contentLength: Int? = nil, chunked: Bool = false,
        keepAlive: Bool = true, requestID: String = ""
    ) -> [UInt8] {
        var buffer: [UInt8] = []
        HTTPResponseEncoder.appendHead(
            status, headers: headers, contentLength: contentLength, chunked: chunked, keepAlive: keepAlive,
            requestID: requestID, into: &buffer)
        return buffer
    }

    /// The lines of a head, split at CRLF; the last two are empty (the blank line and what follows it).
    static func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false).map(
            String.init)
    }

    @Test("a head is the status line, Date, the handler's headers, the framing headers, the id and a blank line")
    func headLayout() throws {
        let bytes = Self.head(
            .ok, headers: ["Content-Type": "text/plain", "X-A": "1"], contentLength: 5, requestID: "req-1")
        let lines = Self.lines(bytes)
        try #require(lines.count == 9)
        #expect(lines[0] == "HTTP/1.1 200 OK")
        #expect(lines[1].hasPrefix("Date: "))
        #expect(Self.isIMFFixdate(lines[1].dropFirst(6)), "\(lines[1])")
        #expect(
            Array(lines[2...]) == [
                "Content-Type: text/plain", "X-A: 1", "Content-Length: 5", "X-Request-Id: req-1",
                "Connection: keep-alive", "", "",
            ])
    }

    @Test("every line of a head ends in CRLF and the head ends with an empty line")
    func crlfOnly() {
        let bytes = Self.head(.notFound, headers: ["X-A": "1"], contentLength: 0, keepAlive: false, requestID: "r")
        #expect(bytes.suffix(4) == Array("\r\n\r\n".utf8))
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            #expect(index > 0 && bytes[index - 1] == 0x0D, "bare LF at \(index)")
        }
        #expect(!String(decoding: bytes, as: UTF8.self).dropLast(4).contains("\r\n\r\n"))
    }

    @Test("the status line carries the code and the reason phrase")
    func statusLine() {
        #expect(Self.lines(Self.head(.notFound))[0] == "HTTP/1.1 404 Not Found")
        #expect(
            Self.lines(Self.head(.requestHeaderFieldsTooLarge))[0] == "HTTP/1.1 431 Request Header Fields Too Large")
        #expect(Self.lines(Self.head(HTTPStatus(299, "Custom Thing")))[0] == "HTTP/1.1 299 Custom Thing")
    }

    @Test("Content-Length is written in decimal", arguments: [0, 1, 9, 10, 99, 100, 1_234_567, 1 << 40])
    func contentLength(_ length: Int) {
        #expect(Self.lines(Self.head(contentLength: length)).contains("Content-Length: \(length)"))
    }

    @Test("a chunked head has Transfer-Encoding: chunked and no Content-Length")
    func chunkedHead() {
        let lines = Self.lines(Self.head(chunked: true))
        #expect(lines.contains("Transfer-Encoding: chunked"))
        #expect(!lines.contains { $0.hasPrefix("Content-Length") })
    }

    @Test("a head without a length and not chunked has neither framing header")
    func noFraming() {
        let lines = Self.lines(Self.head(.noContent))
        #expect(!lines.contains { $0.hasPrefix("Content-Length") || $0.hasPrefix("Transfer-Encoding") })
    }

    @Test("Connection says close or keep-alive as asked")
    func connection() {
        #expect(Self.lines(Self.head(keepAlive: true)).contains("Connection: keep-alive"))
        #expect(Self.lines(Self.head(keepAlive: false)).contains("Connection: close"))
        #expect(!Self.lines(Self.head(keepAlive: false)).contains("Connection: keep-alive"))
    }

    @Test("X-Request-Id is written only when there is an id")
    func requestID() {
        #expect(!Self.lines(Self.head()).contains { $0.hasPrefix("X-Request-Id") })
        #expect(Self.lines(Self.head(requestID: "abc")).contains("X-Request-Id: abc"))
    }

    @Test("repeated handler headers are all written, in order")
    func repeatedHeaders() {
        var headers = HTTPHeaders()
        headers.add("Set-Cookie", "a=1")
        headers.add("Vary", "Accept")
        headers.add("Set-Cookie", "b=2")
        let lines = Self.lines(Self.head(headers: headers))
        #expect(Array(lines[2..<5]) == ["Set-Cookie: a=1", "Vary: Accept", "Set-Cookie: b=2"])
    }

    @Test("CR and LF in a header value cannot start a new header line (response splitting)")
    func responseSplitting() {
        let headers: HTTPHeaders = ["Location": "/a\r\nSet-Cookie: evil=1", "X-B": "x\ry\nz"]
        let lines = Self.lines(Self.head(headers: headers, requestID: "id\r\nX-Evil: 1\n\r"))
        #expect(lines.contains("Location: /aSet-Cookie: evil=1"))
        #expect(lines.contains("X-B: xyz"))
        #expect(lines.contains("X-Request-Id: idX-Evil: 1"))
        #expect(!lines.contains { $0.hasPrefix("Set-Cookie") || $0.hasPrefix("X-Evil") })
        let bytes = Self.head(headers: headers, requestID: "id\r\nX-Evil: 1\n\r")
        #expect(bytes.filter { $0 == 0x0A }.count == lines.count - 1, "a line break that is not a header line")
    }

    @Test("appendHead appends to what the buffer already holds")
    func appendsToBuffer() {
        var buffer = Array("previous".utf8)
        HTTPResponseEncoder.appendHead(
            .ok, headers: [:], contentLength: 0, chunked: false, keepAlive: true, requestID: "", into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self).hasPrefix("previousHTTP/1.1 200 OK\r\n"))
    }

    @Test("a chunk is its size in hex, CRLF, the bytes and CRLF")
    func chunkFraming() {
        for (count, size) in [(1, "1"), (5, "5"), (10, "a"), (26, "1a"), (255, "ff"), (4096, "1000")] {
            let data = [UInt8](repeating: UInt8(ascii: "x"), count: count)
            var buffer = Array("before".utf8)
            HTTPResponseEncoder.appendChunk(data, into: &buffer)
            #expect(buffer == Array("before\(size)\r\n".utf8) + data + Array("\r\n".utf8), "\(count) bytes")
        }
    }

    @Test("an empty chunk appends nothing, because it would end the body")
    func emptyChunk() {
        var buffer = Array("x".utf8)
        HTTPResponseEncoder.appendChunk([], into: &buffer)
        #expect(buffer == Array("x".utf8))
    }

    @Test("the last chunk is a zero size and an empty trailer section")
    func lastChunk() {
        #expect(HTTPResponseEncoder.lastChunk == Array("0\r\n\r\n".utf8))
    }

    @Test("the interim 100 Continue response is a status line and a blank line")
    func continueResponse() {
        #expect(HTTPResponseEncoder.continueResponse == Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
    }

    @Test("a body framed by appendChunk and lastChunk is read back whole by the request parser")
    func chunkRoundTrip() {
        let pieces: [[UInt8]] = [Array("hello".utf8), [], Array(repeating: 0, count: 300), Array("\r\n0\r\n".utf8)]
        var body: [UInt8] = []
        for piece in pieces { HTTPResponseEncoder.appendChunk(piece, into: &body) }
        body += HTTPResponseEncoder.lastChunk
        let bytes = Array("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".utf8) + body
        let outcome = parse(bytes)
        #expect(outcome.error == nil)
        #expect(outcome.events.suffix(2) == [.body(pieces.flatMap { $0 }), .end])
    }
}

@Suite("HTTPDate and HTTPStatus")
struct HTTPDateTests {
    @Test(
        "dates are formatted as IMF-fixdate in GMT",
        arguments: [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
        ])
    func format(_ seconds: Int, _ expected: String) {
        #expect(HTTPDate.format(epochSeconds: seconds) == expected)
    }

    @Test("the current date is a 29-byte IMF-fixdate")
    func current() throws {
        let text = String(decoding: HTTPDate.shared.current(), as: UTF8.self)
        #expect(text.utf8.count == 29)
        #expect(HTTPResponseEncoderTests.isIMFFixdate(Substring(text)), "\(text)")
    }

    @Test("1xx, 204 and 304 responses carry no content; other statuses do")
    func allowsContent() {
        for code in [100, 101, 199, 204, 304] { #expect(!HTTPStatus(code, "x").allowsContent, "\(code)") }
        for code in [200, 201, 205, 301, 400, 404, 500] { #expect(HTTPStatus(code, "x").allowsContent, "\(code)") }
    }
}
