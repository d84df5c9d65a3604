/// The validated header of a `.npy` body: element type, order, the 2-D shape, and where the data starts.
struct NPYHeader: Equatable, Sendable {
    enum Scalar: Equatable, Sendable {
        case float32
        case float64

        var size: Int { self == .float64 ? 8 : 4 }
        var descr: String { self == .float64 ? "<f8" : "<f4" }
    }

    var scalar: Scalar
    var fortranOrder: Bool
    var rows: Int
    var columns: Int
    var dataOffset: Int

    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Parses and checks the preamble and the header dict, and that the data length matches the shape exactly.
    init(parsing bytes: UnsafeRawBufferPointer) throws(IngestError) {
        guard bytes.count >= 8, bytes.prefix(6).elementsEqual(Self.magic) else {
            throw IngestError(detail: "not a .npy file: it does not start with the magic string \\x93NUMPY")
        }
        let (major, minor) = (bytes[6], bytes[7])
        guard (1...3).contains(major), minor == 0 else {
            throw IngestError(
                detail: "unsupported .npy format version \(major).\(minor) (bytes 6–7); 1.0, 2.0 and 3.0 are read")
        }
        let lengthBytes = major == 1 ? 2 : 4
        let headerStart = 8 + lengthBytes
        guard bytes.count >= headerStart else {
            throw IngestError(detail: "the .npy body ends inside the header length (bytes 8–\(headerStart - 1))")
        }
        var headerLength = 0
        for index in (8..<headerStart).reversed() { headerLength = headerLength << 8 | Int(bytes[index]) }
        let headerEnd = headerStart + headerLength
        guard headerEnd <= bytes.count else {
            throw IngestError(
                detail: "the header length \(headerLength) (bytes 8–\(headerStart - 1)) runs past the end of the "
                    + "\(bytes.count)-byte body")
        }
        if major < 3 {
            if let bad = (headerStart..<headerEnd).first(where: { bytes[$0] >= 0x80 }) {
                throw IngestError(
                    detail: "non-ASCII byte 0x\(String(bytes[bad], radix: 16, uppercase: true)) at byte offset "
                        + "\(bad) of a version \(major).0 header (only version 3.0 headers may be UTF-8)")
            }
        } else if String(validating: bytes[headerStart..<headerEnd], as: UTF8.self) == nil {
            throw IngestError(detail: "the version 3.0 header (bytes \(headerStart)..<\(headerEnd)) is not valid UTF-8")
        }

        var scanner = HeaderScanner(bytes: bytes, position: headerStart, end: headerEnd)
        let entries = try scanner.dictionary()

        guard case .string(let descr)? = entries["descr"] else {
            throw IngestError(detail: Self.keyProblem("descr", entries["descr"], expected: "a dtype string"))
        }
        switch descr {
        case "<f8": scalar = .float64
        case "<f4": scalar = .float32
        case ">f8", ">f4":
            throw IngestError(
                detail: "big-endian dtype '\(descr)' is not supported; save little-endian data "
                    + "(numpy: a.astype('<f\(descr.last!)'))")
        default:
            throw IngestError(
                detail: "unsupported dtype '\(descr)'; only '<f8' (float64) and '<f4' (float32) are read")
        }
        guard case .bool(let fortran)? = entries["fortran_order"] else {
            throw IngestError(
                detail: Self.keyProblem("fortran_order", entries["fortran_order"], expected: "True or False"))
        }
        fortranOrder = fortran
        guard case .tuple(let shape)? = entries["shape"] else {
            throw IngestError(detail: Self.keyProblem("shape", entries["shape"], expected: "a tuple of integers"))
        }
        let spelled = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        guard shape.count == 2 else {
            throw IngestError(
                detail: "shape \(spelled) is \(shape.count)-D; a dataset is a 2-D array (rows, columns)")
        }
        (rows, columns) = (shape[0], shape[1])
        guard rows > 0 else { throw IngestError(detail: "shape \(spelled) has no rows") }
        guard columns >= 2 else {
            throw IngestError(
                detail: "shape \(spelled) has \(columns) column\(columns == 1 ? "" : "s"); a dataset needs the "
                    + "target and at least one feature column")
        }
        let (elements, overflow) = rows.multipliedReportingOverflow(by: columns)
        let (needed, overflow2) = elements.multipliedReportingOverflow(by: scalar.size)
        guard !overflow, !overflow2 else {
            throw IngestError(detail: "shape \(spelled) is too large: its byte count overflows")
        }
        dataOffset = headerEnd
        let available = bytes.count - headerEnd
        guard available >= needed else {
            throw IngestError(
                detail: "shape \(spelled) of '\(scalar.descr)' needs \(needed) bytes of data but the body holds "
                    + "\(available) (from byte offset \(headerEnd)): the data is truncated or the shape is wrong")
        }
        guard available == needed else {
            throw IngestError(
                detail: "\(available - needed) bytes follow the \(needed) bytes of shape \(spelled) of "
                    + "'\(scalar.descr)' (from byte offset \(headerEnd + needed)): the shape is wrong")
        }
    }

    private static func keyProblem(_ key: String, _ value: HeaderValue?, expected: String) -> String {
        guard let value else {
            return "the .npy header has no '\(key)' key (it needs 'descr', 'fortran_order' and 'shape')"
        }
        if key == "descr", case .list = value {
            return "structured dtypes are not supported; only '<f8' (float64) and '<f4' (float32) are read"
        }
        return "the header's '\(key)' is \(value.kind), not \(expected)"
    }
}

