import CNGHTTP2
import DescentHTTP
import DescentLog

/// The server side of one HTTP/2 connection, with libnghttp2 doing the framing, HPACK, flow control and the
/// protocol's rules. This file is the adapter: every call into libnghttp2 and every conversion between its
/// types and Swift's is here; the rest of the module and the server see only Swift types.
///
/// It does no I/O. The owner feeds it the bytes read (`receive`), collects the bytes to write (`produce`),
/// and acts on the `events` each call leaves behind: a complete request to answer, a request refused by a
/// limit, a streamed response wanting its next piece, a stream gone. The owner's answers come back through
/// `respond`, `supply` and `finish`.
///
/// Callbacks: libnghttp2 calls C functions; they are the file-scope trampolines at the bottom, which find
/// this object through the session's user data (`Unmanaged`, unretained: the object owns the session and
/// deletes it in `deinit`, so the pointer never outlives it). They run only inside `receive` and `produce`.
///
/// Thread-safety: none of its own; the owner confines it to one serial queue.
package final class HTTP2Session {
    package enum Event {
        /// A whole request arrived on `stream`.
        case request(stream: Int32, head: HTTPRequestHead, body: [UInt8])
        /// A request was refused by a limit before it reached a handler; answer the error's problem on
        /// `stream` (the session resets the stream after the answer if the client is still sending).
        case refused(stream: Int32, error: HTTPParseError, head: HTTPRequestHead?)
        /// The streamed response on `stream` has sent all it was given: `supply` the next piece or `finish`.
        case wantsBody(stream: Int32)
        /// `stream` is closed — answered, reset by either side, or abandoned with the connection.
        case closed(stream: Int32, error: HTTP2ErrorCode?)
    }

    /// What `respond` sends after the header block.
    package enum ResponseBody {
        case none
        case bytes([UInt8])
        /// Pieces to come through `supply`, until `finish`.
        case streamed
    }

    package enum Failure: Error, CustomStringConvertible {
        /// libnghttp2 gave up on the connection (a fatal error code, e.g. a bad client preface); close it.
        case fatal(code: Int32, message: String)

        package var description: String {
            switch self {
            case .fatal(let code, let message): "\(message) (nghttp2 \(code))"
            }
        }
    }

    package private(set) var events: [Event] = []
    let settings: HTTP2Settings
    let limits: HTTPParserLimits
    let logger: Logger
    private var session: OpaquePointer?
    private var streams: [Int32: HTTP2Stream] = [:]
    private var frameGuard: FrameGuard
    /// Streams the server closed while the client was still sending, newest last: trailers already in flight
    /// for them are not a protocol error (see `FrameGuard`). A few dozen suffice for in-flight frames.
    private var recentlyReset: [Int32] = []
    /// The client's first SETTINGS frame (after its preface) has arrived.
    package private(set) var hasReceivedClientSettings = false
    /// Set once the session has been told to end the connection for a protocol violation.
    private var terminated = false

    package init(settings: HTTP2Settings = HTTP2Settings(), limits: HTTPParserLimits, logger: Logger) throws(Failure) {
        self.settings = settings
        self.limits = limits
        self.logger = logger
        self.frameGuard = FrameGuard(settings: settings)
        var callbacks: OpaquePointer?
        try check(nghttp2_session_callbacks_new(&callbacks), "nghttp2_session_callbacks_new")
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback2(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameReceived)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
        nghttp2_session_callbacks_set_error_callback2(callbacks, onError)

        var options: OpaquePointer?
        try check(nghttp2_option_new(&options), "nghttp2_option_new")
        defer { nghttp2_option_del(options) }
        // The FrameGuard bounds CONTINUATION frames itself, with ENHANCE_YOUR_CALM; libnghttp2's own bound
        // stays as a second line, above the guard's.
        nghttp2_option_set_max_continuations(options, settings.maxContinuations * 2)
        let user = Unmanaged.passUnretained(self).toOpaque()
        try check(nghttp2_session_server_new2(&session, callbacks, user, options), "nghttp2_session_server_new2")

        var entries = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: settings.maxConcurrentStreams),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: settings.initialWindowSize),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: UInt32(limits.maxHeaderBytes)
            ),
        ]
        try check(
            nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count),
            "nghttp2_submit_settings")
        try check(
            nghttp2_session_set_local_window_size(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(settings.connectionWindowSize)),
            "nghttp2_session_set_local_window_size")
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// For `Upgrade: h2c` (RFC 7540 §3.2): the HTTP/1.1 request becomes stream 1, half-closed from the client,
    /// and its `HTTP2-Settings` are applied as the client's first SETTINGS. The owner answers the request
    /// with `respond(stream: 1, …)` like any other.
    package func upgrade(settingsPayload: [UInt8], isHeadRequest: Bool) throws(Failure) {
        let status = settingsPayload.withUnsafeBufferPointer { payload in
            nghttp2_session_upgrade2(session, payload.baseAddress, payload.count, isHeadRequest ? 1 : 0, nil)
        }
        try check(status, "nghttp2_session_upgrade2")
        // libnghttp2 applies the header's settings as a received SETTINGS frame (its callback included); the
        // client's own first SETTINGS frame is still to come.
        hasReceivedClientSettings = false
        let stream = HTTP2Stream(id: 1)
        stream.remoteEnded = true
        stream.dispatched = true
        streams[1] = stream
        frameGuard.noteUpgradeStream()
    }

    // MARK: Input

    /// Hands `bytes` to libnghttp2, frame by frame past the `FrameGuard`. Events accumulate in `events`.
    /// Throws when the connection cannot go on; output may still hold a GOAWAY worth sending first.
    package func receive(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        var offset = 0
        while offset < bytes.count, !terminated {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch frameGuard.step(
                rest,
                isExpected: { [streams, recentlyReset] id in
                    streams[id] != nil || recentlyReset.contains(id)
                })
            {
            case .pass(let count):
                let consumed = nghttp2_session_mem_recv(
                    session, rest.baseAddress!.assumingMemoryBound(to: UInt8.self), count)
                if consumed < 0 { throw failure(Int32(consumed), "receive") }
                offset += count
            case .hold(let count):
                offset += count
            case .passHeader(let header, let count):
                let consumed = header.withUnsafeBufferPointer { header in
                    nghttp2_session_mem_recv(session, header.baseAddress, header.count)
                }
                if consumed < 0 { throw failure(Int32(consumed), "receive") }
                offset += count
            case .violation(let code, let reason):
                logger.info("HTTP/2 protocol violation", ["reason": .string(reason), "error": .string("\(code)")])
                terminate(code)
            }
        }
    }

    // MARK: Output

    /// Appends frames to `output` until libnghttp2 has nothing more to send or `output` holds `limit` bytes:
    /// the owner calls again once the socket has taken them, so a slow reader bounds what is buffered.
    package func produce(into output: inout [UInt8], limit: Int) throws(Failure) {
        while output.count < limit {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 { throw failure(Int32(count), "send") }
            guard count > 0, let data else { return }
            output.append(contentsOf: UnsafeBufferPointer(start: data, count: count))
        }
    }

    /// Neither side has anything more to say: the connection may close.
    package var isFinished: Bool {
        nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0
    }

    /// Streams the client has open (requests not yet fully answered).
    package var openStreamCount: Int { streams.count }

    /// Some stream's request has not fully arrived (its headers or body are still coming).
    package var hasIncompleteRequests: Bool { streams.values.contains { !$0.dispatched } }

    /// What the input ended in the middle of (a frame, a header block), for the connection's deadlines.
    package var receiving: ReceivingUnit { frameGuard.receiving }

    /// Takes the events gathered so far.
    package func takeEvents() -> [Event] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    // MARK: Responses

    /// Submits the response head of `stream` and how its body comes. Handler headers that HTTP/2 forbids
    /// (the connection-specific ones of RFC 9113 §8.2.2) are dropped; names are sent in lower case. Returns
    /// false if the stream is gone (the client reset it): the owner then drops the response.
    @discardableResult
    package func respond(
        stream id: Int32, status: HTTPStatus, headers: HTTPHeaders, date: [UInt8], requestID: String,
        contentLength: Int?, body: ResponseBody
    ) -> Bool {
        guard let stream = streams[id], !stream.responded else { return false }
        stream.responded = true
        var fields = ResponseFields(
            status: status, headers: headers, date: date, requestID: requestID, contentLength: contentLength)
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: onReadBody)
        switch body {
        case .none:
            stream.bodyEnded = true
        case .bytes(let bytes):
            stream.enqueue(bytes)
            stream.bodyEnded = true
        case .streamed:
            stream.bodyEnded = false
        }
        let hasBody: Bool = {
            if case .none = body { return false }
            return true
        }()
        let status = fields.withNameValuePairs { pairs in
            guard hasBody else { return nghttp2_submit_response(session, id, pairs.baseAddress, pairs.count, nil) }
            return nghttp2_submit_response(session, id, pairs.baseAddress, pairs.count, &provider)
        }
        if status != 0 {
            logger.error("cannot submit an HTTP/2 response", ["error": .string(Self.describe(status))])
            nghttp2_submit_rst_stream(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, HTTP2ErrorCode.internalError.rawValue)
            return false
        }
        return true
    }

    /// The next piece of a streamed response body.
    package func supply(stream id: Int32, _ bytes: [UInt8]) {
        guard let stream = streams[id], !stream.bodyEnded else { return }
        stream.awaitingBody = false
        stream.enqueue(bytes)
        nghttp2_session_resume_data(session, id)
    }

    /// The streamed response body of `stream` is complete.
    package func finish(stream id: Int32) {
        guard let stream = streams[id], !stream.bodyEnded else { return }
        stream.awaitingBody = false
        stream.bodyEnded = true
        nghttp2_session_resume_data(session, id)
    }

    /// Resets `stream` (the owner gave up on it).
    package func reset(stream id: Int32, _ code: HTTP2ErrorCode) {
        guard streams[id] != nil else { return }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, code.rawValue)
    }

    // MARK: Ending the connection

    /// Graceful shutdown: GOAWAY(NO_ERROR) naming the last stream that will be answered; the streams up to it
    /// finish, later ones are refused (the client knows they were not processed and may retry elsewhere).
    package func goAway() {
        let last = nghttp2_session_get_last_proc_stream_id(session)
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, HTTP2ErrorCode.noError.rawValue, nil, 0)
    }

    /// Ends the connection with GOAWAY(`code`) (a connection error); frames after it are ignored.
    package func terminate(_ code: HTTP2ErrorCode) {
        guard !terminated else { return }
        terminated = true
        nghttp2_session_terminate_session(session, code.rawValue)
    }

    // MARK: Callback bodies (reached through the trampolines)

    fileprivate func beginHeaders(_ frame: nghttp2_frame) -> Int32 {
        guard frame.hd.type == UInt8(NGHTTP2_HEADERS.rawValue), frame.headers.cat == NGHTTP2_HCAT_REQUEST else {
            return 0
        }
        let stream = HTTP2Stream(id: frame.hd.stream_id)
        streams[frame.hd.stream_id] = stream
        return 0
    }

    fileprivate func header(_ frame: nghttp2_frame, name: OpaquePointer?, value: OpaquePointer?) -> Int32 {
        // Only the request's own header block: trailer fields are not merged into the head (RFC 9110 §6.5.1),
        // and HTTP/1.1 requests drop them too.
        guard frame.headers.cat == NGHTTP2_HCAT_REQUEST, let stream = streams[frame.hd.stream_id], !stream.dispatched
        else { return 0 }
        let name = nghttp2_rcbuf_get_buf(name)
        let value = nghttp2_rcbuf_get_buf(value)
        stream.addField(
            name: UnsafeRawBufferPointer(start: name.base, count: name.len),
            value: UnsafeRawBufferPointer(start: value.base, count: value.len), limits: limits)
        return 0
    }

    fileprivate func frameReceived(_ frame: nghttp2_frame) -> Int32 {
        let type = UInt32(frame.hd.type)
        if type == NGHTTP2_SETTINGS.rawValue && frame.hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0 {
            hasReceivedClientSettings = true
        }
        guard type == NGHTTP2_HEADERS.rawValue || type == NGHTTP2_DATA.rawValue,
            let stream = streams[frame.hd.stream_id]
        else { return 0 }
        let endStream = frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        if endStream { stream.remoteEnded = true }
        guard !stream.dispatched else { return 0 }
        let endHeaders =
            type == NGHTTP2_HEADERS.rawValue && frame.hd.flags & UInt8(NGHTTP2_FLAG_END_HEADERS.rawValue) != 0
        if let refusal = stream.refusal, endHeaders || type == NGHTTP2_DATA.rawValue || endStream {
            // Refused as soon as known: the client need not send a body that will be thrown away.
            stream.dispatched = true
            events.append(.refused(stream: stream.id, error: refusal, head: stream.head()))
        } else if endHeaders && !endStream && stream.expectsContinue {
            // The client waits for 100 Continue before it sends the body (RFC 9110 §10.1.1), as over HTTP/1.1.
            sendContinue(on: stream.id)
        } else if endStream {
            stream.dispatched = true
            guard let head = stream.head() else {
                // libnghttp2 refuses a request without :method; this is only a guard.
                return Int32(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
            }
            events.append(.request(stream: stream.id, head: head, body: stream.takeBody()))
        }
        return 0
    }

    private func sendContinue(on id: Int32) {
        var fields = ResponseFields(informational: 100)
        let status = fields.withNameValuePairs { pairs in
            nghttp2_submit_headers(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, nil, pairs.baseAddress, pairs.count, nil)
        }
        if status < 0 { logger.debug("cannot send 100 Continue", ["error": .string(Self.describe(status))]) }
    }

    fileprivate func dataChunk(stream id: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let stream = streams[id] else { return 0 }
        guard !stream.dispatched else {
            // The rest of a refused body: the client has (or will have) the answer, and is read past it
            // rather than reset, because a reset after the answer makes some clients (curl 7.88) discard the
            // answer. Past `maxDiscardedBodyBytes` it is asked to stop after all: RST_STREAM(NO_ERROR), RFC
            // 9113 §8.1.
            stream.discardedBytes += bytes.count
            if stream.refusal != nil, stream.discardedBytes > settings.maxDiscardedBodyBytes, !stream.resetSent {
                stream.resetSent = true
                nghttp2_submit_rst_stream(
                    session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, HTTP2ErrorCode.noError.rawValue)
            }
            return 0
        }
        stream.appendBody(bytes, limits: limits)
        if let refusal = stream.refusal {
            stream.dispatched = true
            events.append(.refused(stream: id, error: refusal, head: stream.head()))
        }
        return 0
    }

    fileprivate func streamClosed(_ id: Int32, errorCode: UInt32) -> Int32 {
        guard let stream = streams.removeValue(forKey: id) else { return 0 }
        if !stream.remoteEnded {
            recentlyReset.append(id)
            if recentlyReset.count > 64 { recentlyReset.removeFirst(recentlyReset.count - 32) }
        }
        events.append(
            .closed(stream: id, error: errorCode == 0 ? nil : HTTP2ErrorCode(rawValue: errorCode) ?? .internalError))
        return 0
    }

    fileprivate func readBody(stream id: Int32, into buffer: UnsafeMutableRawBufferPointer, flags: inout UInt32) -> Int
    {
        guard let stream = streams[id] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        let count = stream.take(into: buffer)
        if stream.pendingCount == 0 {
            if stream.bodyEnded {
                flags |= NGHTTP2_DATA_FLAG_EOF.rawValue
            } else if !stream.awaitingBody {
                // Ask for the next piece as soon as this one is taken: it arrives while this one is on the wire.
                stream.awaitingBody = true
                events.append(.wantsBody(stream: id))
            }
        }
        if count == 0 && !stream.bodyEnded { return Int(NGHTTP2_ERR_DEFERRED.rawValue) }
        return count
    }

    fileprivate func libraryError(_ code: Int32, _ message: String) {
        logger.debug("HTTP/2", ["nghttp2": .string(message), "code": .int(Int(code))])
    }

    // MARK: Errors

    private func check(_ status: Int32, _ function: String) throws(Failure) {
        guard status == 0 else { throw failure(status, function) }
    }

    private func failure(_ status: Int32, _ context: String) -> Failure {
        .fatal(code: status, message: "\(context): \(Self.describe(status))")
    }

    private static func describe(_ status: Int32) -> String {
        String(cString: nghttp2_strerror(status))
    }
}

