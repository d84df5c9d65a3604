import DescentMath
import Testing

@testable import DescentService

@Suite("CSV dataset parser")
struct CSVDatasetParserTests {
    private func parse(
        _ text: String, target: String? = nil, weight: String? = nil
    ) throws(IngestError) -> Dataset {
        try CSVDatasetParser.parse(Array(text.utf8), targetColumn: target, weightColumn: weight)
    }

    private func features(_ dataset: Dataset) -> [Double] {
        (0..<dataset.features.count).map { dataset.features[$0] }
    }

    @Test("the last column is the target by default and the others are named features")
    func defaultTarget() throws {
        let dataset = try parse("a,b,y\n1,2,3\n-4,5.5,6e1\n")
        #expect(dataset.rows == 2 && dataset.columns == 2)
        #expect(features(dataset) == [1, 2, -4, 5.5])
        #expect(dataset.targets == [3, 60])
        #expect(dataset.featureNames == ["a", "b"])
        #expect(dataset.sampleWeights == nil)
    }

    @Test("a named target and weight column are taken out of the features, wherever they are")
    func namedColumns() throws {
        let dataset = try parse("w,y,x1,x2\n0.5,1,2,3\n2,0,4,5", target: "y", weight: "w")
        #expect(features(dataset) == [2, 3, 4, 5])
        #expect(dataset.targets == [1, 0])
        #expect(dataset.sampleWeights == [0.5, 2])
        #expect(dataset.featureNames == ["x1", "x2"])
    }

    @Test("a BOM, CRLF, quoted header names, quoted numbers, spaces and trailing empty lines are accepted")
    func leniencies() throws {
        let text = "\u{FEFF}\"a, \"\"first\"\"\",\"b\r\nc\",y\r\n 1 ,\"2\",+3\r\n.5,5.,-1E-2\r\n\r\n\n"
        let dataset = try parse(text)
        #expect(dataset.featureNames == ["a, \"first\"", "b\r\nc"])
        #expect(features(dataset) == [1, 2, 0.5, 5])
        #expect(dataset.targets == [3, -0.01])
    }

    @Test(
        "shortest round-trip values parse to exactly the same Double",
        arguments: [
            0.1, 1e-300, Double.leastNonzeroMagnitude, 1.7976931348623157e308, -0.0, 0.7151893663724195,
            2.2250738585072014e-308, 1e23,
        ])
    func roundTrip(value: Double) throws {
        let dataset = try parse("x,y\n\(value),\(-value)\n")
        #expect(dataset.features[0].bitPattern == value.bitPattern)
        #expect(dataset.targets[0].bitPattern == (-value).bitPattern)
    }

    @Test(
        "each invalid body names the line and the column",
        arguments: [
            ("a,y\n1,2\n3,x\n", nil, nil, 3, #"column "y": "x" is not a number"#),
            ("a,y\n1,2\n3,\n", nil, nil, 3, #"column "y": the value is empty"#),
            ("a,b,y\n1,2,3\n4,5\n", nil, nil, 3, "the line has 2 fields, the header has 3"),
            ("a,b,y\n1,2,3,4\n", nil, nil, 2, "the line has 4 fields, the header has 3"),
            ("a,y\n1,2\n\n3,4\n", nil, nil, 3, "the line is empty"),
            ("a,y\n1,NaN\n", nil, nil, 2, #"column "y": NaN is not finite"#),
            ("a,y\n-inf,1\n", nil, nil, 2, #"column "a": -inf is not finite"#),
            ("a,y\n1e999,1\n", nil, nil, 2, #"column "a": 1e999 is beyond the range"#),
            ("a,y\n1,2\n", "z", nil, 1, #"no target column "z" in the header (columns: "a", "y")"#),
            ("a,y\n1,2\n", nil, "w", 1, #"no weight column "w""#),
            ("a,y,w\n1,2,-1\n", "y", "w", 2, #"column "w": sample weight -1.0 is negative"#),
            ("a,y\n1,2\n", "y", "y", 1, "cannot be both target and weight"),
            ("y\n1\n", nil, nil, 1, "no feature columns"),
            ("a,y\n", nil, nil, 2, "no data rows"),
            ("a,y\n\r\n\n", nil, nil, 2, "no data rows"),
            ("", nil, nil, 1, "the body is empty"),
            ("a,a,y\n1,2,3\n", nil, nil, 1, #"names the column "a" twice"#),
            ("\"a,y\n1,2\n", nil, nil, 1, "a quoted header field is not closed"),
            ("a\"b,y\n1,2\n", nil, nil, 1, "a quote inside an unquoted field"),
            ("\"a\"b,y\n1,2\n", nil, nil, 1, "unexpected text after a quoted field"),
            ("a,y\n1,2\n3,4 5\n", nil, nil, 3, #""4 5" is not a number"#),
        ] as [(String, String?, String?, Int, String)])
    func invalid(body: String, target: String?, weight: String?, line: Int, detail: String) {
        do {
            _ = try parse(body, target: target, weight: weight)
            Issue.record("expected an error for \(body)")
        } catch {
            #expect(error.line == line, "\(body)")
            #expect(error.pointer == nil)
            #expect(error.detail.contains(detail), "\(body): \(error.detail)")
        }
    }

    @Test("weights that are all zero are refused")
    func zeroWeights() {
        #expect(throws: IngestError.self) { try parse("a,y,w\n1,2,0\n", target: "y", weight: "w") }
    }

    @Test("100,000 rows of 10 features parse into one buffer with every value in place")
    func large() throws {
        let rows = 100_000
        let columns = 10
        var text = (0..<columns).map { "x\($0)" }.joined(separator: ",") + ",y\n"
        text.reserveCapacity(rows * columns * 12)
        for row in 0..<rows {
            text += (0..<columns).map { "\(Double(row * columns + $0) * 0.001 - 3.5)" }.joined(separator: ",")
            text += ",\(row % 7)\r\n"
        }
        let dataset = try parse(text)
        #expect(dataset.rows == rows && dataset.columns == columns)
        for index in [0, 1, 12_345, rows * columns - 1] {
            #expect(dataset.features[index] == Double(index) * 0.001 - 3.5)
        }
        #expect(dataset.targets[rows - 1] == Double((rows - 1) % 7))
    }
}
