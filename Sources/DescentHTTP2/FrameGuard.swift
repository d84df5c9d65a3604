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
///
/// A frame header that arrives split across reads is held here and handed on whole, in one piece: the
/// libnghttp2 that Descent links (Debian's 1.52 with the CVE-2024-28182 fix) counts a CONTINUATION frame once
/// per call that gives it part of the frame's header, so headers passed on as they trickled in made a
/// legitimate header block look like a flood (fuzz/http2/crashes/, HTTP2SessionFuzzRegressionTests). Whole
/// headers also make the verdict the same however the bytes were split.
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
        /// This many bytes are the start of a frame header, kept by the guard: hand nothing on yet.
        case hold(Int)
        /// A frame header completed by `consumed` bytes of the input after bytes held from earlier reads:
        /// hand `header` (all nine bytes) on in place of those `consumed` bytes.
        case passHeader([UInt8], consumed: Int)
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
    private var frameType: UInt8 = 0
    private var framesCompleted = 0
    private var headerBlocksBegun = 0

    var receiving: ReceivingUnit {
        if prefaceLeft > 0 { return ReceivingUnit(kind: prefaceLeft < 24 ? .head : .nothing, unit: 0) }
        let inHeaderFrame = payloadLeft > 0 && (frameType == Self.headersType || frameType == Self.continuationType)
        // A header block is one unit however many frames it spans; a lone frame header (-1 - n) is another.
        if inHeaderBlock || inHeaderFrame { return ReceivingUnit(kind: .head, unit: headerBlocksBegun) }
        if !header.isEmpty { return ReceivingUnit(kind: .head, unit: -1 - framesCompleted) }
        return ReceivingUnit(kind: payloadLeft > 0 ? .frame : .nothing, unit: framesCompleted)
    }

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
            if payloadLeft == 0 { framesCompleted += 1 }
            return .pass(count)
        }
        // A frame header: judged when whole, before any of it is handed on; a partial one is held.
        let needed = 9 - header.count
        if bytes.count < needed {
            header.append(contentsOf: bytes)
            return .hold(bytes.count)
        }
        let wasHeld = !header.isEmpty
        header.append(contentsOf: bytes[0..<needed])
        let frame = Self.decode(header)
        defer { header.removeAll(keepingCapacity: true) }
        if let violation = judge(frame, isExpected: isExpected) { return violation }
        payloadLeft = frame.length
        frameType = frame.type
        if payloadLeft == 0 { framesCompleted += 1 }
        // The common case, a header inside one read, is handed on from the input without a copy.
        return wasHeld ? .passHeader(header, consumed: needed) : .pass(needed)
    }

    private mutating func judge(_ frame: FrameHeader, isExpected: (Int32) -> Bool) -> Step? {
        switch frame.type {
        case Self.headersType:
            headerBlocksBegun += 1
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

/// What the input ended in the middle of, and which one: the connection gives each such unit one deadline,
/// from its first byte, that later reads of the same unit do not renew — else a client trickling a byte at
/// a time would hold the connection for ever (slow loris).
package struct ReceivingUnit: Hashable, Sendable {
    package enum Kind: Hashable, Sendable {
        /// The input ended between frames.
        case nothing
        /// Inside the client preface, a frame header, or a header block (HEADERS and its CONTINUATIONs, as
        /// one): what a request needs before it exists.
        case head
        /// Inside the payload of any other frame.
        case frame
    }

    package var kind: Kind
    /// Tells units of one kind apart: it changes when one ends and the next begins.
    package var unit: Int
}
