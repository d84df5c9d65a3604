import DescentMath

/// Parses a CSV dataset body: a header row, then one row of numbers per line, into a `Dataset`.
///
/// RFC 4180 with the usual leniencies: quoted fields (with commas, doubled quotes and line breaks) in the
/// header, a quoted number in a data field, a UTF-8 byte-order mark skipped, CRLF or LF line ends, the final
/// line end optional, empty lines at the end ignored, spaces around a number ignored. Numbers may be written
/// as `1`, `-2.5`, `+3`, `.5`, `5.`, `1e-3`. The target column is `targetColumn` (default: the last), the
/// optional sample-weight column `weightColumn`; the other columns are the features, named by the header.
/// Errors carry the 1-based line and name the column in the detail.
///
/// Memory: a first pass over the bytes (line ends only, memchr speed) counts the data lines, so the feature
/// buffer is allocated once at its final size by `FeatureStorage.makeFloat64` (with its huge-page hint) and
/// the numbers are parsed straight into it: one copy of the features, never a growing array's reallocations.
package enum CSVDatasetParser {
    package static func parse(
        _ body: [UInt8], targetColumn: String? = nil, weightColumn: String? = nil
    ) throws(IngestError) -> Dataset {
        do {
            return try body.withUnsafeBufferPointer { bytes in
                var reader = CSVReader(bytes: bytes)
                return try reader.parse(targetColumn: targetColumn, weightColumn: weightColumn)
            }
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(detail: "\(error)")
        }
    }
}

