import DescentHTTP
import Testing

@testable import DescentHTTP2

@Suite("HTTP2Session")
struct HTTP2SessionTests {
    static func limits(maxBodyBytes: Int) -> HTTPParserLimits {
        var limits = HTTPParserLimits()
        limits.maxBodyBytes = maxBodyBytes
        return limits
    }

    // MARK: Opening

    @Test("the server opens with its SETTINGS, widens the connection window, and ACKs the client's SETTINGS")
    func opening() throws {
        let driver = try SessionDriver()
        let frames = try driver.open([(SettingID.initialWindowSize, 1000)])
        let first = try #require(frames.first)
        #expect(first.type == FrameType.settings && !first.has(FrameFlag.ack) && first.stream == 0)
        let advertised = Dictionary(first.settings.map { ($0.id, $0.value) }, uniquingKeysWith: { $1 })
        #expect(advertised[SettingID.maxConcurrentStreams] == HTTP2Settings().maxConcurrentStreams)
        #expect(advertised[SettingID.initialWindowSize] == HTTP2Settings().initialWindowSize)
        // The connection window starts at 65,535 bytes (RFC 9113 §6.9.2); the rest comes as a WINDOW_UPDATE.
        let update = try #require(frames.first { $0.type == FrameType.windowUpdate })
        #expect(update.stream == 0 && update.word(at: 0) == HTTP2Settings().connectionWindowSize - 65_535)
        let acks = frames.filter { $0.type == FrameType.settings && $0.has(FrameFlag.ack) }
        #expect(acks.count == 1 && acks.first?.payload == [])
        #expect(driver.events().isEmpty)
    }

    @Test("a client that does not begin with the preface ends the session: receive throws")
    func badPreface() throws {
        let driver = try SessionDriver()
        let request = Array("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n".utf8)
        #expect(throws: HTTP2Session.Failure.self) { try driver.send(request) }
        #expect(driver.events().isEmpty)
    }

    @Test("a PING is answered with a PING ACK carrying the same 8 bytes")
    func ping() throws {
        let driver = try SessionDriver()
        try driver.open()
        let payload: [UInt8] = [1, 2, 3, 4, 0xfd, 0xfe, 0xff, 0]
        try driver.send(FrameBuilder.ping(payload))
        let frames = try driver.frames()
        #expect(frames == [Frame(type: FrameType.ping, flags: FrameFlag.ack, stream: 0, payload: payload)])
    }

    // MARK: Requests

    @Test("a GET arrives as one request event with its method, target, fields, and :authority as Host")
    func getRequest() throws {
        let driver = try SessionDriver()
        try driver.open()
        // A value over 126 bytes takes the multi-byte HPACK length.
        let long = String(repeating: "v", count: 300)
        let fields = FrameBuilder.request(
            "GET", "/hello?x=1", authority: "example.test:8080", [("user-agent", "test"), ("x-long", long)])
        try driver.send(FrameBuilder.headers(stream: 1, fields))
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        let request = try #require(events[0].request)
        #expect(request.stream == 1)
        #expect(request.head.method == .GET)
        #expect(request.head.target == "/hello?x=1")
        #expect(request.head.path == "/hello" && request.head.query == "x=1")
        #expect(request.head.version == .http2)
        #expect(request.head.headers["Host"] == "example.test:8080")
        #expect(request.head.headers["User-Agent"] == "test")
        #expect(request.head.headers["x-long"] == long)
        #expect(!request.head.headers.contains { $0.name.hasPrefix(":") }, "pseudo-header fields leaked")
        #expect(request.head.framing == .none)
        #expect(request.body.isEmpty)
    }

    @Test("byte by byte, the same bytes make the same request")
    func byteByByte() throws {
        let driver = try SessionDriver()
        let bytes =
            FrameBuilder.preface + FrameBuilder.settings()
            + FrameBuilder.headers(stream: 1, FrameBuilder.request("POST", "/echo"), endStream: false)
            + FrameBuilder.data(stream: 1, Array("hel".utf8), endStream: false)
            + FrameBuilder.data(stream: 1, Array("lo".utf8))
        for byte in bytes { try driver.send([byte]) }
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        let request = try #require(events[0].request)
        #expect(request.head.method == .POST && request.head.target == "/echo")
        #expect(request.body == Array("hello".utf8))
        #expect(request.head.framing == .contentLength(5))
    }

