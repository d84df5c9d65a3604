import DescentHTTP
import DescentHTTP2
import DescentPOSIX
import Dispatch
import Synchronization

/// One client connection: a non-blocking socket watched by its `EventLane`, the request parser, and the
/// exchange in progress.
///
/// Thread-safety: everything mutable is touched only on `queue`, a serial queue of its own that targets its
/// lane's queue (the lane calls `readable` and `writable` from there, which is the same confinement) —
/// except `deadline`, an atomic that the server's sweep reads from its queue.
final class Connection: @unchecked Sendable {
    enum Phase {
        /// Between requests on a keep-alive connection.
        case awaitingRequest
        /// Some bytes of a request have arrived, not yet all of it.
        case readingRequest
        /// The handler has the request; no response yet.
        case handling
        /// Writing the response (and pulling a streamed body).
        case sendingResponse
        /// Speaking HTTP/2 (h2c): many exchanges at once, one per stream, in `http2`.
        case http2
        /// Our side is shut; reading and discarding until the client closes or the linger time passes.
        case lingering
        case closed
    }

    let queue: DispatchQueue
    let lane: EventLane
    let socket: Socket
    let remote: SocketAddress
    /// For registering and draining only; what each request needs is in `context`.
    unowned let server: HTTPServer
    let context: ServerContext

    var phase = Phase.awaitingRequest
    var parser: HTTPRequestParser
    /// Bytes read and not yet consumed by the parser start at `inputStart`.
    var input: [UInt8] = []
    var inputStart = 0
    /// Bytes waiting for the socket start at `outputStart`.
    var output: [UInt8] = []
    var outputStart = 0
    var exchange: Exchange?
    /// The slot of the last HTTP/1.1 request, for the next one (see `dispatchRequest`).
    var lastSlot: ResponseSlot?
    /// The HTTP/2 session and its streams' exchanges, once the connection has switched to HTTP/2.
    var http2: HTTP2Channel?
    /// A request has begun on this connection: from then on the HTTP/2 preface is no longer expected.
    var sawRequest = false
    /// The shutdown has begun: no new requests, close after the current one.
    var draining = false
    /// The client shut its sending side; answer what it asked, then close.
    var peerClosedInput = false

    /// The lane's token for this connection, once it is a member.
    private(set) var token: UInt64?
    private var readSuspended = false
    private var writeArmed = false

    /// Monotonic nanoseconds after which `checkDeadline` acts; 0 when nothing is timed.
    let deadline = Atomic<UInt64>(0)
    var deadlineReason = TimeoutReason.idle

    init(socket: Socket, remote: SocketAddress, server: HTTPServer, lane: EventLane) {
        self.socket = socket
        self.remote = remote
        self.server = server
        self.context = server.context
        self.lane = lane
        self.parser = HTTPRequestParser(limits: context.configuration.limits)
        self.queue = DispatchQueue(label: "descent.connection", target: lane.queue)
    }

    func start() {
        queue.async { [self] in
            guard phase != .closed else { return }
            do {
                token = try lane.add(self)
            } catch {
                context.logger.error("cannot watch a connection", ["error": .string("\(error)")])
                return close()
            }
            setDeadline(.idle, after: context.configuration.idleTimeout)
            // Accepted as a shutdown began, perhaps after the server told its connections to drain: drain too.
            if server.isDraining { beginDraining() }
        }
    }

    // MARK: Reading

    /// The lane saw input, end-of-file or an error on the socket. Reads into the lane's spare buffer when this
    /// connection holds no bytes, and hands it back if they were all consumed (`EventLane.lend`). `inputEnded`: the
    /// lane saw the peer's FIN (`Poller.Event.inputEnded`).
    func readable(hangUp: Bool = false, inputEnded: Bool = false) {
        guard phase != .closed else { return }
        if input.isEmpty { lane.lend(input: &input) }
        readAvailable(hangUp: hangUp, inputEnded: inputEnded)
        if inputStart == input.count && !input.isEmpty {
            input.removeAll(keepingCapacity: input.capacity <= 512 * 1024)
            inputStart = 0
        }
        if input.isEmpty { lane.lend(input: &input) }
    }

    private func readAvailable(hangUp: Bool, inputEnded: Bool) {
        if readSuspended {
            // epoll reports a hang-up even when input is not watched: the peer is gone both ways, and nothing more
            // can be delivered to it.
            if hangUp { close() }
            return
        }
        // 16 KiB reads serve small requests; a body in flight is read 256 KiB at a time (a 100 MB upload in
        // 400 reads, not 6,400).
        let chunkSize =
            switch phase {
            case .readingRequest where exchange?.head != nil: 256 * 1024
            case .http2: 64 * 1024
            default: 16 * 1024
            }
        while true {
            let result: IOResult
            do {
                let scratch = UnsafeMutableRawBufferPointer(rebasing: lane.readScratch[0..<chunkSize])
                result = try socket.read(into: scratch)
                if case .processed(let count) = result, count > 0, phase != .lingering {
                    input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
                }
            } catch {
                close()
                return
            }
            switch result {
            case .wouldBlock:
                return process()
            case .processed(0):
                return peerClosed()
            case .processed(let count):
                if phase == .lingering { continue }
                // A short read drained the socket: bytes that come later are a new edge, and the lane reports them.
                if count < chunkSize {
                    process()
                    // Unless the peer's FIN came with these bytes: no edge follows it. Once they are taken in (as
                    // level-triggered, the lane's next look would have found it), read on to the end-of-file.
                    if inputEnded && phase != .closed { readAvailable(hangUp: hangUp, inputEnded: true) }
                    return
                }
                // A body is handed to the parser chunk by chunk, so the input buffer stays one chunk long and keeps
                // its capacity; and no more than the read-ahead limit is taken in. Either way the socket may hold
                // more, which the edge-triggered lane would not report again by itself: ask it to look.
                if chunkSize > 16 * 1024
                    || input.count - inputStart > context.configuration.maxReadAheadBytes + chunkSize
                {
                    process()
                    return lookAgain()
                }
            }
        }
    }