private struct CSVReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// The 1-based line `position` is on.
    var line = 1

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// What a column is for: a feature (its index among the features), the target or the weight.
    enum Role {
        case feature(Int)
        case target
        case weight
    }

    mutating func parse(targetColumn: String?, weightColumn: String?) throws(IngestError) -> Dataset {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
        let header = try parseHeader()
        let (roles, featureNames) = try assignRoles(
            header: header, targetColumn: targetColumn, weightColumn: weightColumn)
        let headerLines = line - 1
        let rows = countDataLines()
        guard rows > 0 else { throw IngestError(line: headerLines + 1, detail: "no data rows: the dataset is empty") }

        let columns = featureNames.count
        var targets = [Double](repeating: 0, count: rows)
        var weights: [Double]? = weightColumn == nil ? nil : [Double](repeating: 0, count: rows)
        let features: FeatureStorage
        do {
            features = try FeatureStorage.makeFloat64(count: rows * columns) { buffer throws(IngestError) in
                try parseRows(
                    rows, roles: roles, features: buffer, targets: &targets, weights: &weights, header: header)
            }
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(detail: "\(error)")
        }
        if let weights, !weights.contains(where: { $0 > 0 }) {
            throw IngestError(
                detail: "every value of the weight column \"\(weightColumn ?? "")\" is 0: one must be > 0")
        }
        do {
            return try Dataset(
                rows: rows, columns: columns, features: features, targets: targets, sampleWeights: weights,
                featureNames: featureNames)
        } catch {
            throw IngestError(detail: "\(error)")  // every rule was checked above; the backstop
        }
    }

    // MARK: The header

    /// The header's fields (RFC 4180), leaving `position` at the start of the first data line.
    mutating func parseHeader() throws(IngestError) -> [String] {
        guard position < bytes.count else { throw IngestError(line: 1, detail: "the body is empty: no header row") }
        var fields: [String] = []
        while true {
            var field: [UInt8] = []
            if position < bytes.count && bytes[position] == UInt8(ascii: "\"") {
                let openingLine = line
                position += 1
                while true {
                    guard position < bytes.count else {
                        throw IngestError(line: openingLine, detail: "a quoted header field is not closed")
                    }
                    let byte = bytes[position]
                    position += 1
                    if byte == UInt8(ascii: "\"") {
                        guard position < bytes.count && bytes[position] == UInt8(ascii: "\"") else { break }
                        position += 1
                    }
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                if position < bytes.count && !isFieldEnd(bytes[position]) {
                    throw IngestError(
                        line: line, detail: "header column \(fields.count + 1): unexpected text after a quoted field")
                }
            } else {
                while position < bytes.count && !isFieldEnd(bytes[position]) {
                    guard bytes[position] != UInt8(ascii: "\"") else {
                        throw IngestError(
                            line: line,
                            detail: "header column \(fields.count + 1): a quote inside an unquoted field (quote the "
                                + "whole field and double the quote)")
                    }
                    field.append(bytes[position])
                    position += 1
                }
            }
            guard let name = String(validating: field, as: UTF8.self) else {
                throw IngestError(line: line, detail: "header column \(fields.count + 1) is not valid UTF-8")
            }
            fields.append(name)
            guard position < bytes.count else { break }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == UInt8(ascii: "\r") && position < bytes.count && bytes[position] == UInt8(ascii: "\n") {
                position += 1
            }
            line += 1
            break
        }
        return fields
    }

    /// Each column's role, and the feature names in order.
    func assignRoles(
        header: [String], targetColumn: String?, weightColumn: String?
    ) throws(IngestError) -> ([Role], [String]) {
        var seen: Set<String> = []
        for name in header where !seen.insert(name).inserted {
            throw IngestError(line: 1, detail: "the header names the column \"\(name)\" twice")
        }
        func index(of name: String, as what: String) throws(IngestError) -> Int {
            guard let index = header.firstIndex(of: name) else {
                let list = header.map { "\"\($0)\"" }.joined(separator: ", ")
                throw IngestError(line: 1, detail: "no \(what) column \"\(name)\" in the header (columns: \(list))")
            }
            return index
        }
        let target = try targetColumn.map { name throws(IngestError) in try index(of: name, as: "target") }
        let targetIndex = target ?? header.count - 1
        let weightIndex = try weightColumn.map { name throws(IngestError) in try index(of: name, as: "weight") }
        if let weightIndex, weightIndex == targetIndex {
            throw IngestError(line: 1, detail: "the column \"\(header[targetIndex])\" cannot be both target and weight")
        }
        var roles: [Role] = []
        var featureNames: [String] = []
        for (column, name) in header.enumerated() {
            if column == targetIndex {
                roles.append(.target)
            } else if column == weightIndex {
                roles.append(.weight)
            } else {
                roles.append(.feature(featureNames.count))
                featureNames.append(name)
            }
        }
        guard !featureNames.isEmpty else {
            throw IngestError(line: 1, detail: "no feature columns: the header has only the target and weight")
        }
        return (roles, featureNames)
    }

    /// The number of data lines from `position`: every line up to the last one that is not empty.
    func countDataLines() -> Int {
        var lines = 0
        var lastNonEmpty = 0
        var lineStart = position
        var index = position
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                lines += 1
                if !isEmptyLine(lineStart, index) { lastNonEmpty = lines }
                lineStart = index + 1
            }
            index += 1
        }
        if lineStart < bytes.count && !isEmptyLine(lineStart, bytes.count) { lastNonEmpty = lines + 1 }
        return lastNonEmpty
    }

    // MARK: The data

    /// Parses `rows` data lines into the buffers.
    mutating func parseRows(
        _ rows: Int, roles: [Role], features: UnsafeMutableBufferPointer<Double>, targets: inout [Double],
        weights: inout [Double]?, header: [String]
    ) throws(IngestError) {
        let columns = features.count / rows
        for row in 0..<rows {
            var column = 0
            let lineEnd = endOfLine(from: position)
            var contentEnd = lineEnd
            if contentEnd > position && bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            if contentEnd == position {
                throw IngestError(line: line, detail: "the line is empty; the header has \(roles.count) columns")
            }
            while true {
                let fieldEnd: Int
                if column < roles.count {
                    let value: Double
                    // The common case first: a plain finite number right before the comma or the line's end.
                    if let (number, stop) = DecimalScanner.scan(bytes, from: position, lenient: true),
                        number.isFinite, stop == contentEnd || (stop < contentEnd && bytes[stop] == UInt8(ascii: ","))
                    {
                        value = number
                        fieldEnd = stop
                    } else {
                        fieldEnd = endOfField(from: position, end: contentEnd)
                        value = try parseValue(position, fieldEnd, column: column, header: header)
                    }
                    switch roles[column] {
                    case .feature(let feature): features[row * columns + feature] = value
                    case .target: targets[row] = value
                    case .weight:
                        guard value >= 0 else {
                            let name = header[column]
                            throw IngestError(
                                line: line,
                                detail: "column \"\(name)\": sample weight \(value) is negative: weights must be ≥ 0")
                        }
                        weights?[row] = value
                    }
                } else {
                    fieldEnd = endOfField(from: position, end: contentEnd)  // a surplus field, counted for the error
                }
                column += 1
                position = fieldEnd
                guard position < contentEnd else { break }
                position += 1  // the comma
            }
            guard column == roles.count else {
                throw IngestError(line: line, detail: "the line has \(column) fields, the header has \(roles.count)")
            }
            position = lineEnd < bytes.count ? lineEnd + 1 : lineEnd
            line += 1
        }
    }

    /// The number in `bytes[start..<end]`, or an error naming the line and column.
    func parseValue(_ start: Int, _ end: Int, column index: Int, header: [String]) throws(IngestError) -> Double {
        let column = header[index]
        var start = start
        var end = end
        while start < end && (bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t")) { start += 1 }
        while end > start && (bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t")) { end -= 1 }
        if end - start >= 2 && bytes[start] == UInt8(ascii: "\"") && bytes[end - 1] == UInt8(ascii: "\"") {
            start += 1
            end -= 1
        }
        let field = UnsafeBufferPointer(rebasing: bytes[start..<end])
        guard let (value, stop) = DecimalScanner.scan(field, from: 0, lenient: true), stop == field.count else {
            let text = String(decoding: field.prefix(40), as: UTF8.self)
            if field.isEmpty { throw IngestError(line: line, detail: "column \"\(column)\": the value is empty") }
            if ["nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"].contains(text.lowercased()) {
                throw IngestError(
                    line: line, detail: "column \"\(column)\": \(text) is not finite: values must be finite")
            }
            throw IngestError(line: line, detail: "column \"\(column)\": \"\(text)\" is not a number")
        }
        guard value.isFinite else {
            let text = String(decoding: field.prefix(40), as: UTF8.self)
            throw IngestError(
                line: line,
                detail: "column \"\(column)\": \(text) is beyond the range of a Double: values must be finite")
        }
        return value
    }

    // MARK: Helpers

    func isFieldEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    /// The index of the '\n' (or the end of the body) that ends the line at `start`.
    func endOfLine(from start: Int) -> Int {
        var index = start
        while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
        return index
    }

    /// The end of the field at `start`: its comma (outside quotes) or `end`.
    func endOfField(from start: Int, end: Int) -> Int {
        var index = start
        var quoted = false
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if byte == UInt8(ascii: ",") && !quoted { return index }
            index += 1
        }
        return index
    }

    /// Whether `bytes[start..<end]` (a line without its '\n') is empty or a lone '\r'.
    func isEmptyLine(_ start: Int, _ end: Int) -> Bool {
        end == start || (end == start + 1 && bytes[start] == UInt8(ascii: "\r"))
    }

}
