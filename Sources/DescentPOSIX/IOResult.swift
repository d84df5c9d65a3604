/// The outcome of a non-blocking read or write: EAGAIN is an expected value here, not an error.
package enum IOResult: Equatable, Sendable {
    /// So many bytes were transferred (for a read, 0 means the peer closed its side).
    case processed(Int)
    /// The call would block; wait for the descriptor to become ready.
    case wouldBlock
}
