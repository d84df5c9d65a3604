import Glibc

/// Process-wide signal dispositions.
package enum Signals {
    /// A write to a closed socket must be an EPIPE error, not a process-killing SIGPIPE. Sends use
    /// MSG_NOSIGNAL already; ignoring the signal also covers any write the C libraries make.
    package static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Stops the default action of `signal` so that a Dispatch signal source can handle it instead.
    package static func ignore(_ signal: Int32) {
        Glibc.signal(signal, SIG_IGN)
    }
}
