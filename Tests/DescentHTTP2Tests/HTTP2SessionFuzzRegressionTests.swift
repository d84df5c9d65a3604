import Foundation
import Testing

@testable import DescentHTTP2

/// Inputs found by the libFuzzer target fuzz/http2/FuzzHTTP2.swift (run with scripts/fuzz.sh http2), replayed
/// through `SessionDriver`. Each crash file's first byte is the fuzzer's selector, the rest what the client
/// sends after its preface.
@Suite struct HTTP2SessionFuzzRegressionTests {
    /// The crash files live beside the fuzz target, at the repository root.
    static func crashFile(_ name: String) throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return Array(try Data(contentsOf: root.appendingPathComponent("fuzz/http2/crashes/\(name)")))
    }

    /// Sends `bytes` one at a time, as a client on a slow link may deliver them.
    static func sendByteByByte(_ bytes: ArraySlice<UInt8>, to driver: SessionDriver) throws {
        for byte in bytes { try driver.send([byte]) }
    }

    /// fuzz/http2/crashes/split-continuation-header-counted-per-read: a SETTINGS frame, its ACK, then a
    /// HEADERS frame without END_HEADERS and six CONTINUATION frames, with maxContinuations 4. In one read
    /// the FrameGuard ends the connection at the fifth CONTINUATION with GOAWAY(ENHANCE_YOUR_CALM). In small
    /// reads, libnghttp2 failed first ("Too many CONTINUATION frames", a fatal error, so the session threw and
    /// the server answered PROTOCOL_ERROR): Debian's libnghttp2 1.52 counts a CONTINUATION once per call that
    /// hands it part of the frame's header, and the guard passed partial headers on as they arrived.
    @Test("a CONTINUATION flood split into small reads ends with ENHANCE_YOUR_CALM, as in one read")
    func continuationFloodInSmallReads() throws {
        let input = try Self.crashFile("split-continuation-header-counted-per-read").dropFirst()
        var settings = HTTP2Settings()
        settings.maxContinuations = 4
        let driver = try SessionDriver(settings: settings)
        try driver.send(FrameBuilder.preface)
        try Self.sendByteByByte(input, to: driver)
        #expect(driver.events().allSatisfy { $0.request == nil })
        let goAway = try #require(try driver.frames().first { $0.type == FrameType.goAway })
        #expect(goAway.word(at: 4) == HTTP2ErrorCode.enhanceYourCalm.rawValue)
    }

    /// The same miscount with the server's own settings (maxContinuations 32, libnghttp2's bound 64): a
    /// legitimate request whose header block comes in 10 CONTINUATION frames, well inside the limit, was
    /// refused when it arrived a byte at a time (9 calls per frame header, 90 > 64).
    @Test("a request in 10 CONTINUATION frames, delivered byte by byte, is served")
    func continuationsByteByByte() throws {
        let driver = try SessionDriver()
        try driver.open()
        var bytes = FrameBuilder.headers(
            stream: 1, block: FrameBuilder.headerBlock(FrameBuilder.request("GET", "/a")), endHeaders: false)
        for index in 0..<10 {
            bytes += FrameBuilder.continuation(
                stream: 1, block: FrameBuilder.headerBlock([("x-part-\(index)", "v")]), endHeaders: index == 9)
        }
        try Self.sendByteByByte(bytes[...], to: driver)
        let events = driver.events()
        try #require(events.count == 1, "\(events)")
        let request = try #require(events[0].request)
        #expect(request.head.target == "/a")
        #expect(request.head.headers.count == 11)  // ten x-part fields and host
    }
}
