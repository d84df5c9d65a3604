/// Everything before the body of a request: the request line, the header fields, and what they imply
/// for framing and the connection.
package struct HTTPRequestHead: Sendable {
    package var method: HTTPMethod
    /// The request-target exactly as sent (origin-form `/path?query`, or absolute-form).
    package var target: String
    /// The path of the target, still percent-encoded; always starts with `/` (or is `*`).
    package var path: Substring
    /// What follows `?` in the target, if anything.
    package var query: Substring?
    package var version: HTTPVersion
    package var headers: HTTPHeaders
    package var framing: BodyFraming
    /// Whether the connection may carry another request after this one (RFC 9112 §9.3).
    package var keepAlive: Bool
    /// The client sent `Expect: 100-continue` and waits for an interim answer before the body.
    package var expectsContinue: Bool

    package init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:],
        framing: BodyFraming = .none, keepAlive: Bool = true, expectsContinue: Bool = false
    ) {
        self.method = method
        self.target = target
        let (path, query) = Self.split(target: target)
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }

    /// How the body's length is known (RFC 9112 §6.3).
    package enum BodyFraming: Sendable, Equatable {
        case none
        case contentLength(Int)
        case chunked
    }

    /// Splits a target into path and query; an absolute-form target (`http://host/p`) gives its path.
    /// Works on the UTF-8 view: the target is ASCII, and Character iteration would cost grapheme breaking.
    static func split(target: String) -> (Substring, Substring?) {
        let bytes = target.utf8
        var rest = Substring(target)
        if bytes.first != UInt8(ascii: "/") && target != "*", let scheme = target.range(of: "://") {
            let afterAuthority = target[scheme.upperBound...]
            rest = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterAuthority[$0...] } ?? "/"
            if rest.hasPrefix("?") { rest = "/" + rest }
        }
        guard let mark = rest.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (rest, nil) }
        return (rest[..<mark], rest[rest.utf8.index(after: mark)...])
    }
}
