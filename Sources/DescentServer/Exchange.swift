import DescentHTTP
import DescentPOSIX
import Synchronization

/// The bookkeeping of one request/response exchange on a connection, from its first byte to its access-log line.
/// A class, so that updating one field does not copy the rest; confined to the connection's queue.
final class Exchange {
    /// Monotonic nanoseconds when the request's first byte was seen.
    private(set) var started: UInt64
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    var requestID = ""
    var status: HTTPStatus?
    /// Whether the connection stays open after this response; decided when the response starts.
    var keepAlive = false
    var bytesSent = 0
    /// The producer of a streamed body, while it lasts.
    var stream: (any HTTPBodyStream)?
    /// Chunked framing (HTTP/1.1); an HTTP/1.0 client gets the stream delimited by closing the connection.
    var chunked = false
    /// A `next` call to the stream is outstanding.
    var awaitingChunk = false
    /// Set when a 100 Continue has been sent, so it is sent once, or is no longer due because content arrived.
    var sentContinue = false
    /// The server's screen answered the head: the body is not read, and this is sent instead of a handler's answer.
    var earlyAnswer: HTTPResponse?

    init(started: UInt64 = MonotonicClock.now()) { self.started = started }

    /// What the response depends on in the request head. One copy of the head for the three (each `head?.x` is a
    /// copy: a retain and a release), and one that ends here: a copy still held when the exchange finishes would
    /// keep the parser from reusing the head's storage (`HTTPRequestParser.reset`).
    var responseTerms: (isHead: Bool, version: HTTPVersion, keepAlive: Bool) {
        guard let head else { return (false, .http1_1, false) }
        return (head.method == .HEAD, head.version, head.keepAlive)
    }

    /// Makes this finished exchange a new one, as `init` would (its lane reuses it: see `EventLane.exchange`).
    func restart(at started: UInt64) {
        self.started = started
        head = nil
        body = []
        requestID = ""
        status = nil
        keepAlive = false
        bytesSent = 0
        stream = nil
        chunked = false
        awaitingChunk = false
        sentContinue = false
        earlyAnswer = nil
    }
}

/// Hands the response of a handler back to its connection: directly when the handler answers before it
/// returns (the common case: no queue hop), through the connection's queue when it answers later. Used for
/// an HTTP/1.1 exchange and for an HTTP/2 stream alike; `deliver` says what the connection does with it.
final class ResponseSlot: Sendable {
    private enum State {
        case handlerRunning
        case answeredSynchronously(HTTPResponse)
        case waiting
        case done
    }

    private let state = Mutex<State>(.handlerRunning)
    private let connection: Connection
    /// Runs on the connection's queue.
    private let deliver: @Sendable (HTTPResponse) -> Void

    init(connection: Connection, deliver: @escaping @Sendable (HTTPResponse) -> Void) {
        self.connection = connection
        self.deliver = deliver
    }

    func fulfil(_ response: HTTPResponse) {
        let later: Bool = state.withLock { state in
            switch state {
            case .handlerRunning:
                state = .answeredSynchronously(response)
                return false
            case .waiting:
                state = .done
                return true
            case .answeredSynchronously, .done:
                return false  // a second answer to one request is ignored
            }
        }
        if later { connection.queue.async { [deliver] in deliver(response) } }
    }

    /// Makes the slot ready for another request on the same connection. Only for a slot that nothing else holds
    /// (its last responder let go), whose last answer has been delivered or will never come.
    func rearm() {
        state.withLock { $0 = .handlerRunning }
    }

    /// Called on the connection's queue when the handler returns: the response if it already came.
    func handlerReturned() -> HTTPResponse? {
        state.withLock { state in
            if case .answeredSynchronously(let response) = state {
                state = .done
                return response
            }
            state = .waiting
            return nil
        }
    }
}
