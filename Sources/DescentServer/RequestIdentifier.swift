import Synchronization

/// Request ids: a per-process random prefix and a counter, so ids are unique without a syscall per request.
/// A client's own `X-Request-Id` is echoed instead when it is short, visible ASCII.
package final class RequestIdentifier: Sendable {
    private let prefix: UInt32
    private let counter = Atomic<UInt64>(0)

    package init() {
        var generator = SystemRandomNumberGenerator()
        prefix = generator.next() as UInt32
    }

    /// 15 lowercase hex digits: 28 bits of the prefix, then the counter's low 32 bits. Fifteen, because a
    /// String of up to 15 UTF-8 bytes is stored inline: an id then costs no allocation.
    package func next() -> String {
        let value = UInt64(prefix & 0x0FFF_FFFF) << 32 | (counter.add(1, ordering: .relaxed).newValue & 0xFFFF_FFFF)
        return String(unsafeUninitializedCapacity: 15) { buffer in
            for index in 0..<15 {
                let nibble = UInt8(truncatingIfNeeded: value >> UInt64(56 - 4 * index)) & 0xF
                buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            }
            return 15
        }
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
