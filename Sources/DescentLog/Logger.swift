import Foundation

/// A small structured logger: a value that carries a level threshold, metadata and a sink.
///
/// It is passed down explicitly (never a global), so that code running in Dispatch blocks and C callbacks
/// logs with the metadata of whoever created it. Each call writes one JSON object on one line.
package struct Logger: Sendable {
    package var level: LogLevel
    package var metadata: [(String, LogValue)]
    package let sink: any LogSink

    package init(level: LogLevel = .info, sink: any LogSink = StandardErrorSink.shared) {
        self.level = level
        self.metadata = []
        self.sink = sink
    }

    /// A copy of this logger that adds `key` to every line it writes.
    package func with(_ key: String, _ value: LogValue) -> Logger {
        var copy = self
        copy.metadata.append((key, value))
        return copy
    }

    package func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    package func log(_ level: LogLevel, _ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        guard isEnabled(level) else { return }
        var line = LogLine()
        line.append("time", .string(LogClock.timestamp()))
        line.append("level", .string(level.name))
        line.append("msg", .string(message))
        for (key, value) in metadata { line.append(key, value) }
        for (key, value) in fields { line.append(key, value) }
        sink.write(line.finish())
    }

    package func debug(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.debug, message, fields)
    }
    package func info(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.info, message, fields)
    }
    package func warning(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.warning, message, fields)
    }
    package func error(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        log(.error, message, fields)
    }
}

package enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug, info, warning, error

    package var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }

    package init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }

    package static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A value in a log line; each case is written as the matching JSON type.
package enum LogValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
}

extension LogValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    package init(stringLiteral value: String) { self = .string(value) }
    package init(integerLiteral value: Int) { self = .int(value) }
}
