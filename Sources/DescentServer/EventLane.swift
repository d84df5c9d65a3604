import DescentPOSIX
import Dispatch

/// An I/O lane: a serial queue, an epoll set of the lane's connections, and one Dispatch read source on the
/// epoll descriptor. When any member is ready the source fires once, and the lane serves every ready
/// connection in that one turn, as an event loop does.
///
/// Why not a Dispatch source per socket: on Linux each source event costs libdispatch an `eventfd` write
/// to wake its manager thread, an `epoll_ctl` to re-arm and a thread wake-up — measured here as more CPU
/// than parsing and answering the request. A lane pays those once per batch of ready connections.
///
/// Thread-safety: `members`, `nextToken`, `serving`, `turnTime`, the spares and `readScratch` are touched only on
/// `queue`. Every connection's own serial queue targets its lane's queue, so while the lane runs its source
/// handler no block of any of its connections can run: calling a connection's methods from the handler is
/// confined as if on its queue (and a connection's block may use the lane's state in turn).
final class EventLane: @unchecked Sendable {
    let queue: DispatchQueue
    private let poller: Poller
    private let source: any DispatchSourceRead
    private var members: [UInt64: Connection] = [:]
    private var nextToken: UInt64 = 0
    /// Empty buffers, lent to a connection while it reads or writes (see `lend`).
    private var spareInput: [UInt8] = []
    private var spareOutput: [UInt8] = []
    /// A finished exchange, kept for the next request to begin (see `exchange(startingAt:)`).
    private var spareExchange: Exchange?
    /// What a member connection reads its socket into before keeping the bytes (see `readScratch`).
    static let readScratchBytes = 256 * 1024
    /// The read buffer of every member: connections read on the lane's queue, one at a time, and copy what came
    /// into their input at once. One per lane rather than a temporary allocation per read, which took the heap
    /// (and 16 KiB from malloc and back per request) since it is larger than what Swift puts on the stack.
    let readScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: readScratchBytes, alignment: 16)
    /// The lane is in its source handler, serving ready connections.
    private var serving = false
    /// The monotonic clock when the current round of the turn began.
    private var turnTime: UInt64 = 0

    init(index: Int) throws(SystemError) {
        poller = try Poller()
        queue = DispatchQueue(label: "descent.lane.\(index)")
        source = DispatchSource.makeReadSource(fileDescriptor: poller.descriptor, queue: queue)
        source.setEventHandler { [unowned self] in serveReady() }
        source.setCancelHandler { [poller] in poller.close() }
        source.activate()
    }

    deinit { readScratch.deallocate() }

    /// Adds `connection`, watching it for input; returns its token. On the lane's queue.
    func add(_ connection: Connection) throws(SystemError) -> UInt64 {
        nextToken += 1
        try poller.add(connection.socket.descriptor, token: nextToken, interest: .readable)
        members[nextToken] = connection
        return nextToken
    }

    /// Changes what `connection` is watched for. On the lane's queue.
    func watch(_ connection: Connection, token: UInt64, for interest: Poller.Interest) {
        // Fails only for a descriptor that is not a member, which the connection's state rules out.
        try? poller.modify(connection.socket.descriptor, token: token, interest: interest)
    }

    /// Removes `connection` before its socket is closed. On the lane's queue.
    func remove(_ connection: Connection, token: UInt64) {
        poller.remove(connection.socket.descriptor)
        members[token] = nil
    }

    /// Swaps an empty connection buffer for the lane's spare one, which is just as empty: a connection takes the
    /// spare when it is about to fill its buffer and gives it back once the buffer is empty again.
    ///
    /// Why: with one buffer per connection, every request touched buffers that had gone cold in the CPU cache
    /// since that connection's last request (`perf annotate`: the load of an array's count in `append`, a cache
    /// miss, was most of the cost of taking in a 50-byte request). Lent in turn, one buffer per lane serves
    /// every connection whose request and response pass in one go, and stays warm. A connection that keeps
    /// bytes — part of a request, a response the socket would not take — keeps the buffer, and the lane lends
    /// the empty one it got in exchange. Idle connections hold no buffer of their own.
    func lend(input buffer: inout [UInt8]) {
        precondition(buffer.isEmpty && spareInput.isEmpty)
        swap(&buffer, &spareInput)
    }

    func lend(output buffer: inout [UInt8]) {
        precondition(buffer.isEmpty && spareOutput.isEmpty)
        swap(&buffer, &spareOutput)
    }

    /// The exchange for a request that begins now on one of the lane's connections: the last one retired, when
    /// nothing holds it any more, or else a new one. A request answered within the turn it arrived in — most
    /// are — hands its exchange back before the next one begins, so one object serves them all, where an
    /// allocation per request would otherwise be paid.
    func exchange(startingAt started: UInt64) -> Exchange {
        if var spare = spareExchange.take(), isKnownUniquelyReferenced(&spare) {
            spare.restart(at: started)
            return spare
        }
        return Exchange(started: started)
    }

    /// Takes back a finished exchange for `exchange(startingAt:)`; whoever still holds it keeps it from reuse.
    func retire(_ exchange: Exchange) {
        spareExchange = exchange
    }

    /// Stops the lane; its epoll descriptor is closed when the source's cancellation has run.
    func stop() {
        source.cancel()
    }

    /// The monotonic clock in nanoseconds, for deadlines and the start of exchanges: during a turn, the time its
    /// round began (a turn is far shorter than any timeout, and one clock read serves a batch of requests);
    /// otherwise now. On the lane's queue (which includes its connections' queues).
    func now() -> UInt64 {
        serving ? turnTime : MonotonicClock.now()
    }

    /// How long one turn may go on serving rounds of ready connections before it hands the lane's queue back to
    /// Dispatch: blocks queued on the lane (a connection's deadline, a streamed chunk, a response from a worker
    /// queue) wait at most this long behind a busy lane.
    static let turnBudget: UInt64 = 1_000_000

    private func serveReady() {
        serving = true
        defer { serving = false }
        // Round after round, until one finds nothing ready or the budget is spent. Under load, the clients of the
        // connections served in one round send again while the next ones are served; serving them in this turn,
        // rather than returning and being woken for them, saves what each wake-up costs on Linux: libdispatch
        // re-arms the epoll descriptor (epoll_ctl), writes an eventfd to its manager thread and switches threads
        // twice. `bench/http1_counts.sh` shows what is left: ~0.03 context switches and ~2.1 system calls per
        // request. With at most four rounds a turn (commit cc74182), `PIN=1 CONNS=8 bench/http1.sh` gave 0.85×
        // nginx's req/s, and 1.01× with this; at 64 connections the difference was within the noise. A round
        // that finds nothing costs one epoll_wait.
        let began = MonotonicClock.now()
        turnTime = began
        while true {
            let count = poller.forEachReady(capacity: 64) { event in
                // A member closed earlier in this batch has no entry any more; its event is stale.
                guard let connection = members[event.token] else { return }
                if event.writable { connection.writable() }
                if event.readable { connection.readable(hangUp: event.hangUp, inputEnded: event.inputEnded) }
            }
            if count == 0 { return }
            turnTime = MonotonicClock.now()
            if turnTime &- began > Self.turnBudget { return }
        }
    }
}
