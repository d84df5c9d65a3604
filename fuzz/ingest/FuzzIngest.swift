// libFuzzer target for the dataset parsers (Sources/DescentService/Ingest). Built into the DescentService
// module from the Ingest sources alone (without DatasetUpload.swift, which only adds hashing and the catalog's
// summary), with DescentJSON and DescentMath compiled as modules of their own (see scripts/fuzz.sh).
//
// Input layout: byte 0 picks what the rest is, as DatasetUpload.parse dispatches by format:
//   bits 0–1  0 JSON, 1 CSV, 2 .npy, 3 plain text for the number scanner alone;
//   CSV: bits 2–3 the target column (none, "y", "target", ""), bits 4–5 the weight column (none, "w", "y", "");
//   .npy: bits 2–4 target_index (none, 0, 1, -1, -2, 2, Int.min, Int.max).
//
// Every parser must either throw an IngestError of its kind (a JSON Pointer for JSON, a line within the body
// or none for CSV, neither for .npy) or return a dataset whose shape is consistent and whose values are finite,
// as the parsers promise. Beyond that, each result is checked against an independent reading of the same bytes:
//   JSON  DescentJSON's JSONParser (a general RFC 8259 parser) must accept the body and hold the same values,
//         bit for bit; and whenever it parses to the dataset shape, the dataset parser must accept it too;
//   CSV   a reference reading by the documented rules (the header by RFC 4180, data lines split naively at
//         commas outside quotes, each cell one number read by the standard library's Double(String)) must
//         accept exactly the bodies the parser accepts, with the same names and values;
//   .npy  each value must be the element at its place in the data (C or Fortran order, the target column
//         taken out), and a body whose header parses and whose values are all finite must be accepted;
//   number scanner (also run on every CSV and JSON body): DecimalScanner's correctly rounded fast paths must
//         give bit for bit what the standard library's Double(String) gives for the same token.

import DescentJSON
import DescentMath
import Foundation

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    // Printed also in -O builds (where `precondition` drops the message), so that libFuzzer's log says which
    // invariant broke.
    FileHandle.standardError.write(Data("FuzzIngest invariant broken: \(message())\n".utf8))
    fatalError("FuzzIngest invariant broken")
}

private func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern }

/// FUZZ_TRACE=1: print each parse's outcome, to see what the seeds (run as `.build/fuzz-ingest FILE…`) reach.
private let trace = ProcessInfo.processInfo.environment["FUZZ_TRACE"] == "1"

private func outcome(_ result: Result<Dataset, IngestError>) {
    guard trace else { return }
    switch result {
    case .success(let dataset): print("accepted: \(dataset.rows) × \(dataset.columns)")
    case .failure(let error): print("refused: \(error)")
    }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

// MARK: Shape

/// What every dataset must satisfy, whichever parser made it.
private func checkShape(_ dataset: Dataset) {
    check(dataset.rows > 0 && dataset.columns > 0, "shape \(dataset.rows) × \(dataset.columns)")
    check(dataset.features.count == dataset.rows * dataset.columns, "\(dataset.features.count) feature values")
    check(dataset.targets.count == dataset.rows, "\(dataset.targets.count) targets for \(dataset.rows) rows")
    for index in 0..<dataset.features.count {
        check(dataset.features[index].isFinite, "feature \(index) is \(dataset.features[index])")
    }
    check(dataset.targets.allSatisfy(\.isFinite), "a non-finite target")
    if let weights = dataset.sampleWeights {
        check(weights.count == dataset.rows, "\(weights.count) weights for \(dataset.rows) rows")
        check(weights.allSatisfy { $0.isFinite && $0 >= 0 }, "a weight that is negative or not finite")
        check(weights.contains { $0 > 0 }, "every weight is 0")
    }
    if let names = dataset.featureNames {
        check(names.count == dataset.columns, "\(names.count) names for \(dataset.columns) columns")
    }
}

// MARK: The number scanner

/// Where the number token at `start` ends under DecimalScanner's grammar (the longest match, nil when that is
/// malformed), written out again from its documentation.
private func tokenEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, lenient: Bool) -> Int? {
    let count = bytes.count
    var index = start
    if index < count && (bytes[index] == UInt8(ascii: "-") || (lenient && bytes[index] == UInt8(ascii: "+"))) {
        index += 1
    }
    let integerStart = index
    if !lenient && index < count && bytes[index] == UInt8(ascii: "0") {
        index += 1
    } else {
        while index < count && isDigit(bytes[index]) { index += 1 }
    }
    let integerDigits = index - integerStart
    if !lenient && integerDigits == 0 { return nil }
    var fractionDigits = 0
    if index < count && bytes[index] == UInt8(ascii: ".") {
        var probe = index + 1
        while probe < count && isDigit(bytes[probe]) { probe += 1 }
        fractionDigits = probe - index - 1
        guard fractionDigits > 0 || (lenient && integerDigits > 0) else { return nil }
        index = probe
    }
    guard integerDigits > 0 || fractionDigits > 0 else { return nil }
    if index < count && (bytes[index] | 0x20) == UInt8(ascii: "e") {
        var probe = index + 1
        if probe < count && (bytes[probe] == UInt8(ascii: "+") || bytes[probe] == UInt8(ascii: "-")) { probe += 1 }
        let digits = probe
        while probe < count && isDigit(bytes[probe]) { probe += 1 }
        guard probe > digits else { return nil }
        index = probe
    }
    return index
}

