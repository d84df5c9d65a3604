import DescentPOSIX

/// What a connection is waiting for when its deadline passes.
enum TimeoutReason {
    case idle, header, body, send, linger
}

extension Connection {
    func setDeadline(_ reason: TimeoutReason, after seconds: Double) {
        deadlineReason = reason
        deadline.store(lane.now() + UInt64(seconds * 1e9), ordering: .relaxed)
    }

    func clearDeadline() {
        deadline.store(0, ordering: .relaxed)
    }

    /// Read by the server's sweep, from its own queue.
    func hasExpired(at now: UInt64) -> Bool {
        let deadline = deadline.load(ordering: .relaxed)
        return deadline != 0 && deadline <= now
    }

    /// On the connection's queue, after the sweep saw the deadline pass: act if it still has.
    func checkDeadline() {
        guard hasExpired(at: MonotonicClock.now()) else { return }
        clearDeadline()
        switch (deadlineReason, phase) {
        case (.header, .readingRequest), (.body, .readingRequest):
            context.logger.info(
                "request timed out", ["reason": .string("\(deadlineReason)"), "remote": .string(remote.host)])
            failReading()
        case (.send, .sendingResponse):
            context.logger.info("client stopped reading; closing", ["remote": .string(remote.host)])
            close()
        case (.idle, .awaitingRequest), (.linger, .lingering):
            close()
        case (.header, .awaitingRequest):
            // The first bytes, still too few to tell HTTP/1.1 from HTTP/2, came too slowly: no protocol to
            // answer in.
            context.logger.info("connection preface timed out", ["remote": .string(remote.host)])
            close()
        case (_, .http2):
            timeOutHTTP2(deadlineReason)
        default:
            break
        }
    }
}
