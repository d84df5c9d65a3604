/// A request method (RFC 9110 §9). Only the methods Descent knows are representable: the parser answers
/// any other well-formed token with 501 Not Implemented (RFC 9110 §9.1).
package enum HTTPMethod: String, Sendable, CaseIterable, Hashable {
    case GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT

    /// Looks the method up from its bytes without building a `String` for the common ones.
    package init?(bytes: ArraySlice<UInt8>) {
        switch bytes.count {
        case 3 where bytes.elementsEqual("GET".utf8): self = .GET
        case 4 where bytes.elementsEqual("POST".utf8): self = .POST
        case 4 where bytes.elementsEqual("HEAD".utf8): self = .HEAD
        default:
            guard let method = HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self)) else { return nil }
            self = method
        }
    }
}