/// Scans a number at every token start of `bytes` (the first byte, and each byte after one that cannot be
/// inside a number), in both grammars, and compares with the reference.
private func checkScanner(_ bytes: UnsafeBufferPointer<UInt8>) {
    func insideNumber(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            || byte | 0x20 == UInt8(ascii: "e")
    }
    for start in 0..<bytes.count where start == 0 || !insideNumber(bytes[start - 1]) {
        for lenient in [false, true] {
            let scanned = DecimalScanner.scan(bytes, from: start, lenient: lenient)
            let expectedEnd = tokenEnd(bytes, start, lenient: lenient)
            let token = String(
                decoding: UnsafeBufferPointer(rebasing: bytes[start..<(expectedEnd ?? start)]), as: UTF8.self)
            check(
                scanned?.end == expectedEnd,
                "scan at \(start) (lenient \(lenient)) ends at \(scanned.map { "\($0.end)" } ?? "nil"), "
                    + "expected \(expectedEnd.map { "\($0)" } ?? "nil")")
            guard let scanned else { continue }
            guard let reference = Double(token) else {
                check(false, "the standard library cannot read the token \(token.debugDescription)")
                return
            }
            check(
                same(scanned.value, reference),
                "\(token.debugDescription) scans as \(scanned.value) (\(String(scanned.value.bitPattern, radix: 16))), "
                    + "Double(String) gives \(reference) (\(String(reference.bitPattern, radix: 16)))")
        }
    }
}

// MARK: JSON

/// The dataset a general JSON parse of `body` describes, if it has the dataset's shape: (name, features row
/// by row, targets, weights, feature names).
private struct ExpectedJSONDataset {
    var name: String?
    var rows: [[Double]]
    var targets: [Double]
    var weights: [Double]?
    var featureNames: [String]?
}

private func expectedDataset(_ value: JSONValue) -> ExpectedJSONDataset? {
    guard case .object(let object) = value else { return nil }
    let known: Set = ["name", "features", "targets", "sample_weights", "feature_names"]
    guard object.keys.allSatisfy(known.contains) else { return nil }
    func numbers(_ value: JSONValue?) -> [Double]? {
        guard case .array(let elements)? = value else { return nil }
        var values: [Double] = []
        for element in elements {
            guard case .number(let number) = element else { return nil }
            values.append(number)
        }
        return values
    }
    var expected = ExpectedJSONDataset(rows: [], targets: [])
    switch object["name"] {
    case nil, .null?: break
    case .string(let name)?: expected.name = name
    default: return nil
    }
    guard case .array(let rows)? = object["features"], !rows.isEmpty else { return nil }
    for row in rows {
        guard let values = numbers(row), !values.isEmpty, values.count == (expected.rows.first?.count ?? values.count)
        else { return nil }
        expected.rows.append(values)
    }
    guard let targets = numbers(object["targets"]), targets.count == rows.count else { return nil }
    expected.targets = targets
    switch object["sample_weights"] {
    case nil, .null?: break
    case let value?:
        guard let weights = numbers(value), weights.count == rows.count, weights.allSatisfy({ $0 >= 0 }),
            weights.contains(where: { $0 > 0 })
        else { return nil }
        expected.weights = weights
    }
    switch object["feature_names"] {
    case nil, .null?: break
    case .array(let elements)?:
        var names: [String] = []
        for element in elements {
            guard case .string(let name) = element else { return nil }
            names.append(name)
        }
        guard names.count == expected.rows[0].count else { return nil }
        expected.featureNames = names
    default: return nil
    }
    return expected
}