/// A value of the header dict (the Python literals NumPy writes, and a list only to name it in an error).
private enum HeaderValue {
    case string(String)
    case bool(Bool)
    case tuple([Int])
    case list

    var kind: String {
        switch self {
        case .string(let value): "the string '\(value)'"
        case .bool(let value): value ? "True" : "False"
        case .tuple: "a tuple"
        case .list: "a list"
        }
    }
}

/// A strict reader of the header's Python dict literal: `{'key': value, ...}` with string, bool and
/// tuple-of-int values, then only whitespace (NumPy pads with spaces and ends with a newline).
private struct HeaderScanner {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    private static let keys: Set<String> = ["descr", "fortran_order", "shape"]

    mutating func dictionary() throws(IngestError) -> [String: HeaderValue] {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        var entries: [String: HeaderValue] = [:]
        while true {
            skipWhitespace()
            if peek == UInt8(ascii: "}") { break }
            let keyOffset = position
            guard peek == UInt8(ascii: "'") || peek == UInt8(ascii: "\"") else { throw unexpected("a key string") }
            let key = try string()
            guard Self.keys.contains(key) else {
                throw IngestError(
                    detail: "unknown .npy header key '\(key)' at byte offset \(keyOffset) (the header has "
                        + "exactly 'descr', 'fortran_order' and 'shape')")
            }
            guard entries[key] == nil else {
                throw IngestError(detail: "duplicate .npy header key '\(key)' at byte offset \(keyOffset)")
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            entries[key] = try value()
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                position += 1
            } else if peek != UInt8(ascii: "}") {
                throw unexpected("',' or '}'")
            }
        }
        position += 1
        skipWhitespace()
        guard position == end else { throw unexpected("only padding after the header's '}'") }
        return entries
    }

    private var peek: UInt8? { position < end ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D { position += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(IngestError) {
        guard peek == byte else { throw unexpected("'\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    private func unexpected(_ expected: String) -> IngestError {
        let found: String
        if let byte = peek {
            found =
                (0x21..<0x7F).contains(byte)
                ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
        } else {
            found = "the end of the header"
        }
        return IngestError(detail: "bad .npy header: expected \(expected) at byte offset \(position), found \(found)")
    }

    /// A quoted string without escapes (NumPy's keys and dtype strings never need them).
    private mutating func string() throws(IngestError) -> String {
        let quote = bytes[position]
        let start = position + 1
        var index = start
        while index < end, bytes[index] != quote {
            guard bytes[index] != UInt8(ascii: "\\") else {
                position = index
                throw unexpected("a string without escapes")
            }
            index += 1
        }
        guard index < end else {
            position = index
            throw unexpected("the closing quote of the string at byte offset \(start - 1)")
        }
        position = index + 1
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func value() throws(IngestError) -> HeaderValue {
        switch peek {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "("): return .tuple(try tuple())
        case UInt8(ascii: "["):
            try skipList()
            return .list
        default:
            if word("True") { return .bool(true) }
            if word("False") { return .bool(false) }
            throw unexpected("a string, True, False or a tuple")
        }
    }

    /// Skips a (possibly nested) list literal, such as a structured dtype's field list, to name it in an error.
    private mutating func skipList() throws(IngestError) {
        var depth = 0
        repeat {
            switch peek {
            case nil: throw unexpected("the end of the list")
            case UInt8(ascii: "'"), UInt8(ascii: "\""): _ = try string()
            case let byte?:
                if byte == UInt8(ascii: "[") { depth += 1 }
                if byte == UInt8(ascii: "]") { depth -= 1 }
                position += 1
            }
        } while depth > 0
    }

    /// Consumes `text` if it is next and not followed by more of an identifier.
    private mutating func word(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard position + utf8.count <= end,
            bytes[position..<position + utf8.count].elementsEqual(utf8)
        else { return false }
        if position + utf8.count < end {
            let next = bytes[position + utf8.count]
            let letter = (0x41...0x5A).contains(next) || (0x61...0x7A).contains(next)
            if letter || (0x30...0x39).contains(next) || next == UInt8(ascii: "_") { return false }
        }
        position += utf8.count
        return true
    }

    /// `()`, `(n,)`, `(n, m)`, …: non-negative integers (an `L` suffix of Python 2 files allowed). `(n)` without
    /// the comma is a 1-tuple here too; it is rejected later as not 2-D either way.
    private mutating func tuple() throws(IngestError) -> [Int] {
        position += 1
        var values: [Int] = []
        while true {
            skipWhitespace()
            if peek == UInt8(ascii: ")") { break }
            let start = position
            var value = 0
            while let byte = peek, (0x30...0x39).contains(byte) {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
                guard !overflow1, !overflow2 else {
                    throw IngestError(detail: "the shape dimension at byte offset \(start) is too large")
                }
                value = sum
                position += 1
            }
            guard position > start else { throw unexpected("a non-negative integer or ')'") }
            if peek == UInt8(ascii: "L") { position += 1 }
            values.append(value)
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                position += 1
            } else if peek != UInt8(ascii: ")") {
                throw unexpected("',' or ')'")
            }
        }
        position += 1
        return values
    }
}
