import Dispatch
import DescentHTTP
import DescentPOSIX
import Synchronization

/// One client connection: a non-blocking socket, a Dispatch read source and (when output backs up) a write
/// source, the request parser, and the exchange in progress.
///
/// Thread-safety: everything mutable is touched only on `queue`, a serial queue of its own that targets the
/// server's shared I/O queue — except `deadline`, an atomic that the server's sweep reads from its queue.
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
        /// Our side is shut; reading and discarding until the client closes or the linger time passes.
        case lingering
        case closed
    }

    let queue: DispatchQueue
    let socket: Socket
    let remote: SocketAddress
    unowned let server: HTTPServer

    var phase = Phase.awaitingRequest
    var parser: HTTPRequestParser
    /// Bytes read and not yet consumed by the parser start at `inputStart`.
    var input: [UInt8] = []
    var inputStart = 0
    /// Bytes waiting for the socket start at `outputStart`.
    var output: [UInt8] = []
    var outputStart = 0
    var exchange: Exchange?
    /// The shutdown has begun: no new requests, close after the current one.
    var draining = false
    /// The client shut its sending side; answer what it asked, then close.
    var peerClosedInput = false

    private var readSource: (any DispatchSourceRead)?
    private var readSuspended = false
    private var writeSource: (any DispatchSourceWrite)?
    private var writeArmed = false
    private var writeActivated = false
    private var liveSources = 0

    /// Monotonic nanoseconds after which `checkDeadline` acts; 0 when nothing is timed.
    let deadline = Atomic<UInt64>(0)
    var deadlineReason = TimeoutReason.idle

    init(socket: Socket, remote: SocketAddress, server: HTTPServer) {
        self.socket = socket
        self.remote = remote
        self.server = server
        self.parser = HTTPRequestParser(limits: server.configuration.limits)
        self.queue = DispatchQueue(label: "descent.connection", target: server.assignLane())
    }

    func start() {
        queue.async { [self] in
            // A shutdown that began between `register` and now may already have closed this connection.
            guard phase != .closed else { return }
            let source = DispatchSource.makeReadSource(fileDescriptor: socket.descriptor, queue: queue)
            source.setEventHandler { [unowned self] in readable() }
            source.setCancelHandler { [self] in sourceCancelled() }
            readSource = source
            liveSources += 1
            setDeadline(.idle, after: server.configuration.idleTimeout)
            source.activate()
            // Accepted as a shutdown began, perhaps after the server told its connections to drain: drain too.
            if server.isDraining { beginDraining() }
        }
    }

    // MARK: Reading

    private func readable() {
        guard phase != .closed else { return }
        let chunkSize = 16 * 1024
        while true {
            let result: IOResult
            do {
                result = try withUnsafeTemporaryAllocation(byteCount: chunkSize, alignment: 1) { scratch in
                    let result = try socket.read(into: scratch)
                    if case .processed(let count) = result, count > 0, phase != .lingering {
                        input.append(contentsOf: scratch[0..<count])
                    }
                    return result
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
                if count < chunkSize { return process() }
                if input.count - inputStart > server.configuration.maxReadAheadBytes + chunkSize { return process() }
            }
        }
    }

    /// Feeds buffered bytes to the parser while a request is being read; dispatches a complete one.
    func process() {
        while phase == .awaitingRequest || phase == .readingRequest, inputStart < input.count {
            if phase == .awaitingRequest { beginExchange() }
            let consumed: Int
            do {
                consumed = try parser.parse(input, from: inputStart) { event in receive(event) }
            } catch {
                return failParsing(error)
            }
            inputStart += consumed
            if parser.isComplete { return dispatchRequest() }
            continueIfExpected()
            if consumed == 0 { break }
        }
        compactInput()
        if phase != .awaitingRequest && phase != .readingRequest
            && input.count - inputStart > server.configuration.maxReadAheadBytes
        {
            suspendReading()
        }
    }

    private func compactInput() {
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 64 * 1024)
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
        case .handling, .sendingResponse:
            // A half-close still expects its answer (e.g. `nc -N`); a vanished client shows up as a write error.
            peerClosedInput = true
            suspendReading()
        }
    }

    func suspendReading() {
        guard !readSuspended, let readSource else { return }
        readSuspended = true
        readSource.suspend()
    }

    func resumeReading() {
        guard readSuspended, let readSource else { return }
        readSuspended = false
        readSource.resume()
    }

    // MARK: Writing

    /// Writes as much pending output as the socket takes; waits for writability for the rest.
    func flush() {
        while outputStart < output.count {
            let result: IOResult
            do {
                result = try output.withUnsafeBytes { bytes in
                    try socket.write(UnsafeRawBufferPointer(rebasing: bytes[outputStart...]))
                }
            } catch {
                close()
                return
            }
            switch result {
            case .processed(let count):
                outputStart += count
                exchange?.bytesSent += count
            case .wouldBlock:
                setDeadline(.send, after: server.configuration.sendTimeout)
                armWriteSource()
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 64 * 1024)
        outputStart = 0
        disarmWriteSource()
        outputDrained()
    }

    private func armWriteSource() {
        guard !writeArmed else { return }
        writeArmed = true
        if writeSource == nil {
            let source = DispatchSource.makeWriteSource(fileDescriptor: socket.descriptor, queue: queue)
            source.setEventHandler { [unowned self] in flush() }
            source.setCancelHandler { [self] in sourceCancelled() }
            writeSource = source
            liveSources += 1
        }
        if writeActivated {
            writeSource?.resume()
        } else {
            writeActivated = true
            writeSource?.activate()
        }
    }

    private func disarmWriteSource() {
        guard writeArmed else { return }
        writeArmed = false
        writeSource?.suspend()
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
        setDeadline(.linger, after: server.configuration.lingerTimeout)
        if peerClosedInput { return close() }
        resumeReading()
    }

    /// Closes at once: cancels both sources (the descriptor is closed when both have stopped) and any stream.
    func close() {
        guard phase != .closed else { return }
        phase = .closed
        deadline.store(0, ordering: .relaxed)
        exchange?.stream?.cancel()
        exchange = nil
        if let readSource {
            if readSuspended { readSource.resume() }
            readSource.cancel()
        }
        if let writeSource {
            if !writeActivated {
                writeSource.activate()
            } else if !writeArmed {
                writeSource.resume()
            }
            writeSource.cancel()
        }
        if liveSources == 0 { socket.close() }
        server.unregister(self)
    }

    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 { socket.close() }
    }
}
