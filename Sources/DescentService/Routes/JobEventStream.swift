import DescentHTTP
import DescentJSON
import DescentJobs
import DescentMath
import DescentPOSIX
import Dispatch
import Synchronization

/// The body of `GET /v1/jobs/{id}/events`: a `status` event, the `progress` events after the client's
/// cursor, a `status` event at every change, and the final `result`, then the end.
///
/// Backpressure: the stream holds no queue of its own. It keeps a cursor (the last iteration sent) into the
/// job's history, and each time the server pulls it encodes what is new since — up to `batchLimit` events in
/// one piece — so a slow client gets many events per write, and a stalled one costs one pending piece, not a
/// growing buffer. With nothing new it waits on the job (a one-shot watcher) or sends a keep-alive after
/// `keepAliveSeconds`. The worker never waits for a stream.
final class JobEventStream: HTTPBodyStream {
    static let batchLimit = 256

    private let job: Job
    private let format: EventStreamFormat
    private let keepAliveSeconds: Double
    private let registry: StreamRegistry
    private let keepAliveTimer: KeepAliveTimer
    private let state: Mutex<State>

    private struct State {
        var cursor: Int
        var lastStatus: JobStatus?
        var ended = false
        var cancelled = false
        var closed = false
        var watchToken: Int?
        /// The server's pending pull while the stream waits for the job; nil while it is being served.
        var waiting: (@Sendable (HTTPStreamChunk) -> Void)?
        /// When the last piece went out (monotonic nanoseconds), for keep-alives.
        var lastSent = MonotonicClock.now()

        mutating func takeWaiting() -> (@Sendable (HTTPStreamChunk) -> Void)? {
            defer { waiting = nil }
            return waiting
        }
    }

    init(job: Job, after: Int, format: EventStreamFormat, keepAliveSeconds: Double, registry: StreamRegistry) {
        self.job = job
        self.format = format
        self.keepAliveSeconds = keepAliveSeconds
        self.registry = registry
        state = Mutex(State(cursor: after))
        keepAliveTimer = KeepAliveTimer()
        registry.opened()
        keepAliveTimer.start { [weak self] in self?.keepAliveIfIdle() }
    }

    func next(_ deliver: @escaping @Sendable (HTTPStreamChunk) -> Void) {
        let (cancelled, ended, cursor, lastStatus) = state.withLock {
            ($0.cancelled, $0.ended, $0.cursor, $0.lastStatus)
        }
        if cancelled || ended {
            close()
            return deliver(.end)
        }
        let (events, status) = job.events(after: cursor, limit: Self.batchLimit)
        var output: [UInt8] = []
        var newStatus = lastStatus
        // The first piece always opens with the status; later ones announce a change at once, except the
        // final status, which follows the last progress events.
        if lastStatus == nil || (status != lastStatus && !status.isFinished) {
            appendStatus(status, to: &output)
            newStatus = status
        }
        var newCursor = cursor
        let maxIterations = job.spec.iterationBudget
        for event in events {
            format.append(
                event: "progress", id: event.iteration,
                json: JSONWriter.bytes(event.json(maxIterations: maxIterations)), to: &output)
            newCursor = event.iteration
        }
        var finished = false
        if status.isFinished, events.count < Self.batchLimit {
            if newStatus != status { appendStatus(status, to: &output) }
            format.append(event: "result", id: nil, json: JSONWriter.bytes(job.json), to: &output)
            finished = true
        }
        let seen = newStatus ?? status
        let silentSince: UInt64? = state.withLock { state in
            state.cursor = newCursor
            state.lastStatus = seen
            state.ended = finished
            if output.isEmpty {
                state.waiting = deliver
                return state.lastSent
            }
            state.lastSent = MonotonicClock.now()
            return nil
        }
        guard let silentSince else { return deliver(.bytes(output)) }
        armKeepAlive(silentSince: silentSince)
        // Nothing new: wake at the job's next change (at once if it changed since the read above).
        let wake: @Sendable () -> Void = { [self] in
            guard let waiting = state.withLock({ $0.takeWaiting() }) else { return }
            next(waiting)
        }
        let token = job.watch(unlessStale: { $0 != seen || $1 > newCursor }, wake)
        state.withLock { $0.watchToken = token }
    }

    /// Sets the keep-alive timer for one period after the last piece sent.
    private func armKeepAlive(silentSince: UInt64) {
        let elapsed = Double(MonotonicClock.now() - silentSince) / 1e9
        keepAliveTimer.arm(after: max(0, keepAliveSeconds - elapsed))
    }

    /// The keep-alive timer fired: a pull that has waited a whole period since the last piece gets a keep-alive
    /// comment, so proxies and clients see the connection alive; one that has not (a piece went out meanwhile,
    /// or the timer ran early) waits for the rest of its period.
    private func keepAliveIfIdle() {
        let idleLimit = UInt64(keepAliveSeconds * 1e9)
        enum Action {
            case none
            case rearm(UInt64)
            case send(@Sendable (HTTPStreamChunk) -> Void, Int?)
        }
        let action: Action = state.withLock { state in
            guard let waiting = state.waiting else { return .none }
            guard MonotonicClock.now() - state.lastSent >= idleLimit else { return .rearm(state.lastSent) }
            state.waiting = nil
            state.lastSent = MonotonicClock.now()
            return .send(waiting, state.watchToken)
        }
        switch action {
        case .none: return
        case .rearm(let silentSince): armKeepAlive(silentSince: silentSince)
        case .send(let deliver, let token):
            if let token { job.unwatch(token) }
            deliver(.bytes(format.keepAlive))
        }
    }

    private func appendStatus(_ status: JobStatus, to output: inout [UInt8]) {
        let json: JSONValue = ["id": .string(job.id), "status": .string(status.rawValue)]
        format.append(event: "status", id: nil, json: JSONWriter.bytes(json), to: &output)
    }

    func cancel() {
        let token = state.withLock { state in
            state.cancelled = true
            state.waiting = nil
            return state.watchToken
        }
        if let token { job.unwatch(token) }
        close()
    }

    private func close() {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        keepAliveTimer.stop()
        registry.closed()
    }
}

/// Counts open progress streams, for `/metrics`.
final class StreamRegistry: Sendable {
    private let count = Atomic<Int>(0)
    var open: Int { count.load(ordering: .relaxed) }
    func opened() { count.add(1, ordering: .relaxed) }
    func closed() { count.subtract(1, ordering: .relaxed) }
}

/// A one-shot Dispatch timer that can be set again. `@unchecked Sendable`: the source is made in `init` and
/// then only scheduled, resumed and cancelled, which libdispatch allows from any thread.
private final class KeepAliveTimer: @unchecked Sendable {
    private let source: DispatchSourceTimer

    init() {
        source = DispatchSource.makeTimerSource(queue: .global())
        source.schedule(deadline: .distantFuture, repeating: .never)
    }

    func start(_ handler: @escaping @Sendable () -> Void) {
        source.setEventHandler(handler: handler)
        source.resume()
    }

    /// Fires once, `seconds` from now (replacing any earlier setting).
    func arm(after seconds: Double) {
        source.schedule(deadline: .now() + seconds, repeating: .never, leeway: .milliseconds(5))
    }

    func stop() { source.cancel() }
}
