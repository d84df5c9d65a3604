/// An incremental HTTP/1.1 request parser (RFC 9112). It does no I/O: the caller hands it whatever bytes it
/// has, in pieces split anywhere, and it reports the head, the body pieces and the end of each message.
///
/// The caller owns the buffer. `parse` consumes whole lines only (a partial line stays in the caller's
/// buffer for the next call) and body bytes as they come; it stops after a complete message so that
/// pipelined requests are answered one at a time, in order, and `reset()` prepares for the next.
///
/// Strictness is deliberate: anything that two implementations could frame differently — both
/// `Content-Length` and `Transfer-Encoding`, repeated or malformed lengths, bad chunk sizes, obsolete line
/// folding, bare CR or LF, space before a colon — is a `badRequest`, after which the connection is closed.
package struct HTTPRequestParser: Sendable {
    package enum Event {
        case head(HTTPRequestHead)
        /// Body bytes, with any chunked framing removed.
        case body(ArraySlice<UInt8>)
        /// The message is complete; `trailers` holds the fields after a chunked body, if any.
        case end(trailers: HTTPHeaders)
    }

    enum State: Sendable {
        case requestLine
        case headerLines
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLines
        case complete
    }

    package let limits: HTTPParserLimits
    private(set) var state = State.requestLine {
        didSet { isComplete = if case .complete = state { true } else { false } }
    }
    /// The current message is complete. Stored, not computed from `state`: the connection asks after every
    /// parse, and a computed property of a struct held by a class made the compiler copy the whole parser to call it.
    package private(set) var isComplete = false
    /// The head, once its last line has been parsed (also when a later check fails, so that an error
    /// response can still echo the request's id).
    package private(set) var head: HTTPRequestHead?
    /// The last request's head, emptied by `reset` for the next one to be written into (see `finishHead`).
    private var spareHead: HTTPRequestHead?

    private var requestLine: (method: HTTPMethod, target: String, version: HTTPVersion)?
    private var fields = HTTPHeaders(reservingCapacity: 8)
    private var fieldBytes = 0
    private var bodyBytes = 0
    /// How far the current line has been searched for LF, so a slowly arriving line is not rescanned.
    private var scanned = 0
    /// The last `Host` value this connection sent that proved valid: a keep-alive client sends the same one
    /// each time, and it need not be checked again.
    private var validHost: String?

    package init(limits: HTTPParserLimits = HTTPParserLimits()) { self.limits = limits }

    /// True between messages, before any byte of the next one was consumed.
    package var isAtMessageStart: Bool {
        if case .requestLine = state { return true }
        return false
    }

    /// Prepares for the next message on the same connection.
    package mutating func reset() {
        state = .requestLine
        // The last head, its storage and its field list, are reused for the next request when nothing else holds
        // them any more (the usual case once its exchange is over): fresh ones would cost allocations per request.
        if var last = head.take(), last.recycle(handingHeadersTo: &fields) {
            spareHead = last
        } else {
            fields.removeAll()
        }
        requestLine = nil
        fieldBytes = 0
        bodyBytes = 0
        scanned = 0
    }

    /// Parses `buffer[start...]`, reporting events to `emit`; returns how many bytes were consumed.
    package mutating func parse(
        _ buffer: [UInt8], from start: Int = 0, _ emit: (Event) -> Void
    ) throws(HTTPParseError) -> Int {
        var index = start
        loop: while index < buffer.count {
            switch state {
            case .requestLine:
                let limit = limits.maxRequestLineBytes
                guard let line = try nextLine(buffer, from: index, limit: limit) else { break loop }
                if line.tooLong { throw Self.requestLineOverflow(buffer[index...], limit: limit) }
                index = line.next
                if line.range.isEmpty && requestLine == nil { continue }  // RFC 9112 §2.2: skip empty lines first
                requestLine = try Self.parseRequestLine(buffer[line.range], limits: limits)
                state = .headerLines
            case .headerLines, .trailerLines:
                let isTrailer: Bool = if case .trailerLines = state { true } else { false }
                let remaining = limits.maxHeaderBytes - fieldBytes
                guard let line = try nextLine(buffer, from: index, limit: remaining) else { break loop }
                if line.tooLong { throw .headerFieldsTooLarge(limit: limits.maxHeaderBytes) }
                index = line.next
                fieldBytes += line.next - line.range.lowerBound
                if line.range.isEmpty {
                    if isTrailer {
                        state = .complete
                        emit(.end(trailers: fields))
                        break loop
                    }
                    try finishHead(emit)
                    if isComplete { break loop }
                    continue
                }
                guard fields.count < limits.maxHeaderCount else {
                    throw .tooManyHeaderFields(limit: limits.maxHeaderCount)
                }
                let (name, value) = try Self.parseFieldLine(
                    buffer[line.range], isFirst: !isTrailer && fields.count == 0)
                fields.add(name, value)
            case .fixedBody(let remaining):
                let take = min(remaining, buffer.count - index)
                emit(.body(buffer[index..<index + take]))
                index += take
                if take == remaining {
                    state = .complete
                    emit(.end(trailers: HTTPHeaders()))
                    break loop
                }
                state = .fixedBody(remaining: remaining - take)
            case .chunkSizeLine:
                guard let line = try nextLine(buffer, from: index, limit: limits.maxChunkLineBytes) else { break loop }
                if line.tooLong { throw .badRequest("chunk-size line longer than \(limits.maxChunkLineBytes) bytes") }
                index = line.next
                let size = try Self.parseChunkSize(buffer[line.range])
                if size == 0 {
                    fields = HTTPHeaders()
                    state = .trailerLines
                } else {
                    guard size <= limits.maxBodyBytes - bodyBytes else {
                        throw .contentTooLarge(limit: limits.maxBodyBytes)
                    }
                    bodyBytes += size
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - index)
                emit(.body(buffer[index..<index + take]))
                index += take
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                guard buffer.count - index >= 2 else {
                    if buffer[index] != UInt8(ascii: "\r") { throw .badRequest("chunk data not followed by CRLF") }
                    break loop
                }
                guard buffer[index] == UInt8(ascii: "\r") && buffer[index + 1] == UInt8(ascii: "\n") else {
                    throw .badRequest("chunk data not followed by CRLF")
                }
                index += 2
                state = .chunkSizeLine
            case .complete:
                break loop
            }
        }
        return index - start
    }

    /// After the empty line that ends the header section: decide the framing and report the head.
    private mutating func finishHead(_ emit: (Event) -> Void) throws(HTTPParseError) {
        guard let requestLine else { preconditionFailure("header section ended before a request line") }
        var head: HTTPRequestHead
        if var spare = spareHead.take() {
            spare.reuse(
                method: requestLine.method, target: requestLine.target, version: requestLine.version, headers: fields)
            head = spare
        } else {
            head = HTTPRequestHead(
                method: requestLine.method, target: requestLine.target, version: requestLine.version, headers: fields)
        }
        fields = HTTPHeaders()
        do {
            try HTTPMessageRules.apply(to: &head, limits: limits, validHost: &validHost)
        } catch {
            self.head = head
            throw error
        }
        self.head = head
        emit(.head(head))
        switch head.framing {
        case .none, .contentLength(0):
            state = .complete
            emit(.end(trailers: HTTPHeaders()))
        case .contentLength(let length):
            bodyBytes = length
            state = .fixedBody(remaining: length)
        case .chunked:
            state = .chunkSizeLine
        }
    }

    /// Finds the next CRLF-terminated line. Returns nil when the line is not complete yet; `tooLong` when
    /// the line, or what has arrived of it, is longer than `limit` bytes.
    private mutating func nextLine(
        _ buffer: [UInt8], from start: Int, limit: Int
    ) throws(HTTPParseError) -> (range: Range<Int>, next: Int, tooLong: Bool)? {
        var index = max(start, start + scanned)
        while index < buffer.count && buffer[index] != UInt8(ascii: "\n") { index += 1 }
        guard index < buffer.count else {
            scanned = index - start
            // A trailing CR may be the first half of the CRLF, which a complete line does not count either;
            // counting it would reject a line of exactly `limit` bytes only when split between CR and LF.
            let length = index > start && buffer[index - 1] == UInt8(ascii: "\r") ? index - 1 - start : index - start
            return length > limit ? (start..<index, index, true) : nil
        }
        scanned = 0
        let endsWithCR = index > start && buffer[index - 1] == UInt8(ascii: "\r")
        // Length first, as for a partial line: an over-long line is "too long" however its bytes arrived,
        // even when it also ends badly (found by the fuzzer: the error depended on where the input was split).
        if (endsWithCR ? index - 1 : index) - start > limit { return (start..<index, index + 1, true) }
        // RFC 9112 §2.2 lets a recipient accept a bare LF; we do not, because a peer that does otherwise
        // would see different message boundaries.
        guard endsWithCR else { throw .badRequest("line ends with a bare LF; lines must end with CRLF") }
        return (start..<(index - 1), index + 1, false)
    }

    private static func requestLineOverflow(_ bytes: ArraySlice<UInt8>, limit: Int) -> HTTPParseError {
        // Once the method and its space have arrived, a long line is a long target: 414. Otherwise it is junk.
        // Only the first limit + 1 bytes count, so the verdict does not depend on how much more was buffered
        // (fuzz/http1/crashes/request-line-overflow-space-past-limit).
        let bytes = bytes.prefix(limit + 1)
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), space > bytes.startIndex,
            bytes[bytes.startIndex..<space].allSatisfy(HTTPSyntax.isTokenByte)
        else { return .badRequest("no request line within \(limit) bytes") }
        return .uriTooLong(limit: limit)
    }
}
