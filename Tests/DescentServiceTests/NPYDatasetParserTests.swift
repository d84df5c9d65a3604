import DescentMath
import Foundation
import Testing

@testable import DescentService

// The fixtures were written by NumPy 2.4 (run in Tests/DescentServiceTests/Fixtures with the project's venv):
//   import numpy as np
//   np.save("v1_float64_c.npy", (np.arange(24, dtype="<f8").reshape(6, 4) * 0.5 - 3))
//   np.save("float32_fortran.npy", np.asfortranarray(np.arange(15, dtype="<f4").reshape(5, 3) / 4))
//   with open("v2_float64_c.npy", "wb") as f:
//       np.lib.format.write_array(f, np.arange(6, dtype="<f8").reshape(3, 2) + 0.25, version=(2, 0))

/// A tiny `.npy` writer: any header text (to write broken ones too), padded NumPy's way unless told not to.
private enum NPY {
    static func header(descr: String = "<f8", fortran: Bool = false, shape: String) -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
    }

    /// Magic, version, length, then `header` padded with spaces and a newline to a multiple of `alignment`
    /// (nil: no padding, just the newline), then `data`.
    static func file(header: String, version: UInt8 = 1, alignment: Int? = 64, data: [UInt8]) -> [UInt8] {
        let lengthBytes = version == 1 ? 2 : 4
        var text = Array(header.utf8)
        if let alignment {
            let total = 8 + lengthBytes + text.count + 1
            text += [UInt8](repeating: 0x20, count: (alignment - total % alignment) % alignment)
        }
        text.append(0x0A)
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        bytes += (0..<lengthBytes).map { UInt8(truncatingIfNeeded: text.count >> (8 * $0)) }
        return bytes + text + data
    }

    /// A whole file for `matrix` (rows of equal length), in C or Fortran order.
    static func file(
        _ matrix: [[Double]], float32: Bool = false, fortran: Bool = false, version: UInt8 = 1,
        alignment: Int? = 64
    ) -> [UInt8] {
        let values = fortran ? (0..<matrix[0].count).flatMap { j in matrix.map { $0[j] } } : matrix.flatMap { $0 }
        let data = float32 ? NPY.float32(values.map { Float($0) }) : NPY.float64(values)
        let header = header(
            descr: float32 ? "<f4" : "<f8", fortran: fortran, shape: "(\(matrix.count), \(matrix[0].count))")
        return file(header: header, version: version, alignment: alignment, data: data)
    }

    static func float64(_ values: [Double]) -> [UInt8] {
        values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
    }

    static func float32(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
    }
}

private func fixture(_ name: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return Array(try Data(contentsOf: url))
}

/// Features of `dataset` as rows of Doubles.
private func featureRows(_ dataset: Dataset) -> [[Double]] {
    (0..<dataset.rows).map { i in (0..<dataset.columns).map { j in dataset.features[i * dataset.columns + j] } }
}

/// The detail of the error parsing `bytes` throws (fails the test if it does not throw).
private func failure(
    _ bytes: [UInt8], targetIndex: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
) -> String {
    do {
        _ = try NPYDatasetParser.parse(bytes, targetIndex: targetIndex)
        Issue.record("parsed without an error", sourceLocation: sourceLocation)
        return ""
    } catch {
        #expect(error.pointer == nil && error.line == nil, sourceLocation: sourceLocation)
        return error.detail
    }
}

/// A deterministic matrix with distinct, exactly representable (in Float32 too) values.
private func matrix(rows: Int, columns: Int) -> [[Double]] {
    (0..<rows).map { i in (0..<columns).map { j in Double(i * columns + j) / 8 - 100 } }
}

@Suite("NPY dataset parser")
struct NPYDatasetParserTests {
    @Test("a NumPy v1 float64 C-order file: the last column is the target")
    func numpyFloat64C() throws {
        let dataset = try NPYDatasetParser.parse(try fixture("v1_float64_c.npy"))
        #expect(dataset.rows == 6 && dataset.columns == 3)
        guard case .float64 = dataset.features else {
            Issue.record("not Float64 storage")
            return
        }
        let expected = (0..<6).map { i in (0..<4).map { j in Double(i * 4 + j) * 0.5 - 3 } }
        #expect(featureRows(dataset) == expected.map { Array($0.prefix(3)) })
        #expect(dataset.targets == expected.map { $0[3] })
    }

