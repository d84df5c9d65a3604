/// The authority grammar of a `Host` field and of an absolute-form target: uri-host [ ":" port ]
/// (RFC 9110 §7.2, RFC 9112 §3.2, RFC 3986 §3.2.2–3.2.3), on bytes.
extension HTTPSyntax {
    /// uri-host [ ":" port ], where uri-host = IP-literal / IPv4address / reg-name and port = *DIGIT (so
    /// `example.com:` is valid). The host must not be empty (RFC 9110 §4.2.1), and there is no userinfo:
    /// `user@host` is refused (RFC 9110 §4.2.4). Whether an empty field is allowed is the caller's decision.
    package static func isAuthority(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        var rest = bytes[...]
        if first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")),
                isIPLiteral(bytes[bytes.index(after: bytes.startIndex)..<close])
            else { return false }
            rest = bytes[bytes.index(after: close)...]
        } else {
            let colon = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.endIndex
            guard colon > bytes.startIndex, isRegName(bytes[..<colon]) else { return false }
            rest = bytes[colon...]
        }
        // Nothing more, or ":" and digits only (port = *DIGIT, RFC 3986 §3.2.3).
        guard let separator = rest.first else { return true }
        return separator == UInt8(ascii: ":") && rest.dropFirst().allSatisfy(isDigit)
    }

    /// reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2), less the comma: a Host of
    /// `a.example,b.example` is what two Host fields look like once combined into a list (RFC 9110 §5.3), and
    /// no DNS name has one.
    static func isRegName(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(), isHexDigit(high), isHexDigit(low)
                else { return false }
            } else if !regNameTable[Int(byte)] {
                return false
            }
        }
        return true
    }

    /// IP-literal without its brackets: IPv6address / IPvFuture (RFC 3986 §3.2.2).
    static func isIPLiteral(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        guard first == UInt8(ascii: "v") || first == UInt8(ascii: "V") else { return isIPv6Address(bytes) }
        // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
        let rest = bytes.dropFirst()
        guard let dot = rest.firstIndex(of: UInt8(ascii: ".")), dot > rest.startIndex,
            rest[..<dot].allSatisfy(isHexDigit)
        else { return false }
        let address = rest[rest.index(after: dot)...]
        return !address.isEmpty
            && address.allSatisfy { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ",") || regNameTable[Int($0)] }
    }

    /// IPv6address (RFC 3986 §3.2.2): eight groups of one to four hex digits separated by colons, with at most
    /// one `::` standing for one or more zero groups, and optionally an IPv4 address in place of the last two.
    static func isIPv6Address(_ bytes: some Collection<UInt8>) -> Bool {
        var pieces = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        // The shortest, "::", is three empty pieces; one without "::" has seven or eight.
        guard pieces.count >= 3, pieces.count <= 9 else { return false }
        // A "::" at either end leaves two empty pieces there, and a lone ":" there one: keep one of the two.
        if pieces[0].isEmpty {
            guard pieces[1].isEmpty else { return false }
            pieces.removeFirst()
        }
        if pieces[pieces.count - 1].isEmpty {
            guard pieces[pieces.count - 2].isEmpty else { return false }
            pieces.removeLast()
        }
        var groups = 0
        var elisions = 0
        for (index, piece) in pieces.enumerated() {
            if piece.isEmpty {
                elisions += 1
            } else if index == pieces.count - 1 && piece.contains(UInt8(ascii: ".")) {
                guard isIPv4Address(piece) else { return false }
                groups += 2
            } else {
                guard piece.count <= 4, piece.allSatisfy(isHexDigit) else { return false }
                groups += 1
            }
        }
        return elisions == 0 ? groups == 8 : elisions == 1 && groups <= 7
    }

    /// IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet, each 0–255 without leading zeros
    /// (RFC 3986 §3.2.2).
    static func isIPv4Address(_ bytes: some Collection<UInt8>) -> Bool {
        let octets = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return octets.count == 4
            && octets.allSatisfy { octet in
                guard (1...3).contains(octet.count), octet.allSatisfy(isDigit),
                    octet.count == 1 || octet.first != UInt8(ascii: "0")
                else { return false }
                return octet.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 255
            }
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
    }

    /// unreserved / sub-delims but ",": ALPHA DIGIT "-" "." "_" "~" and "!" "$" "&" "'" "(" ")" "*" "+" ";" "=".
    private static let regNameTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "-._~!$&'()*+;=".utf8.contains(byte)
        }
    }
}
