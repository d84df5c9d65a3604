/// An ordered list of header fields. Names compare case-insensitively (RFC 9110 §5.1); order and
/// repetition are kept, because a repeated `Content-Length` or `Host` means something (a smuggling attempt).
package struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    package private(set) var fields: [(name: String, value: String)] = []

    package init() {}

    /// Room for `capacity` fields without regrowing (the parser's typical request has a handful).
    package init(reservingCapacity capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    package init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { (name: $0.0, value: $0.1) }
    }

    package var count: Int { fields.count }

    package func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// The first value of the field `name`, or nil.
    package subscript(name: String) -> String? {
        fields.first(where: { Self.equalsIgnoringCase($0.name, name) })?.value
    }

    /// Every value of the field `name`, in order.
    package func values(_ name: String) -> [String] {
        fields.filter { Self.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    /// Every comma-separated element of every `name` field, trimmed (RFC 9110 §5.6.1), e.g. for `Connection`.
    package func listElements(_ name: String) -> [Substring] {
        values(name).flatMap(Self.listElements(of:))
    }

    /// The non-empty, trimmed comma-separated elements of one field value.
    package static func listElements(of value: String) -> [Substring] {
        value.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    }

    package func contains(_ name: String) -> Bool { self[name] != nil }

    package mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every `name` field by one with `value`.
    package mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    /// Removes every field, keeping the storage for the next ones.
    package mutating func removeAll() {
        fields.removeAll(keepingCapacity: true)
    }

    package mutating func remove(_ name: String) {
        fields.removeAll { Self.equalsIgnoringCase($0.name, name) }
    }

    /// ASCII case-insensitive comparison of two strings, on their UTF-8 buffers (the generic form below steps
    /// through the views' index API, and names are compared several times per request). The buffers are read in
    /// place: `withUTF8` would want mutable copies of both strings, each a retain and a release.
    package static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        let compared = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in
                for index in 0..<left.count where folded(left[index]) != folded(right[index]) { return false }
                return true
            }
        }
        return (compared ?? nil) ?? lhs.utf8.elementsEqual(rhs.utf8) { folded($0) == folded($1) }
    }

    private static func folded(_ byte: UInt8) -> UInt8 { byte | (byte &- 65 < 26 ? 0x20 : 0) }

    /// ASCII case-insensitive comparison: field names are tokens, so no Unicode case folding applies.
    package static func equalsIgnoringCase(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        // Most names compared differ in length, which a native string knows without a scan.
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        return lhs.utf8.elementsEqual(rhs.utf8) { folded($0) == folded($1) }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (the "OWS" of RFC 9110 §5.6.3).
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
