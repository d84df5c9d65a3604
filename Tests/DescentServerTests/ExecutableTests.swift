import DescentTestSupport
import Foundation
import Synchronization
import Testing

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
