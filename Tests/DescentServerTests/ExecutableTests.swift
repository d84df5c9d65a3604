import Foundation
import Synchronization
import Testing

/// The built `descent` executable: found from this file's path, since tests may run from any directory.
enum DescentBinary {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let path = packageRoot.appendingPathComponent(".build/debug/descent").path
    static var exists: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// The environment of the tests without any DESCENT_ variable, so that only the flags configure the child.
    static var cleanEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DESCENT_") }
    }

    /// The variables API.md documents; `--help` must name each.
    static let documentedVariables = [
        "DESCENT_HOST", "DESCENT_PORT", "DESCENT_DATA_DIR", "DESCENT_WORKERS", "DESCENT_MAX_QUEUE",
        "DESCENT_MAX_BODY_BYTES", "DESCENT_LOG_LEVEL", "DESCENT_API_KEYS",
    ]
}

/// A running `descent` whose standard error is collected line by line while it runs.
final class RunningDescent {
    let process = Process()
    private let lines = LineCollector()

    init(arguments: [String]) throws {
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

    var stderrLines: [String] { lines.lines }

    /// The first JSON log line whose `msg` is `message`.
    func logLine(_ message: String) -> [String: Any]? {
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
final class LineCollector: Sendable {
    private let state = Mutex<(partial: [UInt8], lines: [String])>(([], []))

    func append(_ data: Data) {
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

    var lines: [String] { state.withLock { $0.lines } }
}

extension LiveServerTests {
    @Suite(
        "The descent executable",
        .enabled(if: DescentBinary.exists, "no executable at .build/debug/descent; run `swift build` first"))
    struct ExecutableTests {
        @Test("descent serves /healthz, and on SIGTERM closes an idle connection and exits 0")
        func servesAndStopsOnSIGTERM() async throws {
            let data = try TemporaryDirectory()
            let descent = try RunningDescent(arguments: [
                "--host", "127.0.0.1", "--port", "0", "--data-dir", data.url.appendingPathComponent("data").path,
            ])
            #expect(await poll(within: 15) { descent.logLine("listening") != nil || !descent.process.isRunning })
            let listening = try #require(descent.logLine("listening"), "no listening line: \(descent.stderrLines)")
            let address = try #require(listening["address"] as? String)
            let port = try #require(address.split(separator: ":").last.flatMap { Int($0) }, "address \(address)")
            #expect(port > 0)

            if Curl.isInstalled {
                let health = try Curl.run(["-w", " %{http_code}", "http://127.0.0.1:\(port)/healthz"])
                #expect(health.output == #"{"status":"ok"} 200"#, "\(health.stderr)")
            }

            let idle = try RawClient(port: port, timeout: 3)
            try idle.send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try idle.readResponse()
            #expect(response.status == 200)
            #expect(response.connection == "keep-alive")

            let signalled = ContinuousClock.now
            kill(descent.process.processIdentifier, SIGTERM)
            #expect(try idle.waitForClose(timeout: 3).isEmpty, "the idle connection was not closed")
            let exited = await poll(within: 10) { !descent.process.isRunning }
            try #require(exited, "descent did not exit within 10 s of SIGTERM")
            let elapsed = seconds(since: signalled)
            #expect(descent.process.terminationReason == .exit)
            #expect(descent.process.terminationStatus == 0, "\(descent.stderrLines.suffix(5))")
            #expect(elapsed < 3, "an idle server took \(elapsed) s to stop")
            #expect(await poll(within: 1) { descent.logLine("stopped") != nil })
        }

        @Test("descent --help exits 0 and names every documented DESCENT_ variable")
        func helpNamesEveryVariable() throws {
            let result = try ChildProcess.run(
                DescentBinary.path, ["--help"], environment: DescentBinary.cleanEnvironment)
            #expect(result.status == 0)
            for variable in DescentBinary.documentedVariables {
                #expect(result.output.contains(variable), "--help does not mention \(variable)")
            }
        }

        @Test("descent --port abc exits 2 with one line that names --port")
        func badPortExits2() throws {
            let result = try ChildProcess.run(
                DescentBinary.path, ["--port", "abc"], environment: DescentBinary.cleanEnvironment)
            #expect(result.status == 2)
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("--port"))
            #expect(result.output.isEmpty)
        }
    }
}
