import Dispatch
import Foundation
import Synchronization

/// What a finished child process left.
package struct ProcessResult {
    package var status: Int32
    package var stdout: Data
    package var stderr: String
    package var output: String { String(decoding: stdout, as: UTF8.self) }
}

package enum ChildProcessError: Error, CustomStringConvertible {
    case didNotExit(command: String, seconds: Double)

    package var description: String {
        switch self {
        case .didNotExit(let command, let seconds): "\(command) did not exit within \(seconds) s; it was killed"
        }
    }
}

/// Runs programs to completion with a time bound.
package enum ChildProcess {
    package static func run(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Double = 30
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // Both pipes are drained while the child runs, so that a full pipe can never stall it. On threads of
        // their own: blocking reads on Dispatch's global queue would starve the server under test, whose
        // queues and stream producers run on the same few threads.
        let collected = Mutex<(Data, Data)>((Data(), Data()))
        let readers = DispatchGroup()
        for (pipe, isStdout) in [(stdout, true), (stderr, false)] {
            readers.enter()
            Thread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.withLock { if isStdout { $0.0 = data } else { $0.1 = data } }
                readers.leave()
            }.start()
        }
        guard exited.wait(timeout: .now() + timeout) == .success else {
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 5)
            throw ChildProcessError.didNotExit(command: "\(path) \(arguments.joined(separator: " "))", seconds: timeout)
        }
        _ = readers.wait(timeout: .now() + 5)
        let (out, err) = collected.withLock { $0 }
        return ProcessResult(
            status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }
}

/// The real curl.
package enum Curl {
    package static let path = "/usr/bin/curl"
    package static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Runs `curl -sS` with `arguments`; curl's own limit keeps a stuck transfer from outliving the test.
    package static func run(_ arguments: [String]) throws -> ProcessResult {
        try ChildProcess.run(path, ["-sS", "--max-time", "20"] + arguments, timeout: 30)
    }
}

/// A file under a fresh temporary directory, removed with it.
package final class TemporaryDirectory {
    package let url: URL

    package init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("descent-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    package func file(_ name: String, contents: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(contents).write(to: file)
        return file.path
    }
}

/// Deterministic bytes that are not all alike, so that a reordered or dropped piece changes the checksum.
package func patternBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
}