    /// Feeds buffered bytes to the parser while a request is being read; dispatches a complete one.
    func process() {
        if phase == .http2 { return processHTTP2() }
        while phase == .awaitingRequest || phase == .readingRequest, inputStart < input.count {
            if phase == .awaitingRequest && !sawRequest {
                // The first bytes decide the protocol (RFC 9113 §3.3: prior knowledge sends the preface first).
                switch H2C.opening(input[inputStart...]) {
                case .http2: return startHTTP2()
                case .undecided:
                    // Set once, not renewed by further bytes: a client that trickles the preface is a slow-loris
                    // like one that trickles a request head.
                    if deadlineReason != .header { setDeadline(.header, after: context.configuration.headerTimeout) }
                    return compactInput()
                case .http1: break
                }
            }
            if phase == .awaitingRequest { beginExchange() }
            let consumed: Int
            do {
                consumed = try parser.parse(input, from: inputStart) { event in receive(event) }
            } catch {
                return failParsing(error)
            }
            inputStart += consumed
            if let answer = exchange?.earlyAnswer { return answerEarly(answer) }
            if parser.isComplete { return dispatchRequest() }
            continueIfExpected()
            if consumed == 0 { break }
        }
        compactInput()
        if phase != .awaitingRequest && phase != .readingRequest
            && input.count - inputStart > context.configuration.maxReadAheadBytes
        {
            suspendReading()
        }
    }

    func compactInput() {
        if inputStart == input.count {
            // Keep a buffer up to the large read size, so a body is not read into a regrown array each time.
            input.removeAll(keepingCapacity: input.capacity <= 512 * 1024)
            inputStart = 0
        } else if inputStart >= 64 * 1024 {
            input.removeFirst(inputStart)
            inputStart = 0
        }
    }

    private func peerClosed() {
        switch phase {
        case .awaitingRequest, .readingRequest, .lingering, .closed:
            close()
        case .http2:
            // Streams in progress are still answered; the pump closes the connection after the last one.
            peerClosedInput = true
            suspendReading()
            pumpHTTP2()
        case .handling, .sendingResponse:
            // A half-close still expects its answer (e.g. `nc -N`); a vanished client shows up as a write error.
            peerClosedInput = true
            suspendReading()
        }
    }

    func suspendReading() {
        guard !readSuspended else { return }
        readSuspended = true
        updateInterest()
    }

    func resumeReading() {
        guard readSuspended else { return }
        readSuspended = false
        updateInterest()
    }

    /// Has the lane report this connection again if its socket is still readable (bytes were left in it).
    private func lookAgain() {
        guard !readSuspended else { return }  // resuming will look
        updateInterest()
    }

    private func updateInterest() {
        guard let token, phase != .closed else { return }
        var interest: Poller.Interest = []
        if !readSuspended { interest.insert(.readable) }
        if writeArmed { interest.insert(.writable) }
        lane.watch(self, token: token, for: interest)
    }

    // MARK: Writing

    /// Writes as much pending output as the socket takes; waits for writability for the rest.
    func flush() {
        guard writePending() else { return }
        outputDrained()
    }

    /// Writes pending output; true when all of it is on the wire, false when the socket is full (the lane
    /// then reports writability) or the connection closed.
    func writePending() -> Bool {
        while outputStart < output.count {
            let result: IOResult
            do {
                result = try output.withUnsafeBytes { bytes in
                    try socket.write(UnsafeRawBufferPointer(rebasing: bytes[outputStart...]))
                }
            } catch {
                close()
                return false
            }
            switch result {
            case .processed(let count):
                outputStart += count
                exchange?.bytesSent += count
            case .wouldBlock:
                setDeadline(.send, after: context.configuration.sendTimeout)
                watchForWritable()
                return false
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 64 * 1024)
        outputStart = 0
        lane.lend(output: &output)
        diswatchForWritable()
        return true
    }

    /// The lane saw the socket writable again.
    func writable() {
        guard phase != .closed, writeArmed else { return }
        flush()
    }

    private func watchForWritable() {
        guard !writeArmed else { return }
        writeArmed = true
        updateInterest()
    }

    private func diswatchForWritable() {
        guard writeArmed else { return }
        writeArmed = false
        updateInterest()
    }

    // MARK: Closing

    /// Half-closes after the last response, then reads and discards until the client closes or the linger
    /// time passes (RFC 9112 §9.6: closing with unread input would reset the connection under the response).
    func closeGracefully() {
        guard phase != .closed else { return }
        phase = .lingering
        socket.shutdownWrite()
        input.removeAll()
        inputStart = 0
        setDeadline(.linger, after: context.configuration.lingerTimeout)
        if peerClosedInput { return close() }
        resumeReading()
    }

    /// Closes at once: leaves the lane, closes the socket, cancels any stream.
    func close() {
        guard phase != .closed else { return }
        phase = .closed
        deadline.store(0, ordering: .relaxed)
        exchange?.stream?.cancel()
        exchange = nil
        // The slot refers to this connection, which refers to the slot: the cycle ends here.
        lastSlot = nil
        http2?.cancelAll()
        http2 = nil
        if let token { lane.remove(self, token: token) }
        token = nil
        socket.close()
        server.unregister(self)
    }
}
