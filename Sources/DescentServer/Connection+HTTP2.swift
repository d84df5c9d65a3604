import DescentHTTP
import DescentHTTP2
import DescentLog
import DescentPOSIX

/// A connection's HTTP/2 state: the session (framing, HPACK, flow control — libnghttp2 behind the adapter)
/// and one `Exchange` per stream being answered. Confined to the connection's queue.
final class HTTP2Channel {
    let session: HTTP2Session
    var exchanges: [Int32: Exchange] = [:]
    /// GOAWAY has been submitted for a graceful shutdown.
    var goingAway = false
    /// The request that asked for `Upgrade: h2c`, until the client's preface and SETTINGS have arrived.
    var upgradedRequest: (request: HTTPRequest, exchange: Exchange)?
    /// The unit of input (a frame, a header block) the current deadline was set for.
    var deadlineUnit: ReceivingUnit?

    init(session: HTTP2Session) { self.session = session }

    /// The connection is closing under the streams: stop their producers.
    func cancelAll() {
        for exchange in exchanges.values { exchange.stream?.cancel() }
        exchanges.removeAll()
    }
}

/// HTTP/2 on a connection: switching to it, feeding the session, answering its streams, and pumping its
/// frames to the socket no faster than the client reads them.
extension Connection {
    /// Bytes of frames taken from the session per pump before they are written: the most this connection
    /// buffers for a client that reads slowly (beyond one frame libnghttp2 is building).
    private static let outputBudget = 64 * 1024

    /// Prior knowledge: the client began with the connection preface.
    func startHTTP2() {
        guard beginHTTP2() else { return }
        processHTTP2()
    }

    /// `Upgrade: h2c`: answers 101, then serves `request` as stream 1 of the new session.
    func upgradeToHTTP2(_ request: HTTPRequest, settings: [UInt8]) {
        // The HTTP/1.1 exchange carries on as stream 1's (its start time, request id and head for the log).
        let exchange = self.exchange ?? Exchange()
        guard beginHTTP2() else { return }
        output.append(contentsOf: H2C.switchingProtocols)
        guard let channel = http2 else { return }
        do {
            try channel.session.upgrade(settingsPayload: settings, isHeadRequest: request.method == .HEAD)
        } catch {
            context.logger.info("h2c upgrade refused", ["error": .string("\(error)"), "remote": .string(remote.host)])
            return close()
        }
        // Answered once the client's preface and SETTINGS are in: a response sent in one burst with the 101
        // can overflow what a client buffers after an upgrade (curl 7.88 holds 32 KiB and fails beyond).
        channel.upgradedRequest = (request, exchange)
        processHTTP2()
    }

    private func beginHTTP2() -> Bool {
        sawRequest = true
        do {
            let session = try HTTP2Session(
                settings: context.configuration.http2, limits: context.configuration.limits, logger: context.logger)
            http2 = HTTP2Channel(session: session)
        } catch {
            context.logger.error("cannot start an HTTP/2 session", ["error": .string("\(error)")])
            close()
            return false
        }
        phase = .http2
        exchange = nil
        if draining { goAwayHTTP2() }
        return true
    }

    /// Feeds the buffered input to the session, acts on what it reports, and pumps the answer out.
    func processHTTP2() {
        guard phase == .http2, let channel = http2 else { return }
        if inputStart < input.count {
            // A Result rather than a typed-throws closure: the latter crashes Swift 6.3's IR generation here.
            let received = input.withUnsafeBytes { bytes in
                Result { () throws(HTTP2Session.Failure) in
                    try channel.session.receive(UnsafeRawBufferPointer(rebasing: bytes[inputStart...]))
                }
            }
            if case .failure(let error) = received {
                context.logger.info(
                    "HTTP/2 connection failed", ["error": .string("\(error)"), "remote": .string(remote.host)])
                channel.session.terminate(.protocolError)
                inputStart = input.count
                compactInput()
                handleHTTP2Events()
                return finishHTTP2(afterFailure: true)
            }
            inputStart = input.count
            compactInput()
        }
        if let upgraded = channel.upgradedRequest, channel.session.hasReceivedClientSettings {
            channel.upgradedRequest = nil
            dispatch(upgraded.request, on: 1, exchange: upgraded.exchange)
        }
        handleHTTP2Events()
        pumpHTTP2()
    }

