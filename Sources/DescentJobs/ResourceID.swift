/// Opaque, prefixed identifiers (`job_…`, `ds_…`, API.md "Conventions"): a prefix that says what the id names,
/// then 20 characters of Crockford base32 from 100 random bits, so ids cannot be guessed or enumerated.
package struct ResourceID: Hashable, Sendable, CustomStringConvertible {
    package let rawValue: String

    package static let jobPrefix = "job_"
    package static let datasetPrefix = "ds_"

    /// A fresh id with `prefix`, drawn from `generator` (the system's CSPRNG unless a test passes its own).
    package static func make(prefix: String, using generator: inout some RandomNumberGenerator) -> ResourceID {
        var characters = Array(prefix.utf8)
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        for index in 0..<20 {
            let bits = index < 12 ? (high >> UInt64(index * 5)) : (low >> UInt64((index - 12) * 5))
            characters.append(alphabet[Int(bits & 31)])
        }
        return ResourceID(rawValue: String(decoding: characters, as: UTF8.self))
    }

    package static func make(prefix: String) -> ResourceID {
        var generator = SystemRandomNumberGenerator()
        return make(prefix: prefix, using: &generator)
    }

    /// Accepts only what `make` can produce with `prefix`, so a malformed id is rejected before any lookup.
    package init?(_ text: String, prefix: String) {
        guard text.hasPrefix(prefix) else { return nil }
        let body = text.utf8.dropFirst(prefix.utf8.count)
        guard body.count == 20, body.allSatisfy(ResourceID.alphabet.contains) else { return nil }
        rawValue = text
    }

    private init(rawValue: String) { self.rawValue = rawValue }

    package var description: String { rawValue }

    /// Crockford's base32: digits and letters without I, L, O and U, which read as other characters.
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
}
