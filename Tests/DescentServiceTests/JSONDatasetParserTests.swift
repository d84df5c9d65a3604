import DescentMath
import Testing

@testable import DescentService

@Suite("JSON dataset parser")
struct JSONDatasetParserTests {
    private func parse(_ text: String) throws(IngestError) -> (name: String?, dataset: Dataset) {
        try JSONDatasetParser.parse(Array(text.utf8))
    }

    private func features(_ dataset: Dataset) -> [Double] {
        (0..<dataset.features.count).map { dataset.features[$0] }
    }

    /// The error a body raises; fails the test when it parses.
    private func error(_ text: String) -> IngestError? {
        do {
            _ = try parse(text)
            Issue.record("expected an error for \(text)")
            return nil
        } catch {
            return error
        }
    }

    @Test("a full body gives the rows, targets, weights, names and the name")
    func fullBody() throws {
        let (name, dataset) = try parse(
            #"{"name": "tiny", "features": [[1, 2], [-3, 4.5]], "targets": [0.5, -1e2], "#
                + #""sample_weights": [1, 0.25], "feature_names": ["a", "b\u00e9"]}"#)
        #expect(name == "tiny")
        #expect(dataset.rows == 2 && dataset.columns == 2)
        #expect(features(dataset) == [1, 2, -3, 4.5])
        #expect(dataset.targets == [0.5, -100])
        #expect(dataset.sampleWeights == [1, 0.25])
        #expect(dataset.featureNames == ["a", "bé"])
    }

    @Test("fields come in any order, optional ones may be null, and any JSON whitespace is fine")
    func orderAndWhitespace() throws {
        let (name, dataset) = try parse(
            "\u{FEFF}\n\t{ \"targets\" :[ 1 ,2 ] ,\r\n \"features\":[[ 1E+2,2e-1 ] ,\n[0,-0.5]], \"name\": null,"
                + " \"sample_weights\": null, \"feature_names\": null }\n ")
        #expect(name == nil)
        #expect(features(dataset) == [100, 0.2, 0, -0.5])
        #expect(dataset.targets == [1, 2])
        #expect(dataset.sampleWeights == nil && dataset.featureNames == nil)
    }

    @Test(
        "shortest round-trip values parse to exactly the same Double",
        arguments: [
            0.1, 0.2, 0.3, 1e-300, Double.leastNonzeroMagnitude, 2.2250738585072014e-308, 1.7976931348623157e308,
            123_456_789_012_345_680, 0.1234567890123456789, 9_007_199_254_740_994, Double.leastNormalMagnitude.nextDown,
            1e23, 8.98846567431158e307,
            0.7151893663724195, 3.141592653589793, 1e22, 1e-22, 123.456e-10, 2.5e37,
        ])
    func roundTrip(value: Double) throws {
        for candidate in [value, -value] {
            let text = "\(candidate)"
            let (_, dataset) = try parse(#"{"features": [[\#(text)]], "targets": [\#(text)]}"#)
            #expect(dataset.features[0].bitPattern == candidate.bitPattern, "\(text)")
            #expect(dataset.targets[0].bitPattern == candidate.bitPattern, "\(text)")
        }
    }

    @Test("negative zero keeps its sign, and long or odd spellings round correctly")
    func spellings() throws {
        let (_, dataset) = try parse(
            #"{"features": [[-0.0, -0, 0e5, 1.00000000000000000000000001, 100000000000000000000000, "#
                + #"0.000000000000000000000000000000000001, 1e-400, 12345678901234567890123]], "targets": [1]}"#)
        let values = features(dataset)
        #expect(values[0].bitPattern == (-0.0).bitPattern)
        #expect(values[1].bitPattern == (-0.0).bitPattern)
        #expect(values[2].bitPattern == (0.0).bitPattern)
        #expect(values[3] == 1)
        #expect(values[4] == 1e23)
        #expect(values[5] == 1e-36)
        #expect(values[6] == 0)
        #expect(values[7] == Double("12345678901234567890123")!)
    }

    @Test(
        "each invalid body names what is wrong with a JSON Pointer",
        arguments: [
            (
                #"{"features": [[1, 2], [3]], "targets": [1, 2]}"#, "/features/1",
                "row has 1 values, the first row has 2"
            ),
            (#"{"features": [[1], [2], [3, 4, 5]], "targets": [1, 2, 3]}"#, "/features/2", "row has 3"),
            (#"{"features": [[1, NaN]], "targets": [1]}"#, "/features/0/1", "NaN and Infinity are not JSON"),
            (#"{"features": [[1, -Infinity]], "targets": [1]}"#, "/features/0/1", "values must be finite"),
            (#"{"features": [[1, 1e999]], "targets": [1]}"#, "/features/0/1", "beyond the range of a Double"),
            (#"{"features": [[1, "2"]], "targets": [1]}"#, "/features/0/1", "found a string"),
            (#"{"features": [[1, true]], "targets": [1]}"#, "/features/0/1", "found a boolean"),
            (#"{"features": [[1, null]], "targets": [1]}"#, "/features/0/1", "found null"),
            (#"{"features": [[1, [2]]], "targets": [1]}"#, "/features/0/1", "nested no deeper"),
            (#"{"features": [[1, {}]], "targets": [1]}"#, "/features/0/1", "found an object"),
            (#"{"features": [1, 2], "targets": [1]}"#, "/features/0", "expected a row"),
            (#"{"features": [[01]], "targets": [1]}"#, "/features/0/0", "'01' is not a valid JSON number"),
            (#"{"features": [[1.]], "targets": [1]}"#, "/features/0/0", "not a valid JSON number"),
            (#"{"features": [[.5]], "targets": [1]}"#, "/features/0/0", "not a valid JSON number"),
            (#"{"features": [[+5]], "targets": [1]}"#, "/features/0/0", "not a valid JSON number"),
            (
                #"{"features": [[1 2]], "targets": [1]}"#, "/features/0",
                "expected ',' or ']' after value 0, found a number"
            ),
            (#"{"features": [[1,,2]], "targets": [1]}"#, "/features/0/1", "expected a number, found ','"),
            (
                #"{"features": [[1],], "targets": [1]}"#, "/features/1",
                "expected a row (an array of numbers), found ']'"
            ),
            (#"{"features": [[1]], "targets": [1,]}"#, "/targets/1", "expected a number, found ']'"),
            ("{\"features\": [[1]], \"targets\": [1], \"name\": \"a\tb\"}", "/name", "control character"),
            (#"{"features": [[1], [2]}"#, "/features", "expected ',' or ']' after row 1, found '}'"),
            (#"{"features": [[1]], "targets": [1 "a"]}"#, "/targets", "after element 0, found a string"),
            (#"{"features": [[1]], "targets": [1, "x"]}"#, "/targets/1", "found a string"),
            (#"{"features": [[1]], "targets": [NaN]}"#, "/targets/0", "NaN"),
            (#"{"targets": [1]}"#, "/features", "required field is missing"),
            (#"{"features": [[1]]}"#, "/targets", "required field is missing"),
            (#"{"features": [[1], [2]], "targets": [1]}"#, "/targets", "1 targets for 2 feature rows"),
            (#"{"features": [], "targets": []}"#, "/features", "the dataset is empty"),
            (#"{"features": [[]], "targets": [1]}"#, "/features/0", "the row is empty"),
            (#"{"features": [[1]], "targets": [1], "colour": "red"}"#, "/colour", "unknown field"),
            (#"{"features": [[1]], "targets": [1], "a/b~": 1}"#, "/a~1b~0", "unknown field"),
            (#"{"features": [[1]], "targets": [1], "targets": [2]}"#, "/targets", "duplicate key"),
            (
                #"{"features": [[1], [2]], "targets": [1, 2], "sample_weights": [1, -0.5]}"#, "/sample_weights/1",
                "weights must be ≥ 0"
            ),
            (
                #"{"features": [[1], [2]], "targets": [1, 2], "sample_weights": [1]}"#, "/sample_weights",
                "1 sample weights for 2 feature rows"
            ),
            (
                #"{"features": [[1]], "targets": [1], "sample_weights": [0]}"#, "/sample_weights",
                "every sample weight is 0"
            ),
            (
                #"{"features": [[1, 2]], "targets": [1], "feature_names": ["a"]}"#, "/feature_names",
                "1 feature names for 2 columns"
            ),
            (
                #"{"features": [[1]], "targets": [1], "feature_names": ["a", 2]}"#, "/feature_names/1",
                "expected a string"
            ),
            (#"{"features": [[1]], "targets": [1], "name": 5}"#, "/name", "expected a string"),
            (#"{"features": [[1]], "targets": [1], "name": "\ud800"}"#, "/name", "lone high surrogate"),
            (#"{"features": [[1]], "targets": [1], "name": "\q"}"#, "/name", "unknown escape"),
            (#"{"features": [[1]], "targets": [1]} x"#, "", "unexpected data after the JSON object"),
            (#"{"features": [[1]], "targets": [1]"#, "", "the body ends before the object is closed"),
            (#"{"features": [[1]], "targets": [1],}"#, "", "expected a field name"),
            (#"[[1]]"#, "", "expected a JSON object, found an array"),
            ("", "", "the body is empty"),
            (#"{"features": [[1, 2"#, "/features/0", "the body ends inside the row"),
            (#"{"features": {"a": 1}, "targets": [1]}"#, "/features", "expected an array of rows, found an object"),
        ])
    func invalid(body: String, pointer: String, detail: String) {
        guard let error = error(body) else { return }
        #expect(error.pointer == pointer, "\(body)")
        #expect(error.line == nil)
        #expect(error.detail.contains(detail), "\(body): \(error.detail)")
    }

    @Test("invalid UTF-8 in a string is an error at its pointer")
    func invalidUTF8() {
        var body = Array(#"{"features": [[1]], "targets": [1], "feature_names": [""#.utf8)
        body += [0xC3, 0x28]
        body += Array(#""]}"#.utf8)
        #expect(throws: IngestError(pointer: "/feature_names/0", detail: "the string is not valid UTF-8")) {
            try JSONDatasetParser.parse(body)
        }
    }

    @Test("100,000 rows of 10 columns parse into one buffer with every value in place")
    func large() throws {
        let rows = 100_000
        let columns = 10
        var text = #"{"features": ["#
        text.reserveCapacity(rows * columns * 12)
        var targets: [String] = []
        for row in 0..<rows {
            text += row == 0 ? "[" : ",["
            text += (0..<columns).map { "\(Double(row * columns + $0) * 0.001 - 3.5)" }.joined(separator: ",")
            text += "]"
            targets.append("\(row % 7)")
        }
        text += #"], "targets": ["# + targets.joined(separator: ",") + "]}"
        let (_, dataset) = try parse(text)
        #expect(dataset.rows == rows && dataset.columns == columns)
        for index in [0, 1, 12_345, rows * columns - 1] {
            #expect(dataset.features[index] == Double(index) * 0.001 - 3.5)
        }
        #expect(dataset.targets[rows - 1] == Double((rows - 1) % 7))
    }
}