    /// Takes frames from the session and writes them until it has nothing more or the socket is full; then
    /// decides what the connection waits for.
    func pumpHTTP2() {
        guard phase == .http2, let channel = http2 else { return }
        while true {
            if outputStart == output.count {
                do {
                    try channel.session.produce(into: &output, limit: Self.outputBudget)
                } catch {
                    context.logger.info("HTTP/2 session failed", ["error": .string("\(error)")])
                    return close()
                }
                // Producing can ask streamed bodies for more; their answers arrive later, on this queue.
                handleHTTP2Events()
                if output.isEmpty { break }
            }
            guard writePending() else {
                // The client is not reading: read no more requests from it until it does.
                if phase == .http2 { suspendReading() }
                return
            }
        }
        if channel.session.isFinished || (peerClosedInput && channel.exchanges.isEmpty) {
            return finishHTTP2(afterFailure: false)
        }
        if !peerClosedInput { resumeReading() }
        let receiving = channel.session.receiving
        if channel.upgradedRequest != nil {
            // After the 101 the client owes its preface at once; one that never sends it is not kept.
            if deadlineReason != .header || deadline.load(ordering: .relaxed) == 0 {
                setDeadline(.header, after: context.configuration.headerTimeout)
            }
        } else if receiving.kind != .nothing {
            // The input ended inside a frame or a header block: one deadline for it, from its first byte, that
            // reads of the same unit do not renew (slow loris) — the header timeout for what a request needs
            // before it exists, the body timeout for any other frame.
            if channel.deadlineUnit != receiving || deadline.load(ordering: .relaxed) == 0 {
                channel.deadlineUnit = receiving
                if receiving.kind == .head {
                    setDeadline(.header, after: context.configuration.headerTimeout)
                } else {
                    setDeadline(.body, after: context.configuration.bodyTimeout)
                }
            }
        } else if channel.session.hasIncompleteRequests {
            // The longest pause inside a request, as over HTTP/1.1: renewed by every read.
            setDeadline(.body, after: context.configuration.bodyTimeout)
        } else if channel.session.openStreamCount == 0 {
            // Counted from the moment the last stream closed: PINGs or SETTINGS alone do not keep it open.
            if deadlineReason != .idle || deadline.load(ordering: .relaxed) == 0 {
                setDeadline(.idle, after: context.configuration.idleTimeout)
            }
        } else {
            clearDeadline()
        }
    }

    /// The session is over: write what it left (a GOAWAY), then close.
    private func finishHTTP2(afterFailure: Bool) {
        guard let channel = http2 else { return }
        if afterFailure { try? channel.session.produce(into: &output, limit: Self.outputBudget) }
        channel.cancelAll()
        // Half-close and linger, so a GOAWAY is not destroyed by a reset for unread input. If the socket is
        // full, the pump comes back here when it has taken the rest (the session has nothing more to say).
        if writePending() { closeGracefully() }
    }

    private func handleHTTP2Events() {
        guard let channel = http2 else { return }
        for event in channel.session.takeEvents() {
            switch event {
            case .request(let stream, let head, let body):
                let exchange = Exchange()
                exchange.head = head
                exchange.requestID = context.requestIDs.resolve(head.headers["x-request-id"])
                let request = HTTPRequest(
                    head: head, body: body, requestID: exchange.requestID, received: exchange.started)
                dispatch(request, on: stream, exchange: exchange)
            case .refused(let stream, let error, let head):
                let exchange = Exchange()
                exchange.head = head
                exchange.requestID = context.requestIDs.resolve(head?.headers["x-request-id"])
                channel.exchanges[stream] = exchange
                respondHTTP2(error.problem.response(), on: stream)
            case .wantsBody(let stream):
                pullHTTP2Body(of: stream)
            case .closed(let stream, let error):
                guard let exchange = channel.exchanges.removeValue(forKey: stream) else { continue }
                exchange.stream?.cancel()
                if let error, error != .noError || exchange.status == nil {
                    context.logger.debug(
                        "HTTP/2 stream reset", ["stream": .int(Int(stream)), "error": .string("\(error)")])
                }
                logAccess(exchange)
            }
        }
    }

