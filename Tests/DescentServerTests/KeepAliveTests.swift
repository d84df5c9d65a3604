import DescentHTTP
import Testing

@testable import DescentServer

extension LiveServerTests {
    @Suite("Keep-alive, HTTP/1.0, HEAD and request ids")
    struct KeepAliveTests {
        @Test("several requests are answered one after another on one HTTP/1.1 connection")
        func severalRequestsOnOneConnection() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            for _ in 0..<5 {
                try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "hello")
                #expect(response.headers["Content-Length"] == "5")
                #expect(response.connection == "keep-alive")
            }
            #expect(server.server.connectionCount == 1)
        }

        @Test("a handler's second answer does not reach the next request on the connection")
        func secondAnswerReachesNoOne() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send("GET /twice HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "first")
            // Still waiting for its answer when /twice answers again.
            try client.send("GET /after/300 HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "300")
        }

        @Test("Connection: close is answered with Connection: close, and then the server closes")
        func connectionCloseClosesAfterTheResponse() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello")
            #expect(response.connection == "close")
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }

        @Test("an HTTP/1.0 request without keep-alive gets its answer and then the connection is closed")
        func http10ClosesByDefault() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send("GET /hello HTTP/1.0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello")
            #expect(response.connection == "close")
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }

        @Test("an HTTP/1.0 request with Connection: keep-alive keeps the connection open for the next one")
        func http10KeepAliveStaysOpen() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            for _ in 0..<3 {
                try client.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "hello")
                #expect(response.connection == "keep-alive")
            }
            // Still open: no end-of-stream within a moment.
            #expect(!client.isClosedByServer(within: 0.3))
        }

        @Test("HEAD gets the GET route's headers with its Content-Length, and no body bytes on the wire")
        func headHasNoBody() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send("HEAD /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            let head = try client.readResponse(toHEAD: true)
            #expect(head.status == 200)
            #expect(head.headers["Content-Length"] == "5")
            #expect(head.headers["Content-Type"] == "text/plain")
            // Had body bytes followed the head, this response would begin with them and not parse.
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            let next = try client.readResponse()
            #expect(next.status == 200)
            #expect(next.text == "hello")
        }

        @Test("every response carries an X-Request-Id, and two requests get different ones")
        func everyResponseHasARequestID() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            var seen: [String] = []
            for path in ["/hello", "/nowhere", "/hello"] {
                try client.send("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n")
                let response = try client.readResponse()
                let id = try #require(response.headers["X-Request-Id"])
                #expect(RequestIdentifier.isAcceptable(id))
                seen.append(id)
            }
            #expect(Set(seen).count == 3)
            // Also on an answer the handler never saw: a parse error.
            let broken = try server.connect()
            try broken.send("GET /hello HTTP/1.1\r\n\r\n")
            let problem = try broken.readResponse()
            #expect(problem.isProblem(400))
            #expect(problem.headers["X-Request-Id"] != nil)
        }

        @Test("a client's X-Request-Id is echoed, on success and on a problem")
        func clientRequestIDIsEchoed() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\nX-Request-Id: trace-42.abc_DEF\r\n\r\n")
            #expect(try client.readResponse().headers["X-Request-Id"] == "trace-42.abc_DEF")
            try client.send("GET /nowhere HTTP/1.1\r\nHost: test\r\nX-Request-Id: missing-1\r\n\r\n")
            let notFound = try client.readResponse()
            #expect(notFound.isProblem(404))
            #expect(notFound.headers["X-Request-Id"] == "missing-1")
        }

        @Test(
            "an X-Request-Id that is not short visible ASCII is replaced by a fresh one",
            arguments: ["has spaces in it", String(repeating: "a", count: 129), "tab\there"])
        func invalidRequestIDIsReplaced(id: String) throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\nX-Request-Id: \(id)\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            let echoed = try #require(response.headers["X-Request-Id"])
            #expect(echoed != id)
            #expect(RequestIdentifier.isAcceptable(echoed))
        }

        @Test("128 bytes is the longest X-Request-Id that is echoed")
        func longestRequestIDIsEchoed() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            let id = String(repeating: "z", count: 128)
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\nX-Request-Id: \(id)\r\n\r\n")
            #expect(try client.readResponse().headers["X-Request-Id"] == id)
        }
    }
}
