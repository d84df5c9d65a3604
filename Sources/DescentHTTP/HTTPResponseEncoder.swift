/// Serialises HTTP/1.1 response heads and chunked framing (RFC 9112 §4, §7.1) into byte buffers.
package enum HTTPResponseEncoder {
    /// Appends the status line, `headers`, the framing headers and the blank line to `buffer`.
    package static func appendHead(
        _ status: HTTPStatus, headers: HTTPHeaders, contentLength: Int?, chunked: Bool, keepAlive: Bool,
        requestID: String, into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: Bytes.statusLineStart)
        appendDecimal(status.code, into: &buffer)
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: status.reason.utf8)
        buffer.append(contentsOf: Bytes.date)
        buffer.append(contentsOf: HTTPDate.shared.current())
        for (name, value) in headers {
            appendField(name, value, into: &buffer)
        }
        if let contentLength {
            buffer.append(contentsOf: Bytes.contentLength)
            appendDecimal(contentLength, into: &buffer)
        }
        if chunked { buffer.append(contentsOf: Bytes.chunked) }
        if !requestID.isEmpty { appendField("X-Request-Id", requestID, into: &buffer) }
        buffer.append(contentsOf: keepAlive ? Bytes.keepAliveEnd : Bytes.closeEnd)
    }

    /// Appends `bytes` as one chunk: size in hex, CRLF, data, CRLF. Empty input appends nothing, because an
    /// empty chunk would end the body.
    package static func appendChunk(_ bytes: [UInt8], into buffer: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        buffer.append(contentsOf: String(bytes.count, radix: 16).utf8)
        buffer.append(contentsOf: [0x0D, 0x0A])
        buffer.append(contentsOf: bytes)
        buffer.append(contentsOf: [0x0D, 0x0A])
    }

    /// The fixed pieces of a head, as bytes once: appending an array is a copy, a string's UTF-8 view a walk.
    private enum Bytes {
        static let statusLineStart = Array("HTTP/1.1 ".utf8)
        static let date = Array("\r\nDate: ".utf8)
        static let contentLength = Array("\r\nContent-Length: ".utf8)
        static let chunked = Array("\r\nTransfer-Encoding: chunked".utf8)
        static let keepAliveEnd = Array("\r\nConnection: keep-alive\r\n\r\n".utf8)
        static let closeEnd = Array("\r\nConnection: close\r\n\r\n".utf8)
    }

    /// The last chunk and an empty trailer section.
    package static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// The interim response a client waits for after `Expect: 100-continue` (RFC 9110 §15.2.1).
    package static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private static func appendField(_ name: String, _ value: String, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: [0x0D, 0x0A])
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
        // A value from a handler must never be able to start a new header line (response splitting).
        if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) {
            buffer.append(contentsOf: value.utf8.filter { $0 != 0x0D && $0 != 0x0A })
        } else {
            buffer.append(contentsOf: value.utf8)
        }
    }

    /// Appends a non-negative `value` in decimal, digit by digit (no String in between: this runs for every
    /// response's status and length).
    private static func appendDecimal(_ value: Int, into buffer: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
