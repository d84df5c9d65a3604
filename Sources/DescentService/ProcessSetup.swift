import DescentLog
import DescentPOSIX
import Dispatch
import Glibc
import Synchronization

/// Process-wide preparation done once at start-up.
package enum ProcessSetup {
    /// Ignores SIGPIPE, and raises the open-file limit to its hard maximum: every connection is a descriptor,
    /// and the default soft limit (often 1024) would cap the server far below `--max-connections`.
    package static func prepare(logger: Logger) {
        Signals.ignoreBrokenPipe()
        do {
            try ResourceLimits.raiseOpenFileLimit()
        } catch {
            logger.warning("cannot raise the open-file limit", ["error": .string("\(error)")])
        }
    }
}

/// SIGTERM and SIGINT begin a graceful shutdown; the process exits 0 when it is done. A second signal
/// exits at once with status 1, for an operator who will not wait.
package final class ShutdownSignals: Sendable {
    private let logger: Logger
    private let shutdown: @Sendable (@escaping @Sendable () -> Void) -> Void
    private let queue = DispatchQueue(label: "descent.signals")
    private let received = Atomic<Int>(0)
    /// Dispatch sources are thread-safe; the array is written once, in `install`, before any signal is handled.
    private nonisolated(unsafe) var sources: [any DispatchSourceSignal] = []

    package init(logger: Logger, shutdown: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) {
        self.logger = logger
        self.shutdown = shutdown
    }

    package func install() {
        for signal in [SIGTERM, SIGINT] {
            Signals.ignore(signal)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler { [self] in handle(signal) }
            source.activate()
            sources.append(source)
        }
    }

    private func handle(_ signal: Int32) {
        let count = received.add(1, ordering: .relaxed).newValue
        guard count == 1 else {
            logger.warning("second signal: exiting now", ["signal": .int(Int(signal))])
            exit(1)
        }
        logger.info("signal received: shutting down", ["signal": .int(Int(signal))])
        shutdown { exit(0) }
    }
}
