/// A request method (RFC 9110 §9). Only the methods Descent knows are representable: the parser answers
/// any other well-formed token with 501 Not Implemented (RFC 9110 §9.1).
package enum HTTPMethod: String, Sendable, CaseIterable, Hashable {
    case GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT

    /// Looks the method up from its bytes without building a `String` for the common ones.
    package init?(bytes: ArraySlice<UInt8>) {
        // Byte by byte: comparing with a string literal's UTF-8 view went through a generic `elementsEqual`.
        let start = bytes.startIndex
        switch bytes.count {
        case 3
        where bytes[start] == UInt8(ascii: "G") && bytes[start + 1] == UInt8(ascii: "E")
            && bytes[start + 2] == UInt8(ascii: "T"):
            self = .GET
        case 4
        where bytes[start + 1] == UInt8(ascii: "O") && bytes[start] == UInt8(ascii: "P")
            && bytes[start + 2] == UInt8(ascii: "S") && bytes[start + 3] == UInt8(ascii: "T"):
            self = .POST
        default:
            guard let method = HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self)) else { return nil }
            self = method
        }
    }
}
