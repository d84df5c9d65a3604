import Glibc

/// An error number from the C library, with Swift names for the ones Descent acts on.
package struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: Int32

    package init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's `errno`, read at once after a failed call (the next call may change it).
    package static var current: Errno { Errno(rawValue: errno) }

    package static let interrupted = Errno(rawValue: EINTR)
    package static let wouldBlock = Errno(rawValue: EAGAIN)
    package static let badFileDescriptor = Errno(rawValue: EBADF)
    package static let badAddress = Errno(rawValue: EFAULT)
    package static let connectionReset = Errno(rawValue: ECONNRESET)
    package static let brokenPipe = Errno(rawValue: EPIPE)
    package static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    package static let tooManyOpenFilesInSystem = Errno(rawValue: ENFILE)
    package static let connectionAborted = Errno(rawValue: ECONNABORTED)
    package static let addressInUse = Errno(rawValue: EADDRINUSE)

    package var description: String { String(cString: strerror(rawValue)) }
}

/// A failed system call: which operation, and the errno it left.
package struct SystemError: Error, Sendable, CustomStringConvertible {
    package let operation: String
    package let errno: Errno

    package init(_ operation: String, _ errno: Errno) {
        self.operation = operation
        self.errno = errno
    }

    package var description: String { "\(operation) failed: \(errno) (errno \(errno.rawValue))" }
}

/// Calls `body` until it does not fail with EINTR. Not for `close`, which must never be retried
/// (close(2): the descriptor is released even when it reports EINTR).
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}

/// EBADF and EFAULT mean the program passed a closed descriptor or a bad pointer: a bug, never a condition.
@inline(__always)
func preconditionNotABug(_ errno: Errno, _ operation: String) {
    precondition(
        errno != .badFileDescriptor && errno != .badAddress, "\(operation): \(errno) is a programming error")
}
