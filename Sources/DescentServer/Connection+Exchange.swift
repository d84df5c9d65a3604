import DescentHTTP
import DescentHTTP2
import DescentLog
import DescentPOSIX

/// Requests in, responses out: what a connection does between the parser and the socket.
extension Connection {
    func beginExchange() {
        sawRequest = true
        phase = .readingRequest
        exchange = lane.exchange(startingAt: lane.now())
        setDeadline(.header, after: context.configuration.headerTimeout)
    }

    func receive(_ event: HTTPRequestParser.Event) {
        switch event {
        case .head(let head):
            exchange?.head = head
            exchange?.requestID = context.requestIDs.resolve(head.headers["X-Request-Id"])
            // A pattern match, not `!= .none`: that compiled to an unspecialized call through `Equatable`.
            if case .none = head.framing { return }
            // Only a request with a body is worth screening: without one, the handler answers just as soon.
            if let screen = context.screen, let answer = screen(head) {
                exchange?.earlyAnswer = answer
                return
            }
            setDeadline(.body, after: context.configuration.bodyTimeout)
            // The parser has checked the length against the body limit: allocate once, not by doubling (a
            // 100 MB upload would otherwise be copied ~27 times and fault in fresh pages each time).
            if case .contentLength(let length) = head.framing { exchange?.body.reserveCapacity(length) }
        case .body(let bytes):
            guard exchange?.earlyAnswer == nil else { return }
            // Content is arriving, so the client did not wait: 100 Continue may be omitted (RFC 9110 §10.1.1).
            exchange?.sentContinue = true
            exchange?.body.append(contentsOf: bytes)
            setDeadline(.body, after: context.configuration.bodyTimeout)
        case .end:
            break
        }
    }

    /// After a parse that ended inside a request: a client that sent `Expect: 100-continue` waits for
    /// 100 Continue before it sends the body (curl: up to a second), so send it once the whole head is in
    /// and no content has arrived. Checked here, after `parse` returns, because only then is it known that
    /// the head was the last of the bytes read.
    func continueIfExpected() {
        guard let exchange, exchange.head?.expectsContinue == true, !exchange.sentContinue else { return }
        exchange.sentContinue = true
        output.append(contentsOf: HTTPResponseEncoder.continueResponse)
        flushInterim()
    }

    /// Writes an interim response without ending the exchange.
    private func flushInterim() {
        let result = output.withUnsafeBytes { try? socket.write(UnsafeRawBufferPointer(rebasing: $0[outputStart...])) }
        if case .processed(let count) = result { outputStart += count }
        if outputStart == output.count {
            output.removeAll(keepingCapacity: true)
            outputStart = 0
        }
    }

    func dispatchRequest() {
        // The head is not bound to a local here: one would hold it until this returns, after the response
        // went out and the parser wanted it back.
        guard let exchange,
            let request = exchange.head.map({ head in
                HTTPRequest(head: head, body: exchange.body, requestID: exchange.requestID, received: exchange.started)
            })
        else { preconditionFailure("a complete request without a head") }
        phase = .handling
        clearDeadline()
        exchange.body = []
        if !draining, let settings = H2C.upgradeSettings(request.head) {
            return upgradeToHTTP2(request, settings: settings)
        }
        // One slot per connection, not per request, when the last request's responder is gone (HTTP/1.1 answers
        // one request at a time): a handler that kept its responder keeps its slot, and this request gets a new one.
        let slot: ResponseSlot
        if var last = lastSlot.take(), isKnownUniquelyReferenced(&last) {
            last.rearm()
            slot = last
        } else {
            slot = ResponseSlot(connection: self) { [self] response in send(response) }
        }
        lastSlot = slot
        // Handed over, not lent: the response below is written with no copy of the request left here, so the
        // parser gets its head back to reuse (HTTPRequestParser.reset runs as the exchange finishes).
        context.handler(consume request, Responder { response in slot.fulfil(response) })
        if let response = slot.handlerReturned() { send(response) }
    }

    /// A request the screen answered from its head: the answer, and the connection closed after it (its body,
    /// never read, would otherwise be taken for the next request). No 100 Continue was sent, so a client that
    /// waits for one sends no body at all.
    func answerEarly(_ response: HTTPResponse) {
        phase = .handling
        clearDeadline()
        respond(with: response, close: true)
    }

    /// A request that cannot be parsed is answered with its problem, and the connection closed after it.
    func failParsing(_ error: HTTPParseError) {
        if exchange == nil { exchange = Exchange() }
        if let head = parser.head {
            exchange?.head = head
        }
        exchange?.requestID = context.requestIDs.resolve(parser.head?.headers["X-Request-Id"])
        phase = .handling
        clearDeadline()
        respond(with: error.problem.response(), close: true)
    }

    /// A timeout while reading a request: 408, then close.
    func failReading() {
        let exchange = self.exchange ?? Exchange()
        exchange.requestID = context.requestIDs.resolve(exchange.head?.headers["X-Request-Id"])
        self.exchange = exchange
        phase = .handling
        respond(with: Problem(.requestTimeout, detail: "The request did not arrive in time.").response(), close: true)
    }

    func send(_ response: HTTPResponse) {
        guard phase == .handling else {
            if case .stream(let stream) = response.body { stream.cancel() }
            return
        }
        respond(with: response, close: false)
    }

