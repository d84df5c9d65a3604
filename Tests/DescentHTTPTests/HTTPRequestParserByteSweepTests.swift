import Testing

@testable import DescentHTTP

/// Every byte value through each part of a request, checked against the grammar of RFC 9110 and RFC 9112
/// as written out here (not as the parser's tables say).
@Suite("HTTPRequestParser: all 256 byte values")
struct HTTPRequestParserByteSweepTests {
    /// tchar (RFC 9110 §5.6.2).
    static let tchars = Set(Array("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))

    /// field-vchar / SP / HTAB (RFC 9110 §5.5), with field-vchar = VCHAR / obs-text.
    static func isAllowedInValue(_ byte: UInt8) -> Bool {
        byte == 0x09 || byte == 0x20 || (0x21...0x7E).contains(byte) || byte >= 0x80
    }

    static let allBytes = (0...255).map { UInt8($0) }

    @Test("the tchar set written out has the 77 characters of RFC 9110")
    func tcharCount() {
        #expect(Self.tchars.count == 77)
    }

    @Test("HTTPSyntax classifies every byte as the RFCs do")
    func syntaxTables() {
        for byte in Self.allBytes {
            #expect(HTTPSyntax.isTokenByte(byte) == Self.tchars.contains(byte), "token byte \(byte)")
            #expect(HTTPSyntax.isFieldValueByte(byte) == Self.isAllowedInValue(byte), "value byte \(byte)")
            #expect(HTTPSyntax.isTargetByte(byte) == (0x21...0x7E).contains(byte), "target byte \(byte)")
        }
    }

    @Test("exactly the tchar bytes are accepted in a header name")
    func headerNameBytes() {
        for byte in Self.allBytes {
            let bytes =
                Array("GET / HTTP/1.1\r\nHost: example.com\r\nX-T".utf8) + [byte]
                + Array("st: v\r\n\r\n".utf8)
            let outcome = parse(bytes)
            if Self.tchars.contains(byte) {
                let expected = [Field("Host", "example.com"), Field("X-T" + String(UnicodeScalar(byte)) + "st", "v")]
                #expect(outcome.error == nil, "byte \(byte)")
                #expect(outcome.head?.headers == expected, "byte \(byte)")
            } else if byte == UInt8(ascii: ":") {
                // The colon ends the name; the rest belongs to the value.
                #expect(outcome.head?.headers.last == Field("X-T", "st: v"))
            } else {
                #expect(outcome.isBadRequest, "byte \(byte) in a header name must be rejected, got \(outcome)")
            }
        }
    }

    @Test("a header name that is a single byte is accepted exactly when the byte is a tchar")
    func oneByteHeaderNames() {
        for byte in Self.allBytes {
            let bytes = Array("GET / HTTP/1.1\r\nHost: example.com\r\n".utf8) + [byte] + Array(": v\r\n\r\n".utf8)
            let outcome = parse(bytes)
            if Self.tchars.contains(byte) {
                #expect(outcome.head?.headers.last == Field(String(UnicodeScalar(byte)), "v"), "byte \(byte)")
            } else {
                #expect(outcome.isBadRequest, "byte \(byte) as a header name must be rejected, got \(outcome)")
            }
        }
    }

    @Test("exactly HTAB, SP, visible ASCII and obs-text are accepted inside a header value")
    func headerValueBytes() {
        for byte in Self.allBytes {
            let bytes =
                Array("GET / HTTP/1.1\r\nHost: example.com\r\nX-Test: a".utf8) + [byte]
                + Array("b\r\n\r\n".utf8)
            let outcome = parse(bytes)
            if Self.isAllowedInValue(byte) {
                #expect(outcome.error == nil, "byte \(byte)")
                let value = outcome.head?.headers.last?.value
                if byte < 0x80 {
                    #expect(value == "a" + String(UnicodeScalar(byte)) + "b", "byte \(byte)")
                } else {
                    // obs-text is accepted; values are read as UTF-8, so a lone high byte becomes U+FFFD.
                    #expect(value == "a\u{FFFD}b", "byte \(byte)")
                }
            } else {
                #expect(outcome.isBadRequest, "byte \(byte) in a header value must be rejected, got \(outcome)")
            }
        }
    }

    @Test("a header value that is a single trailing control byte is rejected, not trimmed away")
    func trailingControlByte() {
        for byte in Self.allBytes where !Self.isAllowedInValue(byte) && byte != 0x0A {
            let bytes =
                Array("GET / HTTP/1.1\r\nHost: example.com\r\nX-Test: a".utf8) + [byte]
                + Array("\r\n\r\n".utf8)
            #expect(parse(bytes).isBadRequest, "byte \(byte) at the end of a header value")
        }
    }

    @Test("exactly the visible ASCII bytes but # (a fragment) are accepted in a request-target")
    func targetBytes() {
        for byte in Self.allBytes {
            let bytes = Array("GET /a".utf8) + [byte] + Array("b HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)
            let outcome = parse(bytes)
            if (0x21...0x7E).contains(byte) && byte != UInt8(ascii: "#") {
                #expect(outcome.error == nil, "byte \(byte)")
                #expect(outcome.head?.target == "/a" + String(UnicodeScalar(byte)) + "b", "byte \(byte)")
            } else {
                #expect(outcome.isBadRequest, "byte \(byte) in the target must be rejected, got \(outcome)")
            }
        }
    }

    @Test("exactly the tchar bytes are accepted in a method, and an unknown token is not implemented")
    func methodBytes() {
        for byte in Self.allBytes {
            let bytes = Array("GE".utf8) + [byte] + Array("T / HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)
            let outcome = parse(bytes)
            if Self.tchars.contains(byte) {
                #expect(outcome.error == .unknownMethod("GE" + String(UnicodeScalar(byte)) + "T"), "byte \(byte)")
            } else {
                #expect(outcome.isBadRequest, "byte \(byte) in the method must be rejected, got \(outcome)")
            }
        }
    }

    @Test("only bytes that may appear in a field value are accepted in a chunk extension")
    func chunkExtensionBytes() {
        let head = request("POST / HTTP/1.1", ["Host: example.com", "Transfer-Encoding: chunked"])
        for byte in Self.allBytes where byte != 0x0A {
            let bytes = head + Array("1;a=".utf8) + [byte] + Array("b\r\nx\r\n0\r\n\r\n".utf8)
            let outcome = parse(bytes)
            if Self.isAllowedInValue(byte) {
                #expect(outcome.error == nil, "byte \(byte)")
                #expect(outcome.events.suffix(2) == [.bodyText("x"), .end], "byte \(byte)")
            } else {
                #expect(outcome.isBadRequest, "byte \(byte) in a chunk extension must be rejected, got \(outcome)")
            }
        }
    }
}
