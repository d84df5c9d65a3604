/// Why a body is not the JSON it should be, and where: a JSON Pointer (RFC 6901) to the value at fault
/// ("" for the document itself) and the byte offset.
package struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    package var pointer: String
    package var offset: Int
    package var detail: String
    package var description: String { "at byte \(offset) (\(pointer.isEmpty ? "the document" : pointer)): \(detail)" }
}

/// A strict RFC 8259 parser into `JSONValue`: no comments, no trailing commas, no NaN or Infinity, no
/// duplicate keys, valid UTF-8 only, nesting at most `maxDepth` deep (so hostile input cannot exhaust the
/// stack). Numbers must fit a Double.
package struct JSONParser {
    package static let maxDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    package static func parse(_ body: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = body.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONParseError) {
                parser.skipWhitespace()
                let value = try parser.parseValue(pointer: "", depth: 0)
                parser.skipWhitespace()
                guard parser.position == buffer.count else {
                    throw parser.error("", "unexpected \(parser.describeByte()) after the document")
                }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private func error(_ pointer: String, _ detail: String) -> JSONParseError {
        JSONParseError(pointer: pointer, offset: position, detail: detail)
    }

    private mutating func parseValue(pointer: String, depth: Int) throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw error(pointer, "the body ends where a value should start") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw error(pointer, "nested deeper than \(Self.maxDepth) levels") }
            return .object(try parseObject(pointer: pointer, depth: depth + 1))
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw error(pointer, "nested deeper than \(Self.maxDepth) levels") }
            return .array(try parseArray(pointer: pointer, depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString(pointer: pointer))
        case UInt8(ascii: "t"):
            try literal("true", pointer)
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false", pointer)
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null", pointer)
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber(pointer: pointer))
        default:
            throw error(pointer, "expected a value, found \(describeByte())")
        }
    }

    private mutating func parseObject(pointer: String, depth: Int) throws(JSONParseError) -> JSONObject {
        position += 1
        var object = JSONObject()
        // Names seen so far, compared by their UTF-8 bytes (RFC 8259 compares names code unit by code unit;
        // `String`'s == would call canonically equivalent spellings equal). A set, so that an object with
        // many members costs O(n), not O(n²).
        var names = Set<[UInt8]>()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return object
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw error(pointer, "expected a member name in quotes, found \(describeByte())")
            }
            let key = try parseString(pointer: pointer)
            let memberPointer = pointer + "/" + escapePointerToken(key)
            guard names.insert(Array(key.utf8)).inserted else {
                throw error(memberPointer, "the member \"\(key)\" appears twice")
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw error(memberPointer, "expected ':' after the member name, found \(describeByte())")
            }
            position += 1
            skipWhitespace()
            object.appendUnchecked(key, try parseValue(pointer: memberPointer, depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return object
            default: throw error(pointer, "expected ',' or '}' after a member, found \(describeByte())")
            }
        }
    }

    private mutating func parseArray(pointer: String, depth: Int) throws(JSONParseError) -> [JSONValue] {
        position += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return array
        }
        while true {
            skipWhitespace()
            array.append(try parseValue(pointer: "\(pointer)/\(array.count)", depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return array
            default: throw error(pointer, "expected ',' or ']' after an element, found \(describeByte())")
            }
        }
    }

    /// The RFC 8259 number grammar, checked byte by byte; the value is then read by the standard library's
    /// correctly rounded conversion.
    private mutating func parseNumber(pointer: String) throws(JSONParseError) -> Double {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw error(pointer, "a number needs digits after '-'") }
        position += 1
        if first == UInt8(ascii: "0"), let next = peek(), isDigit(next) {
            throw error(pointer, "numbers cannot have leading zeros")
        }
        skipDigits()
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let next = peek(), isDigit(next) else { throw error(pointer, "a number needs digits after '.'") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let next = peek(), isDigit(next) else {
                throw error(pointer, "a number needs digits in its exponent")
            }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error(pointer, "\(text) is beyond the range of a Double")
        }
        return value
    }

    private mutating func parseString(pointer: String) throws(JSONParseError) -> String {
        do throws(JSONStringScanner.Failure) {
            let (text, end) = try JSONStringScanner.scan(bytes, openingQuoteAt: position)
            position = end
            return text
        } catch {
            throw JSONParseError(pointer: pointer, offset: error.offset, detail: error.detail)
        }
    }

    private mutating func literal(_ word: StaticString, _ pointer: String) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count,
            (0..<count).allSatisfy({ bytes[position + $0] == word.utf8Start[$0] })
        else { throw error(pointer, "expected a value, found \(describeToken())") }
        position += count
    }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func skipDigits() { while let byte = peek(), isDigit(byte) { position += 1 } }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private func describeByte() -> String {
        guard let byte = peek() else { return "the end of the body" }
        return describe(byte)
    }

    private func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    /// The word at `position` (up to a delimiter), to name `NaN`, `Infinity`, `True` and such in errors.
    private func describeToken() -> String {
        var end = position
        while end < bytes.count, end - position < 20, (0x21..<0x7F).contains(bytes[end]),
            ![UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}")].contains(bytes[end])
        {
            end += 1
        }
        guard end > position else { return describeByte() }
        return "'" + String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self) + "'"
    }
}

/// RFC 6901 §3: '~' is written "~0" and '/' "~1" inside a pointer's reference token. By Unicode scalars, not
/// Characters: "/" followed by a combining mark is one Character, and must still be escaped
/// (fuzz/jobspec/crashes/, JSONPointerFuzzRegressionTests).
package func escapePointerToken(_ token: String) -> String {
    guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
    var escaped = String.UnicodeScalarView()
    for scalar in token.unicodeScalars {
        switch scalar {
        case "~": escaped.append(contentsOf: "~0".unicodeScalars)
        case "/": escaped.append(contentsOf: "~1".unicodeScalars)
        default: escaped.append(scalar)
        }
    }
    return String(escaped)
}
