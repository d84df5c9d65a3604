import CDescentPOSIX
import Glibc
import Synchronization

/// Owns one socket descriptor: thin typed wrappers over the socket system calls, with errno discipline
/// (EINTR retried, EAGAIN a value, EBADF/EFAULT treated as bugs). The owner must call `close()` exactly once;
/// `deinit` asserts that it did, because a leaked descriptor is a bug that shows up only under load.
///
/// Thread-safety: the descriptor number is immutable; the "closed" flag is atomic. Reads and writes are
/// made by the one queue that owns the connection.
package final class Socket: Sendable {
    package let descriptor: Int32
    private let closed = Atomic<Bool>(false)

    package init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { assert(closed.load(ordering: .relaxed), "socket \(descriptor) was never closed") }

    /// A non-blocking listening socket bound to `address`, with SO_REUSEADDR; an IPv6 socket also accepts
    /// IPv4 (IPV6_V6ONLY off). The corresponding C functions are `socket`, `bind` and `listen`.
    package static func listening(on address: SocketAddress, backlog: Int32 = 4096) throws(SystemError) -> Socket {
        let fd = Glibc.socket(
            address.family,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", .current) }
        let socket = Socket(descriptor: fd)
        do throws(SystemError) {
            try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
            if address.family == AF_INET6 { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            var storage = address.storage
            let bound = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, address.length) }
            }
            guard bound == 0 else { throw SystemError("bind(\(address))", .current) }
            guard Glibc.listen(fd, backlog) == 0 else { throw SystemError("listen", .current) }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// A blocking client socket connected to `address` (for tests and tools, never on an I/O queue).
    /// The corresponding C functions are `socket` and `connect`.
    package static func connected(to address: SocketAddress) throws(SystemError) -> Socket {
        let fd = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", .current) }
        let socket = Socket(descriptor: fd)
        var storage = address.storage
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                retryingOnInterrupt { Glibc.connect(fd, pointer, address.length) }
            }
        }
        guard result == 0 else {
            let error = SystemError("connect(\(address))", .current)
            socket.close()
            throw error
        }
        return socket
    }

    /// Accepts one pending connection as a non-blocking socket, or `nil` when none is pending.
    /// The corresponding C function is `accept4`.
    package func accept() throws(SystemError) -> (Socket, SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                retryingOnInterrupt {
                    descent_accept4(
                        descriptor, pointer, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
        }
        if fd >= 0 { return (Socket(descriptor: fd), SocketAddress(storage: storage, length: length)) }
        let error = Errno.current
        // accept(2): a connection may be aborted between its arrival and our call; that is "none pending".
        if error == .wouldBlock || error == .connectionAborted { return nil }
        preconditionNotABug(error, "accept4")
        throw SystemError("accept4", error)
    }

    /// The corresponding C function is `recv`: on a socket it is `read` without the file layer around it (the
    /// kernel's `vfs_read` and the file-position lookup cost ~0.2 µs a call more, by `perf` on `wrk -c64`).
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult {
        let count = retryingOnInterrupt { Glibc.recv(descriptor, buffer.baseAddress, buffer.count, 0) }
        if count >= 0 { return .processed(count) }
        let error = Errno.current
        if error == .wouldBlock { return .wouldBlock }
        preconditionNotABug(error, "recv")
        throw SystemError("recv", error)
    }

    /// The corresponding C function is `send` with MSG_NOSIGNAL (a closed peer is EPIPE, never SIGPIPE).
    package func write(_ buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult {
        let count = retryingOnInterrupt {
            Glibc.send(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
        }
        if count >= 0 { return .processed(count) }
        let error = Errno.current
        if error == .wouldBlock { return .wouldBlock }
        preconditionNotABug(error, "send")
        throw SystemError("send", error)
    }

    /// Closes our sending side, so the peer reads end-of-file after the bytes already sent.
    /// The corresponding C function is `shutdown` with SHUT_WR.
    package func shutdownWrite() {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Releases the descriptor. Safe to call more than once; only the first call closes.
    /// The corresponding C function is `close` (never retried on EINTR: the descriptor is gone either way).
    package func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = Glibc.close(descriptor)
    }

    package var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// The address this socket is bound to. The corresponding C function is `getsockname`.
    package func localAddress() throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { throw SystemError("getsockname", .current) }
        return SocketAddress(storage: storage, length: length)
    }

    /// The corresponding C function is `setsockopt` with an `int` value.
    package func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws(SystemError) {
        var value = value
        guard setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemError("setsockopt(\(level), \(name))", .current)
        }
    }

    /// Turns off Nagle's algorithm: responses are written whole, so waiting for more bytes only adds latency.
    package func disableNagle() {
        try? setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }
}