/// A response's header block as libnghttp2 wants it: `nghttp2_nv` pairs pointing into one byte buffer.
/// libnghttp2 copies the pairs when the response is submitted, so the buffer lives only for that call.
/// Names are lower-cased byte by byte into the buffer (HTTP/2 requires lower case), with no `String` made.
private struct ResponseFields {
    private var bytes: [UInt8] = []
    /// (name offset, name length, value offset, value length) into `bytes`.
    private var spans: [(Int, Int, Int, Int)] = []

    /// Header fields a handler may set for HTTP/1.1 that are connection-specific, so forbidden in HTTP/2
    /// (RFC 9113 §8.2.2); `content-length` is the session's to set.
    private static let dropped = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length",
    ]

    init(status: HTTPStatus, headers: HTTPHeaders, date: [UInt8], requestID: String, contentLength: Int?) {
        bytes.reserveCapacity(256)
        spans.reserveCapacity(headers.count + 4)
        add(":status".utf8, Array(String(status.code).utf8))
        add("date".utf8, date)
        for (name, value) in headers where !Self.dropped.contains(where: { HTTPHeaders.equalsIgnoringCase($0, name) }) {
            let nameStart = bytes.count
            for byte in name.utf8 { bytes.append(byte &- 65 < 26 ? byte | 0x20 : byte) }
            let valueStart = bytes.count
            // A value from a handler must not carry a line break or NUL (RFC 9113 §8.2.1).
            for byte in value.utf8 where byte != 0x0D && byte != 0x0A && byte != 0 { bytes.append(byte) }
            spans.append((nameStart, valueStart - nameStart, valueStart, bytes.count - valueStart))
        }
        if let contentLength { add("content-length".utf8, Array(String(contentLength).utf8)) }
        if !requestID.isEmpty { add("x-request-id".utf8, Array(requestID.utf8)) }
    }

    /// An interim (1xx) response: its status alone.
    init(informational status: Int) {
        add(":status".utf8, Array(String(status).utf8))
    }

    private mutating func add(_ name: String.UTF8View, _ value: [UInt8]) {
        let nameStart = bytes.count
        bytes.append(contentsOf: name)
        let valueStart = bytes.count
        bytes.append(contentsOf: value)
        spans.append((nameStart, name.count, valueStart, value.count))
    }

    mutating func withNameValuePairs<R>(_ body: (UnsafeMutableBufferPointer<nghttp2_nv>) -> R) -> R {
        bytes.withUnsafeMutableBufferPointer { buffer in
            var pairs = spans.map { span in
                nghttp2_nv(
                    name: buffer.baseAddress! + span.0, value: buffer.baseAddress! + span.2, namelen: span.1,
                    valuelen: span.3, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return pairs.withUnsafeMutableBufferPointer { body($0) }
        }
    }
}

// MARK: - Trampolines
// libnghttp2 calls these C functions; each finds its session and forwards to the method of the same purpose.

private func owner(_ user: UnsafeMutableRawPointer?) -> HTTP2Session {
    Unmanaged<HTTP2Session>.fromOpaque(user!).takeUnretainedValue()
}

private let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, user in
    owner(user).beginHeaders(frame!.pointee)
}

private let onHeader: nghttp2_on_header_callback2 = { _, frame, name, value, _, user in
    owner(user).header(frame!.pointee, name: name, value: value)
}

private let onFrameReceived: nghttp2_on_frame_recv_callback = { _, frame, user in
    owner(user).frameReceived(frame!.pointee)
}

private let onDataChunk: nghttp2_on_data_chunk_recv_callback = { _, _, stream, data, length, user in
    owner(user).dataChunk(stream: stream, UnsafeRawBufferPointer(start: data, count: length))
}

private let onStreamClose: nghttp2_on_stream_close_callback = { _, stream, errorCode, user in
    owner(user).streamClosed(stream, errorCode: errorCode)
}

private let onError: nghttp2_error_callback2 = { _, code, message, length, user in
    let text = message.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
    owner(user).libraryError(code, text)
    return 0
}

private let onReadBody: nghttp2_data_source_read_callback = { _, stream, buffer, length, flags, _, user in
    owner(user).readBody(
        stream: stream, into: UnsafeMutableRawBufferPointer(start: buffer, count: length), flags: &flags!.pointee)
}
