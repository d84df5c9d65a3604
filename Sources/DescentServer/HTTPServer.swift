import DescentHTTP
import DescentLog
import DescentPOSIX
import Dispatch
import Foundation
import Synchronization

/// The HTTP/1.1 server: one listener, connections on their own serial queues, a sweep that enforces
/// timeouts, and a graceful shutdown.
///
/// Lifecycle: `start()` binds and begins accepting; `shutdown(completion:)` stops accepting, lets in-flight
/// requests finish (closing idle connections at once and ending open streams), and calls `completion` when
/// every connection is closed or `shutdownTimeout` has passed, whichever comes first.
package final class HTTPServer: Sendable {
    package typealias Handler = @Sendable (consuming HTTPRequest, Responder) -> Void
    /// Looks at a request's head before its body is read, and may answer it at once (e.g. 401, or 413 for a
    /// body that cannot be afforded): the body is then never read, and the connection is closed after the answer.
    package typealias Screen = @Sendable (HTTPRequestHead) -> HTTPResponse?

    /// The settings, handler, logger and request ids, shared with every connection.
    let context: ServerContext
    var configuration: ServerConfiguration { context.configuration }
    var logger: Logger { context.logger }
    var requestIDs: RequestIdentifier { context.requestIDs }
    /// `ioThreads` event lanes; connections are spread over them round-robin by the listener.
    private let lanes = Mutex<[EventLane]>([])
    private let controlQueue = DispatchQueue(label: "descent.server")
    private let connections = Mutex<[ObjectIdentifier: Connection]>([:])
    private let state = Mutex<State>(.idle)
    /// Dispatch sources are thread-safe objects; the protocol is simply not annotated `Sendable`.
    private nonisolated(unsafe) let sweepTimer: any DispatchSourceTimer

    private enum State {
        case idle
        case running(Listener)
        /// The completions of every `shutdown` call so far, to run when the drain is over.
        case draining(completions: [@Sendable () -> Void])
        case stopped
    }

    package init(
        configuration: ServerConfiguration, logger: Logger, screen: Screen? = nil, handler: @escaping Handler
    ) {
        self.context = ServerContext(configuration: configuration, logger: logger, screen: screen, handler: handler)
        self.sweepTimer = DispatchSource.makeTimerSource(queue: controlQueue)
    }

    /// Binds the listening socket and starts accepting. Throws when the address cannot be bound.
    package func start() throws(SystemError) {
        let address = try SocketAddress.resolve(host: configuration.host, port: configuration.port)
        let lanes = try (0..<max(1, configuration.ioThreads)).map { index throws(SystemError) in
            try EventLane(index: index)
        }
        self.lanes.withLock { $0 = lanes }
        let listener = try Listener(address: address, server: self, lanes: lanes)
        state.withLock { $0 = .running(listener) }
        listener.start()
        startSweeping()
    }

    /// The port actually bound (useful when the configuration asked for port 0).
    package var port: Int {
        state.withLock { state in
            if case .running(let listener) = state { return listener.address.port }
            return 0
        }
    }

    /// The bound address, e.g. `0.0.0.0:8080`.
    package var address: String {
        state.withLock { state in
            if case .running(let listener) = state { return listener.address.description }
            return ""
        }
    }

    /// True from the start of a shutdown: readiness checks answer 503 then.
    package var isDraining: Bool {
        state.withLock { state in
            switch state {
            case .draining, .stopped: true
            case .idle, .running: false
            }
        }
    }

    package var connectionCount: Int { connections.withLock { $0.count } }

    /// How many event lanes serve the connections (`ioThreads`, once started).
    var laneCount: Int { lanes.withLock { $0.count } }

    /// Begins a graceful shutdown; `completion` runs once, on a server queue, when it is over. A later call
    /// joins the shutdown in progress, or completes at once when it is over (or the server never started).
    package func shutdown(completion: @escaping @Sendable () -> Void) {
        enum Step {
            case begin(Listener)
            case join
            case completeNow
        }
        let step: Step = state.withLock { state in
            switch state {
            case .running(let listener):
                state = .draining(completions: [completion])
                return .begin(listener)
            case .draining(let completions):
                state = .draining(completions: completions + [completion])
                return .join
            case .idle, .stopped:
                return .completeNow
            }
        }
        let listener: Listener
        switch step {
        case .begin(let first): listener = first
        case .join: return
        case .completeNow: return controlQueue.async(execute: completion)
        }
        listener.stop()
        logger.info("shutting down", ["connections": .int(connectionCount)])
        for connection in connections.withLock({ Array($0.values) }) {
            connection.queue.async { connection.beginDraining() }
        }
        controlQueue.asyncAfter(deadline: .now() + configuration.shutdownTimeout) { [self] in
            let remaining = connections.withLock { Array($0.values) }
            if !remaining.isEmpty {
                logger.warning("shutdown timeout: closing connections", ["connections": .int(remaining.count)])
                for connection in remaining { connection.queue.async { connection.close() } }
            }
            controlQueue.asyncAfter(deadline: .now() + 0.2) { self.finishShutdown(force: true) }
        }
        finishShutdownIfIdle()
    }

    // MARK: Connection registry (called by Listener and Connection)

    /// Adds a new connection; false once a shutdown has begun (the caller then closes it: the listener is
    /// closing anyway). The state lock is held across the insertion, and `finishShutdown` checks for
    /// connections under the same lock, so a connection is either there when the drain begins, and drained,
    /// or refused — never accepted into a drain that might already be over.
    func register(_ connection: Connection) -> Bool {
        state.withLock { state in
            guard case .running = state else { return false }
            connections.withLock { $0[ObjectIdentifier(connection)] = connection }
            return true
        }
    }

    func unregister(_ connection: Connection) {
        connections.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(connection)) }
        finishShutdownIfIdle()
    }

    private func finishShutdownIfIdle() {
        guard isDraining, connectionCount == 0 else { return }
        finishShutdown(force: false)
    }

    /// Ends the drain: when no connection is left, or (`force`) when the shutdown timeout has closed them.
    private func finishShutdown(force: Bool) {
        let completions: [@Sendable () -> Void] = state.withLock { state in
            guard case .draining(let completions) = state else { return [] }
            if !force && connections.withLock({ !$0.isEmpty }) { return [] }
            state = .stopped
            return completions
        }
        guard !completions.isEmpty else { return }
        sweepTimer.cancel()
        for lane in lanes.withLock({ $0 }) { lane.stop() }
        controlQueue.async { for completion in completions { completion() } }
    }

    /// One timer for all connections: each connection keeps its deadline in an atomic, and the sweep asks
    /// the expired ones to act on their own queues. Cheaper than a timer per connection re-armed per request.
    private func startSweeping() {
        let shortest = min(
            configuration.headerTimeout, configuration.bodyTimeout, configuration.idleTimeout,
            configuration.sendTimeout, configuration.lingerTimeout)
        let interval = min(1.0, max(0.05, shortest / 4))
        let timer = sweepTimer
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(20))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            let now = MonotonicClock.now()
            for connection in self.connections.withLock({ Array($0.values) }) where connection.hasExpired(at: now) {
                connection.queue.async { connection.checkDeadline() }
            }
        }
        timer.activate()
    }
}
