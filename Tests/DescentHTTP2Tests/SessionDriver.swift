import DescentHTTP
import DescentLog
import Testing

@testable import DescentHTTP2

/// The client's end of one `HTTP2Session`, without a socket: hand-built bytes in, frames and events out.
final class SessionDriver {
    let session: HTTP2Session
    let log = MemorySink()

    init(limits: HTTPParserLimits = HTTPParserLimits(), settings: HTTP2Settings = HTTP2Settings()) throws {
        session = try HTTP2Session(settings: settings, limits: limits, logger: Logger(level: .debug, sink: log))
    }

    /// Hands `bytes` to the session, as read from the socket.
    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try session.receive($0) }
    }

    /// Everything the session has to send now, as frames.
    func frames() throws -> [Frame] {
        var output: [UInt8] = []
        try session.produce(into: &output, limit: 1 << 20)
        return try #require(Frame.parse(output), "the output ends inside a frame")
    }

    func events() -> [HTTP2Session.Event] { session.takeEvents() }

    /// The preface and the client's SETTINGS; returns the server's answer (its SETTINGS, the ACK of ours).
    @discardableResult
    func open(_ settings: [(UInt16, UInt32)] = []) throws -> [Frame] {
        try send(FrameBuilder.preface + FrameBuilder.settings(settings))
        return try frames()
    }

    /// Sends a GET on `stream` and returns the request event it caused.
    @discardableResult
    func get(_ path: String, on stream: Int32) throws -> HTTPRequestHead {
        try send(FrameBuilder.headers(stream: stream, FrameBuilder.request("GET", path)))
        let events = self.events()
        try #require(events.count == 1, "\(events)")
        let request = try #require(events[0].request, "\(events[0])")
        #expect(request.stream == stream)
        return request.head
    }

    /// `respond` with the fixed fields the tests do not look at.
    @discardableResult
    func respond(_ stream: Int32, _ status: HTTPStatus = .ok, body: HTTP2Session.ResponseBody) -> Bool {
        let length: Int? = if case .bytes(let bytes) = body { bytes.count } else { nil }
        return session.respond(
            stream: stream, status: status, headers: ["Content-Type": "text/plain"],
            date: Array("Fri, 27 Nov 2026 14:42:42 GMT".utf8), requestID: "test-1", contentLength: length, body: body)
    }
}

/// The events are not Equatable (a request head is not); these take them apart.
extension HTTP2Session.Event {
    var request: (stream: Int32, head: HTTPRequestHead, body: [UInt8])? {
        guard case .request(let stream, let head, let body) = self else { return nil }
        return (stream, head, body)
    }

    var refusal: (stream: Int32, error: HTTPParseError, head: HTTPRequestHead?)? {
        guard case .refused(let stream, let error, let head) = self else { return nil }
        return (stream, error, head)
    }

    var wantsBody: Int32? {
        guard case .wantsBody(let stream) = self else { return nil }
        return stream
    }

    var closed: (stream: Int32, error: HTTP2ErrorCode?)? {
        guard case .closed(let stream, let error) = self else { return nil }
        return (stream, error)
    }
}
