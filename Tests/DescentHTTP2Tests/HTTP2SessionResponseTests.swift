import DescentHTTP
import Testing

@testable import DescentHTTP2

@Suite("HTTP2Session: responses")
struct HTTP2SessionResponseTests {
    @Test("a response with bytes is HEADERS (:status 200) then DATA with the body and END_STREAM")
    func respondWithBytes() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.get("/hello", on: 1)
        #expect(driver.respond(1, body: .bytes(Array("hello".utf8))))
        let frames = try driver.frames()
        try #require(frames.count == 2, "\(frames)")
        #expect(frames[0].type == FrameType.headers && frames[0].stream == 1)
        #expect(frames[0].has(FrameFlag.endHeaders) && !frames[0].has(FrameFlag.endStream))
        // ":status: 200" is entry 8 of HPACK's static table (RFC 7541 Appendix A), sent as one indexed byte.
        #expect(frames[0].payload.first == 0x88)
        #expect(frames[1].type == FrameType.data && frames[1].stream == 1 && frames[1].has(FrameFlag.endStream))
        #expect(frames[1].payload == Array("hello".utf8))
        let events = driver.events()
        #expect(events.count == 1 && events.first?.closed?.stream == 1 && events.first?.closed?.error == nil)
        #expect(!driver.respond(1, body: .none), "a second response to a closed stream was accepted")
    }

    @Test("a response without a body is one HEADERS frame with END_STREAM")
    func respondWithoutBody() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.get("/nothing", on: 1)
        #expect(driver.respond(1, .noContent, body: .none))
        let frames = try driver.frames()
        try #require(frames.count == 1, "\(frames)")
        #expect(frames[0].type == FrameType.headers && frames[0].has(FrameFlag.endStream))
    }

    @Test("a streamed response asks for each piece after HEADERS, sends it as DATA, and ends on finish")
    func streamedResponse() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.get("/stream", on: 1)
        #expect(driver.respond(1, body: .streamed))
        let head = try driver.frames()
        #expect(head.map(\.type) == [FrameType.headers] && !head[0].has(FrameFlag.endStream))
        #expect(driver.events().map(\.wantsBody) == [1])
        // Asked once: producing again neither sends nor asks again.
        #expect(try driver.frames().isEmpty)
        #expect(driver.events().isEmpty)

        driver.session.supply(stream: 1, Array("first".utf8))
        let first = try driver.frames()
        #expect(first == [Frame(type: FrameType.data, flags: 0, stream: 1, payload: Array("first".utf8))])
        #expect(driver.events().map(\.wantsBody) == [1])

        driver.session.supply(stream: 1, Array("second".utf8))
        #expect(try driver.frames().map(\.payload) == [Array("second".utf8)])
        #expect(driver.events().map(\.wantsBody) == [1])

        driver.session.finish(stream: 1)
        let last = try driver.frames()
        #expect(last == [Frame(type: FrameType.data, flags: FrameFlag.endStream, stream: 1, payload: [])])
        let events = driver.events()
        #expect(events.count == 1 && events.first?.closed?.stream == 1, "\(events)")
    }

    @Test("a stream the client resets is reported closed with its code and refuses a late response")
    func clientReset() throws {
        let driver = try SessionDriver()
        try driver.open()
        try driver.get("/slow", on: 1)
        try driver.send(FrameBuilder.rstStream(stream: 1, code: HTTP2ErrorCode.cancel.rawValue))
        let events = driver.events()
        #expect(events.count == 1 && events.first?.closed?.stream == 1 && events.first?.closed?.error == .cancel)
        #expect(!driver.respond(1, body: .bytes([1])))
        #expect(try driver.frames().isEmpty)
    }

    @Test("after an upgrade, stream 1 is answered like any other and HTTP2-Settings count as the client's")
    func upgrade() throws {
        let driver = try SessionDriver()
        let settings = FrameBuilder.settings([(SettingID.initialWindowSize, 10)]).dropFirst(9)
        try driver.session.upgrade(settingsPayload: Array(settings), isHeadRequest: false)
        // The header's settings are not the client's SETTINGS frame, which the server waits for before it answers.
        #expect(!driver.session.hasReceivedClientSettings)
        try driver.send(FrameBuilder.preface)
        #expect(!driver.session.hasReceivedClientSettings)
        try driver.send(FrameBuilder.settings())
        #expect(driver.session.hasReceivedClientSettings)
        #expect(driver.events().isEmpty, "the upgraded request came again as an event")
        #expect(driver.respond(1, body: .bytes(Array(repeating: 9, count: 25))))
        let frames = try driver.frames()
        #expect(frames.first?.type == FrameType.settings)
        let data = frames.filter { $0.type == FrameType.data }
        // The upgrade's INITIAL_WINDOW_SIZE of 10 holds back the rest of the 25 bytes.
        #expect(data.map(\.stream) == [1] && data.map(\.payload.count) == [10], "\(frames)")
        #expect(frames.contains { $0.type == FrameType.headers && $0.stream == 1 })
    }

    // MARK: Flow control

    @Test("with a 10-byte stream window, a streamed body waits for WINDOW_UPDATE and is not asked for more")
    func flowControlBackpressure() throws {
        let driver = try SessionDriver()
        try driver.open([(SettingID.initialWindowSize, 10)])
        try driver.get("/stream", on: 1)
        #expect(driver.respond(1, body: .streamed))
        _ = try driver.frames()
        #expect(driver.events().map(\.wantsBody) == [1])

        let piece = (0..<25).map { UInt8($0) }
        driver.session.supply(stream: 1, piece)
        var sent = try driver.frames()
        #expect(sent.map(\.payload.count) == [10], "\(sent)")
        // The window is shut and 15 bytes wait: the producer is not asked for more.
        #expect(try driver.frames().isEmpty)
        #expect(driver.events().isEmpty)

        try driver.send(FrameBuilder.windowUpdate(stream: 1, increment: 5))
        let more = try driver.frames()
        #expect(more.map(\.payload.count) == [5], "\(more)")
        #expect(driver.events().isEmpty)
        sent += more

        try driver.send(FrameBuilder.windowUpdate(stream: 1, increment: 100))
        let rest = try driver.frames()
        #expect(rest.map(\.payload.count) == [10], "\(rest)")
        #expect(driver.events().map(\.wantsBody) == [1], "the producer was not asked once the piece was sent")
        sent += rest
        #expect(sent.allSatisfy { $0.type == FrameType.data && !$0.has(FrameFlag.endStream) })
        #expect(sent.flatMap(\.payload) == piece)
    }
}
