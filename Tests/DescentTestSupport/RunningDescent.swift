import Foundation
import Synchronization

/// The built `descent` executable. First the one beside the running test bundle, so that a build with its own
/// scratch path (scripts/sanitize.sh: .build/sanitize-address, .build/sanitize-thread) runs its own instrumented
/// `descent` rather than the plain debug one; else .build/debug/descent, found from this file's path, since tests
/// may run from any directory.
package enum DescentBinary {
    package static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    package static let path: String = {
        if let bundle = Bundle.main.executableURL {
            let sibling = bundle.deletingLastPathComponent().appendingPathComponent("descent").path
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return packageRoot.appendingPathComponent(".build/debug/descent").path
    }()
    package static var exists: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// The environment of the tests without any DESCENT_ variable, so that only the flags configure the child.
    package static var cleanEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DESCENT_") }
    }

    /// The variables API.md documents; `--help` must name each.
    package static let documentedVariables = [
        "DESCENT_HOST", "DESCENT_PORT", "DESCENT_DATA_DIR", "DESCENT_WORKERS", "DESCENT_MAX_QUEUE",
        "DESCENT_MAX_BODY_BYTES", "DESCENT_LOG_LEVEL", "DESCENT_API_KEYS",
    ]
}

/// A running `descent` whose standard error is collected line by line while it runs.
package final class RunningDescent {
    package let process = Process()
    private let lines = LineCollector()

    package init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: DescentBinary.path)
        process.arguments = arguments
        process.environment = DescentBinary.cleanEnvironment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let stderr = Pipe()
        process.standardError = stderr
        let collector = lines
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { collector.append(data) }
        }
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    package var stderrLines: [String] { lines.lines }

    /// The first JSON log line whose `msg` is `message`.
    package func logLine(_ message: String) -> [String: Any]? {
        for line in stderrLines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                continue
            }
            if object["msg"] as? String == message { return object }
        }
        return nil
    }
}

/// Splits appended bytes into lines, from any thread.
package final class LineCollector: Sendable {
    private let state = Mutex<(partial: [UInt8], lines: [String])>(([], []))

    package func append(_ data: Data) {
        state.withLock { state in
            for byte in data {
                if byte == UInt8(ascii: "\n") {
                    state.lines.append(String(decoding: state.partial, as: UTF8.self))
                    state.partial.removeAll()
                } else {
                    state.partial.append(byte)
                }
            }
        }
    }

    package var lines: [String] { state.withLock { $0.lines } }
}

extension RunningDescent {
    /// Starts `descent` on a free port of 127.0.0.1 with a fresh data directory inside `directory`, waits for its
    /// "listening" log line (at most `seconds`), and returns it with its port.
    package static func start(
        in directory: TemporaryDirectory, extraArguments: [String] = [], within seconds: Double = 15
    ) throws -> (descent: RunningDescent, port: Int) {
        let descent = try RunningDescent(
            arguments: [
                "--host", "127.0.0.1", "--port", "0", "--data-dir", directory.url.appendingPathComponent("data").path,
            ] + extraArguments)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, descent.process.isRunning {
            if let address = descent.logLine("listening")?["address"] as? String,
                let port = address.split(separator: ":").last.flatMap({ Int($0) })
            {
                return (descent, port)
            }
            usleep(10_000)
        }
        throw StartError(lines: descent.stderrLines)
    }

    package struct StartError: Error, CustomStringConvertible {
        package let lines: [String]
        package var description: String { "descent did not start listening: \(lines.suffix(5))" }
    }
}
