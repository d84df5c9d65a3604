import CCrypto

/// SHA-256 (FIPS 180-4) through OpenSSL's libcrypto, which uses the CPU's SHA extensions where it has them
/// (about 2 GB/s here, several times a portable implementation): datasets are hashed on upload, so this is
/// on the ingest path.
package enum SHA256 {
    /// The 32-byte digest of `bytes`.
    package static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = digest.withUnsafeMutableBufferPointer { output in
            CCrypto.SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, output.baseAddress)
        }
        return digest
    }

    package static func digest(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { digest($0) } }

    /// The digest of `bytes` as 64 lowercase hex characters.
    package static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let digest = digest(bytes)
        let hexDigits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    package static func hex(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { hex($0) } }
}
