/// A response as handlers build it. The server adds the framing headers (`Content-Length` or chunked
/// `Transfer-Encoding`, `Connection`, `Date`) and `X-Request-Id`; handlers set the rest.
package struct HTTPResponse: Sendable {
    package var status: HTTPStatus
    package var headers: HTTPHeaders
    package var body: Body

    package init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a complete body of `contentType`.
    package init(status: HTTPStatus = .ok, contentType: String, body: [UInt8]) {
        self.init(status: status, headers: ["Content-Type": contentType], body: .bytes(body))
    }

    package enum Body: Sendable {
        /// The whole body, known up front; sent with `Content-Length`.
        case bytes([UInt8])
        /// A body produced piece by piece, sent chunked; the server pulls the next piece only when the
        /// previous one has been handed to the socket, so a slow reader never makes it buffer without bound.
        case stream(any HTTPBodyStream)
    }
}

/// The producer of a streaming response body (server-sent events, NDJSON). Pull-based, for backpressure.
package protocol HTTPBodyStream: AnyObject, Sendable {
    /// Asks for the next piece. Call `deliver` exactly once, now or later, from any thread; the server
    /// asks again only after that piece has gone to the socket.
    func next(_ deliver: @escaping @Sendable (HTTPStreamChunk) -> Void)
    /// The client went away or the server is shutting down: stop producing and release resources.
    /// A pending `deliver` may still be called; it is ignored.
    func cancel()
}

package enum HTTPStreamChunk: Sendable {
    case bytes([UInt8])
    case end
}

/// Hands a handler's response back to the connection that asked, from any thread, exactly once.
package struct Responder: Sendable {
    private let deliver: @Sendable (HTTPResponse) -> Void

    package init(_ deliver: @escaping @Sendable (HTTPResponse) -> Void) { self.deliver = deliver }

    package func respond(_ response: HTTPResponse) { deliver(response) }
}
