/// What the header fields of a request mean for its framing and its connection (RFC 9112 §6, §9), with the
/// checks that close the doors to request smuggling (RFC 9112 §6.3, §11.2).
enum HTTPMessageRules {
    /// The fields that decide framing and connection handling, gathered in one pass over the header list: how many
    /// of each there are and where the first one is in the list. A list field (`Transfer-Encoding`, `Connection`) is
    /// only counted here and read in full when present, which in most requests it is not. Positions rather than
    /// values, and no arrays: copying and destroying this is free of reference counting.
    private struct Gathered {
        var hostCount = 0
        var host: Int?
        var contentTypeCount = 0
        var contentLengthCount = 0
        var contentLength: Int?
        var transferEncodingCount = 0
        var connectionCount = 0
        var expect: Int?
    }

    /// Checks the fields and sets the head's framing, keep-alive and expectation. `validHost` is a `Host` value
    /// known to be valid (a connection's last one), which is then not checked again; it is updated here.
    static func apply(
        to head: inout HTTPRequestHead, limits: HTTPParserLimits, validHost: inout String?
    ) throws(HTTPParseError) {
        let fields = gather(head.headers)
        let values = head.headers.fields
        // RFC 9112 §3.2: a 1.1 request without exactly one Host is a 400.
        if head.version == .http1_1 && fields.hostCount != 1 {
            throw .badRequest(fields.hostCount == 0 ? "missing Host header" : "more than one Host header")
        }
        if fields.hostCount > 1 { throw .badRequest("more than one Host header") }
        // RFC 9112 §3.2: an invalid Host is a 400 too. A valid one is uri-host [":" port], or empty (what a
        // client sends for a target without an authority); a list, a path or a userinfo is not.
        if let place = fields.host, case let host = values[place].value, !host.isEmpty, host != validHost {
            guard HTTPSyntax.isAuthority(host.utf8) else {
                throw .badRequest("the Host header is not a host with an optional port")
            }
            validHost = host
        }
        // RFC 9110 §8.3: Content-Type is a singleton. Two of them leave the body's meaning to whichever the
        // reader picks (the first, the last, or a list of both), as two Content-Lengths leave its length.
        if fields.contentTypeCount > 1 { throw .badRequest("more than one Content-Type header") }

        head.framing = try framing(fields, of: head, limits: limits)

        let connection = fields.connectionCount == 0 ? [] : head.headers.listElements("Connection")
        if connection.contains(where: { HTTPHeaders.equalsIgnoringCase($0, "close") }) {
            head.keepAlive = false
        } else if head.version == .http1_0 {
            head.keepAlive = connection.contains(where: { HTTPHeaders.equalsIgnoringCase($0, "keep-alive") })
        } else {
            head.keepAlive = true
        }

        if let place = fields.expect, case let expect = values[place].value {
            guard HTTPHeaders.equalsIgnoringCase(expect, "100-continue") else { throw .unsupportedExpectation(expect) }
            // RFC 9110 §10.1.1: a 1.0 client cannot understand 100 Continue; ignore the expectation. Without
            // content (no framing, or Content-Length: 0) there is nothing to wait for and the message is complete.
            head.expectsContinue =
                head.version == .http1_1 && head.framing != .none && head.framing != .contentLength(0)
        }
    }

    private static func gather(_ headers: HTTPHeaders) -> Gathered {
        var gathered = Gathered()
        let fields = headers.fields
        for place in fields.indices {
            let name = fields[place].name
            // Dispatch on length first: most fields are none of these, and are passed over after one compare.
            switch name.utf8.count {
            case 4 where HTTPHeaders.equalsIgnoringCase(name, "Host"):
                gathered.hostCount += 1
                gathered.host = gathered.host ?? place
            case 6 where HTTPHeaders.equalsIgnoringCase(name, "Expect"): gathered.expect = gathered.expect ?? place
            case 10 where HTTPHeaders.equalsIgnoringCase(name, "Connection"): gathered.connectionCount += 1
            case 12 where HTTPHeaders.equalsIgnoringCase(name, "Content-Type"): gathered.contentTypeCount += 1
            case 14 where HTTPHeaders.equalsIgnoringCase(name, "Content-Length"):
                gathered.contentLengthCount += 1
                gathered.contentLength = gathered.contentLength ?? place
            case 17 where HTTPHeaders.equalsIgnoringCase(name, "Transfer-Encoding"): gathered.transferEncodingCount += 1
            default: break
            }
        }
        return gathered
    }

    private static func framing(
        _ fields: Gathered, of head: HTTPRequestHead, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> HTTPRequestHead.BodyFraming {
        if fields.transferEncodingCount > 0 {
            let transferCodings = head.headers.listElements("Transfer-Encoding")
            // RFC 9112 §6.1: a message with both is a smuggling attempt or a broken intermediary.
            guard fields.contentLengthCount == 0 else { throw .badRequest("both Transfer-Encoding and Content-Length") }
            guard head.version == .http1_1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            guard let last = transferCodings.last, HTTPHeaders.equalsIgnoringCase(last, "chunked") else {
                throw .badRequest("Transfer-Encoding must end with chunked")
            }
            // RFC 9112 §6.1: chunked must not be applied more than once; such a body has no one framing.
            guard !transferCodings.dropLast().contains(where: { HTTPHeaders.equalsIgnoringCase($0, "chunked") })
            else { throw .badRequest("Transfer-Encoding applies chunked more than once") }
            guard transferCodings.count == 1 else {
                throw .unsupportedTransferCoding(transferCodings.dropLast().joined(separator: ", "))
            }
            return .chunked
        }
        guard let place = fields.contentLength else { return .none }
        guard fields.contentLengthCount == 1 else { throw .badRequest("more than one Content-Length") }
        let text = head.headers.fields[place].value
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw .badRequest("Content-Length is not a non-negative decimal integer")
        }
        guard text.utf8.count <= 18, let length = Int(text), length <= limits.maxBodyBytes else {
            throw .contentTooLarge(limit: limits.maxBodyBytes)
        }
        return .contentLength(length)
    }
}
