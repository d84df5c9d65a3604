import DescentHTTP
import Foundation
import Testing

extension LiveServerTests {
    @Suite("Streaming responses")
    struct StreamingTests {
        /// The most a TCP connection on this machine can hold in flight: our receive buffer (fixed by the test)
        /// plus the largest send buffer the kernel's autotuning may give the server (tcp_wmem's maximum).
        static func socketBufferBytes(receiveBuffer: Int) -> Int {
            let wmem =
                (try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_wmem", encoding: .utf8))
                .flatMap { $0.split(whereSeparator: \.isWhitespace).last.flatMap { Int($0) } } ?? 16 << 20
            return receiveBuffer + wmem
        }

        @Test(
            "a client that stops reading stops the producer after a bounded number of chunks; then it gets every byte")
        func backpressureBoundsWhatIsProduced() async throws {
            let stream = CountingStream(chunkSize: 64 * 1024, chunkCount: 3200)  // 200 MiB
            let server = try TestServer { $0.add(.GET, "/stream", answering: { _ in .streaming(stream) }) }
            defer { server.stop() }
            let client = try server.connect(timeout: 5)
            let receiveBuffer = client.setReceiveBuffer(256 * 1024)
            try client.send("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")

            // Read nothing for a second; the producer must stall once the socket buffers are full.
            try await Task.sleep(for: .seconds(1))
            let bound = Self.socketBufferBytes(receiveBuffer: receiveBuffer) / stream.chunk.count + 4
            let producedWhileStalled = stream.nextCalls
            #expect(producedWhileStalled >= 2, "the stream never started")
            #expect(
                producedWhileStalled <= bound,
                "\(producedWhileStalled) chunks produced for a client that read nothing; at most \(bound) fit in the buffers"
            )

            // Every chunk-size line is parsed on the way, so a framing error fails the read itself.
            var edgesAreData = true
            let response = try client.readResponse { piece in
                if piece.first != UInt8(ascii: "d") || piece.last != UInt8(ascii: "d") { edgesAreData = false }
            }
            #expect(response.status == 200)
            #expect(response.isChunked)
            #expect(response.headers["Content-Length"] == nil)
            #expect(response.bodyLength == stream.totalBytes)
            #expect(response.sawLastChunk && response.trailers.count == 0, "the body must end with 0\\r\\n\\r\\n")
            #expect(edgesAreData, "framing bytes leaked into the body")
            #expect(stream.nextCalls == stream.chunkCount + 1)
            #expect(!stream.wasCancelled)

            // Keep-alive after a complete stream.
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
        }

        @Test("a client that disconnects mid-stream makes the server cancel the producer and drop the connection")
        func disconnectCancelsTheStream() async throws {
            let stream = CountingStream(chunkSize: 64 * 1024, chunkCount: 3200)
            let server = try TestServer { $0.add(.GET, "/stream", answering: { _ in .streaming(stream) }) }
            defer { server.stop() }
            let client = try server.connect()
            try client.send("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
            let head = try client.readHead()
            #expect(head.status == 200)
            #expect(await poll(within: 2) { stream.nextCalls >= 3 })
            client.close()
            #expect(await poll(within: 3) { stream.wasCancelled }, "cancel() was not called")
            #expect(await poll(within: 3) { server.server.connectionCount == 0 })
            #expect(stream.nextCalls < stream.chunkCount)
        }

        @Test("a client that reads nothing for longer than the send timeout is dropped and the producer cancelled")
        func sendTimeoutDropsAStalledReader() async throws {
            let stream = CountingStream(chunkSize: 64 * 1024, chunkCount: 3200)
            let server = try TestServer(
                routes: { $0.add(.GET, "/stream", answering: { _ in .streaming(stream) }) },
                configure: { $0.sendTimeout = 0.5 })
            defer { server.stop() }
            let client = try server.connect()
            _ = client.setReceiveBuffer(64 * 1024)
            try client.send("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
            let started = ContinuousClock.now
            #expect(await poll(within: 5) { stream.wasCancelled }, "the stalled stream was never cancelled")
            let elapsed = seconds(since: started)
            #expect(elapsed >= 0.4, "cancelled after \(elapsed) s, before the send timeout")
            #expect(await poll(within: 2) { server.server.connectionCount == 0 })
        }

        @Test("an HTTP/1.0 client gets a streamed body without chunked framing, ended by closing the connection")
        func http10StreamIsDelimitedByClose() throws {
            let stream = CountingStream(chunkSize: 1000, chunkCount: 5)
            let server = try TestServer { $0.add(.GET, "/stream", answering: { _ in .streaming(stream) }) }
            defer { server.stop() }
            let client = try server.connect()
            try client.send("GET /stream HTTP/1.0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(!response.isChunked)
            #expect(response.connection == "close")
            #expect(response.body == Array(repeating: UInt8(ascii: "d"), count: 5000))
        }

        @Test("HEAD on a streaming route sends the head only and cancels the producer")
        func headOnAStreamCancelsIt() async throws {
            let stream = CountingStream(chunkSize: 1000, chunkCount: 5)
            let server = try TestServer { $0.add(.GET, "/stream", answering: { _ in .streaming(stream) }) }
            defer { server.stop() }
            let client = try server.connect()
            try client.send("HEAD /stream HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try client.readResponse(toHEAD: true)
            #expect(response.status == 200)
            #expect(stream.wasCancelled)
            #expect(stream.nextCalls == 0)
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
        }
    }
}
