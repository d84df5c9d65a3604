/// Serialises HTTP/1.1 response heads and chunked framing (RFC 9112 §4, §7.1) into byte buffers.
package enum HTTPResponseEncoder {
    /// Appends the status line, `headers`, the framing headers and the blank line to `buffer`.
    package static func appendHead(
        _ status: HTTPStatus, headers: HTTPHeaders, contentLength: Int?, chunked: Bool, keepAlive: Bool,
        requestID: String, into buffer: inout [UInt8]
    ) {
        let date = HTTPDate.shared.current()
        // The head is written into scratch space of at least its length and appended to `buffer` once: a dozen
        // appends to the array would check its capacity and uniqueness a dozen times.
        var bound = Bytes.fixedLength + status.reason.utf8.count + date.count + requestID.utf8.count
        // Fields are read in place, by index: `for (name, value) in headers` copied each pair (two retains and two
        // releases a field, twice per response).
        let fields = headers.fields
        for index in fields.indices { bound += 4 + fields[index].name.utf8.count + fields[index].value.utf8.count }
        withUnsafeTemporaryAllocation(byteCount: bound, alignment: 1) { scratch in
            var head = HeadWriter(scratch)
            head.write(Bytes.statusLineStart)
            head.writeDecimal(status.code)
            head.write(UInt8(ascii: " "))
            head.write(status.reason)
            head.write(Bytes.date)
            head.write(date)
            for index in fields.indices { head.writeField(fields[index].name, fields[index].value) }
            if let contentLength {
                head.write(Bytes.contentLength)
                head.writeDecimal(contentLength)
            }
            if chunked { head.write(Bytes.chunked) }
            if !requestID.isEmpty { head.writeField("X-Request-Id", requestID) }
            head.write(keepAlive ? Bytes.keepAliveEnd : Bytes.closeEnd)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<head.count]))
        }
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

    /// The fixed pieces of a head. Static strings, not arrays in `static let`s: their bytes are constants in the
    /// binary, where a `static let` is reached through a lazy-initialisation check (`swift_once`) on every use.
    private enum Bytes {
        static var statusLineStart: StaticString { "HTTP/1.1 " }
        static var date: StaticString { "\r\nDate: " }
        static var contentLength: StaticString { "\r\nContent-Length: " }
        static var chunked: StaticString { "\r\nTransfer-Encoding: chunked" }
        static var keepAliveEnd: StaticString { "\r\nConnection: keep-alive\r\n\r\n" }
        static var closeEnd: StaticString { "\r\nConnection: close\r\n\r\n" }
        static var requestIDName: StaticString { "X-Request-Id" }

        /// The most a head takes besides the reason phrase, the date, the request id and the handler's fields:
        /// the fixed pieces, a status code and a Content-Length of up to 20 digits each, and the id's field name.
        static var fixedLength: Int {
            statusLineStart.utf8CodeUnitCount + 20 + 1 + date.utf8CodeUnitCount + contentLength.utf8CodeUnitCount + 20
                + chunked.utf8CodeUnitCount + keepAliveEnd.utf8CodeUnitCount + 4 + requestIDName.utf8CodeUnitCount
        }
    }

    /// The last chunk and an empty trailer section.
    package static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// The interim response a client waits for after `Expect: 100-continue` (RFC 9110 §15.2.1).
    package static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}

/// Writes a response head into scratch space that `appendHead` sized to fit it. Every write checks the bound, in
/// release builds too: the space is on the stack, and a wrong size must stop the process, not overwrite it.
private struct HeadWriter {
    private let base: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ base: UnsafeMutableRawBufferPointer) { self.base = base }

    mutating func write(_ byte: UInt8) {
        precondition(count < base.count, "response head larger than its computed bound")
        base[count] = byte
        count += 1
    }

    mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    mutating func write(_ text: StaticString) {
        text.withUTF8Buffer { write(UnsafeRawBufferPointer($0)) }
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= base.count - count, "response head larger than its computed bound")
        UnsafeMutableRawBufferPointer(rebasing: base[count..<count + bytes.count]).copyMemory(from: bytes)
        count += bytes.count
    }

    mutating func write(_ text: String) {
        // Read in place: `withUTF8` wants a mutable copy of the string (a retain and a release). Native strings,
        // which are all that reach here on Linux, are contiguous; the loop is for any other.
        if text.utf8.withContiguousStorageIfAvailable({ write(UnsafeRawBufferPointer($0)) }) == nil {
            for byte in text.utf8 { write(byte) }
        }
    }

    /// `name: value` on a line of its own. A value from a handler must never be able to start a new header line
    /// (response splitting): its CR and LF bytes are left out.
    mutating func writeField(_ name: String, _ value: String) {
        write(0x0D)
        write(0x0A)
        write(name)
        write(UInt8(ascii: ":"))
        write(UInt8(ascii: " "))
        let written = value.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte != 0x0D && byte != 0x0A { write(byte) }
        }
        if written == nil {
            for byte in value.utf8 where byte != 0x0D && byte != 0x0A { write(byte) }
        }
    }

    /// A non-negative `value` in decimal, digit by digit (no String in between: this runs for every response's
    /// status and length).
    mutating func writeDecimal(_ value: Int) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            write(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
