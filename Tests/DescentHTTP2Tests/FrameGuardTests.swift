import Testing

@testable import DescentHTTP2

@Suite("FrameGuard")
struct FrameGuardTests {
    /// What the guard made of a byte sequence: how many bytes it handed on, and the violation that stopped it.
    struct Verdict: Equatable {
        var passed: Int
        var violation: HTTP2ErrorCode?
    }

    /// Feeds `bytes` to `frameGuard` in pieces of the given sizes (the rest in one last piece), as the session
    /// does: stepping over the unconsumed part of each piece until it is used up or a violation comes.
    static func run(
        _ bytes: [UInt8], pieces: [Int] = [], through frameGuard: inout FrameGuard, expected: Set<Int32> = []
    ) -> Verdict {
        var verdict = Verdict(passed: 0, violation: nil)
        var start = 0
        for size in pieces + [bytes.count] where start < bytes.count {
            let end = min(start + size, bytes.count)
            var offset = start
            while offset < end {
                let step = bytes.withUnsafeBytes { buffer in
                    frameGuard.step(
                        UnsafeRawBufferPointer(rebasing: buffer[offset..<end]), isExpected: { expected.contains($0) })
                }
                switch step {
                case .pass(let count):
                    #expect(count > 0 && count <= end - offset, "pass(\(count)) of \(end - offset) bytes")
                    offset += count
                    verdict.passed += count
                case .hold(let count):
                    #expect(count > 0 && count < 9 && count <= end - offset, "hold(\(count)) of \(end - offset) bytes")
                    offset += count
                case .passHeader(let header, let count):
                    #expect(header.count == 9, "passHeader of \(header.count) bytes")
                    #expect(count > 0 && count < 9 && count <= end - offset, "passHeader consuming \(count)")
                    offset += count
                    verdict.passed += header.count
                case .violation(let code, _):
                    verdict.violation = code
                    return verdict
                }
            }
            start = end
        }
        return verdict
    }

    /// The same with a fresh guard.
    static func run(
        _ bytes: [UInt8], pieces: [Int] = [], settings: HTTP2Settings = HTTP2Settings(), expected: Set<Int32> = []
    ) -> Verdict {
        var frameGuard = FrameGuard(settings: settings)
        return run(bytes, pieces: pieces, through: &frameGuard, expected: expected)
    }

    /// The same bytes one at a time.
    static func runByteByByte(
        _ bytes: [UInt8], settings: HTTP2Settings = HTTP2Settings(), expected: Set<Int32> = []
    ) -> Verdict {
        run(bytes, pieces: Array(repeating: 1, count: bytes.count), settings: settings, expected: expected)
    }

    static let get = FrameBuilder.request("GET", "/")

    static func headers(_ stream: Int32, endHeaders: Bool = true) -> [UInt8] {
        FrameBuilder.headers(stream: stream, get, endHeaders: endHeaders)
    }

    /// A connection's first bytes: the preface and an empty SETTINGS frame.
    static let opening = FrameBuilder.preface + FrameBuilder.settings()

    @Test("the 24 bytes of the preface are passed untouched, in one piece or byte by byte")
    func prefacePasses() {
        var frameGuard = FrameGuard(settings: HTTP2Settings())
        // Read as a frame header, "PRI * HTTP/2.0…" would announce a 5 MB frame of type 0x20.
        let step = FrameBuilder.preface.withUnsafeBytes { frameGuard.step($0, isExpected: { _ in false }) }
        #expect(step == .pass(24))
        #expect(frameGuard.highestStreamID == 0)
        #expect(Self.runByteByByte(FrameBuilder.preface) == Verdict(passed: 24, violation: nil))
    }

    @Test("the frames after the preface are read at their boundaries: a repeated stream id is caught")
    func framesAfterThePrefaceAreAligned() {
        // Were the preface read as frames, the second HEADERS would be lost inside a bogus payload.
        let bytes = Self.opening + Self.headers(1) + Self.headers(1)
        #expect(Self.run(bytes).violation == .streamClosed)
    }