private func fuzzJSON(_ body: [UInt8]) {
    // DescentJSON's parser reads no byte-order mark; the dataset parser skips one.
    let withoutBOM = body.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(body.dropFirst(3)) : body
    let general = try? JSONParser.parse(withoutBOM)
    let expected = general.flatMap(expectedDataset)
    let name: String?
    let dataset: Dataset
    do {
        (name, dataset) = try JSONDatasetParser.parse(body)
        outcome(.success(dataset))
    } catch {
        outcome(.failure(error))
        check(error.line == nil, "a JSON error with a line: \(error)")
        // By bytes: "/" and a combining mark after it are one Character, which hasPrefix("/") would not match.
        check(
            error.pointer.map { $0.isEmpty || $0.utf8.first == UInt8(ascii: "/") } ?? false,
            "a JSON error without a pointer: \(error)")
        check(!error.detail.isEmpty, "an error without a detail")
        check(expected == nil, "a dataset-shaped JSON body refused: \(error)")
        return
    }
    checkShape(dataset)
    guard let expected else {
        check(false, "a dataset from a body that JSONParser reads as \(general.map { "\($0)" } ?? "not JSON")")
        return
    }
    check(name == expected.name, "name \(name ?? "nil"), expected \(expected.name ?? "nil")")
    check(dataset.rows == expected.rows.count && dataset.columns == expected.rows[0].count, "shape")
    guard case .float64(let features) = dataset.features else { return check(false, "float32 features from JSON") }
    check(zip(features, expected.rows.joined()).allSatisfy(same), "features differ from JSONParser's")
    check(zip(dataset.targets, expected.targets).allSatisfy(same), "targets differ from JSONParser's")
    check(
        dataset.sampleWeights?.count == expected.weights?.count
            && zip(dataset.sampleWeights ?? [], expected.weights ?? []).allSatisfy(same),
        "weights differ from JSONParser's")
    check(dataset.featureNames == expected.featureNames, "feature names differ from JSONParser's")
}

// MARK: CSV

/// A CSV body as its documented rules (CSVDatasetParser's comment) read it, written out again without the
/// parser's fast paths: the header by RFC 4180, the data lines split naively at commas outside quotes.
private struct CSVReference {
    var featureNames: [String] = []
    var features: [Double] = []
    var targets: [Double] = []
    var weights: [Double]?
}

/// The header's fields and where the data starts, or nil where RFC 4180 (as the parser applies it) refuses.
private func referenceHeader(_ body: [UInt8], from start: Int) -> ([String], Int)? {
    var position = start
    guard position < body.count else { return nil }
    var header: [String] = []
    let ends: [UInt8] = [UInt8(ascii: ","), 0x0A, 0x0D]
    while true {
        var field: [UInt8] = []
        if position < body.count && body[position] == UInt8(ascii: "\"") {
            position += 1
            var closed = false
            while position < body.count {
                if body[position] == UInt8(ascii: "\"") {
                    if position + 1 < body.count && body[position + 1] == UInt8(ascii: "\"") {
                        field.append(UInt8(ascii: "\""))
                        position += 2
                        continue
                    }
                    position += 1
                    closed = true
                    break
                }
                field.append(body[position])
                position += 1
            }
            guard closed, position == body.count || ends.contains(body[position]) else { return nil }
        } else {
            while position < body.count && !ends.contains(body[position]) {
                guard body[position] != UInt8(ascii: "\"") else { return nil }
                field.append(body[position])
                position += 1
            }
        }
        guard let name = String(validating: field, as: UTF8.self) else { return nil }
        header.append(name)
        guard position < body.count else { break }
        position += 1
        if body[position - 1] == UInt8(ascii: ",") { continue }
        if body[position - 1] == 0x0D && position < body.count && body[position] == 0x0A { position += 1 }
        break
    }
    return (header, position)
}

