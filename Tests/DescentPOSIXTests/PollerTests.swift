import Glibc
import Testing

@testable import DescentPOSIX

/// The poller is edge-triggered: what the event lane's reading relies on (see `Poller`).
@Suite("Poller")
struct PollerTests {
    /// Runs `body` with a connected pair of TCP sockets on loopback (the accepted side, the client side) and an empty
    /// poller, and closes all three after it.
    private static func withPair(_ body: (Socket, Socket, Poller) throws -> Void) throws {
        let listener = try Socket.listening(on: SocketAddress.resolve(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let client = try Socket.connected(to: listener.localAddress())
        defer { client.close() }
        var accepted: Socket?
        for _ in 0..<200 where accepted == nil {
            accepted = try listener.accept()?.0
            if accepted == nil { usleep(5_000) }
        }
        let server = try #require(accepted)
        defer { server.close() }
        let poller = try Poller()
        defer { poller.close() }
        try body(server, client, poller)
    }

    /// The events ready now, after giving loopback a moment to deliver what was sent.
    private static func ready(_ poller: Poller) -> [Poller.Event] {
        usleep(20_000)
        var events: [Poller.Event] = []
        poller.forEachReady { events.append($0) }
        return events
    }

    private static func readyTokens(_ poller: Poller) -> [UInt64] { ready(poller).map(\.token) }

    private static func send(_ text: String, on socket: Socket) throws {
        let bytes = Array(text.utf8)
        #expect(try bytes.withUnsafeBytes { try socket.write($0) } == .processed(bytes.count))
    }

    @Test("input is reported once when it arrives, not again while it stays unread, and again when more arrives")
    func reportsEdges() throws {
        try Self.withPair { server, client, poller in
            try poller.add(server.descriptor, token: 7, interest: .readable)
            #expect(Self.readyTokens(poller).isEmpty)

            try Self.send("one", on: client)
            #expect(Self.readyTokens(poller) == [7])
            #expect(Self.readyTokens(poller).isEmpty)  // level-triggered, it would be reported on every call

            try Self.send("two", on: client)
            #expect(Self.readyTokens(poller) == [7])
        }
    }

    @Test("modify reports a member that is still ready, as the lane asks after leaving bytes in a socket")
    func modifyLooksAgain() throws {
        try Self.withPair { server, client, poller in
            try poller.add(server.descriptor, token: 1, interest: .readable)
            try Self.send("left unread", on: client)
            #expect(Self.readyTokens(poller) == [1])
            #expect(Self.readyTokens(poller).isEmpty)

            try poller.modify(server.descriptor, token: 1, interest: .readable)
            #expect(Self.readyTokens(poller) == [1])

            // Drained, it is not reported by a modify.
            var scratch = [UInt8](repeating: 0, count: 64)
            _ = try scratch.withUnsafeMutableBytes { try server.read(into: $0) }
            try poller.modify(server.descriptor, token: 1, interest: .readable)
            #expect(Self.readyTokens(poller).isEmpty)
        }
    }

    @Test("input that arrived while reading was not watched is reported when it is watched again")
    func resumeReportsPendingInput() throws {
        try Self.withPair { server, client, poller in
            try poller.add(server.descriptor, token: 3, interest: [])
            try Self.send("while suspended", on: client)
            #expect(Self.readyTokens(poller).isEmpty)
            try poller.modify(server.descriptor, token: 3, interest: .readable)
            #expect(Self.readyTokens(poller) == [3])
        }
    }

    @Test("a member added with input already waiting is reported")
    func addReportsPendingInput() throws {
        try Self.withPair { server, client, poller in
            try Self.send("early", on: client)
            usleep(20_000)
            try poller.add(server.descriptor, token: 9, interest: .readable)
            #expect(Self.readyTokens(poller) == [9])
        }
    }

    @Test("a FIN that came with the last bytes is reported with them as the end of the input, and only then")
    func reportsTheEndOfInput() throws {
        try Self.withPair { server, client, poller in
            try poller.add(server.descriptor, token: 5, interest: .readable)
            try Self.send("open", on: client)
            let first = Self.ready(poller)
            #expect(first.map(\.token) == [5])
            #expect(first.first?.inputEnded == false)

            try Self.send("last", on: client)
            client.shutdownWrite()
            let last = Self.ready(poller)
            #expect(last.map(\.token) == [5])
            #expect(last.first?.readable == true)
            #expect(last.first?.inputEnded == true)
            #expect(last.first?.hangUp == false)  // only the peer's sending side is shut
        }
    }
}