    @Test("HEADERS on new odd streams pass, however far apart the ids")
    func newStreamsPass() {
        var frameGuard = FrameGuard(settings: HTTP2Settings())
        let bytes = Self.opening + Self.headers(1) + Self.headers(3) + Self.headers(41)
        #expect(Self.run(bytes, through: &frameGuard) == Verdict(passed: bytes.count, violation: nil))
        #expect(frameGuard.highestStreamID == 41)
    }

    @Test("HEADERS on a stream id below one already seen is a PROTOCOL_ERROR")
    func lowerStreamID() {
        let verdict = Self.run(Self.opening + Self.headers(5) + Self.headers(3) + FrameBuilder.ping(Array(0..<8)))
        #expect(verdict.violation == .protocolError)
    }

    @Test("HEADERS again on the highest stream id, now closed, is STREAM_CLOSED")
    func highestClosedStream() {
        let verdict = Self.run(Self.opening + Self.headers(1) + Self.headers(3) + Self.headers(3))
        #expect(verdict.violation == .streamClosed)
    }

    @Test("HEADERS on a stream the session still expects (trailers) pass, below the highest id or on it")
    func trailersOnAnOpenStream() {
        let trailers = FrameBuilder.headers(stream: 1, [("x-checksum", "abc")])
        let lower = Self.opening + Self.headers(1) + Self.headers(3) + trailers
        #expect(Self.run(lower, expected: [1]) == Verdict(passed: lower.count, violation: nil))
        let highest = Self.opening + Self.headers(1) + FrameBuilder.headers(stream: 1, [("x-checksum", "abc")])
        #expect(Self.run(highest, expected: [1]) == Verdict(passed: highest.count, violation: nil))
        // The same bytes with stream 1 no longer expected are refused: the closure is what lets them through.
        #expect(Self.run(lower, expected: []).violation == .protocolError)
    }

    @Test("after an upgrade, stream 1 counts as opened: HEADERS on it is STREAM_CLOSED, on stream 3 they pass")
    func upgradeStream() {
        var upgraded = FrameGuard(settings: HTTP2Settings())
        upgraded.noteUpgradeStream()
        #expect(Self.run(Self.opening + Self.headers(1), through: &upgraded).violation == .streamClosed)

        var next = FrameGuard(settings: HTTP2Settings())
        next.noteUpgradeStream()
        let bytes = Self.opening + Self.headers(3)
        #expect(Self.run(bytes, through: &next) == Verdict(passed: bytes.count, violation: nil))
        #expect(next.highestStreamID == 3)
    }

    @Test("up to maxContinuations CONTINUATION frames pass; one more is ENHANCE_YOUR_CALM")
    func continuationFlood() {
        var settings = HTTP2Settings()
        settings.maxContinuations = 3
        let fragment = FrameBuilder.headerBlock([("x-a", "b")])
        func block(continuations: Int) -> [UInt8] {
            var bytes = Self.opening + FrameBuilder.headers(stream: 1, block: fragment, endHeaders: false)
            for index in 1...continuations {
                bytes += FrameBuilder.continuation(stream: 1, block: fragment, endHeaders: index == continuations)
            }
            return bytes
        }
        let allowed = block(continuations: 3)
        #expect(Self.run(allowed, settings: settings) == Verdict(passed: allowed.count, violation: nil))
        #expect(Self.run(block(continuations: 4), settings: settings).violation == .enhanceYourCalm)
    }

    @Test("the CONTINUATION count starts again with each header block")
    func continuationCountPerBlock() {
        var settings = HTTP2Settings()
        settings.maxContinuations = 2
        let fragment = FrameBuilder.headerBlock([("x-a", "b")])
        var bytes = Self.opening
        for stream: Int32 in [1, 3, 5] {
            bytes += FrameBuilder.headers(stream: stream, block: fragment, endHeaders: false)
            bytes += FrameBuilder.continuation(stream: stream, block: fragment, endHeaders: false)
            bytes += FrameBuilder.continuation(stream: stream, block: fragment, endHeaders: true)
        }
        #expect(Self.run(bytes, settings: settings) == Verdict(passed: bytes.count, violation: nil))
    }

