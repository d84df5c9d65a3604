import DescentHTTP
import Testing

@testable import DescentServer

extension LiveServerTests {
    @Suite("Timeouts")
    struct TimeoutTests {
        static func shortTimeouts(_ configuration: inout ServerConfiguration) {
            configuration.headerTimeout = 0.4
            configuration.bodyTimeout = 0.4
            configuration.idleTimeout = 0.4
            configuration.lingerTimeout = 0.3
        }

        @Test("a head that stops arriving is answered 408 problem+json after the header timeout, then closed")
        func headerTimeout() throws {
            let server = try TestServer(configure: Self.shortTimeouts)
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            let started = ContinuousClock.now
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n")
            let response = try client.readResponse()
            let elapsed = seconds(since: started)
            #expect(response.isProblem(408), "\(response.status) \(response.text)")
            #expect(response.connection == "close")
            #expect(elapsed >= 0.35, "answered after \(elapsed) s, before the header timeout")
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }

        @Test("dripping a head byte by byte does not extend the header timeout (slow loris)")
        func slowLorisIsCutOff() throws {
            let server = try TestServer(configure: Self.shortTimeouts)
            defer { server.stop() }
            let client = try server.connect(timeout: 0.05)
            let head = Array("GET /hello HTTP/1.1\r\nHost: test\r\nX-Slow: \(String(repeating: "s", count: 200))".utf8)
            let started = ContinuousClock.now
            var answer: RawResponse?
            for byte in head {
                // The server may close while we still write; what matters is what it answered.
                guard (try? client.send([byte])) != nil else { break }
                if let response = try? client.readResponse() {
                    answer = response
                    break
                }
            }
            if answer == nil {
                client.setTimeout(2)
                answer = try client.readResponse()
            }
            let elapsed = seconds(since: started)
            #expect(answer?.isProblem(408) == true)
            #expect(elapsed < 2, "the drip was cut off only after \(elapsed) s")
        }

        @Test("dripping the HTTP/2 preface (too few bytes to tell the protocol) is cut off at the header timeout")
        func slowPrefaceIsCutOff() throws {
            // An idle timeout far beyond the header timeout: the cut must come from the latter.
            let server = try TestServer(configure: {
                Self.shortTimeouts(&$0)
                $0.idleTimeout = 10
            })
            defer { server.stop() }
            let client = try server.connect(timeout: 0.1)
            let started = ContinuousClock.now
            var closed = false
            for byte in Array("PRI * HTTP/2.0\r\n".utf8) {
                guard (try? client.send([byte])) != nil else { break }
                if client.isClosedByServer(within: 0.1) {
                    closed = true
                    break
                }
            }
            if !closed { closed = client.isClosedByServer(within: 2) }
            let elapsed = seconds(since: started)
            #expect(closed)
            #expect(elapsed >= 0.35 && elapsed < 2.5, "closed after \(elapsed) s")
        }

        @Test("over HTTP/2, dripping a HEADERS frame is cut off at the header timeout, however often bytes come")
        func slowHTTP2HeadersAreCutOff() throws {
            let server = try TestServer(configure: {
                Self.shortTimeouts(&$0)
                $0.idleTimeout = 10
                $0.bodyTimeout = 10
            })
            defer { server.stop() }
            let client = try server.connect(timeout: 0.1)
            // The preface and an empty SETTINGS at once; then GET / (HPACK: :method GET, :scheme http, :path /,
            // :authority x) in one HEADERS frame with END_STREAM | END_HEADERS, a byte at a time.
            try client.send(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0])
            let block: [UInt8] = [0x82, 0x86, 0x84, 0x41, 0x01, UInt8(ascii: "x")]
            let frame: [UInt8] = [0, 0, UInt8(block.count), 1, 0x05, 0, 0, 0, 1] + block
            let started = ContinuousClock.now
            var closed = false
            for byte in frame.dropLast() {
                guard (try? client.send([byte])) != nil else { break }
                // The server's SETTINGS, its ACK and at the end a GOAWAY arrive meanwhile: read past them.
                if (try? client.waitForClose(timeout: 0.1)) != nil {
                    closed = true
                    break
                }
            }
            if !closed { closed = (try? client.waitForClose(timeout: 2)) != nil }
            let elapsed = seconds(since: started)
            #expect(closed)
            #expect(elapsed < 2.5, "closed after \(elapsed) s")
        }

        @Test("a body that stops arriving is answered 408 after the body timeout, then closed")
        func bodyTimeout() throws {
            let server = try TestServer(configure: Self.shortTimeouts)
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            let started = ContinuousClock.now
            try client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc")
            let response = try client.readResponse()
            let elapsed = seconds(since: started)
            #expect(response.isProblem(408), "\(response.status) \(response.text)")
            #expect(elapsed >= 0.35, "answered after \(elapsed) s, before the body timeout")
            #expect(try client.waitForClose(timeout: 2).isEmpty)
        }

        @Test("a body that keeps arriving, slower in total than the body timeout, is not cut off")
        func bodyTimeoutIsPerPause() async throws {
            let server = try TestServer(configure: Self.shortTimeouts)
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            try client.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 8\r\n\r\n")
            for byte in Array("12345678".utf8) {
                try await Task.sleep(for: .milliseconds(120))
                try client.send([byte])
            }
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "12345678")
        }

        @Test("an idle keep-alive connection is closed silently after the idle timeout")
        func idleTimeoutClosesSilently() throws {
            let server = try TestServer(configure: Self.shortTimeouts)
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
            let started = ContinuousClock.now
            #expect(try client.waitForClose().isEmpty)
            let elapsed = seconds(since: started)
            #expect(elapsed >= 0.3, "closed after \(elapsed) s, before the idle timeout")
        }

        @Test("a connection that never sends a byte is closed silently after the idle timeout")
        func silentConnectionIsClosed() throws {
            let server = try TestServer(configure: Self.shortTimeouts)
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            #expect(try client.waitForClose().isEmpty)
            #expect(server.server.connectionCount == 0)
        }

        @Test("a slow handler is not subject to the read timeouts")
        func slowHandlerIsNotTimedOut() throws {
            let server = try TestServer(configure: Self.shortTimeouts)
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            try client.send("GET /after/900 HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "900")
        }
    }
}
