import Synchronization

/// Request ids: a per-process random prefix and a counter, so ids are unique without a syscall per request.
/// A client's own `X-Request-Id` is echoed instead when it is short, visible ASCII.
package final class RequestIdentifier: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    package init() {
        var generator = SystemRandomNumberGenerator()
        let random = String(generator.next() as UInt32, radix: 16)
        prefix = String(repeating: "0", count: 8 - random.count) + random
    }

    package func next() -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        let digits = String(value, radix: 16)
        return prefix + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// The id to use for a request that sent `header` (nil when it sent none).
    package func resolve(_ header: String?) -> String {
        if let header, Self.isAcceptable(header) { return header }
        return next()
    }

    /// At most 128 bytes of visible ASCII: anything else could inject into logs or headers.
    package static func isAcceptable(_ id: String) -> Bool {
        let bytes = id.utf8
        return !bytes.isEmpty && bytes.count <= 128 && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