/// The fields of one data line split naively: at commas outside double quotes, each trimmed of spaces and
/// tabs and of one pair of enclosing quotes.
private func naiveFields(_ line: ArraySlice<UInt8>) -> [[UInt8]] {
    var fields: [[UInt8]] = []
    var field: [UInt8] = []
    var quoted = false
    func finish() {
        var text = field[...]
        while let first = text.first, first == 0x20 || first == 0x09 { text = text.dropFirst() }
        while let last = text.last, last == 0x20 || last == 0x09 { text = text.dropLast() }
        if text.count >= 2, text.first == UInt8(ascii: "\""), text.last == UInt8(ascii: "\"") {
            text = text.dropFirst().dropLast()
        }
        fields.append(Array(text))
        field = []
    }
    for byte in line {
        if byte == UInt8(ascii: "\"") { quoted.toggle() }
        if byte == UInt8(ascii: ","), !quoted {
            finish()
        } else {
            field.append(byte)
        }
    }
    finish()
    return fields
}

/// A field's number: the whole field one token of the lenient grammar, read by the standard library; nil if
/// it is not one or not finite.
private func referenceNumber(_ field: [UInt8]) -> Double? {
    let end = field.withUnsafeBufferPointer { tokenEnd($0, 0, lenient: true) }
    guard end == field.count, let value = Double(String(decoding: field, as: UTF8.self)), value.isFinite else {
        return nil
    }
    return value
}

private func referenceCSV(_ body: [UInt8], targetColumn: String?, weightColumn: String?) -> CSVReference? {
    guard let (header, dataStart) = referenceHeader(body, from: body.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0),
        Set(header).count == header.count
    else { return nil }
    let targetIndex: Int
    if let targetColumn {
        guard let index = header.firstIndex(of: targetColumn) else { return nil }
        targetIndex = index
    } else {
        targetIndex = header.count - 1
    }
    var weightIndex: Int?
    if let weightColumn {
        guard let index = header.firstIndex(of: weightColumn), index != targetIndex else { return nil }
        weightIndex = index
    }
    let featureColumns = header.indices.filter { $0 != targetIndex && $0 != weightIndex }
    guard !featureColumns.isEmpty else { return nil }

    // Lines end at LF, with a CR before it dropped; empty lines at the end are ignored, others refused.
    var lines = body[dataStart...].split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
        line.last == 0x0D ? line.dropLast() : line
    }
    while let last = lines.last, last.isEmpty { lines.removeLast() }
    guard !lines.isEmpty, lines.allSatisfy({ !$0.isEmpty }) else { return nil }
    var reference = CSVReference(featureNames: featureColumns.map { header[$0] })
    if weightIndex != nil { reference.weights = [] }
    for line in lines {
        let fields = naiveFields(line)
        guard fields.count == header.count else { return nil }
        var values: [Double] = []
        for field in fields {
            guard let value = referenceNumber(field) else { return nil }
            values.append(value)
        }
        reference.targets.append(values[targetIndex])
        if let weightIndex {
            guard values[weightIndex] >= 0 else { return nil }
            reference.weights?.append(values[weightIndex])
        }
        reference.features += featureColumns.map { values[$0] }
    }
    if let weights = reference.weights, !weights.contains(where: { $0 > 0 }) { return nil }
    return reference
}

private func fuzzCSV(_ body: [UInt8], targetColumn: String?, weightColumn: String?) {
    let reference = referenceCSV(body, targetColumn: targetColumn, weightColumn: weightColumn)
    let dataset: Dataset
    do {
        dataset = try CSVDatasetParser.parse(body, targetColumn: targetColumn, weightColumn: weightColumn)
        outcome(.success(dataset))
    } catch {
        outcome(.failure(error))
        let lines = body.count { $0 == UInt8(ascii: "\n") } + 1
        check(error.pointer == nil, "a CSV error with a pointer: \(error)")
        check(error.line.map { $0 >= 1 && $0 <= lines + 1 } ?? true, "line \(error.line!) of \(lines): \(error)")
        check(!error.detail.isEmpty, "an error without a detail")
        check(reference == nil, "a CSV body the documented rules accept was refused: \(error)")
        return
    }
    checkShape(dataset)
    guard let reference else { return check(false, "a CSV body the documented rules refuse was accepted") }
    guard case .float64(let features) = dataset.features else { return check(false, "float32 features from CSV") }
    check(dataset.featureNames == reference.featureNames, "feature names \(dataset.featureNames ?? [])")
    check(dataset.rows == reference.targets.count, "\(dataset.rows) rows, \(reference.targets.count) data lines")
    check(features.count == reference.features.count, "\(features.count) features")
    check(zip(features, reference.features).allSatisfy(same), "the features differ from the text")
    check(zip(dataset.targets, reference.targets).allSatisfy(same), "the targets differ from the text")
    check(
        dataset.sampleWeights?.count == reference.weights?.count
            && zip(dataset.sampleWeights ?? [], reference.weights ?? []).allSatisfy(same),
        "the weights differ from the text")
}

