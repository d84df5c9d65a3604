import DescentStorage
import Foundation

/// The API keys of `DESCENT_API_KEYS`: a file of `KEY TENANT` lines (blank lines and `#` comments ignored).
/// A tenant may have several keys (to rotate them); a key belongs to one tenant.
///
/// Keys are kept only as SHA-256 digests, and a presented key is checked against every one of them with a
/// comparison that takes the same time whatever the bytes: neither the position of a first differing byte
/// nor which entry matched shows in the answer's timing. Nothing here ever prints a key.
package struct APIKeys: Sendable {
    private let entries: [(digest: [UInt8], tenant: String)]

    /// Keys shorter than this are refused at start-up: a short key can be guessed.
    package static let minimumKeyLength = 16
    package static let maximumKeyLength = 256
    package static let maximumTenantLength = 64

    package var count: Int { entries.count }
    package var tenants: Set<String> { Set(entries.map(\.tenant)) }

    /// Reads the file at `path`; a problem is reported with its line number (and never with the key).
    package init(contentsOf path: String) throws(Configuration.Error) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Configuration.Error(message: "cannot read the API keys file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Configuration.Error(message: "the API keys file \(path) is not UTF-8 text")
        }
        do throws(APIKeysError) {
            try self.init(parsing: text)
        } catch {
            throw Configuration.Error(message: "the API keys file \(path): \(error.message)")
        }
    }

    package struct APIKeysError: Error, Equatable {
        package let message: String
    }

    package init(parsing text: String) throws(APIKeysError) {
        var entries: [(digest: [UInt8], tenant: String)] = []
        var seen: [[UInt8]: Int] = [:]
        // "\r\n" is one Character in Swift, so CRLF files need it named as a separator.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, line) in lines.enumerated() {
            let lineNumber = index + 1
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            guard fields.count == 2 else {
                throw APIKeysError(message: "line \(lineNumber): expected 'KEY TENANT', found \(fields.count) fields")
            }
            let key = fields[0]
            let tenant = fields[1]
            guard (Self.minimumKeyLength...Self.maximumKeyLength).contains(key.utf8.count),
                key.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
            else {
                throw APIKeysError(
                    message: "line \(lineNumber): a key must be \(Self.minimumKeyLength) to \(Self.maximumKeyLength) "
                        + "visible ASCII characters")
            }
            guard Self.isValidTenant(tenant) else {
                throw APIKeysError(
                    message:
                        "line \(lineNumber): a tenant must be 1 to \(Self.maximumTenantLength) of A-Z a-z 0-9 . _ -")
            }
            let digest = SHA256.digest(Array(key.utf8))
            if let first = seen[digest] {
                throw APIKeysError(message: "line \(lineNumber): the key of line \(first) again")
            }
            seen[digest] = lineNumber
            entries.append((digest, String(tenant)))
        }
        guard !entries.isEmpty else { throw APIKeysError(message: "no keys (lines of 'KEY TENANT')") }
        self.entries = entries
    }

    static func isValidTenant(_ name: Substring) -> Bool {
        (1...maximumTenantLength).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }

    /// The tenant whose key `presented` is, or nil. Every entry is compared, in full, whatever matched.
    package func tenant(for presented: some Collection<UInt8>) -> String? {
        let digest = SHA256.digest(Array(presented))
        var match: String?
        for entry in entries where Self.constantTimeEqual(entry.digest, digest) {
            match = entry.tenant
        }
        return match
    }

    /// Whether two byte strings of the same length are equal, in a time that depends only on the length.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
