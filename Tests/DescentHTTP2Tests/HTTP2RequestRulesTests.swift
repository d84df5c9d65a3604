import DescentHTTP
import Testing

@testable import DescentHTTP2

/// The rules HTTP/1.1 applies to a request head (HTTPMessageRules, HTTPRequestParser) that HTTP2Stream applies
/// too, since it assembles the head itself: the same request is refused the same way on both protocols.
@Suite("HTTP2Stream request rules")
struct HTTP2RequestRulesTests {
    /// Sends one request of `fields` on stream 1 and returns the one event it caused.
    static func event(for fields: [(String, String)]) throws -> HTTP2Session.Event {
        let driver = try SessionDriver()
        try driver.open()
        try driver.send(FrameBuilder.headers(stream: 1, fields))
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        return events[0]
    }

    /// A request of the four pseudo-header fields, without `:authority`, then `extra`.
    static func withoutAuthority(_ extra: [(String, String)]) -> [(String, String)] {
        [(":method", "GET"), (":scheme", "http"), (":path", "/")] + extra
    }

    /// Values libnghttp2 lets through (its own check is on the bytes only) that are not uri-host [":" port].
    /// An empty value, and a second `host` field, libnghttp2 refuses itself (RST_STREAM, no event).
    static let badAuthorities = [
        "user@example.test", "a.example,b.example", "example.test:80x", "example.test:8080:1", "[::1",
        "[example.test]", ":8080",
    ]

    @Test("an :authority that is not uri-host [\":\" port] is refused as badRequest", arguments: badAuthorities)
    func badAuthority(_ authority: String) throws {
        let refusal = try #require(Self.event(for: FrameBuilder.request("GET", "/", authority: authority)).refusal)
        #expect(refusal.stream == 1)
        #expect(refusal.error == .badRequest("the :authority is not a host with an optional port"))
        #expect(refusal.head?.method == .GET)
    }

    @Test("a host field that is not uri-host [\":\" port] is refused as badRequest", arguments: badAuthorities)
    func badHost(_ host: String) throws {
        let refusal = try #require(Self.event(for: Self.withoutAuthority([("host", host)])).refusal)
        #expect(refusal.stream == 1)
        #expect(refusal.error == .badRequest("the Host header is not a host with an optional port"))
    }

    @Test("a host field that differs from :authority is refused (RFC 9113 §8.3.1); one that agrees is not")
    func hostDiffersFromAuthority() throws {
        let differs = FrameBuilder.request("GET", "/", authority: "a.example", [("host", "b.example")])
        #expect(
            try Self.event(for: differs).refusal?.error
                == .badRequest("the Host header differs from the :authority"))
        let port = FrameBuilder.request("GET", "/", authority: "a.example:8080", [("host", "a.example")])
        #expect(
            try Self.event(for: port).refusal?.error == .badRequest("the Host header differs from the :authority"))
        // Host names are case-insensitive (RFC 3986 §3.2.2), so these agree.
        let agrees = FrameBuilder.request("GET", "/", authority: "Example.TEST:8080", [("host", "example.test:8080")])
        let request = try #require(Self.event(for: agrees).request)
        #expect(request.head.headers["Host"] == "example.test:8080")
    }

    @Test("a second content-type field is refused as badRequest, as over HTTP/1.1")
    func twoContentTypes() throws {
        for second in ["application/json", "text/plain"] {
            let fields = FrameBuilder.request(
                "POST", "/echo", [("content-type", "application/json"), ("content-type", second)])
            let refusal = try #require(Self.event(for: fields).refusal)
            #expect(refusal.error == .badRequest("more than one Content-Type header"))
            #expect(refusal.head?.method == .POST)
        }
    }

    @Test("a :path with a fragment (#) is refused as badRequest", arguments: ["/a#b", "/#", "/a?x=1#frag"])
    func fragmentInPath(_ path: String) throws {
        let refusal = try #require(Self.event(for: FrameBuilder.request("GET", path)).refusal)
        #expect(refusal.error == .badRequest("the :path has a fragment (#), which no request-target may carry"))
    }
}