    private func respond(with response: HTTPResponse, close mustClose: Bool) {
        guard let exchange else { return }
        let (isHead, version, wantsKeepAlive) = exchange.responseTerms
        exchange.status = response.status
        // A client that shut its sending side may still have pipelined requests buffered: answer those too.
        let moreInput = inputStart < input.count
        exchange.keepAlive = !mustClose && !draining && (!peerClosedInput || moreInput) && wantsKeepAlive
        let sendsContent = response.status.allowsContent
        if output.isEmpty { lane.lend(output: &output) }
        switch response.body {
        case .bytes(let body):
            HTTPResponseEncoder.appendHead(
                response.status, headers: response.headers, contentLength: sendsContent ? body.count : nil,
                chunked: false, keepAlive: exchange.keepAlive, requestID: exchange.requestID, into: &output)
            if sendsContent && !isHead { output.append(contentsOf: body) }
        case .stream(let stream):
            exchange.chunked = version == .http1_1
            if !exchange.chunked { exchange.keepAlive = false }
            HTTPResponseEncoder.appendHead(
                response.status, headers: response.headers, contentLength: nil, chunked: exchange.chunked,
                keepAlive: exchange.keepAlive, requestID: exchange.requestID, into: &output)
            if isHead || !sendsContent { stream.cancel() } else { exchange.stream = stream }
        }
        exchange.bytesSent = 0
        phase = .sendingResponse
        if draining { endStream() }
        flush()
    }

    /// All output so far is on the wire: pull more of a stream, or finish the exchange.
    func outputDrained() {
        if phase == .http2 { return pumpHTTP2() }
        guard phase == .sendingResponse, let exchange else { return }
        guard let stream = exchange.stream else { return finishExchange() }
        clearDeadline()
        guard !exchange.awaitingChunk else { return }
        exchange.awaitingChunk = true
        stream.next { [self] chunk in queue.async { self.receive(chunk, from: stream) } }
    }

    private func receive(_ chunk: HTTPStreamChunk, from stream: any HTTPBodyStream) {
        guard phase == .sendingResponse, let current = exchange?.stream, current === stream else { return }
        exchange?.awaitingChunk = false
        switch chunk {
        case .bytes(let bytes):
            if exchange?.chunked == true {
                HTTPResponseEncoder.appendChunk(bytes, into: &output)
            } else {
                output.append(contentsOf: bytes)
            }
        case .end:
            exchange?.stream = nil
            if exchange?.chunked == true { output.append(contentsOf: HTTPResponseEncoder.lastChunk) }
        }
        flush()
    }

    /// Ends a streamed body cleanly at a chunk boundary (shutdown): the client sees a complete response.
    private func endStream() {
        guard let stream = exchange?.stream else { return }
        stream.cancel()
        exchange?.stream = nil
        exchange?.keepAlive = false
        if exchange?.chunked == true { output.append(contentsOf: HTTPResponseEncoder.lastChunk) }
    }

    private func finishExchange() {
        guard let keepAlive = endExchange() else { return }
        parser.reset()
        guard keepAlive && !draining else { return closeGracefully() }
        phase = .awaitingRequest
        setDeadline(.idle, after: context.configuration.idleTimeout)
        resumeReading()
        if inputStart < input.count { process() }
        // The client sends nothing more: once no complete request is left to answer, close.
        if peerClosedInput && (phase == .awaitingRequest || phase == .readingRequest) { closeGracefully() }
    }

    /// Logs the exchange and lets go of it before the parser is reset, so that the parser can reuse the request's
    /// storage; returns whether the connection stays open (nil when there was no exchange).
    private func endExchange() -> Bool? {
        guard let exchange else { return nil }
        logAccess(exchange)
        self.exchange = nil
        // Callers up the stack may still hold the exchange itself; its request head is let go of here.
        exchange.head = nil
        let keepAlive = exchange.keepAlive
        lane.retire(exchange)
        return keepAlive
    }

    /// Shutdown: close now if idle, otherwise finish the exchange in flight and close after it.
    func beginDraining() {
        draining = true
        // The shutdown can reach a connection before its own `start` has run (it was registered, and the
        // drain's request was queued ahead of the start's): `start` drains it then, once it is set up — acting
        // now would let `start` overwrite whatever the drain began (found as a drain stuck on a lingering
        // connection whose deadline `start` had reset).
        guard token != nil else { return }
        switch phase {
        case .awaitingRequest:
            // A request may have arrived that the lane has not read yet: closing now would reset it. Read
            // what is there first; only a connection with nothing pending is idle.
            readable()
            if phase == .awaitingRequest { close() }
        case .sendingResponse where exchange?.stream != nil:
            endStream()
            if exchange?.awaitingChunk == true { exchange?.awaitingChunk = false }
            flush()
        case .http2:
            goAwayHTTP2()
        case .readingRequest, .handling, .sendingResponse, .lingering, .closed:
            break
        }
    }

    func logAccess(_ exchange: Exchange) {
        guard context.logsAccess else { return }
        let elapsed = Double(MonotonicClock.now() - exchange.started) / 1e6
        context.logger.info(
            "request",
            [
                "method": .string(exchange.head?.method.rawValue ?? "-"),
                "path": .string(exchange.head.map { String($0.path) } ?? "-"),
                "protocol": .string(exchange.head?.version.description ?? "-"),
                "status": .int(exchange.status?.code ?? 0),
                "bytes": .int(exchange.bytesSent),
                "duration_ms": .double((elapsed * 1000).rounded() / 1000),
                "request_id": .string(exchange.requestID),
                "remote": .string(remote.host),
            ])
    }
}
