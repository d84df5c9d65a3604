/// Everything before the body of a request: the request line, the header fields, and what they imply
/// for framing and the connection.
package struct HTTPRequestHead: Sendable {
    /// The fields live in one object that copies share, so that a copy is one reference count rather than one
    /// for each string and for the header list: a head is kept by the parser, by the connection's exchange and
    /// by the request the handler gets (perf on `GET /healthz`: copying and destroying heads field by field was
    /// ~8% of the server's user time). Copy-on-write keeps the value semantics.
    private var storage: Storage

    package var method: HTTPMethod {
        get { storage.method }
        _modify { yield &uniqueStorage().method }
    }
    /// The request-target exactly as sent (origin-form `/path?query`, or absolute-form).
    package var target: String {
        get { storage.target }
        _modify { yield &uniqueStorage().target }
    }
    /// The path of the target, still percent-encoded; always starts with `/` (or is `*`).
    package var path: Substring {
        get { storage.path }
        _modify { yield &uniqueStorage().path }
    }
    /// What follows `?` in the target, if anything.
    package var query: Substring? {
        get { storage.query }
        _modify { yield &uniqueStorage().query }
    }
    package var version: HTTPVersion {
        get { storage.version }
        _modify { yield &uniqueStorage().version }
    }
    package var headers: HTTPHeaders {
        get { storage.headers }
        _modify { yield &uniqueStorage().headers }
    }
    package var framing: BodyFraming {
        get { storage.framing }
        _modify { yield &uniqueStorage().framing }
    }
    /// Whether the connection may carry another request after this one (RFC 9112 §9.3).
    package var keepAlive: Bool {
        get { storage.keepAlive }
        _modify { yield &uniqueStorage().keepAlive }
    }
    /// The client sent `Expect: 100-continue` and waits for an interim answer before the body.
    package var expectsContinue: Bool {
        get { storage.expectsContinue }
        _modify { yield &uniqueStorage().expectsContinue }
    }

    package init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:],
        framing: BodyFraming = .none, keepAlive: Bool = true, expectsContinue: Bool = false
    ) {
        let (path, query) = Self.split(target: target)
        storage = Storage(
            method: method, target: target, path: path, query: query, version: version, headers: headers,
            framing: framing, keepAlive: keepAlive, expectsContinue: expectsContinue)
    }

    /// For the parser between requests: when no other copy shares this head, empties it for `reuse`, handing its
    /// header list to `headers` (emptied, its capacity kept, for the next request's fields), and returns true.
    /// Returns false, changing nothing, when the head is shared.
    package mutating func recycle(handingHeadersTo headers: inout HTTPHeaders) -> Bool {
        guard isKnownUniquelyReferenced(&storage) else { return false }
        swap(&storage.headers, &headers)
        headers.removeAll()
        storage.headers = HTTPHeaders()
        storage.target = ""
        storage.path = ""
        storage.query = nil
        return true
    }

    /// Makes a recycled head the head of a new request, in the same storage (an allocation per request saved).
    package mutating func reuse(method: HTTPMethod, target: String, version: HTTPVersion, headers: HTTPHeaders) {
        let (path, query) = Self.split(target: target)
        let storage = uniqueStorage()
        storage.method = method
        storage.target = target
        storage.path = path
        storage.query = query
        storage.version = version
        storage.headers = headers
        storage.framing = .none
        storage.keepAlive = true
        storage.expectsContinue = false
    }

    private mutating func uniqueStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// The shared fields. Thread-safety: mutated only while a single head refers to it (`uniqueStorage` and
    /// `recycle` check that first); once shared, it is read-only.
    private final class Storage: @unchecked Sendable {
        var method: HTTPMethod
        var target: String
        var path: Substring
        var query: Substring?
        var version: HTTPVersion
        var headers: HTTPHeaders
        var framing: BodyFraming
        var keepAlive: Bool
        var expectsContinue: Bool

        init(
            method: HTTPMethod, target: String, path: Substring, query: Substring?, version: HTTPVersion,
            headers: HTTPHeaders, framing: BodyFraming, keepAlive: Bool, expectsContinue: Bool
        ) {
            self.method = method
            self.target = target
            self.path = path
            self.query = query
            self.version = version
            self.headers = headers
            self.framing = framing
            self.keepAlive = keepAlive
            self.expectsContinue = expectsContinue
        }

        func copy() -> Storage {
            Storage(
                method: method, target: target, path: path, query: query, version: version, headers: headers,
                framing: framing, keepAlive: keepAlive, expectsContinue: expectsContinue)
        }
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
        let utf8 = rest.utf8
        let mark: String.Index?
        // A native string's bytes are searched as a buffer: the search on the view steps through its index API.
        if let offset = utf8.withContiguousStorageIfAvailable({ $0.firstIndex(of: UInt8(ascii: "?")) }) {
            mark = offset.map { utf8.index(utf8.startIndex, offsetBy: $0) }
        } else {
            mark = utf8.firstIndex(of: UInt8(ascii: "?"))
        }
        guard let mark else { return (rest, nil) }
        return (rest[..<mark], rest[utf8.index(after: mark)...])
    }
}
