import DescentHTTP
import Testing

extension LiveServerTests {
    @Suite("Pipelining")
    struct PipeliningTests {
        @Test("three requests written at once are answered in the order they were sent, not the order they finish")
        func pipelinedRequestsAreAnsweredInOrder() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            // The first answer takes longest and the second none: only ordering by request gives 300, 0, 150.
            try client.send(
                "GET /after/300 HTTP/1.1\r\nHost: test\r\nX-Request-Id: first\r\n\r\n"
                    + "GET /after/0 HTTP/1.1\r\nHost: test\r\nX-Request-Id: second\r\n\r\n"
                    + "GET /after/150 HTTP/1.1\r\nHost: test\r\nX-Request-Id: third\r\n\r\n")
            var bodies: [String] = []
            var ids: [String] = []
            for _ in 0..<3 {
                let response = try client.readResponse()
                #expect(response.status == 200)
                bodies.append(response.text)
                ids.append(response.headers["X-Request-Id"] ?? "")
            }
            #expect(bodies == ["300", "0", "150"])
            #expect(ids == ["first", "second", "third"])
            // The connection is still good for a fourth request.
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
        }

        @Test("pipelined requests with bodies of both framings keep their boundaries")
        func pipelinedBodiesKeepTheirBoundaries() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send(
                "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nfirst"
                    + "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n"
                    + "GET /after/50 HTTP/1.1\r\nHost: test\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthird")
            var bodies: [String] = []
            for _ in 0..<4 { bodies.append(try client.readResponse().text) }
            #expect(bodies == ["first", "second", "50", "third"])
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }

        @Test("requests pipelined past the read-ahead limit are all answered, though the rest wait in the socket")
        func pipelinedPastTheReadAheadLimit() throws {
            // The connection stops reading at the read-ahead limit, answers what it has, then reads on: with the lane's
            // epoll edge-triggered, the bytes left in the socket must still be found (`Connection.lookAgain`).
            let server = try TestServer(configure: { $0.maxReadAheadBytes = 1024 })
            defer { server.stop() }
            let client = try server.connect()
            let count = 2000
            try client.send(String(repeating: "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n", count: count))
            var answered = 0
            for _ in 0..<count where try client.readResponse().text == "hello" { answered += 1 }
            #expect(answered == count)
        }

        @Test("a client that half-closes after pipelining requests gets every answer, then the close")
        func halfCloseAfterPipelinedRequests() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            // What `printf '...' | nc -N host port` does: send everything, then shut the sending side.
            try client.send(
                "GET /after/100 HTTP/1.1\r\nHost: test\r\n\r\n" + "GET /after/0 HTTP/1.1\r\nHost: test\r\n\r\n"
                    + "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            client.socket.shutdownWrite()
            var bodies: [String] = []
            for _ in 0..<3 { bodies.append(try client.readResponse().text) }
            #expect(bodies == ["100", "0", "hello"])
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }

        @Test("a pipelined request after Connection: close is not answered")
        func nothingIsAnsweredAfterConnectionClose() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send(
                "GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
                    + "GET /after/0 HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.text == "hello")
            #expect(response.connection == "close")
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }
    }
}
