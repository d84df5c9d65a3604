/// The frame types and flags of RFC 9113 §6 that the tests build or read.
enum FrameType {
    static let data: UInt8 = 0x0
    static let headers: UInt8 = 0x1
    static let rstStream: UInt8 = 0x3
    static let settings: UInt8 = 0x4
    static let ping: UInt8 = 0x6
    static let goAway: UInt8 = 0x7
    static let windowUpdate: UInt8 = 0x8
    static let continuation: UInt8 = 0x9
}

enum FrameFlag {
    static let endStream: UInt8 = 0x1
    static let ack: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4
}

/// SETTINGS parameters (RFC 9113 §6.5.2).
enum SettingID {
    static let maxConcurrentStreams: UInt16 = 0x3
    static let initialWindowSize: UInt16 = 0x4
}

/// Client bytes built by hand, so the session is tested against the RFC rather than against libnghttp2's own
/// client: frames (RFC 9113 §4.1) and header blocks in the simplest HPACK form.
enum FrameBuilder {
    /// The client connection preface (RFC 9113 §3.4).
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// A 9-byte frame header and `payload`.
    static func frame(_ type: UInt8, flags: UInt8 = 0, stream: Int32 = 0, payload: [UInt8] = []) -> [UInt8] {
        var bytes = [UInt8(truncatingIfNeeded: payload.count >> 16), UInt8(truncatingIfNeeded: payload.count >> 8)]
        bytes += [UInt8(truncatingIfNeeded: payload.count), type, flags]
        bytes += bigEndian(UInt32(stream))
        return bytes + payload
    }

    static func settings(_ entries: [(UInt16, UInt32)] = []) -> [UInt8] {
        frame(FrameType.settings, payload: entries.flatMap { bigEndian($0.0) + bigEndian($0.1) })
    }

    static let settingsAck = frame(FrameType.settings, flags: FrameFlag.ack)

    static func headers(
        stream: Int32, _ fields: [(String, String)], endStream: Bool = true, endHeaders: Bool = true
    ) -> [UInt8] {
        headers(stream: stream, block: headerBlock(fields), endStream: endStream, endHeaders: endHeaders)
    }

    static func headers(stream: Int32, block: [UInt8], endStream: Bool = true, endHeaders: Bool = true) -> [UInt8] {
        let flags = (endStream ? FrameFlag.endStream : 0) | (endHeaders ? FrameFlag.endHeaders : 0)
        return frame(FrameType.headers, flags: flags, stream: stream, payload: block)
    }

    static func continuation(stream: Int32, block: [UInt8], endHeaders: Bool) -> [UInt8] {
        frame(FrameType.continuation, flags: endHeaders ? FrameFlag.endHeaders : 0, stream: stream, payload: block)
    }

    /// A request's fields: the four pseudo-header fields, then `extra`.
    static func request(
        _ method: String, _ path: String, authority: String = "example.test", _ extra: [(String, String)] = []
    ) -> [(String, String)] {
        [(":method", method), (":scheme", "http"), (":path", path), (":authority", authority)] + extra
    }

    /// Each field as "literal header field without indexing — new name" (RFC 7541 §6.2.2): 0x00, then the
    /// name and the value as string literals without Huffman coding (§5.2).
    static func headerBlock(_ fields: [(String, String)]) -> [UInt8] {
        fields.flatMap { name, value in [0x00] + stringLiteral(Array(name.utf8)) + stringLiteral(Array(value.utf8)) }
    }

    /// A string literal: H = 0, the length as a 7-bit-prefix integer (RFC 7541 §5.1), the raw bytes.
    static func stringLiteral(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 127 else { return [UInt8(bytes.count)] + bytes }
        var encoded: [UInt8] = [127]
        var rest = bytes.count - 127
        while rest >= 128 {
            encoded.append(UInt8(rest % 128 + 128))
            rest /= 128
        }
        return encoded + [UInt8(rest)] + bytes
    }

    static func data(stream: Int32, _ bytes: [UInt8], endStream: Bool = true) -> [UInt8] {
        frame(FrameType.data, flags: endStream ? FrameFlag.endStream : 0, stream: stream, payload: bytes)
    }

    static func windowUpdate(stream: Int32, increment: UInt32) -> [UInt8] {
        frame(FrameType.windowUpdate, stream: stream, payload: bigEndian(increment))
    }

    static func ping(_ payload: [UInt8], ack: Bool = false) -> [UInt8] {
        frame(FrameType.ping, flags: ack ? FrameFlag.ack : 0, payload: payload)
    }

    static func rstStream(stream: Int32, code: UInt32) -> [UInt8] {
        frame(FrameType.rstStream, stream: stream, payload: bigEndian(code))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }

    static func bigEndian(_ value: UInt16) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}

/// One frame of the server's output.
struct Frame: Equatable, CustomStringConvertible {
    var type: UInt8
    var flags: UInt8
    var stream: Int32
    var payload: [UInt8]

    func has(_ flag: UInt8) -> Bool { flags & flag == flag }

    /// The big-endian 32-bit word at `offset` of the payload (GOAWAY, WINDOW_UPDATE, RST_STREAM).
    func word(at offset: Int) -> UInt32 {
        payload[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// A SETTINGS frame's parameters, in order.
    var settings: [(id: UInt16, value: UInt32)] {
        stride(from: 0, to: payload.count - payload.count % 6, by: 6).map { offset in
            (UInt16(payload[offset]) << 8 | UInt16(payload[offset + 1]), word(at: offset + 2))
        }
    }

    var description: String { "frame(type \(type), flags \(flags), stream \(stream), \(payload.count) bytes)" }

    /// Splits `bytes` into frames; nil if they do not end at a frame boundary.
    static func parse(_ bytes: [UInt8]) -> [Frame]? {
        var frames: [Frame] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 9 else { return nil }
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            guard bytes.count - offset - 9 >= length else { return nil }
            let id = bytes[offset + 5..<offset + 9].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
            frames.append(
                Frame(
                    type: bytes[offset + 3], flags: bytes[offset + 4], stream: Int32(id),
                    payload: Array(bytes[offset + 9..<offset + 9 + length])))
            offset += 9 + length
        }
        return frames
    }
}
