/// Watches the client's bytes frame by frame, before libnghttp2 sees them, for the two things libnghttp2
/// leaves alone on purpose:
///
/// - **Stream-ID order (RFC 9113 §5.1.1).** A HEADERS frame for a stream that is neither new (an ID above
///   every one seen) nor open is answered by libnghttp2 with silence, because it cannot remember every closed
///   stream. Here it is a connection error: PROTOCOL_ERROR for an ID below the highest seen, STREAM_CLOSED
///   for the highest one itself (it was opened and is closed). The exception is a stream the server itself
///   reset while the client was still sending: trailers already in flight for it are legal, so the session
///   tells the guard about such streams (`isExpected`).
/// - **CONTINUATION floods.** A header block split into more CONTINUATION frames, or longer, than any real
///   request needs ends the connection with ENHANCE_YOUR_CALM before it is decoded any further.
///
/// Pure: it neither reads nor writes; the session asks it how many bytes may be handed on, resumes at any
/// byte boundary, and keeps at most one frame header (9 bytes) of state.
struct FrameGuard {
    /// A frame header, as far as the guard cares.
    struct FrameHeader: Equatable {
        var length: Int
        var type: UInt8
        var flags: UInt8
        var streamID: Int32
    }

    enum Step: Equatable {
        /// Hand this many bytes on.
        case pass(Int)
        /// End the connection with this error; nothing more is handed on.
        case violation(HTTP2ErrorCode, String)
    }

    private static let headersType: UInt8 = 0x1
    private static let continuationType: UInt8 = 0x9
    private static let endHeadersFlag: UInt8 = 0x4

    private let settings: HTTP2Settings
    /// Bytes of the 24-byte client preface still to pass (libnghttp2 checks them).
    private var prefaceLeft: Int
    private var header: [UInt8] = []
    private var payloadLeft = 0
    private(set) var highestStreamID: Int32 = 0
    private var inHeaderBlock = false
    private var continuations = 0
    private var headerBlockBytes = 0

    /// Both h2c paths (prior knowledge, and after `101 Switching Protocols`) start with the client preface.
    init(settings: HTTP2Settings) {
        self.settings = settings
        self.prefaceLeft = 24
        header.reserveCapacity(9)
    }

    /// The stream the upgrade created (stream 1) counts as opened.
    mutating func noteUpgradeStream() { highestStreamID = max(highestStreamID, 1) }

    /// The next step for `bytes`, the unconsumed input. `isExpected(id)`: a HEADERS frame may legitimately
    /// arrive on this non-new stream (it is open, or the server reset it recently).
    mutating func step(_ bytes: UnsafeRawBufferPointer, isExpected: (Int32) -> Bool) -> Step {
        precondition(!bytes.isEmpty)
        if prefaceLeft > 0 {
            let count = min(prefaceLeft, bytes.count)
            prefaceLeft -= count
            return .pass(count)
        }
        if payloadLeft > 0 {
            let count = min(payloadLeft, bytes.count)
            payloadLeft -= count
            return .pass(count)
        }
        // Inside a frame header: pass partial bytes (libnghttp2 acts only on a whole header), judge a whole one
        // before its last byte is passed on.
        let needed = 9 - header.count
        if bytes.count < needed {
            header.append(contentsOf: bytes)
            return .pass(bytes.count)
        }
        header.append(contentsOf: bytes[0..<needed])
        let frame = Self.decode(header)
        header.removeAll(keepingCapacity: true)
        if let violation = judge(frame, isExpected: isExpected) { return violation }
        payloadLeft = frame.length
        return .pass(needed)
    }

    private mutating func judge(_ frame: FrameHeader, isExpected: (Int32) -> Bool) -> Step? {
        switch frame.type {
        case Self.headersType:
            inHeaderBlock = frame.flags & Self.endHeadersFlag == 0
            continuations = 0
            headerBlockBytes = frame.length
            if headerBlockBytes > settings.maxHeaderBlockBytes {
                return .violation(.enhanceYourCalm, "header block of \(headerBlockBytes) bytes")
            }
            // Stream 0 and even IDs are libnghttp2's to refuse (PROTOCOL_ERROR); so are oversized frames.
            guard frame.streamID & 1 == 1 else { return nil }
            if frame.streamID > highestStreamID {
                highestStreamID = frame.streamID
                return nil
            }
            if isExpected(frame.streamID) { return nil }
            if frame.streamID == highestStreamID {
                return .violation(.streamClosed, "HEADERS on closed stream \(frame.streamID)")
            }
            return .violation(
                .protocolError, "HEADERS on stream \(frame.streamID), below stream \(highestStreamID) already opened")
        case Self.continuationType where inHeaderBlock:
            continuations += 1
            headerBlockBytes += frame.length
            inHeaderBlock = frame.flags & Self.endHeadersFlag == 0
            if continuations > settings.maxContinuations || headerBlockBytes > settings.maxHeaderBlockBytes {
                return .violation(
                    .enhanceYourCalm,
                    "header block of \(headerBlockBytes) bytes in \(continuations) CONTINUATION frames")
            }
            return nil
        default:
            // Any other frame inside a header block is libnghttp2's PROTOCOL_ERROR.
            return nil
        }
    }

    static func decode(_ bytes: [UInt8]) -> FrameHeader {
        let length = Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])
        let id =
            (UInt32(bytes[5]) << 24 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 8 | UInt32(bytes[8])) & 0x7fff_ffff
        return FrameHeader(length: length, type: bytes[3], flags: bytes[4], streamID: Int32(id))
    }
}
