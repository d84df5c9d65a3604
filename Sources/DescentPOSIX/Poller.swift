import CDescentPOSIX
import Glibc

/// An epoll instance: a set of descriptors, each with a token and the readiness it watches for. Its own descriptor
/// becomes readable when any member is ready, so one Dispatch read source on it can serve a whole set of sockets.
///
/// Edge-triggered (EPOLLET): a member is reported when its readiness changes — bytes arrive, room to write opens,
/// the peer hangs up — and not again until it changes once more. So the owner must read until the socket has no
/// more (a short read says so: bytes that come later are a new edge), or call `modify` to have a member that may
/// still be ready looked at again (epoll checks it then, and reports it if it is). `modify` does the same for
/// readiness that was not watched before, such as input after reading was suspended.
///
/// Why not level-triggered: a level-triggered member that was reported goes back on epoll's ready list at once,
/// behind the others, so the next `forEachReady` serves the members in the order of the last one, again and again,
/// whenever their bytes arrived; edge-triggered, the list is in the order the bytes arrived, and the longest
/// waiting request is served first. With it, descent's p99 under `bench/http1.sh` fell by more than a quarter, both
/// builds served side by side (the README has the figures), to a spread like nginx's, which uses epoll
/// edge-triggered too. Level-triggered, each round also polled again every member reported in the round before.
///
/// Thread-safety: epoll itself is thread-safe; the owner calls `wait` from one queue at a time.
package final class Poller: Sendable {
    package let descriptor: Int32

    /// What a member is watched for. The corresponding C constants are EPOLLIN and EPOLLOUT.
    package struct Interest: OptionSet, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Input, and the peer shutting its sending side (EPOLLIN and EPOLLRDHUP).
        package static let readable = Interest(rawValue: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
        package static let writable = Interest(rawValue: EPOLLOUT.rawValue)
    }

    /// One ready member: its token, whether to read (also on hang-up and error, where the read reports it),
    /// whether to write, whether the connection is gone both ways (reported even when nothing is watched), and
    /// whether the peer has shut its sending side.
    package struct Event: Sendable {
        package var token: UInt64
        package var readable: Bool
        package var writable: Bool
        package var hangUp: Bool
        /// The peer's FIN is in: once the bytes before it are read, a read returns end-of-file. Edge-triggered, no
        /// later edge says so when the FIN came with the last bytes, so a short read does not mean "nothing more"
        /// then: the owner reads on to the end of the input.
        package var inputEnded: Bool
    }

    /// The corresponding C function is `epoll_create1` with EPOLL_CLOEXEC.
    package init() throws(SystemError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SystemError("epoll_create1", .current) }
        descriptor = fd
    }

    /// Adds `fd` with `token`; it is reported if it is ready already. The corresponding C function is `epoll_ctl`
    /// with EPOLL_CTL_ADD.
    package func add(_ fd: Int32, token: UInt64, interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd, token: token, interest: interest)
    }

    /// Changes what `fd` is watched for, and reports it again if it is ready for that now, as a new edge would.
    /// The corresponding C function is `epoll_ctl` with EPOLL_CTL_MOD.
    package func modify(_ fd: Int32, token: UInt64, interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_MOD, fd, token: token, interest: interest)
    }

    /// Removes `fd`. The corresponding C function is `epoll_ctl` with EPOLL_CTL_DEL.
    package func remove(_ fd: Int32) {
        _ = descent_epoll_ctl(descriptor, EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Calls `body` with each member ready now, without waiting, and returns how many there were. The
    /// corresponding C function is `epoll_wait` with timeout 0. (A closure rather than an array of events: the
    /// event loop calls this once or more per turn, and the array would be an allocation each time.) At most
    /// 64 at a time by default: the scratch space for 64 events fits within what Swift puts on the stack (1 KiB
    /// per buffer); for 256 it went to the heap on every call. A caller with more ready calls again.
    @discardableResult
    package func forEachReady(capacity: Int = 64, _ body: (Event) -> Void) -> Int {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: capacity) { tokens in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: capacity) { bits in
                let count = retryingOnInterrupt {
                    descent_epoll_wait(descriptor, tokens.baseAddress, bits.baseAddress, Int32(capacity), 0)
                }
                guard count > 0 else { return 0 }
                let hangUp = EPOLLHUP.rawValue | EPOLLERR.rawValue
                let input = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | hangUp
                for index in 0..<Int(count) {
                    body(
                        Event(
                            token: tokens[index], readable: bits[index] & input != 0,
                            writable: bits[index] & (EPOLLOUT.rawValue | EPOLLERR.rawValue) != 0,
                            hangUp: bits[index] & hangUp != 0, inputEnded: bits[index] & EPOLLRDHUP.rawValue != 0))
                }
                return Int(count)
            }
        }
    }

    /// The corresponding C function is `close`.
    package func close() {
        _ = Glibc.close(descriptor)
    }

    private func control(_ operation: Int32, _ fd: Int32, token: UInt64, interest: Interest) throws(SystemError) {
        guard descent_epoll_ctl(descriptor, operation, fd, interest.rawValue | EPOLLET.rawValue, token) == 0 else {
            throw SystemError("epoll_ctl", .current)
        }
    }
}