    @Test("a POST's body arrives with it, trailers after the DATA included")
    func postWithTrailers() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.send(FrameBuilder.headers(stream: 1, FrameBuilder.request("POST", "/echo"), endStream: false))
        try driver.send(FrameBuilder.data(stream: 1, Array("abc".utf8), endStream: false))
        #expect(driver.events().isEmpty, "a request was dispatched before its END_STREAM")
        try driver.send(FrameBuilder.headers(stream: 1, [("x-checksum", "1")], endStream: true))
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        #expect(events[0].request?.body == Array("abc".utf8))
    }

    @Test("trailer fields do not become request header fields (HTTP/1.1 drops them too)")
    func trailersAreNotHeaders() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.send(FrameBuilder.headers(stream: 1, FrameBuilder.request("POST", "/echo"), endStream: false))
        try driver.send(FrameBuilder.data(stream: 1, Array("abc".utf8), endStream: false))
        // RFC 9110 §6.5.1: a trailer field is not merged into the header section unless its definition allows
        // it; a handler reading Authorization must not see one that arrived after the body.
        try driver.send(FrameBuilder.headers(stream: 1, [("authorization", "Bearer late")], endStream: true))
        let request = try #require(driver.events().first?.request)
        #expect(request.head.headers["authorization"] == nil, "a trailer field was merged into the request head")
    }

    @Test("DATA beyond maxBodyBytes refuses the request as contentTooLarge, without a request event")
    func bodyOverLimit() throws {
        let driver = try SessionDriver(limits: Self.limits(maxBodyBytes: 16))
        try driver.open()
        try driver.send(FrameBuilder.headers(stream: 1, FrameBuilder.request("POST", "/echo"), endStream: false))
        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 1, count: 10), endStream: false))
        #expect(driver.events().isEmpty)
        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 2, count: 10), endStream: false))
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        let refusal = try #require(events[0].refusal)
        #expect(refusal.stream == 1 && refusal.error == .contentTooLarge(limit: 16))
        #expect(refusal.head?.method == .POST)
        // The rest of the body changes nothing.
        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 3, count: 10)))
        #expect(driver.events().allSatisfy { $0.request == nil && $0.refusal == nil })
    }

    @Test("the rest of a refused body is read past and dropped, with no reset, and its trailers end the stream")
    func restOfARefusedRequest() throws {
        let driver = try SessionDriver(limits: Self.limits(maxBodyBytes: 16))
        try driver.open()
        try driver.send(FrameBuilder.headers(stream: 1, FrameBuilder.request("POST", "/echo"), endStream: false))
        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 1, count: 17), endStream: false))
        #expect(driver.events().first?.refusal?.error == .contentTooLarge(limit: 16))
        #expect(driver.respond(1, .contentTooLarge, body: .bytes(Array("too large".utf8))))
        let answer = try driver.frames()
        // A reset after the answer makes curl 7.88 discard the answer.
        #expect(answer.map(\.type) == [FrameType.headers, FrameType.data], "\(answer)")
        #expect(answer.last?.has(FrameFlag.endStream) == true)
        #expect(driver.events().isEmpty, "the stream closed while the client was still sending")

        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 2, count: 1000), endStream: false))
        try driver.send(FrameBuilder.headers(stream: 1, [("x-checksum", "1")], endStream: true))
        #expect(try driver.frames().allSatisfy { $0.type != FrameType.goAway && $0.type != FrameType.rstStream })
        let events = driver.events()
        #expect(events.count == 1 && events.first?.closed?.stream == 1 && events.first?.closed?.error == nil)
        try driver.get("/next", on: 3)
    }

    @Test("past maxDiscardedBodyBytes, the client is asked to stop sending: RST_STREAM(NO_ERROR)")
    func refusedBodyTooLongToDrop() throws {
        var settings = HTTP2Settings()
        settings.maxDiscardedBodyBytes = 100
        let driver = try SessionDriver(limits: Self.limits(maxBodyBytes: 16), settings: settings)
        try driver.open()
        try driver.send(FrameBuilder.headers(stream: 1, FrameBuilder.request("POST", "/echo"), endStream: false))
        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 1, count: 17), endStream: false))
        #expect(driver.respond(1, .contentTooLarge, body: .bytes(Array("too large".utf8))))
        _ = try driver.frames()
        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 2, count: 100), endStream: false))
        #expect(try driver.frames().isEmpty, "reset before maxDiscardedBodyBytes were dropped")
        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 3, count: 1), endStream: false))
        let frames = try driver.frames()
        #expect(frames == [Frame(type: FrameType.rstStream, flags: 0, stream: 1, payload: [0, 0, 0, 0])], "\(frames)")
    }

    @Test("a content-length over the limit is refused when the headers arrive, before any DATA")
    func contentLengthOverLimit() throws {
        let driver = try SessionDriver(limits: Self.limits(maxBodyBytes: 16))
        try driver.open()
        let fields = FrameBuilder.request("POST", "/echo", [("content-length", "17")])
        try driver.send(FrameBuilder.headers(stream: 1, fields, endStream: false))
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        #expect(events[0].refusal?.error == .contentTooLarge(limit: 16))
    }

    @Test("a body of exactly maxBodyBytes, announced by content-length, is a request")
    func bodyAtLimit() throws {
        let driver = try SessionDriver(limits: Self.limits(maxBodyBytes: 16))
        try driver.open()
        let fields = FrameBuilder.request("POST", "/echo", [("content-length", "16")])
        try driver.send(FrameBuilder.headers(stream: 1, fields, endStream: false))
        try driver.send(FrameBuilder.data(stream: 1, Array(repeating: 7, count: 16)))
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        #expect(events[0].request?.body == Array(repeating: 7, count: 16))
    }

    @Test("a :method Descent does not know is refused as unknownMethod")
    func unknownMethod() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.send(FrameBuilder.headers(stream: 1, FrameBuilder.request("BREW", "/pot")))
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        let refusal = try #require(events[0].refusal)
        #expect(refusal.stream == 1 && refusal.error == .unknownMethod("BREW"))
    }

    // MARK: Ending

    @Test("goAway sends GOAWAY(NO_ERROR) naming the last stream; it and earlier streams are still answered")
    func goAway() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.get("/a", on: 1)
        try driver.get("/b", on: 3)
        driver.session.goAway()
        let frames = try driver.frames()
        try #require(frames.count == 1, "\(frames)")
        #expect(frames[0].type == FrameType.goAway && frames[0].stream == 0)
        #expect(frames[0].word(at: 0) == 3 && frames[0].word(at: 4) == HTTP2ErrorCode.noError.rawValue)

        // A stream the client opens after the GOAWAY is not processed.
        try driver.send(FrameBuilder.headers(stream: 5, FrameBuilder.request("GET", "/c")))
        #expect(driver.events().allSatisfy { $0.request == nil })

        #expect(!driver.session.isFinished)
        #expect(driver.respond(3, body: .bytes(Array("b".utf8))))
        #expect(driver.respond(1, body: .bytes(Array("a".utf8))))
        let answers = try driver.frames().filter { $0.type == FrameType.data }
        #expect(Set(answers.map(\.stream)) == [1, 3])
        // With the GOAWAY sent and every stream answered, the connection may close.
        #expect(driver.session.isFinished && driver.session.openStreamCount == 0)
    }

    @Test("HEADERS on a lower stream id end the session with GOAWAY(PROTOCOL_ERROR), before a request")
    func guardViolation() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.get("/a", on: 3)
        try driver.send(FrameBuilder.headers(stream: 1, FrameBuilder.request("GET", "/b")))
        #expect(driver.events().allSatisfy { $0.request == nil })
        let goAway = try #require(try driver.frames().first { $0.type == FrameType.goAway })
        #expect(goAway.word(at: 4) == HTTP2ErrorCode.protocolError.rawValue)
    }

    @Test("a CONTINUATION flood ends the session with GOAWAY(ENHANCE_YOUR_CALM)")
    func continuationFlood() throws {
        var settings = HTTP2Settings()
        settings.maxContinuations = 4
        let driver = try SessionDriver(settings: settings)
        try driver.open()
        let block = FrameBuilder.headerBlock(FrameBuilder.request("GET", "/"))
        var bytes = FrameBuilder.headers(stream: 1, block: block, endHeaders: false)
        for _ in 0..<10 {
            bytes += FrameBuilder.continuation(
                stream: 1, block: FrameBuilder.headerBlock([("x-a", "b")]), endHeaders: false)
        }
        try driver.send(bytes)
        #expect(driver.events().allSatisfy { $0.request == nil })
        let goAway = try #require(try driver.frames().first { $0.type == FrameType.goAway })
        #expect(goAway.word(at: 4) == HTTP2ErrorCode.enhanceYourCalm.rawValue)
    }
}
