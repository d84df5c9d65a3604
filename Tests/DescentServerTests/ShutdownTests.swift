import DescentHTTP
import DescentPOSIX
import Dispatch
import Foundation
import Glibc
import Testing

@testable import DescentServer

extension LiveServerTests {
    @Suite("Graceful shutdown")
    struct ShutdownTests {
        @Test("shutdown lets an in-flight request finish, closes idle connections at once and refuses new ones")
        func inFlightRequestFinishes() async throws {
            let started = Flag()
            let answered = Flag()
            let server = try TestServer {
                $0.add(.GET, "/slow") { _, responder in
                    started.set()
                    DispatchQueue.global().asyncAfter(deadline: .now() + 1) {
                        answered.set()
                        responder.respond(TestRoutes.text("finished"))
                    }
                }
            }
            defer { server.stop() }
            let idle = try server.connect(timeout: 3)
            try idle.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try idle.readResponse().connection == "keep-alive")
            let busy = try server.connect(timeout: 3)
            try busy.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await poll(within: 2) { started.isSet })

            let shutdownStarted = ContinuousClock.now
            let done = server.beginShutdown()
            #expect(server.server.isDraining)

            // The idle connection goes at once, long before the slow answer.
            #expect(try idle.waitForClose(timeout: 0.5).isEmpty)
            #expect(!answered.isSet, "the idle connection was closed only after the slow request finished")

            // New connections are refused once the listener is closed.
            let refused = try await poll(within: 1) {
                do {
                    let probe = try RawClient(port: server.port, timeout: 0.5)
                    probe.close()
                    return false
                } catch let error as SystemError {
                    return error.errno == Errno(rawValue: ECONNREFUSED)
                }
            }
            #expect(refused, "a new connection was still accepted during the shutdown")

            // The request in flight still gets its whole answer, marked as the connection's last.
            let response = try busy.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "finished")
            #expect(response.connection == "close")
            #expect(seconds(since: shutdownStarted) >= 0.5, "the answer came before the shutdown")
            #expect(try busy.waitForClose(timeout: 2).isEmpty)
            #expect(await poll(within: 2) { done.isSet }, "the shutdown completion was never called")
            #expect(server.server.connectionCount == 0)
        }

        @Test("shutdown ends an open stream with its terminal chunk, cancels the producer and completes")
        func shutdownEndsAStreamCleanly() async throws {
            let stream = TickingStream(interval: 0.02)
            let server = try TestServer { $0.add(.GET, "/events", answering: { _ in .streaming(stream) }) }
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            try client.send("GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await poll(within: 2) { stream.delivered >= 3 })

            let done = server.beginShutdown()
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.sawLastChunk && response.trailers.count == 0, "the stream did not end with 0\\r\\n\\r\\n")
            let lines = response.text.split(separator: "\n")
            #expect(lines.count >= 3)
            #expect(lines.allSatisfy { $0.hasPrefix("tick ") }, "a tick was cut in half: \(response.text)")
            #expect(try client.waitForClose(timeout: 2).isEmpty)
            #expect(stream.wasCancelled)
            #expect(await poll(within: 2) { done.isSet }, "the shutdown completion was never called")
        }

        @Test("connections that arrive while the shutdown begins are closed too, so it completes at once")
        func connectionsArrivingDuringShutdown() async throws {
            for round in 0..<30 {
                let server = try TestServer()
                defer { server.stop() }
                let stop = Flag()
                let connected = Counter()
                let port = server.port
                // Keep-alive clients that arrive as fast as they can, and stay idle once answered.
                let thread = Thread {
                    var clients: [RawClient] = []
                    while !stop.isSet {
                        guard let client = try? RawClient(port: port, timeout: 2) else { continue }
                        clients.append(client)
                        connected.increment()
                        try? client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
                    }
                    for client in clients { client.close() }
                }
                thread.start()
                #expect(await poll(within: 2) { connected.current >= 5 + round % 7 })
                let started = ContinuousClock.now
                let done = server.beginShutdown()
                let completed = await poll(within: 2.5) { done.isSet }
                let elapsed = seconds(since: started)
                stop.set()
                #expect(
                    completed && elapsed < 1,
                    "round \(round): completed \(completed) after \(elapsed) s; \(server.server.connectionCount) still open"
                )
                #expect(await poll(within: 1) { server.server.connectionCount == 0 })
                guard completed && elapsed < 1 else { break }
            }
        }

        @Test("a shutdown with nothing open completes at once")
        func shutdownOfAnIdleServerCompletes() async throws {
            let server = try TestServer()
            defer { server.stop() }
            let done = server.beginShutdown()
            #expect(await poll(within: 0.5) { done.isSet })
        }

        @Test("a second shutdown call gets its completion too, during the drain and after it")
        func everyShutdownCallCompletes() async throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            try client.send("GET /after/300 HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await poll(within: 2) { server.server.connectionCount == 1 })
            let first = server.beginShutdown()
            let second = server.beginShutdown()
            #expect(try client.readResponse().text == "300")
            #expect(await poll(within: 2) { first.isSet }, "the first completion was never called")
            #expect(await poll(within: 1) { second.isSet }, "a shutdown called during the drain never completed")
            let third = server.beginShutdown()
            #expect(await poll(within: 1) { third.isSet }, "a shutdown called after the drain never completed")
        }

        @Test("a request that never finishes is cut off when the shutdown timeout passes")
        func shutdownTimeoutBoundsTheWait() async throws {
            let received = Flag()
            let server = try TestServer(
                routes: { $0.add(.GET, "/never") { _, _ in received.set() } }, configure: { $0.shutdownTimeout = 0.5 })
            defer { server.stop() }
            let client = try server.connect(timeout: 3)
            try client.send("GET /never HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(await poll(within: 2) { received.isSet })
            let started = ContinuousClock.now
            let done = server.beginShutdown()
            #expect(await poll(within: 3) { done.isSet })
            let elapsed = seconds(since: started)
            #expect(elapsed >= 0.4 && elapsed < 2, "completed after \(elapsed) s")
            #expect(client.isClosedByServer(within: 1))
        }
    }
}