// MARK: .npy

private func fuzzNPY(_ body: [UInt8], targetIndex: Int?) {
    let result = Result { () throws(IngestError) in try NPYDatasetParser.parse(body, targetIndex: targetIndex) }
    outcome(result)
    let header = body.withUnsafeBytes { raw in try? NPYHeader(parsing: raw) }
    // The element at (row, column) of the array as stored, read on its own.
    func element(_ header: NPYHeader, _ row: Int, _ column: Int) -> Double {
        let index = header.fortranOrder ? column * header.rows + row : row * header.columns + column
        return body.withUnsafeBytes { raw in
            switch header.scalar {
            case .float64: raw.loadUnaligned(fromByteOffset: header.dataOffset + index * 8, as: Double.self)
            case .float32: Double(raw.loadUnaligned(fromByteOffset: header.dataOffset + index * 4, as: Float.self))
            }
        }
    }
    let target: Int? = header.flatMap { header in
        guard let targetIndex else { return header.columns - 1 }
        let resolved = targetIndex < 0 ? targetIndex.addingReportingOverflow(header.columns).partialValue : targetIndex
        return resolved >= 0 && resolved < header.columns ? resolved : nil
    }
    switch result {
    case .failure(let error):
        check(error.pointer == nil && error.line == nil, "an .npy error with a pointer or line: \(error)")
        check(!error.detail.isEmpty, "an error without a detail")
        guard let header, target != nil else { return }
        // The header is good and the target in range: only a non-finite value may have stopped it.
        let finite = (0..<header.rows).allSatisfy { row in
            (0..<header.columns).allSatisfy { element(header, row, $0).isFinite }
        }
        check(!finite, "a well-formed .npy body with finite values refused: \(error)")
    case .success(let dataset):
        checkShape(dataset)
        guard let header, let target else { return check(false, "accepted, but the header or target is bad") }
        check(
            header.dataOffset + header.rows * header.columns * header.scalar.size == body.count,
            "the data does not fill the body exactly")
        check(dataset.rows == header.rows && dataset.columns == header.columns - 1, "the shape is not the header's")
        check(dataset.featureNames == nil && dataset.sampleWeights == nil, "names or weights from an .npy body")
        switch (header.scalar, dataset.features) {
        case (.float64, .float64), (.float32, .float32): break
        default: check(false, "\(header.scalar) data stored as the other type")
        }
        for row in 0..<header.rows {
            check(same(dataset.targets[row], element(header, row, target)), "row \(row): the target differs")
            for column in 0..<header.columns where column != target {
                let feature = column < target ? column : column - 1
                check(
                    same(dataset.features[row * dataset.columns + feature], element(header, row, column)),
                    "row \(row), column \(column): \(dataset.features[row * dataset.columns + feature]) stored, "
                        + "\(element(header, row, column)) in the file")
            }
        }
    }
}

// MARK: Entry

private let targetColumns: [String?] = [nil, "y", "target", ""]
private let weightColumns: [String?] = [nil, "w", "y", ""]
private let targetIndices: [Int?] = [nil, 0, 1, -1, -2, 2, Int.min, Int.max]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let selector = data[0]
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch selector & 0x03 {
    case 0:
        fuzzJSON(body)
        body.withUnsafeBufferPointer(checkScanner)
    case 1:
        fuzzCSV(
            body, targetColumn: targetColumns[Int(selector >> 2) & 3],
            weightColumn: weightColumns[Int(selector >> 4) & 3])
        body.withUnsafeBufferPointer(checkScanner)
    case 2:
        fuzzNPY(body, targetIndex: targetIndices[Int(selector >> 2) & 7])
    default:
        body.withUnsafeBufferPointer(checkScanner)
    }
    return 0
}
