/// Reads one JSON string (RFC 8259 §7) from raw bytes: escapes decoded, surrogate pairs joined, control
/// characters refused, the result validated as UTF-8. Shared by `JSONParser` and the dataset ingest parser, so
/// that both accept and refuse exactly the same strings.
package enum JSONStringScanner {
    /// Why the string is not valid: the byte offset where that was found, and a sentence.
    package struct Failure: Error, Sendable, Equatable {
        package var offset: Int
        package var detail: String
    }

    /// The string whose opening quote is at `start`, and the index just after its closing quote.
    package static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, openingQuoteAt start: Int
    ) throws(Failure) -> (value: String, end: Int) {
        var position = start + 1
        var utf8: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    throw Failure(offset: position - 1, detail: "the string is not valid UTF-8")
                }
                return (text, position)
            case UInt8(ascii: "\\"):
                try decodeEscape(bytes, &position, into: &utf8)
            case 0..<0x20:
                throw Failure(offset: position - 1, detail: "control characters must be escaped in strings")
            default:
                utf8.append(byte)
            }
        }
        throw Failure(offset: position, detail: "the body ends inside a string")
    }

    /// The escape after a backslash (at `position`), appended as UTF-8.
    private static func decodeEscape(
        _ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int, into utf8: inout [UInt8]
    ) throws(Failure) {
        guard position < bytes.count else { throw Failure(offset: position, detail: "the body ends inside an escape") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4(bytes, &position)
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low one; together they are one scalar.
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw Failure(offset: position, detail: "a lone high surrogate in a \\u escape") }
                position += 2
                let low = try hex4(bytes, &position)
                guard (0xDC00..<0xE000).contains(low) else {
                    throw Failure(offset: position, detail: "a lone high surrogate in a \\u escape")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else {
                throw Failure(offset: position, detail: "a lone low surrogate in a \\u escape")
            }
            UTF8.encode(unicode) { utf8.append($0) }
        default:
            let shown =
                (0x21..<0x7F).contains(byte) ? String(Unicode.Scalar(byte)) : "byte 0x\(String(byte, radix: 16))"
            throw Failure(offset: position - 1, detail: "unknown escape '\\\(shown)' in a string")
        }
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw Failure(offset: position, detail: "\\u needs four hex digits") }
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure(offset: position, detail: "\\u needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
