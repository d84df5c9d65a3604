import DescentMath

/// Parses a JSON dataset body, `{"name"?: str, "features": [[number]], "targets": [number],
/// "sample_weights"?: [number], "feature_names"?: [str]}`, straight from its bytes into a `Dataset`.
///
/// A hand-written byte-level parser for exactly this shape: no JSONSerialization, no `[[Double]]`, no
/// recursion (nothing deeper than the shape is ever descended into, so nesting cannot blow the stack).
/// Every error carries a JSON Pointer into the body: "/features/7/2", "/targets", "/colour", or "" for the
/// document as a whole.
///
/// Memory: the features are the one big array. Before parsing them, a skim of their bytes (brackets and commas
/// only, several times faster than parsing the numbers) counts the values, so `FeatureStorage.makeFloat64`
/// allocates the final buffer once — with its huge-page hint — and the numbers are parsed straight into it.
/// Growing a `[Double]` instead would realloc-copy as it grows (up to three times the final size at a
/// doubling) or, if copied into the huge-page buffer afterwards, hold two full copies at once. The skim is
/// exact for every valid body; an invalid one is still parsed in full, so the error names the exact place.
package enum JSONDatasetParser {
    package static func parse(_ body: [UInt8]) throws(IngestError) -> (name: String?, dataset: Dataset) {
        do {
            return try body.withUnsafeBufferPointer { bytes in
                var reader = JSONReader(bytes: bytes)
                return try reader.parseDocument()
            }
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(pointer: "", detail: "\(error)")
        }
    }
}

