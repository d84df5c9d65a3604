/// What the header fields of a request mean for its framing and its connection (RFC 9112 §6, §9), with the
/// checks that close the doors to request smuggling (RFC 9112 §6.3, §11.2).
enum HTTPMessageRules {
    static func apply(to head: inout HTTPRequestHead, limits: HTTPParserLimits) throws(HTTPParseError) {
        let headers = head.headers
        // RFC 9112 §3.2: a 1.1 request without exactly one Host is a 400.
        let hosts = headers.values("Host")
        if head.version == .http1_1 && hosts.count != 1 {
            throw .badRequest(hosts.isEmpty ? "missing Host header" : "more than one Host header")
        }
        if head.version == .http1_0 && hosts.count > 1 { throw .badRequest("more than one Host header") }

        head.framing = try framing(headers, version: head.version, limits: limits)

        let connection = headers.listElements("Connection")
        if connection.contains(where: { HTTPHeaders.equalsIgnoringCase($0, "close") }) {
            head.keepAlive = false
        } else if head.version == .http1_0 {
            head.keepAlive = connection.contains(where: { HTTPHeaders.equalsIgnoringCase($0, "keep-alive") })
        } else {
            head.keepAlive = true
        }

        if let expect = headers["Expect"] {
            guard HTTPHeaders.equalsIgnoringCase(expect, "100-continue") else { throw .unsupportedExpectation(expect) }
            // RFC 9110 §10.1.1: a 1.0 client cannot understand 100 Continue; ignore the expectation.
            head.expectsContinue = head.version == .http1_1 && head.framing != .none
        }
    }

    private static func framing(
        _ headers: HTTPHeaders, version: HTTPVersion, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> HTTPRequestHead.BodyFraming {
        let transferCodings = headers.listElements("Transfer-Encoding")
        let lengths = headers.values("Content-Length")
        if headers.contains("Transfer-Encoding") {
            // RFC 9112 §6.1: a message with both is a smuggling attempt or a broken intermediary.
            guard lengths.isEmpty else { throw .badRequest("both Transfer-Encoding and Content-Length") }
            guard version == .http1_1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            guard let last = transferCodings.last, HTTPHeaders.equalsIgnoringCase(last, "chunked") else {
                throw .badRequest("Transfer-Encoding must end with chunked")
            }
            guard transferCodings.count == 1 else {
                throw .unsupportedTransferCoding(transferCodings.dropLast().joined(separator: ", "))
            }
            return .chunked
        }
        guard !lengths.isEmpty else { return .none }
        guard lengths.count == 1 else { throw .badRequest("more than one Content-Length") }
        let text = lengths[0]
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw .badRequest("Content-Length is not a non-negative decimal integer")
        }
        guard text.utf8.count <= 18, let length = Int(text), length <= limits.maxBodyBytes else {
            throw .contentTooLarge(limit: limits.maxBodyBytes)
        }
        return .contentLength(length)
    }
}
