import Glibc
import Testing

@testable import DescentPOSIX

@Suite("Socket")
struct SocketTests {
    @Test("a listener on port 0 gets a free port, accepts a client and both directions carry bytes")
    func acceptsAndTransfers() throws {
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let address = try listener.localAddress()
        #expect(address.port > 0)
        #expect(address.host == "127.0.0.1")

        let client = try Socket.connected(to: address)
        defer { client.close() }
        var accepted: (Socket, SocketAddress)?
        for _ in 0..<100 where accepted == nil {
            accepted = try listener.accept()
            if accepted == nil { usleep(10_000) }
        }
        let (server, remote) = try #require(accepted)
        defer { server.close() }
        #expect(remote.host == "127.0.0.1")

        let message: [UInt8] = Array("hello".utf8)
        #expect(try message.withUnsafeBytes { try client.write($0) } == .processed(5))
        var received = [UInt8](repeating: 0, count: 16)
        var result = IOResult.wouldBlock
        for _ in 0..<100 {
            result = try received.withUnsafeMutableBytes { try server.read(into: $0) }
            if result != .wouldBlock { break }
            usleep(10_000)
        }
        #expect(result == .processed(5))
        #expect(Array(received.prefix(5)) == message)
    }

    @Test("accept on a non-blocking listener with nothing pending returns nil instead of blocking")
    func acceptWithNothingPending() throws {
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        #expect(try listener.accept() == nil)
    }

    @Test("reading an accepted socket with no data is wouldBlock, and after the peer closes it is 0 bytes")
    func readStates() throws {
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let client = try Socket.connected(to: try listener.localAddress())
        var accepted: (Socket, SocketAddress)?
        for _ in 0..<100 where accepted == nil {
            accepted = try listener.accept()
            if accepted == nil { usleep(10_000) }
        }
        let (server, _) = try #require(accepted)
        defer { server.close() }
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try buffer.withUnsafeMutableBytes { try server.read(into: $0) } == .wouldBlock)
        client.close()
        var result = IOResult.wouldBlock
        for _ in 0..<100 where result == .wouldBlock {
            result = try buffer.withUnsafeMutableBytes { try server.read(into: $0) }
            if result == .wouldBlock { usleep(10_000) }
        }
        #expect(result == .processed(0))
    }

    @Test("binding a port that is taken fails with EADDRINUSE, named in the error")
    func bindConflict() throws {
        let first = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0))
        defer { first.close() }
        let port = try first.localAddress().port
        #expect {
            _ = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: port))
        } throws: { error in
            guard let error = error as? SystemError else { return false }
            return error.errno == .addressInUse && error.description.contains("bind")
        }
    }

    @Test("an IPv6 address resolves with its family and prints in brackets")
    func ipv6Address() throws {
        let address = try SocketAddress.resolve(host: "::1", port: 8080)
        #expect(address.family == AF_INET6)
        #expect(address.description == "[::1]:8080")
    }

    @Test("an unresolvable host is an error that names it")
    func badHost() {
        #expect {
            _ = try SocketAddress.resolve(host: "no such host!", port: 1)
        } throws: { error in
            (error as? SystemError)?.operation.contains("no such host!") == true
        }
    }

    @Test("closing twice closes once")
    func closeIsIdempotent() throws {
        let socket = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0))
        socket.close()
        socket.close()
        #expect(socket.isClosed)
    }
}