    private func dispatch(_ request: HTTPRequest, on stream: Int32, exchange: Exchange) {
        guard let channel = http2 else { return }
        channel.exchanges[stream] = exchange
        let slot = ResponseSlot(connection: self) { [self] response in
            respondHTTP2(response, on: stream)
            pumpHTTP2()
        }
        context.handler(request, Responder { response in slot.fulfil(response) })
        if let response = slot.handlerReturned() { respondHTTP2(response, on: stream) }
    }

    private func respondHTTP2(_ response: HTTPResponse, on stream: Int32) {
        guard phase == .http2, let channel = http2, let exchange = channel.exchanges[stream] else {
            if case .stream(let producer) = response.body { producer.cancel() }
            return
        }
        exchange.status = response.status
        let sendsContent = response.status.allowsContent
        let isHead = exchange.head?.method == .HEAD
        let body: HTTP2Session.ResponseBody
        var contentLength: Int?
        switch response.body {
        case .bytes(let bytes):
            contentLength = sendsContent ? bytes.count : nil
            body = sendsContent && !isHead && !bytes.isEmpty ? .bytes(bytes) : .none
            exchange.bytesSent = sendsContent && !isHead ? bytes.count : 0
        case .stream(let producer):
            // During a shutdown a new streamed response is sent empty, as over HTTP/1.1.
            if isHead || !sendsContent || draining {
                producer.cancel()
                body = .none
            } else {
                exchange.stream = producer
                body = .streamed
            }
        }
        let accepted = channel.session.respond(
            stream: stream, status: response.status, headers: response.headers, date: HTTPDate.shared.current(),
            requestID: exchange.requestID, contentLength: contentLength, body: body)
        if !accepted {
            exchange.stream?.cancel()
            exchange.stream = nil
        }
    }

    private func pullHTTP2Body(of stream: Int32) {
        guard let producer = http2?.exchanges[stream]?.stream else { return }
        producer.next { [self] chunk in
            queue.async { self.receiveHTTP2Body(chunk, on: stream, from: producer) }
        }
    }

    private func receiveHTTP2Body(_ chunk: HTTPStreamChunk, on stream: Int32, from producer: any HTTPBodyStream) {
        guard phase == .http2, let channel = http2, let exchange = channel.exchanges[stream],
            exchange.stream === producer
        else { return }
        switch chunk {
        case .bytes(let bytes):
            exchange.bytesSent += bytes.count
            channel.session.supply(stream: stream, bytes)
        case .end:
            exchange.stream = nil
            channel.session.finish(stream: stream)
        }
        pumpHTTP2()
    }

    /// Shutdown: GOAWAY naming the last stream that will be answered; streamed bodies end at the next piece
    /// boundary, as over HTTP/1.1, so every open stream completes; the connection closes when the last does.
    func goAwayHTTP2() {
        guard let channel = http2, !channel.goingAway else { return }
        channel.goingAway = true
        channel.session.goAway()
        for (stream, exchange) in channel.exchanges {
            guard let producer = exchange.stream else { continue }
            producer.cancel()
            exchange.stream = nil
            channel.session.finish(stream: stream)
        }
        pumpHTTP2()
    }

    /// A deadline passed on an HTTP/2 connection.
    func timeOutHTTP2(_ reason: TimeoutReason) {
        guard let channel = http2 else { return }
        switch reason {
        case .send:
            context.logger.info("client stopped reading; closing", ["remote": .string(remote.host)])
            close()
        case .idle, .header, .body:
            // No stream open for the idle time, or a request that stopped arriving: say goodbye and close.
            channel.session.terminate(reason == .idle ? .noError : .cancel)
            finishHTTP2(afterFailure: true)
        case .linger:
            close()
        }
    }
}
