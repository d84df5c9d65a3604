/// Why a request could not be parsed. Each case names the limit or rule that was broken; after any of them
/// the connection is closed, since the framing of whatever follows can no longer be trusted.
package enum HTTPParseError: Error, Equatable, Sendable {
    /// Malformed syntax, or an ambiguity that could be used for request smuggling (RFC 9112 §11.2).
    case badRequest(String)
    /// The request line is longer than the limit (414).
    case uriTooLong(limit: Int)
    /// The header section is larger than the limit in bytes (431).
    case headerFieldsTooLarge(limit: Int)
    /// More header (or trailer) fields than the limit (431).
    case tooManyHeaderFields(limit: Int)
    /// The body is (or declares itself) larger than the limit (413).
    case contentTooLarge(limit: Int)
    /// A well-formed method this server does not implement (501).
    case unknownMethod(String)
    /// A transfer coding other than `chunked` (501, RFC 9112 §6.1).
    case unsupportedTransferCoding(String)
    /// An HTTP version other than 1.0 and 1.1 (505).
    case unsupportedVersion(String)
    /// An `Expect` other than `100-continue` (417, RFC 9110 §10.1.1).
    case unsupportedExpectation(String)
}

/// The parser's limits; each one exceeded gives its own status.
package struct HTTPParserLimits: Sendable, Equatable {
    /// Request line, in bytes (414 when the target makes it longer).
    package var maxRequestLineBytes = 8 * 1024
    /// All header field lines together, in bytes (431).
    package var maxHeaderBytes = 32 * 1024
    /// Number of header fields, and separately of trailer fields (431).
    package var maxHeaderCount = 100
    /// Body, in bytes, after removing chunked framing (413).
    package var maxBodyBytes = 1 << 30
    /// A chunk-size line with its extensions (400): extensions are never used, so they are kept short.
    package var maxChunkLineBytes = 1024

    package init() {}
}
