import Foundation
import Synchronization
import Testing

@testable import DescentHTTP
@testable import DescentLog
@testable import DescentService

/// Router-level tests: requests go straight to `Application.handle`, no sockets.
@Suite("Application routes")
struct ApplicationTests {
    private func application(dataDirectory: String = NSTemporaryDirectory()) -> Application {
        var configuration = Configuration()
        configuration.dataDirectory = dataDirectory
        configuration.server.host = "127.0.0.1"
        configuration.server.port = 0
        return Application(configuration: configuration, logger: Logger(sink: MemorySink()))
    }

    private func call(_ app: Application, _ method: HTTPMethod, _ target: String) throws -> HTTPResponse {
        let answer = Mutex<HTTPResponse?>(nil)
        let request = HTTPRequest(head: HTTPRequestHead(method: method, target: target, headers: ["Host": "x"]))
        app.handle(request, Responder { response in answer.withLock { $0 = response } })
        return try #require(answer.withLock { $0 })
    }

    private func body(_ response: HTTPResponse) -> String {
        guard case .bytes(let bytes) = response.body else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("GET /healthz answers 200 with status ok")
    func health() throws {
        let response = try call(application(), .GET, "/healthz")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(body(response) == #"{"status":"ok"}"#)
    }

    @Test("an unknown path is a 404 problem naming the path")
    func notFound() throws {
        let response = try call(application(), .GET, "/v9/nothing")
        #expect(response.status.code == 404)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(body(response).contains("/v9/nothing"))
    }

    @Test("a known path with another method is a 405 problem with Allow")
    func methodNotAllowed() throws {
        let response = try call(application(), .DELETE, "/healthz")
        #expect(response.status.code == 405)
        #expect(response.headers["Allow"] == "GET, HEAD")
        #expect(response.headers["Content-Type"] == "application/problem+json")
    }

    @Test("readiness is 503 before the server starts, 200 once it runs, and 503 while it drains")
    func readinessFollowsTheServer() throws {
        let directory = NSTemporaryDirectory() + "descent-ready-\(UUID().uuidString)"
        let app = application(dataDirectory: directory)
        #expect(try call(app, .GET, "/readyz").status.code == 503)
        try app.start()
        #expect(FileManager.default.fileExists(atPath: directory))
        #expect(try call(app, .GET, "/readyz").status == .ok)
        let stopped = Mutex(false)
        app.shutdown { stopped.withLock { $0 = true } }
        let draining = try call(app, .GET, "/readyz")
        #expect(draining.status.code == 503 && draining.headers["Retry-After"] == "1")
        for _ in 0..<200 where !stopped.withLock({ $0 }) { usleep(10_000) }
        #expect(stopped.withLock { $0 })
    }

    @Test("readiness is 503 when the data directory is no longer writable")
    func readinessChecksTheDataDirectory() throws {
        let directory = NSTemporaryDirectory() + "descent-ro-\(UUID().uuidString)"
        let app = application(dataDirectory: directory)
        try app.start()
        defer { app.shutdown {} }
        try FileManager.default.removeItem(atPath: directory)
        let response = try call(app, .GET, "/readyz")
        #expect(response.status.code == 503)
        #expect(body(response).contains("not writable"))
    }

    @Test("GET /openapi.yaml serves the repository's openapi.yaml byte for byte, as application/yaml")
    func servesTheSpec() throws {
        let response = try call(application(), .GET, "/openapi.yaml")
        #expect(response.headers["Content-Type"] == "application/yaml")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = try Data(contentsOf: root.appendingPathComponent("openapi.yaml"))
        guard case .bytes(let bytes) = response.body else {
            Issue.record("not a byte body")
            return
        }
        #expect(bytes == Array(file))
    }

    @Test("a data directory that cannot be created stops start-up with a message naming it")
    func unusableDataDirectory() {
        let app = application(dataDirectory: "/proc/descent-cannot-exist")
        #expect {
            try app.start()
        } throws: { error in
            "\(error)".contains("/proc/descent-cannot-exist") && "\(error)".contains("--data-dir")
        }
    }
}
