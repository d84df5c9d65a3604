import DescentHTTP

/// One stream's state on the Swift side: the request as its header fields and DATA arrive, and the response
/// body waiting for libnghttp2 to frame it. Confined to the owning session's queue.
final class HTTP2Stream {
    let id: Int32

    // MARK: The request

    private var method: HTTPMethod?
    private var target: String?
    private var authority: String?
    private var headers = HTTPHeaders(reservingCapacity: 8)
    private var headerBytes = 0
    private var hasContentType = false
    private var declaredLength: Int?
    /// The request carries `Expect: 100-continue`.
    private(set) var expectsContinue = false
    private(set) var body: [UInt8] = []
    /// Why the request will not reach a handler; answered with this problem as soon as it is known.
    private(set) var refusal: HTTPParseError?
    /// The request (or its refusal) has been handed to the session's owner.
    var dispatched = false
    /// The client sent END_STREAM.
    var remoteEnded = false
    /// DATA received after the request was refused, and dropped.
    var discardedBytes = 0
    /// The session asked the client to stop sending (RST_STREAM).
    var resetSent = false

    // MARK: The response

    /// Response bytes not yet taken by libnghttp2; starts at `pendingStart`.
    private var pending: [UInt8] = []
    private var pendingStart = 0
    /// The body's last byte is in `pending` (or there is no more).
    var bodyEnded = false
    /// The session has asked its owner for the next piece and not yet had it.
    var awaitingBody = false
    /// A response has been submitted.
    var responded = false

    init(id: Int32) { self.id = id }

    // MARK: Request assembly

