import DescentJSON
import DescentMath

/// Parses a JSON dataset body, `{"name"?: str, "features": [[number]], "targets": [number],
/// "sample_weights"?: [number], "feature_names"?: [str]}`, straight from its bytes into a `Dataset`.
///
/// A hand-written byte-level parser for exactly this shape: no JSONSerialization, no `[[Double]]`, no
/// recursion (nothing deeper than the shape is ever descended into, so nesting cannot blow the stack).
/// Every error carries a JSON Pointer into the body: "/features/7/2", "/targets", "/colour", or "" for the
/// document as a whole.
///
/// Memory: the features are the one big array. They are parsed into chunks of 2^20 values (so growth never
/// copies), then moved chunk by chunk into the final buffer from `FeatureStorage.makeFloat64` (with its
/// huge-page hint), each chunk freed as soon as it is copied: the peak is one copy of the features plus one
/// chunk (8 MiB). An earlier version skimmed the body first to count the values and parse straight into the
/// final buffer; the skim cost a quarter of the upload's time (`make bench-service`), the copy far less.
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

/// The cursor over the body and the parsing of each part of the shape (values and lexing helpers are in
/// JSONReader+Values.swift).
struct JSONReader {
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
        // Values go into fixed-size chunks as they are parsed (no skimming pre-pass over the body, no
        // regrowth of one big array), then once into the final buffer: an extra memcpy of the features, which
        // costs far less than reading the body twice.
        var chunks = ValueChunks()
        let (rows, columns) = try parseRows(into: &chunks, pointer: pointer)
        let storage = FeatureStorage.makeFloat64(count: chunks.count) { buffer in chunks.move(into: buffer) }
        return (storage, rows, columns)
    }

    /// Parses the rows at `position` (on the '[') into `chunks`. Returns (rows, columns).
    mutating func parseRows(into chunks: inout ValueChunks, pointer: String) throws(IngestError) -> (Int, Int) {
        position += 1  // the outer '['
        var rows = 0
        var columns = 0
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
                    chunks.append(value)
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
        return (rows, columns)
    }

}

/// Doubles appended one at a time into chunks of a fixed size: growth never copies what is already stored.
struct ValueChunks {
    private static let chunkSize = 1 << 20
    private var full: [[Double]] = []
    private var current: [Double] = []

    init() { current.reserveCapacity(1024) }

    var count: Int { full.count * Self.chunkSize + current.count }

    @inline(__always)
    mutating func append(_ value: Double) {
        if current.count == Self.chunkSize {
            full.append(current)
            current = []
            current.reserveCapacity(Self.chunkSize)
        }
        current.append(value)
    }

    /// Copies every value, in order, into `buffer` (which holds `count`), freeing each chunk once it is copied;
    /// leaves the chunks empty.
    mutating func move(into buffer: UnsafeMutableBufferPointer<Double>) {
        full.append(current)
        current = []
        var offset = 0
        for index in full.indices {
            full[index].withUnsafeBufferPointer { source in
                _ = UnsafeMutableBufferPointer(rebasing: buffer[offset..<(offset + source.count)]).initialize(
                    fromContentsOf: source)
                offset += source.count
            }
            full[index] = []
        }
        full = []
    }
}