/// The cursor over the body and the parsing of each part of the shape.
private struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    // MARK: The document

    mutating func parseDocument() throws(IngestError) -> (name: String?, dataset: Dataset) {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
        skipWhitespace()
        guard position < bytes.count else { throw IngestError(pointer: "", detail: "the body is empty") }
        guard bytes[position] == UInt8(ascii: "{") else {
            throw IngestError(pointer: "", detail: "expected a JSON object, found \(describeValue())")
        }
        position += 1

        var name: String?
        var features: FeatureStorage?
        var rows = 0
        var columns = 0
        var targets: [Double]?
        var weights: [Double]?
        var featureNames: [String]?
        var seen: Set<String> = []

        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else {
                    throw IngestError(pointer: "", detail: "expected a field name in quotes, found \(describeValue())")
                }
                let key = try parseString(pointer: "")
                let pointer = "/" + escapePointerToken(key)
                guard seen.insert(key).inserted else { throw IngestError(pointer: pointer, detail: "duplicate key") }
                skipWhitespace()
                try expect(UInt8(ascii: ":"), pointer: pointer, what: "':' after the field name")
                skipWhitespace()
                switch key {
                case "name":
                    if !skipNull() {
                        guard peek() == UInt8(ascii: "\"") else {
                            throw IngestError(pointer: pointer, detail: "expected a string, found \(describeValue())")
                        }
                        name = try parseString(pointer: pointer)
                    }
                case "features":
                    (features, rows, columns) = try parseFeatures(pointer: pointer)
                case "targets":
                    targets = try parseNumbers(pointer: pointer, capacity: rows)
                case "sample_weights":
                    if !skipNull() {
                        let values = try parseNumbers(pointer: pointer, capacity: rows)
                        if let negative = values.firstIndex(where: { $0 < 0 }) {
                            throw IngestError(
                                pointer: "\(pointer)/\(negative)",
                                detail: "sample weight \(values[negative]) is negative: weights must be ≥ 0")
                        }
                        weights = values
                    }
                case "feature_names":
                    if !skipNull() { featureNames = try parseStrings(pointer: pointer) }
                default:
                    throw IngestError(pointer: pointer, detail: "unknown field")
                }
                if try closes(
                    "}", errorPointer: "", whenEnded: "the body ends before the object is closed", after: pointer)
                {
                    break
                }
            }
        }
        skipWhitespace()
        guard position == bytes.count else {
            throw IngestError(pointer: "", detail: "unexpected data after the JSON object, at byte \(position)")
        }

        guard let features else { throw IngestError(pointer: "/features", detail: "required field is missing") }
        guard let targets else { throw IngestError(pointer: "/targets", detail: "required field is missing") }
        guard targets.count == rows else {
            throw IngestError(pointer: "/targets", detail: "\(targets.count) targets for \(rows) feature rows")
        }
        if let weights {
            guard weights.count == rows else {
                throw IngestError(
                    pointer: "/sample_weights", detail: "\(weights.count) sample weights for \(rows) feature rows")
            }
            guard weights.contains(where: { $0 > 0 }) else {
                throw IngestError(
                    pointer: "/sample_weights", detail: "every sample weight is 0: at least one must be > 0")
            }
        }
        if let featureNames, featureNames.count != columns {
            throw IngestError(
                pointer: "/feature_names", detail: "\(featureNames.count) feature names for \(columns) columns")
        }
        do {
            let dataset = try Dataset(
                rows: rows, columns: columns, features: features, targets: targets, sampleWeights: weights,
                featureNames: featureNames)
            return (name, dataset)
        } catch {
            // Every shape rule was checked above with its pointer; this is the backstop.
            throw IngestError(pointer: "", detail: "\(error)")
        }
    }

    // MARK: Features

    /// `[[number]]` into one row-major buffer: (storage, rows, columns).
    mutating func parseFeatures(pointer: String) throws(IngestError) -> (FeatureStorage, Int, Int) {
        guard peek() == UInt8(ascii: "[") else {
            throw IngestError(pointer: pointer, detail: "expected an array of rows, found \(describeValue())")
        }
        // An invalid body may skim to nil or to a wrong count; the full parse below then throws at the fault.
        let capacity = skimValueCount() ?? 0
        var rows = 0
        var columns = 0
        var written = 0
        do {
            let storage = try FeatureStorage.makeFloat64(count: capacity) { buffer throws(IngestError) in
                (rows, columns, written) = try parseRows(into: buffer, pointer: pointer)
            }
            guard written == capacity else {
                throw IngestError(pointer: pointer, detail: "internal: skimmed \(capacity) values, parsed \(written)")
            }
            return (storage, rows, columns)
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(pointer: pointer, detail: "\(error)")
        }
    }

    /// Parses the rows at `position` (on the '['), writing values while the buffer has room and counting them
    /// all. Returns (rows, columns, values).
    mutating func parseRows(
        into buffer: UnsafeMutableBufferPointer<Double>, pointer: String
    ) throws(IngestError) -> (Int, Int, Int) {
        position += 1  // the outer '['
        var rows = 0
        var columns = 0
        var written = 0
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            throw IngestError(pointer: pointer, detail: "no rows: the dataset is empty")
        }
        while true {
            skipWhitespace()
            // Built only when needed: an interpolation per row would cost as much as a few numbers.
            var rowPointer: String { "\(pointer)/\(rows)" }
            guard peek() == UInt8(ascii: "[") else {
                throw IngestError(
                    pointer: rowPointer, detail: "expected a row (an array of numbers), found \(describeValue())")
            }
            position += 1
            var count = 0
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                position += 1
            } else {
                while true {
                    skipWhitespace()
                    let value = try parseNumber(pointer: pointer, row: rows, index: count)
                    if written < buffer.count { buffer[written] = value }
                    written += 1
                    count += 1
                    if try closes(
                        "]", errorPointer: rowPointer, whenEnded: "the body ends inside the row",
                        after: "value \(count - 1)")
                    {
                        break
                    }
                }
            }
            if rows == 0 {
                guard count > 0 else { throw IngestError(pointer: rowPointer, detail: "the row is empty") }
                columns = count
            } else if count != columns {
                throw IngestError(pointer: rowPointer, detail: "row has \(count) values, the first row has \(columns)")
            }
            rows += 1
            if try closes(
                "]", errorPointer: pointer, whenEnded: "the body ends inside the array", after: "row \(rows - 1)")
            {
                break
            }
        }
        return (rows, columns, written)
    }

    /// The number of values in the `[[…]]` at `position` from its brackets and commas alone, without moving:
    /// exact for a valid array (commas inside rows, plus one per non-empty row). For an invalid one the count
    /// may be anything (even nil: no end), and the full parse throws at the fault.
    func skimValueCount() -> Int? {
        var index = position
        var depth = 0
        var values = 0
        var rowHasValue = false
        let end = bytes.count
        while index < end {
            let byte = bytes[index]
            index += 1
            // Most bytes are digits, signs, '.', 'e' or spaces (all above ','), so test those first.
            if byte > UInt8(ascii: ",") && byte != UInt8(ascii: "[") && byte != UInt8(ascii: "]") {
                rowHasValue = true
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                if depth == 2 { values += 1 }
            case UInt8(ascii: "["):
                depth += 1
                rowHasValue = false
            case UInt8(ascii: "]"):
                if depth == 2 && rowHasValue { values += 1 }
                depth -= 1
                if depth == 0 { return values }
            default:
                continue  // whitespace, and bytes no valid array holds here
            }
        }
        return nil
    }

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
        _ closer: Unicode.Scalar, errorPointer: String, whenEnded endedDetail: String, after element: String
    ) throws(IngestError) -> Bool {
        skipWhitespace()
        guard let next = peek() else { throw IngestError(pointer: errorPointer, detail: endedDetail) }
        if next == UInt8(ascii: closer) || next == UInt8(ascii: ",") {
            position += 1
            return next == UInt8(ascii: closer)
        }
        throw IngestError(
            pointer: errorPointer, detail: "expected ',' or '\(closer)' after \(element), found \(describeValue())")
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
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard position < bytes.count else { throw IngestError(pointer: pointer, detail: "unterminated string") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw IngestError(pointer: pointer, detail: "the string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8, pointer: pointer)
            case 0..<0x20:
                throw IngestError(pointer: pointer, detail: "a control character in a string must be escaped")
            default:
                utf8.append(byte)
            }
        }
    }

    /// The escape after a backslash, appended as UTF-8.
    mutating func parseEscape(into utf8: inout [UInt8], pointer: String) throws(IngestError) {
        guard let byte = peek() else { throw IngestError(pointer: pointer, detail: "unterminated string") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4(pointer: pointer)
            if (0xD800..<0xDC00).contains(scalar) {
                guard peek() == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u")
                else { throw IngestError(pointer: pointer, detail: "a lone UTF-16 surrogate in a \\u escape") }
                position += 2
                let low = try parseHex4(pointer: pointer)
                guard (0xDC00..<0xE000).contains(low) else {
                    throw IngestError(pointer: pointer, detail: "a lone UTF-16 surrogate in a \\u escape")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw IngestError(pointer: pointer, detail: "a lone UTF-16 surrogate in a \\u escape")
            }
            UTF8.encode(Unicode.Scalar(scalar)!) { utf8.append($0) }
        default:
            throw IngestError(
                pointer: pointer, detail: "invalid escape '\\\(Character(Unicode.Scalar(byte)))' in a string")
        }
    }

    mutating func parseHex4(pointer: String) throws(IngestError) -> UInt32 {
        guard position + 4 <= bytes.count else {
            throw IngestError(pointer: pointer, detail: "a \\u escape needs 4 hex digits")
        }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw IngestError(pointer: pointer, detail: "a \\u escape needs 4 hex digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
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

/// A JSON Pointer reference token (RFC 6901): "~" as "~0", "/" as "~1".
func escapePointerToken(_ token: String) -> String {
    token.replacing("~", with: "~0").replacing("/", with: "~1")
}
