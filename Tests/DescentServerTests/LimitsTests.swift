import DescentHTTP
import DescentPOSIX
import Testing

@testable import DescentServer

/// A request that breaks a limit or a framing rule, and the status it must get.
struct RejectedRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var wire: String
    var status: Int
    var testDescription: String { "\(name) → \(status)" }

    /// Small limits, so that the requests that break them stay small.
    static func configure(_ configuration: inout ServerConfiguration) {
        configuration.limits.maxRequestLineBytes = 1024
        configuration.limits.maxHeaderBytes = 2048
        configuration.limits.maxHeaderCount = 10
        configuration.limits.maxBodyBytes = 1000
    }

    static let all: [RejectedRequest] = [
        RejectedRequest(
            name: "a request line longer than the limit",
            wire: "GET /\(String(repeating: "a", count: 1100)) HTTP/1.1\r\nHost: test\r\n\r\n", status: 414),
        RejectedRequest(
            name: "header fields larger than the limit",
            wire: "GET / HTTP/1.1\r\nHost: test\r\nX-Big: \(String(repeating: "b", count: 2100))\r\n\r\n", status: 431),
        RejectedRequest(
            name: "more header fields than the limit",
            wire: "GET / HTTP/1.1\r\nHost: test\r\n" + (0..<11).map { "X-F\($0): v\r\n" }.joined() + "\r\n", status: 431
        ),
        RejectedRequest(
            name: "a Content-Length over the body limit",
            wire: "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1001\r\n\r\n"
                + String(repeating: "c", count: 1001),
            status: 413),
        RejectedRequest(
            name: "a chunked body that grows over the body limit",
            wire: "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(repeating: "258\r\n\(String(repeating: "d", count: 600))\r\n", count: 2) + "0\r\n\r\n",
            status: 413),
        RejectedRequest(name: "an unknown method", wire: "BREW /pot HTTP/1.1\r\nHost: test\r\n\r\n", status: 501),
        RejectedRequest(
            name: "Content-Length together with Transfer-Encoding",
            wire: "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\n",
            status: 400),
        RejectedRequest(
            name: "two Content-Length fields",
            wire: "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", status: 400),
        RejectedRequest(
            name: "a bad chunk size",
            wire: "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
            status: 400),
        RejectedRequest(
            name: "an obsolete folded header line",
            wire: "GET /hello HTTP/1.1\r\nHost: test\r\nX-Folded: one\r\n two\r\n\r\n", status: 400),
    ]
}

extension LiveServerTests {
    @Suite("Limits and smuggling defences over a socket")
    struct LimitsTests {
        @Test(
            "a request over a limit or against a framing rule gets its problem+json, then the connection closes",
            arguments: RejectedRequest.all)
        func rejectedRequestGetsAProblemAndIsClosed(_ request: RejectedRequest) throws {
            let server = try TestServer(configure: RejectedRequest.configure)
            defer { server.stop() }
            let client = try server.connect()
            try client.send(request.wire)
            let response = try client.readResponse()
            #expect(response.isProblem(request.status), "\(response.status) \(response.text)")
            #expect(response.connection == "close")
            #expect(response.headers["X-Request-Id"] != nil)
            // A clean end of stream, not a reset: the server read what followed before it closed.
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }

        @Test("a problem after a pipelined good request comes second, and nothing after it is answered")
        func problemAfterAGoodRequest() throws {
            let server = try TestServer(configure: RejectedRequest.configure)
            defer { server.stop() }
            let client = try server.connect()
            try client.send(
                "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n" + "BREW /pot HTTP/1.1\r\nHost: test\r\n\r\n"
                    + "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
            #expect(try client.readResponse().isProblem(501))
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }

        @Test("requests exactly at the limits are served")
        func requestsAtTheLimitsAreServed() throws {
            let server = try TestServer(configure: RejectedRequest.configure)
            defer { server.stop() }
            let client = try server.connect()
            let body = String(repeating: "e", count: 1000)
            try client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n\(body)")
            #expect(try client.readResponse().text == body)
            let fields = (0..<9).map { "X-F\($0): v\r\n" }.joined()
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\(fields)\r\n")
            #expect(try client.readResponse().status == 200)
        }

        @Test("beyond maxConnections a new connection gets 503 problem+json and is closed; a freed slot serves again")
        func connectionCapAnswers503() async throws {
            let server = try TestServer(configure: { $0.maxConnections = 3 })
            defer { server.stop() }
            var idle = try (0..<3).map { _ in try server.connect() }
            #expect(await poll(within: 2) { server.server.connectionCount == 3 })

            let fourth = try server.connect()
            try fourth.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            let rejected = try fourth.readResponse()
            #expect(rejected.isProblem(503), "\(rejected.status) \(rejected.text)")
            #expect(rejected.headers["Retry-After"] != nil)
            #expect(rejected.headers["X-Request-Id"] != nil)
            #expect(rejected.connection == "close")
            #expect(try fourth.waitForClose(timeout: 2).isEmpty)
            #expect(server.server.connectionCount == 3)

            idle.removeLast().close()
            #expect(await poll(within: 2) { server.server.connectionCount == 2 })
            let fresh = try server.connect()
            try fresh.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try fresh.readResponse().text == "hello")
            // The idle ones were never disturbed.
            try idle[0].send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try idle[0].readResponse().text == "hello")
        }
    }
}
