import DescentHTTP
import DescentTestSupport
import Foundation
import Testing

extension LiveServerTests {
    @Suite("Request bodies and Expect: 100-continue")
    struct RequestBodyTests {
        @Test("a chunked body with chunk extensions and trailers reaches the handler intact")
        func chunkedBodyWithTrailers() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send(
                "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;name=value\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello, world")
        }

        @Test("a large chunked body sent in pieces at odd boundaries arrives byte for byte")
        func largeChunkedBodyInPieces() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            let payload = patternBytes(300_000)
            var wire = Array("POST /digest HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            var offset = 0
            for size in [1, 4096, 65_536, 7, 100_000] + Array(repeating: 30_000, count: 5) where offset < payload.count
            {
                let piece = payload[offset..<min(payload.count, offset + size)]
                wire += Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]
                offset += piece.count
            }
            #expect(offset == payload.count)
            wire += Array("0\r\nX-Trailer: yes\r\n\r\n".utf8)
            var start = 0
            while start < wire.count {
                // 1,000-byte writes: chunk-size lines, data and CRLFs all get split.
                let end = min(wire.count, start + 1000 + start % 7)
                try client.send(Array(wire[start..<end]))
                start = end
            }
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "\(payload.count) \(fnv1a(payload))")
        }

        @Test("with Expect: 100-continue the server answers 100 Continue after the head, before the body is sent")
        func expectContinueGetsAnInterimResponse() throws {
            let server = try TestServer()
            defer { server.stop() }
            // Shorter than curl's one-second wait: a server that stays silent fails here.
            let client = try server.connect(timeout: 0.8)
            try client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.status == 100)
            #expect(interim.reason == "Continue")
            try client.send("hello world")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello world")
            // And once per request: the next request on the connection gets its own.
            try client.send(
                "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            try client.send("2\r\nok\r\n0\r\n\r\n")
            #expect(try client.readResponse().text == "ok")
        }

        @Test("a client that sends the body without waiting gets the final answer with no 100 Continue")
        func expectContinueWithTheBodyAlreadySent() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect()
            try client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi")
            // RFC 9110 §10.1.1: the server may omit 100 once it has the content; this one does.
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hi")
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
        }

        @Test("Expect: 100-continue with a Content-Length over the limit is answered 413 instead of 100")
        func expectContinueOverTheLimit() throws {
            let server = try TestServer(configure: { $0.limits.maxBodyBytes = 1000 })
            defer { server.stop() }
            let client = try server.connect()
            try client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.isProblem(413))
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }
    }
}
