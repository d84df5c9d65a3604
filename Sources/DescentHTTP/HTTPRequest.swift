/// A whole request as handlers see it: the head, the body (buffered up to the server's limit), the request
/// id that every response and log line carries, the parameters the router matched in the path, and who sent it.
package struct HTTPRequest: Sendable {
    package var head: HTTPRequestHead
    package var body: [UInt8]
    package var requestID: String
    package var pathParameters: [String: String] = [:]
    /// Who sent it, as the application authenticated it before routing (nil when it does not authenticate).
    package var principal: String?
    /// When the server began to receive it, in the monotonic clock's nanoseconds (DescentPOSIX's
    /// `MonotonicClock`); 0 when not known.
    package var received: UInt64

    package init(head: HTTPRequestHead, body: [UInt8] = [], requestID: String = "", received: UInt64 = 0) {
        self.head = head
        self.body = body
        self.requestID = requestID
        self.received = received
    }

    package var method: HTTPMethod { head.method }
    package var path: Substring { head.path }
    package var headers: HTTPHeaders { head.headers }

    /// The decoded value of the first query parameter `name` (`application/x-www-form-urlencoded` rules).
    package func queryParameter(_ name: String) -> String? {
        guard let query = head.query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if PercentDecoding.decode(parts[0], plusAsSpace: true) == name {
                return parts.count > 1 ? PercentDecoding.decode(parts[1], plusAsSpace: true) ?? "" : ""
            }
        }
        return nil
    }
}

/// Percent-decoding (RFC 3986 §2.1) into UTF-8 text.
package enum PercentDecoding {
    /// Nil when an escape is malformed or the bytes are not UTF-8.
    package static func decode(_ text: Substring, plusAsSpace: Bool = false) -> String? {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) })
        else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusAsSpace: bytes.append(UInt8(ascii: " "))
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
