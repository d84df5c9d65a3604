import Foundation
import Synchronization

/// Where finished log lines go. Implementations must be safe to call from any thread.
package protocol LogSink: Sendable {
    func write(_ line: [UInt8])
}

/// Writes each line to standard error with one `write(2)`, so lines from different threads never interleave.
package final class StandardErrorSink: LogSink {
    package static let shared = StandardErrorSink()

    package func write(_ line: [UInt8]) {
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // stderr is gone; there is nowhere left to report it
                }
            }
        }
    }
}

/// Keeps lines in memory, for tests that assert on what was logged.
package final class MemorySink: LogSink {
    private let lines = Mutex<[String]>([])

    package init() {}

    package func write(_ line: [UInt8]) {
        let text = String(decoding: line.dropLast(), as: UTF8.self)
        lines.withLock { $0.append(text) }
    }

    package var entries: [String] { lines.withLock { $0 } }
}