    @Test("a header block longer than maxHeaderBlockBytes across CONTINUATION frames is ENHANCE_YOUR_CALM")
    func headerBlockTooLong() {
        var settings = HTTP2Settings()
        settings.maxHeaderBlockBytes = 100
        func block(_ headersLength: Int, _ continuationLength: Int) -> [UInt8] {
            Self.opening
                + FrameBuilder.headers(stream: 1, block: [UInt8](repeating: 0, count: headersLength), endHeaders: false)
                + FrameBuilder.continuation(
                    stream: 1, block: [UInt8](repeating: 0, count: continuationLength), endHeaders: true)
        }
        let atLimit = block(60, 40)
        #expect(Self.run(atLimit, settings: settings) == Verdict(passed: atLimit.count, violation: nil))
        #expect(Self.run(block(60, 41), settings: settings).violation == .enhanceYourCalm)
    }

    /// A byte sequence (a feed) for the resumption tests, with the violation it must end in.
    struct Feed: Sendable {
        var name: String
        var bytes: [UInt8]
        var settings = HTTP2Settings()
        var expected: Set<Int32> = []
        var violation: HTTP2ErrorCode?
    }

    /// One sequence for each verdict.
    static let feeds: [Feed] = {
        var small = HTTP2Settings()
        small.maxContinuations = 1
        let fragment = FrameBuilder.headerBlock([("x-a", "b")])
        let flood =
            FrameBuilder.headers(stream: 1, block: fragment, endHeaders: false)
            + FrameBuilder.continuation(stream: 1, block: fragment, endHeaders: false)
            + FrameBuilder.continuation(stream: 1, block: fragment, endHeaders: true)
        let clean =
            opening + headers(1) + FrameBuilder.data(stream: 1, Array(0..<40)) + headers(3)
            + FrameBuilder.ping(Array(0..<8))
        return [
            Feed(name: "clean", bytes: clean),
            Feed(name: "trailers", bytes: opening + headers(1) + headers(3) + headers(1), expected: [1]),
            Feed(
                name: "lower id", bytes: opening + headers(3) + FrameBuilder.data(stream: 3, [1, 2, 3]) + headers(1),
                violation: .protocolError),
            Feed(
                name: "closed id", bytes: opening + headers(1) + headers(1) + headers(3), violation: .streamClosed),
            Feed(
                name: "flood", bytes: opening + flood + headers(3), settings: small, violation: .enhanceYourCalm),
        ]
    }()

    static func run(_ sequence: Feed, pieces: [Int] = []) -> Verdict {
        run(sequence.bytes, pieces: pieces, settings: sequence.settings, expected: sequence.expected)
    }

    @Test("byte by byte, the guard hands on the same bytes and finds the same violation as in one piece")
    func byteByByte() {
        for sequence in Self.feeds {
            let whole = Self.run(sequence)
            let bytewise = Self.run(sequence, pieces: Array(repeating: 1, count: sequence.bytes.count))
            #expect(whole.violation == sequence.violation, "\(sequence.name)")
            #expect(bytewise.violation == sequence.violation, "\(sequence.name)")
            if sequence.violation == nil {
                #expect(whole.passed == sequence.bytes.count && bytewise.passed == whole.passed, "\(sequence.name)")
            } else {
                // Both stop before the offending frame header: a partial header is held, never handed on.
                #expect(bytewise.passed == whole.passed, "\(sequence.name)")
            }
        }
    }

    @Test("split in two at every byte boundary, the guard reaches the same verdict as in one piece")
    func everySplit() {
        for sequence in Self.feeds {
            let whole = Self.run(sequence)
            for split in 1..<sequence.bytes.count {
                let parts = Self.run(sequence, pieces: [split])
                #expect(parts.violation == sequence.violation, "\(sequence.name) split at \(split)")
                // The offending frame's header is held until whole, so none of it has gone on.
                #expect(parts.passed == whole.passed, "\(sequence.name) at \(split)")
            }
        }
    }
}
