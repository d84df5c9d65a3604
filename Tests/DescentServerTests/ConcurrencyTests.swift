import DescentHTTP
import DescentPOSIX
import Glibc
import Testing

@testable import DescentServer

/// Whether this machine can bind the IPv6 loopback address.
func hasIPv6Loopback() -> Bool {
    guard let address = try? SocketAddress.resolve(host: "::1", port: 0),
        let socket = try? Socket.listening(on: address)
    else { return false }
    socket.close()
    return true
}

/// Raises this process's open-file limit to its hard maximum; returns the limit now in force.
func raiseOpenFileLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(limit.rlim_cur)
}

extension LiveServerTests {
    @Suite("Concurrency and address families")
    struct ConcurrencyTests {
        @Test("however many I/O threads (event lanes), every connection is served", arguments: [1, 3])
        func ioThreads(count: Int) throws {
            let server = try TestServer(configure: { $0.ioThreads = count })
            defer { server.stop() }
            #expect(server.server.laneCount == count)
            // More connections than lanes, so that each lane holds several, each sending two requests.
            let clients = try (0..<4 * count + 1).map { _ in try server.connect() }
            for (index, client) in clients.enumerated() {
                try client.send("GET /after/\(index % 7) HTTP/1.1\r\nHost: test\r\n\r\n")
                try client.send("GET /after/\(index % 5) HTTP/1.1\r\nHost: test\r\n\r\n")
            }
            for (index, client) in clients.enumerated() {
                #expect(try client.readResponse().text == "\(index % 7)")
                #expect(try client.readResponse().text == "\(index % 5)")
                client.close()
            }
        }

        @Test("1,000 connections open at once each get their answer")
        func thousandConcurrentConnections() throws {
            let count = 1000
            let limit = raiseOpenFileLimit()
            // Both ends of every connection live in this process.
            try #require(
                limit >= 2 * count + 100, "the open-file limit is \(limit); this test needs \(2 * count + 100)")
            let server = try TestServer(configure: { $0.idleTimeout = 30 })
            defer { server.stop() }
            var clients: [RawClient] = []
            clients.reserveCapacity(count)
            for _ in 0..<count { clients.append(try server.connect(timeout: 10)) }
            #expect(server.server.connectionCount <= count)
            for (index, client) in clients.enumerated() {
                try client.send("GET /after/\(index % 7) HTTP/1.1\r\nHost: test\r\nX-Request-Id: c\(index)\r\n\r\n")
            }
            var answered = 0
            for (index, client) in clients.enumerated() {
                let response = try client.readResponse()
                if response.status == 200 && response.text == "\(index % 7)"
                    && response.headers["X-Request-Id"] == "c\(index)"
                {
                    answered += 1
                }
            }
            #expect(answered == count)
            #expect(server.server.connectionCount == count)
            for client in clients { client.close() }
        }

        @Test("many clients on their own threads, each with several requests, are all answered")
        func parallelClients() async throws {
            let server = try TestServer()
            defer { server.stop() }
            let port = server.port
            let answered = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        let client = try RawClient(port: port)
                        var good = 0
                        for request in 0..<20 {
                            let body = "w\(worker)r\(request)"
                            try client.send(
                                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                            if try client.readResponse().text == body { good += 1 }
                        }
                        return good
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(answered == 16 * 20)
        }

        @Test(
            "a server on the IPv6 loopback answers",
            .enabled(if: hasIPv6Loopback(), "this machine has no IPv6 loopback"))
        func ipv6Loopback() throws {
            let server = try TestServer(host: "::1")
            defer { server.stop() }
            #expect(server.server.address == "[::1]:\(server.port)")
            let client = try server.connect()
            try client.send("GET /hello HTTP/1.1\r\nHost: [::1]\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello")
        }

        @Test("a server on :: answers IPv4 clients too", .enabled(if: hasIPv6Loopback(), "this machine has no IPv6"))
        func dualStackListener() throws {
            let server = try TestServer(host: "::")
            defer { server.stop() }
            let client = try RawClient(host: "127.0.0.1", port: server.port)
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
        }
    }
}
