import Glibc
import Testing

@testable import DescentPOSIX

/// The poller is edge-triggered: what the event lane's reading relies on (see `Poller`).
@Suite("Poller")
struct PollerTests {
    /// A connected pair of TCP sockets on loopback: (the accepted side, the client side).
    private static func connectedPair() throws -> (Socket, Socket) {
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let client = try Socket.connected(to: listener.localAddress())
        for _ in 0..<200 {
            if let (server, _) = try listener.accept() { return (server, client) }
            usleep(5_000)
        }
        client.close()
        throw SystemError("accept", Errno(rawValue: EAGAIN))
    }

    /// The tokens of the members ready now, after giving loopback a moment to deliver what was sent.
    private static func ready(_ poller: Poller) -> [UInt64] {
        usleep(20_000)
        var tokens: [UInt64] = []
        poller.forEachReady { tokens.append($0.token) }
        return tokens
    }

    private static func send(_ text: String, on socket: Socket) throws {
        let bytes = Array(text.utf8)
        #expect(try bytes.withUnsafeBytes { try socket.write($0) } == .processed(bytes.count))
    }

    @Test("input is reported once when it arrives, not again while it stays unread, and again when more arrives")
    func reportsEdges() throws {
        let (server, client) = try Self.connectedPair()
        defer {
            server.close()
            client.close()
        }
        let poller = try Poller()
        defer { poller.close() }
        try poller.add(server.descriptor, token: 7, interest: .readable)
        #expect(Self.ready(poller).isEmpty)

        try Self.send("one", on: client)
        #expect(Self.ready(poller) == [7])
        #expect(Self.ready(poller).isEmpty)  // level-triggered, it would be reported on every call

        try Self.send("two", on: client)
        #expect(Self.ready(poller) == [7])
    }

    @Test("modify reports a member that is still ready, as the lane asks after leaving bytes in a socket")
    func modifyLooksAgain() throws {
        let (server, client) = try Self.connectedPair()
        defer {
            server.close()
            client.close()
        }
        let poller = try Poller()
        defer { poller.close() }
        try poller.add(server.descriptor, token: 1, interest: .readable)
        try Self.send("left unread", on: client)
        #expect(Self.ready(poller) == [1])
        #expect(Self.ready(poller).isEmpty)

        try poller.modify(server.descriptor, token: 1, interest: .readable)
        #expect(Self.ready(poller) == [1])

        // Drained, it is not reported by a modify.
        var scratch = [UInt8](repeating: 0, count: 64)
        _ = try scratch.withUnsafeMutableBytes { try server.read(into: $0) }
        try poller.modify(server.descriptor, token: 1, interest: .readable)
        #expect(Self.ready(poller).isEmpty)
    }

    @Test("input that arrived while reading was not watched is reported when it is watched again")
    func resumeReportsPendingInput() throws {
        let (server, client) = try Self.connectedPair()
        defer {
            server.close()
            client.close()
        }
        let poller = try Poller()
        defer { poller.close() }
        try poller.add(server.descriptor, token: 3, interest: [])
        try Self.send("while suspended", on: client)
        #expect(Self.ready(poller).isEmpty)
        try poller.modify(server.descriptor, token: 3, interest: .readable)
        #expect(Self.ready(poller) == [3])
    }

    @Test("a member added with input already waiting is reported")
    func addReportsPendingInput() throws {
        let (server, client) = try Self.connectedPair()
        defer {
            server.close()
            client.close()
        }
        try Self.send("early", on: client)
        usleep(20_000)
        let poller = try Poller()
        defer { poller.close() }
        try poller.add(server.descriptor, token: 9, interest: .readable)
        #expect(Self.ready(poller) == [9])
    }
}
