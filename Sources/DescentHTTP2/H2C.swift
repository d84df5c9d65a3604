import DescentHTTP

/// The two ways an HTTP/2 connection in cleartext begins on a port that also speaks HTTP/1.1 (RFC 9113 §3.3,
/// RFC 7540 §3.2): with the client connection preface ("prior knowledge"), or with an HTTP/1.1 request that
/// asks to upgrade. The first bytes decide.
package enum H2C {
    /// The part of the connection preface that no HTTP/1.1 request can begin with (`PRI` is no method the
    /// server implements, and `HTTP/2.0` no HTTP/1.x version). libnghttp2 checks the rest of the preface.
    private static let prefaceStart = Array("PRI * HTTP/2.0\r\n".utf8)

    package enum Opening: Equatable {
        case http2
        case http1
        /// Too few bytes yet to tell.
        case undecided
    }

    /// What the first bytes received on a connection say about its protocol.
    package static func opening(_ bytes: ArraySlice<UInt8>) -> Opening {
        let count = min(bytes.count, prefaceStart.count)
        guard bytes.prefix(count).elementsEqual(prefaceStart.prefix(count)) else { return .http1 }
        return count == prefaceStart.count ? .http2 : .undecided
    }

    /// The SETTINGS payload of an HTTP/1.1 request that asks to upgrade to h2c, or nil when it does not ask,
    /// or asks in a way that must be ignored (RFC 7540 §3.2, §3.2.1): not HTTP/1.1, no `h2c` in `Upgrade`,
    /// not exactly one `HTTP2-Settings` field, a value that is not base64url, or a `Connection` field that
    /// does not name both `Upgrade` and `HTTP2-Settings`. Such a request is served over HTTP/1.1.
    package static func upgradeSettings(_ head: HTTPRequestHead) -> [UInt8]? {
        // Most requests have no Upgrade field: one pass to find that out, before the lists are built.
        guard head.version == .http1_1, head.headers.contains("Upgrade"),
            head.headers.listElements("Upgrade").contains(where: { HTTPHeaders.equalsIgnoringCase($0, "h2c") })
        else { return nil }
        let connection = head.headers.listElements("Connection")
        guard connection.contains(where: { HTTPHeaders.equalsIgnoringCase($0, "Upgrade") }),
            connection.contains(where: { HTTPHeaders.equalsIgnoringCase($0, "HTTP2-Settings") })
        else { return nil }
        let values = head.headers.values("HTTP2-Settings")
        guard values.count == 1 else { return nil }
        return Base64URL.decode(values[0])
    }

    /// The interim response that switches the connection; HTTP/2 frames follow it directly.
    package static let switchingProtocols = Array(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".utf8)
}

/// base64url without padding (RFC 4648 §5), as `HTTP2-Settings` carries it.
enum Base64URL {
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): continue  // tolerated, though RFC 7540 says it is omitted
            default: return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be fewer than a byte: 1 character alone (6 bits) is not valid base64.
        return bits >= 6 ? nil : output
    }
}
