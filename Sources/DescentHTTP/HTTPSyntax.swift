/// Character classes of RFC 9110 §5.6 and the line grammar of RFC 9112, on bytes. The HTTP/2 stream uses
/// `isAuthority`, so that `:authority` and `host` are held to the rule HTTP/1.1 holds `Host` to.
package enum HTTPSyntax {
    /// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
    ///         / DIGIT / ALPHA   (RFC 9110 §5.6.2)
    ///
    /// A bit per byte value below 128, in two words: constants, where a table in a `static let` would be reached
    /// through a lazy-initialisation check on every call (HTTPSyntaxTests checks the bits against the grammar).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0..<64: (0x03FF_6CFA_0000_0000 as UInt64) >> byte & 1 == 1
        case 64..<128: (0x57FF_FFFF_C7FF_FFFE as UInt64) >> (byte - 64) & 1 == 1
        default: false
        }
    }

    /// field-vchar / SP / HTAB, where field-vchar = VCHAR / obs-text (RFC 9110 §5.5). Everything else —
    /// NUL, CR, LF, the other controls and DEL — is forbidden in a field value.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// A request-target is visible ASCII only (RFC 3986 characters; anything else must be percent-encoded).
    static func isTargetByte(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

}

extension HTTPRequestParser {
    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3), exactly one space apart.
    static func parseRequestLine(
        _ line: ArraySlice<UInt8>, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> (method: HTTPMethod, target: String, version: HTTPVersion) {
        // Exactly two spaces, found without building an array of pieces.
        guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")),
            let secondSpace = line[(firstSpace + 1)...].firstIndex(of: UInt8(ascii: " ")),
            !line[(secondSpace + 1)...].contains(UInt8(ascii: " ")),
            firstSpace > line.startIndex, secondSpace > firstSpace + 1
        else { throw .badRequest("the request line must be: method SP request-target SP HTTP-version") }
        let methodBytes = line[line.startIndex..<firstSpace]
        let targetBytes = line[(firstSpace + 1)..<secondSpace]
        guard methodBytes.allSatisfy(HTTPSyntax.isTokenByte) else { throw .badRequest("the method is not a token") }
        let version = try parseVersion(line[(secondSpace + 1)...])
        guard targetBytes.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw .badRequest("the request-target has a byte that must be percent-encoded")
        }
        // RFC 9112 §3.2: no form of request-target has a fragment; a client must strip it before sending.
        guard !targetBytes.contains(UInt8(ascii: "#")) else {
            throw .badRequest("the request-target has a fragment (#), which no request-target may carry")
        }
        let target = String(decoding: targetBytes, as: UTF8.self)
        if targetBytes.first != UInt8(ascii: "/") && target != "*" {
            guard let schemeLength = ["http://", "https://"].first(where: { target.hasPrefix($0) })?.utf8.count else {
                throw .badRequest("the request-target must be a path, an absolute URI or *")
            }
            // absolute-form: the authority runs to the path or the query, as HTTPRequestHead.split reads it, and
            // must be a host with an optional port: not empty (RFC 9110 §4.2.1), without userinfo (§4.2.4).
            let afterScheme = targetBytes.dropFirst(schemeLength)
            let authority = afterScheme.prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") }
            guard HTTPSyntax.isAuthority(authority) else {
                throw .badRequest(
                    "the authority of the absolute-form request-target is not a host with an optional port")
            }
        }
        guard let method = HTTPMethod(bytes: methodBytes) else {
            throw .unknownMethod(String(decoding: methodBytes, as: UTF8.self))
        }
        return (method, target, version)
    }

    /// HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3).
    static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        let start = bytes.startIndex
        guard bytes.count == 8, bytes[start] == UInt8(ascii: "H"), bytes[start + 1] == UInt8(ascii: "T"),
            bytes[start + 2] == UInt8(ascii: "T"), bytes[start + 3] == UInt8(ascii: "P"),
            bytes[start + 4] == UInt8(ascii: "/"), bytes[start + 6] == UInt8(ascii: "."),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[start + 5]),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[start + 7])
        else { throw .badRequest("malformed HTTP version") }
        let version = HTTPVersion(
            major: Int(bytes[start + 5] - UInt8(ascii: "0")), minor: Int(bytes[start + 7] - UInt8(ascii: "0")))
        guard version == .http1_0 || version == .http1_1 else {
            throw .unsupportedVersion(String(decoding: bytes, as: UTF8.self))
        }
        return version
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). No space before the colon (§5.1),
    /// no obsolete line folding (§5.2), no whitespace between the start line and the first field (§2.2).
    static func parseFieldLine(_ line: ArraySlice<UInt8>, isFirst: Bool) throws(HTTPParseError) -> (String, String) {
        guard let first = line.first, first != UInt8(ascii: " ") && first != UInt8(ascii: "\t") else {
            throw .badRequest(isFirst ? "whitespace before the first header field" : "obsolete line folding")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .badRequest("a header line without a colon")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTokenByte) else {
            throw .badRequest("a header field name that is not a token")
        }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == 0x20 || byte == 0x09 { value.removeFirst() }
        while let byte = value.last, byte == 0x20 || byte == 0x09 { value.removeLast() }
        guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else {
            throw .badRequest("a control character in the value of \(String(decoding: name, as: UTF8.self))")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// chunk-size [ chunk-ext ], where chunk-size = 1*HEXDIG (RFC 9112 §7.1). Extensions are ignored.
    static func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexDigit(line[index]) {
            guard digits < 15 else { throw .badRequest("chunk size too large") }
            size = size << 4 | digit
            digits += 1
            index += 1
        }
        guard digits > 0 else { throw .badRequest("chunk size is not hexadecimal") }
        var rest = line[index...]
        while let byte = rest.first, byte == 0x20 || byte == 0x09 { rest.removeFirst() }  // BWS before ";"
        guard rest.isEmpty || (rest.first == UInt8(ascii: ";") && rest.allSatisfy(HTTPSyntax.isFieldValueByte)) else {
            throw .badRequest("unexpected bytes after the chunk size")
        }
        return size
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