    /// One decoded header field. Pseudo-header fields are recognised by their bytes, so no `String` is made
    /// for their names; regular names are looked up among the common ones before one is built.
    func addField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, limits: HTTPParserLimits) {
        guard refusal == nil else { return }
        // RFC 9113 §6.5.2 counts 32 octets of overhead per field; HTTP/1.1 counts ": " and CRLF. The HTTP/1.1
        // figure is used, so that one header section has the same fate on both protocols.
        headerBytes += name.count + value.count + 4
        if headerBytes > limits.maxHeaderBytes { return refuse(.headerFieldsTooLarge(limit: limits.maxHeaderBytes)) }
        if name.first == UInt8(ascii: ":") {
            return addPseudoField(name: name, value: value, limits: limits)
        }
        guard headers.count < limits.maxHeaderCount else {
            return refuse(.tooManyHeaderFields(limit: limits.maxHeaderCount))
        }
        let fieldName = CommonFieldNames.lookUp(name) ?? String(decoding: name, as: UTF8.self)
        let fieldValue = String(decoding: value, as: UTF8.self)
        if fieldName == "expect" {
            // As over HTTP/1.1: 100-continue is honoured (the session sends the interim answer), others are 417.
            guard HTTPHeaders.equalsIgnoringCase(fieldValue, "100-continue") else {
                return refuse(.unsupportedExpectation(fieldValue))
            }
            expectsContinue = true
        } else if fieldName == "host" {
            // As over HTTP/1.1 (HTTPMessageRules): uri-host [":" port]. libnghttp2 has refused an empty or a
            // second host field. With an :authority the two must agree (RFC 9113 §8.3.1): a handler reading
            // Host must not see another authority than the one the request was routed by.
            guard HTTPSyntax.isAuthority(value) else {
                return refuse(.badRequest("the Host header is not a host with an optional port"))
            }
            if let authority, !HTTPHeaders.equalsIgnoringCase(authority, fieldValue) {
                return refuse(.badRequest("the Host header differs from the :authority"))
            }
        } else if fieldName == "content-type" {
            // RFC 9110 §8.3: a singleton, refused when repeated as over HTTP/1.1 (HTTPMessageRules).
            guard !hasContentType else { return refuse(.badRequest("more than one Content-Type header")) }
            hasContentType = true
        } else if fieldName == "content-length" {
            // libnghttp2 has checked that it is one number and will check it against the DATA received.
            declaredLength = Int(fieldValue)
            if let length = declaredLength, length > limits.maxBodyBytes {
                return refuse(.contentTooLarge(limit: limits.maxBodyBytes))
            }
            body.reserveCapacity(declaredLength ?? 0)
        }
        headers.add(fieldName, fieldValue)
    }

    private func addPseudoField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, limits: HTTPParserLimits) {
        // libnghttp2 has already refused unknown, repeated and misplaced pseudo-header fields (RST_STREAM).
        if name.elementsEqual(":method".utf8) {
            method = HTTPMethod(bytes: ArraySlice(value))
            if method == nil { refuse(.unknownMethod(String(decoding: value, as: UTF8.self))) }
        } else if name.elementsEqual(":path".utf8) {
            if value.count > limits.maxRequestLineBytes {
                return refuse(.uriTooLong(limit: limits.maxRequestLineBytes))
            }
            // RFC 9113 §8.3.1 makes :path the request-target's path and query, and no request-target has a
            // fragment (RFC 9112 §3.2); HTTP/1.1 refuses a `#` in it too.
            if value.contains(UInt8(ascii: "#")) {
                return refuse(.badRequest("the :path has a fragment (#), which no request-target may carry"))
            }
            target = String(decoding: value, as: UTF8.self)
        } else if name.elementsEqual(":authority".utf8) {
            // It stands in for Host, so it is held to Host's rule: uri-host [":" port], which has no userinfo
            // (RFC 9113 §8.3.1). libnghttp2 checks only its bytes, and has refused an empty one.
            guard HTTPSyntax.isAuthority(value) else {
                return refuse(.badRequest("the :authority is not a host with an optional port"))
            }
            authority = String(decoding: value, as: UTF8.self)
        }
    }

    /// A chunk of DATA. Past the body limit the request is refused and further data is dropped (the
    /// stream's window is still credited, by libnghttp2, so the connection's other streams keep moving).
    func appendBody(_ bytes: UnsafeRawBufferPointer, limits: HTTPParserLimits) {
        guard refusal == nil else { return }
        guard body.count + bytes.count <= limits.maxBodyBytes else {
            body = []
            return refuse(.contentTooLarge(limit: limits.maxBodyBytes))
        }
        body.append(contentsOf: bytes)
    }

    func refuse(_ error: HTTPParseError) {
        if refusal == nil { refusal = error }
    }

    /// The request head, once the header block is complete. `:authority` stands in for `Host` (RFC 9113
    /// §8.3.1), so handlers that read `Host` see the same on both protocols.
    func head() -> HTTPRequestHead? {
        guard let method else { return nil }
        if let authority, !headers.contains("host") { headers.add("host", authority) }
        let framing: HTTPRequestHead.BodyFraming =
            body.isEmpty && declaredLength == nil ? .none : .contentLength(body.count)
        // CONNECT has no :path (RFC 9113 §8.5); the router then answers it as it does over HTTP/1.1.
        return HTTPRequestHead(
            method: method, target: target ?? "*", version: .http2, headers: headers, framing: framing,
            keepAlive: true, expectsContinue: false)
    }

    /// Hands the body over, leaving none behind.
    func takeBody() -> [UInt8] {
        defer { body = [] }
        return body
    }

    // MARK: Response body

    func enqueue(_ bytes: [UInt8]) {
        if pendingStart == pending.count {
            pending = bytes
            pendingStart = 0
        } else {
            pending.append(contentsOf: bytes)
        }
    }

    var pendingCount: Int { pending.count - pendingStart }

    /// Copies up to `capacity` pending bytes into `destination`; returns how many.
    func take(into destination: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(destination.count, pendingCount)
        guard count > 0 else { return 0 }
        pending.withUnsafeBytes { source in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[pendingStart..<pendingStart + count]))
        }
        pendingStart += count
        if pendingStart == pending.count {
            pending = []
            pendingStart = 0
        }
        return count
    }
}

/// Lower-case names of the request header fields clients commonly send, so the names of most fields cost no
/// allocation (a field name longer than 15 bytes would otherwise be a heap-allocated `String`).
enum CommonFieldNames {
    private static let names: [String] = [
        "accept", "accept-encoding", "accept-language", "authorization", "cache-control", "content-length",
        "content-type", "cookie", "expect", "host", "idempotency-key", "if-none-match", "last-event-id", "te",
        "user-agent",
        "x-request-id",
    ]

    static func lookUp(_ bytes: UnsafeRawBufferPointer) -> String? {
        for name in names where name.utf8.count == bytes.count && name.utf8.elementsEqual(bytes) { return name }
        return nil
    }
}
