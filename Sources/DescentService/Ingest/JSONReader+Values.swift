import DescentJSON

/// Numbers, strings and the lexing helpers of `JSONReader`.
extension JSONReader {
    // MARK: Values

    /// One finite number at `position`; errors point at `pointer/row/index` (or `pointer/index` without a row).
    mutating func parseNumber(pointer: String, row: Int? = nil, index: Int) throws(IngestError) -> Double {
        guard let (value, end) = DecimalScanner.scan(bytes, from: position, lenient: false), isDelimiter(at: end)
        else {
            throw IngestError(pointer: elementPointer(pointer, row, index), detail: numberErrorDetail())
        }
        guard value.isFinite else {
            throw IngestError(
                pointer: elementPointer(pointer, row, index),
                detail: "\(token()) is beyond the range of a Double: values must be finite")
        }
        position = end
        return value
    }

    func elementPointer(_ pointer: String, _ row: Int?, _ index: Int) -> String {
        row.map { "\(pointer)/\($0)/\(index)" } ?? "\(pointer)/\(index)"
    }

    /// `[number]`, or a pointer-named error.
    mutating func parseNumbers(pointer: String, capacity: Int) throws(IngestError) -> [Double] {
        guard peek() == UInt8(ascii: "[") else {
            throw IngestError(pointer: pointer, detail: "expected an array of numbers, found \(describeValue())")
        }
        position += 1
        var values: [Double] = []
        values.reserveCapacity(capacity)
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return values
        }
        while true {
            skipWhitespace()
            values.append(try parseNumber(pointer: pointer, index: values.count))
            if try closes(
                "]", errorPointer: pointer, whenEnded: "the body ends inside the array",
                after: "element \(values.count - 1)")
            {
                return values
            }
        }
    }

    /// After an element: skips whitespace, then consumes ',' (false: another element follows) or `closer`
    /// (true: the container ends). Anything else is an error at `errorPointer` naming what came `after`.
    mutating func closes(
        _ closer: Unicode.Scalar, errorPointer: @autoclosure () -> String, whenEnded endedDetail: String,
        after element: @autoclosure () -> String
    ) throws(IngestError) -> Bool {
        skipWhitespace()
        guard let next = peek() else { throw IngestError(pointer: errorPointer(), detail: endedDetail) }
        if next == UInt8(ascii: closer) || next == UInt8(ascii: ",") {
            position += 1
            return next == UInt8(ascii: closer)
        }
        throw IngestError(
            pointer: errorPointer(), detail: "expected ',' or '\(closer)' after \(element()), found \(describeValue())")
    }

    /// `[str]`, or a pointer-named error.
    mutating func parseStrings(pointer: String) throws(IngestError) -> [String] {
        guard peek() == UInt8(ascii: "[") else {
            throw IngestError(pointer: pointer, detail: "expected an array of strings, found \(describeValue())")
        }
        position += 1
        var values: [String] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return values
        }
        while true {
            skipWhitespace()
            let elementPointer = "\(pointer)/\(values.count)"
            guard peek() == UInt8(ascii: "\"") else {
                throw IngestError(pointer: elementPointer, detail: "expected a string, found \(describeValue())")
            }
            values.append(try parseString(pointer: elementPointer))
            if try closes(
                "]", errorPointer: pointer, whenEnded: "the body ends inside the array",
                after: "element \(values.count - 1)")
            {
                return values
            }
        }
    }

    /// The string at `position` (on its opening quote), escapes decoded and UTF-8 validated.
    mutating func parseString(pointer: String) throws(IngestError) -> String {
        do throws(JSONStringScanner.Failure) {
            let (text, end) = try JSONStringScanner.scan(bytes, openingQuoteAt: position)
            position = end
            return text
        } catch {
            throw IngestError(pointer: pointer, detail: error.detail)
        }
    }

    // MARK: Helpers

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    /// Consumes `null` if it is next.
    mutating func skipNull() -> Bool {
        guard tokenEquals("null") else { return false }
        position += 4
        return true
    }

    mutating func expect(_ byte: UInt8, pointer: String, what: String) throws(IngestError) {
        guard peek() == byte else {
            throw IngestError(pointer: pointer, detail: "expected \(what), found \(describeValue())")
        }
        position += 1
    }

    /// Whether a number may end at `index`: the end of the body, whitespace, ',', ']' or '}'.
    func isDelimiter(at index: Int) -> Bool {
        guard index < bytes.count else { return true }
        switch bytes[index] {
        case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), UInt8(ascii: ","),
            UInt8(ascii: "]"), UInt8(ascii: "}"):
            return true
        default: return false
        }
    }

    func tokenEquals(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        guard position + utf8.count <= bytes.count else { return false }
        for offset in 0..<utf8.count where bytes[position + offset] != utf8[offset] { return false }
        return isDelimiter(at: position + utf8.count)
    }

    /// The text of the token at `position`, up to a delimiter and at most 24 bytes, quoted, for messages.
    func token() -> String {
        var end = position
        while end < bytes.count && end - position < 24 && !isDelimiter(at: end) { end += 1 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
        return end < bytes.count && !isDelimiter(at: end) ? "'\(text)…'" : "'\(text)'"
    }

    /// Whether the token at `position` is a spelling of NaN or Infinity (which JSON does not have).
    func isNonFiniteSpelling() -> Bool {
        var index = position
        if index < bytes.count && (bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+")) {
            index += 1
        }
        guard index + 3 <= bytes.count else { return false }
        let word = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<index + 3]), as: UTF8.self)
        return ["nan", "inf"].contains(word.lowercased())
    }

    /// What kind of value starts at `position`, for "expected X, found Y".
    func describeValue() -> String {
        guard let byte = peek() else { return "the end of the body" }
        switch byte {
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "{"): return "an object"
        default:
            if tokenEquals("null") { return "null" }
            if tokenEquals("true") || tokenEquals("false") { return "a boolean" }
            if DecimalScanner.scan(bytes, from: position, lenient: false) != nil { return "a number" }
            if isDelimiter(at: position) { return "'\(Character(Unicode.Scalar(byte)))'" }
            return token()
        }
    }

    /// Why the token at `position` is not a JSON number.
    func numberErrorDetail() -> String {
        let found = describeValue()
        if found == "an array" {
            return "expected a number, found an array: features are an array of rows of numbers, nested no deeper"
        }
        if isNonFiniteSpelling() {
            return "\(token()) is not a JSON number: NaN and Infinity are not JSON, and values must be finite"
        }
        if found == "a number" || (found.hasPrefix("'") && !isDelimiter(at: position)) {
            return "\(token()) is not a valid JSON number"
        }
        return "expected a number, found \(found)"
    }
}