    @Test("a NumPy float32 Fortran-order file stays Float32 features, transposed to row-major")
    func numpyFloat32Fortran() throws {
        let dataset = try NPYDatasetParser.parse(try fixture("float32_fortran.npy"))
        #expect(dataset.rows == 5 && dataset.columns == 2)
        guard case .float32 = dataset.features else {
            Issue.record("not Float32 storage")
            return
        }
        let expected: [[Double]] = (0..<5).map { i in (0..<3).map { j in Double(3 * i + j) / 4 } }
        #expect(featureRows(dataset) == expected.map { Array($0.prefix(2)) })
        #expect(dataset.targets == expected.map { $0[2] })
    }

    @Test("a NumPy version 2.0 header (4-byte length)")
    func numpyVersion2() throws {
        let dataset = try NPYDatasetParser.parse(try fixture("v2_float64_c.npy"))
        #expect(featureRows(dataset) == [[0.25], [2.25], [4.25]])
        #expect(dataset.targets == [1.25, 3.25, 5.25])
    }

    @Test(
        "C and Fortran order, float64 and float32, every version and padding give the same dataset",
        arguments: [(false, false), (false, true), (true, false), (true, true)])
    func layouts(float32: Bool, fortran: Bool) throws {
        // 150 columns cross the 64-column transpose tiles; 700 rows cross the row blocks.
        let values = matrix(rows: 700, columns: 150)
        for (version, alignment) in [(UInt8(1), 64), (1, 16), (2, 64), (3, 64), (1, nil)] as [(UInt8, Int?)] {
            let bytes = NPY.file(values, float32: float32, fortran: fortran, version: version, alignment: alignment)
            let dataset = try NPYDatasetParser.parse(bytes)
            #expect(dataset.rows == 700 && dataset.columns == 149)
            #expect(featureRows(dataset) == values.map { Array($0.dropLast()) })
            #expect(dataset.targets == values.map { $0[149] })
            if case .float32 = dataset.features { #expect(float32) } else { #expect(!float32) }
        }
    }

    @Test(
        "target_index picks the target column; negative counts from the end as in NumPy",
        arguments: [(0, 0), (2, 2), (4, 4), (-1, 4), (-5, 0), (-3, 2)])
    func targetIndex(index: Int, column: Int) throws {
        let values = matrix(rows: 40, columns: 5)
        for fortran in [false, true] {
            let dataset = try NPYDatasetParser.parse(NPY.file(values, fortran: fortran), targetIndex: index)
            var features = values
            for i in features.indices { features[i].remove(at: column) }
            #expect(featureRows(dataset) == features)
            #expect(dataset.targets == values.map { $0[column] })
        }
    }

    @Test("header spellings NumPy's reader accepts: double quotes, no trailing comma, Python 2 longs, any order")
    func headerSpellings() throws {
        let data = NPY.float64([1, 2, 3, 4])
        for header in [
            #"{"descr": "<f8", "fortran_order": False, "shape": (2, 2)}"#,
            "{'shape': (2L, 2L), 'fortran_order': False, 'descr': '<f8'}",
            "  {  'descr' : '<f8' ,\t'fortran_order' : False , 'shape' : ( 2 , 2 , ) , }  ",
        ] {
            let dataset = try NPYDatasetParser.parse(NPY.file(header: header, data: data))
            #expect(featureRows(dataset) == [[1], [3]] && dataset.targets == [2, 4])
        }
    }

    @Test("a non-finite value is named by row and column, in features and targets, C and Fortran order")
    func nonFinite() {
        // 5,000 rows of 3 columns: the bad values sit in a later block than the first.
        var values = matrix(rows: 5000, columns: 3)
        values[4321][1] = .nan
        #expect(failure(NPY.file(values)).contains("nan at row 4321, column 1 (0-based"))
        #expect(failure(NPY.file(values, fortran: true)).contains("nan at row 4321, column 1"))
        #expect(failure(NPY.file(values, float32: true)).contains("nan at row 4321, column 1"))
        values[4321][1] = 0
        values[17][2] = -.infinity
        #expect(failure(NPY.file(values)).contains("-inf at row 17, column 2 (the target column)"))
        #expect(failure(NPY.file(values, float32: true, fortran: true)).contains("-inf at row 17, column 2"))
        values[17][2] = 0
        values[3][0] = .infinity
        let detail = failure(NPY.file(values), targetIndex: 0)
        #expect(detail.contains("inf at row 3, column 0 (the target column)"))
        #expect(detail.contains("byte offset \(128 + (3 * 3) * 8)"))
    }

    @Test("bad preambles: not .npy, unknown versions, a header length past the end")
    func badPreamble() {
        #expect(failure([]).contains("not a .npy file"))
        #expect(failure(Array("PK\u{3}\u{4}not numpy".utf8)).contains("not a .npy file"))
        #expect(failure([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1]).contains("not a .npy file"))
        let good = NPY.file([[1, 2]])
        var version4 = good
        version4[6] = 4
        #expect(failure(version4).contains("unsupported .npy format version 4.0"))
        var version11 = good
        version11[7] = 1
        #expect(failure(version11).contains("version 1.1"))
        #expect(failure(Array(good.prefix(9))).contains("ends inside the header length"))
        var longHeader = good
        longHeader[8] = 0xFF
        longHeader[9] = 0x7F
        #expect(failure(longHeader).contains("header length 32767 (bytes 8–9) runs past the end of the 144-byte body"))
        var v2 = NPY.file([[1, 2]], version: 2)
        v2[11] = 0x80
        #expect(failure(v2).contains("runs past the end"))
    }

    @Test("headers with missing, unknown, duplicate or mistyped keys")
    func badKeys() {
        let data = NPY.float64([1, 2])
        func detail(_ header: String) -> String { failure(NPY.file(header: header, data: data)) }
        #expect(detail("{'descr': '<f8', 'fortran_order': False}").contains("no 'shape' key"))
        #expect(detail("{'fortran_order': False, 'shape': (1, 2)}").contains("no 'descr' key"))
        #expect(detail("{'descr': '<f8', 'shape': (1, 2)}").contains("no 'fortran_order' key"))
        #expect(
            detail("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), 'extra': 1}")
                .contains("unknown .npy header key 'extra' at byte offset 68"))
        #expect(
            detail("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)}")
                .contains("duplicate .npy header key 'descr'"))
        #expect(
            detail("{'descr': '<f8', 'fortran_order': 0, 'shape': (1, 2)}")
                .contains("expected a string, True, False or a tuple at byte offset 44, found '0'"))
        #expect(
            detail("{'descr': '<f8', 'fortran_order': 'no', 'shape': (1, 2)}")
                .contains("'fortran_order' is the string 'no', not True or False"))
        #expect(
            detail("{'descr': '<f8', 'fortran_order': False, 'shape': '1, 2'}").contains("not a tuple of integers"))
        #expect(detail("{'descr': '<f8', 'fortran_order': Falsey, 'shape': (1, 2)}").contains("found 'F'"))
        #expect(detail("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)} x").contains("only padding"))
        #expect(detail("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)").contains("found the end"))
        #expect(
            detail("{'descr': '<f8, 'fortran_order': False, 'shape': (1, 2)}").contains(
                "expected ',' or '}' at byte offset 27, found 'f'"))
        #expect(detail("{'descr': '<f8', 'fortran_order': False, 'shape': (1, -2)}").contains("found '-'"))
        #expect(detail("{'descr': '<f8' 'fortran_order': False, 'shape': (1, 2)}").contains("expected ',' or '}'"))
        #expect(detail("{'descr': '\\x3cf8', 'fortran_order': False, 'shape': (1, 2)}").contains("without escapes"))
        #expect(detail("['descr', '<f8']").contains("expected '{' at byte offset 10, found '['"))
        #expect(detail("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2").contains("found the end"))
    }

    @Test("dtypes other than little-endian float32 and float64")
    func badDtypes() {
        func detail(_ descr: String) -> String {
            failure(NPY.file(header: NPY.header(descr: descr, shape: "(1, 2)"), data: NPY.float64([1, 2])))
        }
        #expect(detail(">f8").contains("big-endian dtype '>f8' is not supported"))
        #expect(detail(">f4").contains("a.astype('<f4')"))
        for descr in ["<i8", "<f2", "|u1", "float64", "<c16", "=f8"] {
            #expect(detail(descr).contains("unsupported dtype '\(descr)'"))
        }
        let structured = "{'descr': [('a', '<f8'), ('b', '<f8')], 'fortran_order': False, 'shape': (1,), }"
        #expect(failure(NPY.file(header: structured, data: NPY.float64([1, 2]))).contains("structured dtypes"))
    }

    @Test("shapes that are not 2-D, empty, a lone column, or absurdly large")
    func badShapes() {
        func detail(_ shape: String, data: [Double] = [1, 2]) -> String {
            failure(NPY.file(header: NPY.header(shape: shape), data: NPY.float64(data)))
        }
        #expect(detail("(2,)").contains("shape (2,) is 1-D"))
        #expect(detail("()").contains("shape () is 0-D"))
        #expect(detail("(1, 1, 2)").contains("shape (1, 1, 2) is 3-D"))
        #expect(detail("(0, 2)", data: []).contains("shape (0, 2) has no rows"))
        #expect(detail("(2, 0)", data: []).contains("shape (2, 0) has 0 columns"))
        #expect(detail("(2, 1)").contains("shape (2, 1) has 1 column;"))
        #expect(detail("(99999999999999999999, 2)").contains("dimension at byte offset 61 is too large"))
        #expect(detail("(4611686018427387904, 4)").contains("is too large: its byte count overflows"))
        #expect(detail("(1152921504606846976, 2)").contains("is too large"))
        #expect(detail("(3037000499, 3037000499)").contains("is too large"))
    }

    @Test("data shorter or longer than the shape says")
    func lyingShapes() {
        let header = NPY.header(shape: "(3, 2)")
        let short = failure(NPY.file(header: header, data: NPY.float64([1, 2, 3, 4, 5])))
        #expect(short.contains("shape (3, 2) of '<f8' needs 48 bytes of data but the body holds 40"))
        #expect(short.contains("from byte offset 128"))
        let long = failure(NPY.file(header: header, data: NPY.float64([1, 2, 3, 4, 5, 6, 7])))
        #expect(long.contains("8 bytes follow the 48 bytes of shape (3, 2) of '<f8' (from byte offset 176)"))
        let float32 = NPY.header(descr: "<f4", shape: "(3, 2)")
        #expect(failure(NPY.file(header: float32, data: NPY.float64([1, 2, 3, 4, 5, 6]))).contains("24 bytes follow"))
        #expect(
            failure(NPY.file(header: header, data: NPY.float64([1, 2, 3, 4, 5, 6]) + [0])).contains("1 bytes follow"))
    }

    @Test("non-ASCII headers before version 3.0, and invalid UTF-8 in 3.0")
    func encodings() {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), 'é': 1}"
        let data = NPY.float64([1, 2])
        #expect(failure(NPY.file(header: header, data: data)).contains("non-ASCII byte 0xC3 at byte offset 69"))
        #expect(failure(NPY.file(header: header, version: 2, data: data)).contains("version 2.0 header"))
        // Valid UTF-8 in 3.0 gets past the encoding check, to the key check.
        #expect(failure(NPY.file(header: header, version: 3, data: data)).contains("unknown .npy header key 'é'"))
        var invalid = NPY.file(header: NPY.header(shape: "(1, 2)"), version: 3, data: data)
        invalid[20] = 0xFF
        #expect(failure(invalid).contains("is not valid UTF-8"))
    }

    @Test("target_index out of range")
    func targetOutOfRange() {
        let bytes = NPY.file([[1, 2, 3]])
        #expect(failure(bytes, targetIndex: 3).contains("target_index 3 is out of range for 3 columns"))
        #expect(failure(bytes, targetIndex: -4).contains("target_index -4 is out of range"))
    }
}
