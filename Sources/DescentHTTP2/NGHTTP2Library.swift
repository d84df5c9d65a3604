import CNGHTTP2

/// The libnghttp2 that Descent links, as the library reports itself at run time.
package enum NGHTTP2Library {
    /// The version string, e.g. "1.52.0".
    package static var version: String {
        guard let info = nghttp2_version(0), let string = info.pointee.version_str else { return "unknown" }
        return String(cString: string)
    }

    /// The ALPN/upgrade token for HTTP/2 over cleartext TCP (RFC 9113 §3.1).
    package static var cleartextProtocolID: String { NGHTTP2_CLEARTEXT_PROTO_VERSION_ID }
}
