import Testing

@testable import DescentJSON

@Suite("JSON writer")
struct JSONWriterTests {
    private func written(_ number: Double) -> String { JSONWriter.string(.number(number)) }

    static let trickyDoubles: [Double] = [
        0.1, 1e-300, .leastNonzeroMagnitude, 1.7976931348623157e308, -0.0, 9_007_199_254_740_992, 9_007_199_254_740_994,
        1.0 / 3.0, 123_456_789.123456789, 2.2250738585072014e-308, 0.30000000000000004, 1e23, 1e22, 1e-7,
        4.35, 9_007_199_254_740_991, 0.5,
    ]

    @Test("doubles survive write and parse bit for bit", arguments: trickyDoubles)
    func doubleRoundTrip(value: Double) throws {
        for candidate in [value, -value] {
            let text = written(candidate)
            guard case .number(let back) = try JSONParser.parse(Array(text.utf8)) else {
                Issue.record("\(text) did not parse to a number")
                continue
            }
            #expect(back.bitPattern == candidate.bitPattern, "\(candidate) was written \(text), read \(back)")
            // Also inside a container, where the number is followed by a delimiter.
            let array = JSONWriter.bytes([.number(candidate), .number(candidate)])
            #expect(try JSONParser.parse(array) == [.number(candidate), .number(candidate)])
        }
    }

    @Test("numbers are written in the shortest form that reads back")
    func shortestForm() {
        #expect(written(0.1) == "0.1")
        #expect(written(1.0 / 3.0) == "0.3333333333333333")
        #expect(written(123_456_789.123456789) == "123456789.12345679")
        #expect(written(-0.0) == "-0")
        #expect(written(.leastNonzeroMagnitude) == "5e-324")
    }

    @Test(
        "integral values below 2^53 are written without a fraction",
        arguments: [
            (0.0, "0"), (3, "3"), (-42, "-42"), (1e6, "1000000"), (1e15, "1000000000000000"),
            (9_007_199_254_740_991, "9007199254740991"), (-9_007_199_254_740_991, "-9007199254740991"),
        ])
    func integers(value: Double, text: String) {
        #expect(written(value) == text)
    }

    @Test("NaN and the infinities are written as null")
    func nonFinite() throws {
        #expect(written(.nan) == "null")
        #expect(written(.infinity) == "null")
        #expect(written(-.infinity) == "null")
        #expect(written(.signalingNaN) == "null")
        let text = JSONWriter.string(["loss": .number(.nan), "values": [.number(.infinity), 1]])
        #expect(text == #"{"loss":null,"values":[null,1]}"#)
        #expect(try JSONParser.parse(Array(text.utf8)) == ["loss": nil, "values": [nil, 1]])
    }

    @Test(
        "strings escape quotes, backslashes and control characters, and pass everything else through",
        arguments: [
            ("plain", #""plain""#),
            ("say \"hi\"", #""say \"hi\"""#),
            (#"C:\dir"#, #""C:\\dir""#),
            ("a\nb\rc\td", #""a\nb\rc\td""#),
            ("\u{0}", #""\u0000""#),
            ("\u{08}\u{0C}", #""\u0008\u000c""#),
            ("\u{1}\u{1F}", #""\u0001\u001f""#),
            ("\u{7F}", "\"\u{7F}\""),
            ("a/b", #""a/b""#),
            ("é€😀", "\"é€😀\""),
            ("\u{2028}", "\"\u{2028}\""),
            ("", #""""#),
        ])
    func strings(text: String, json: String) throws {
        #expect(JSONWriter.string(.string(text)) == json)
        #expect(try JSONParser.parse(Array(json.utf8)) == .string(text))
    }

    @Test("the output is compact and keeps the members' order")
    func compactAndOrdered() {
        let value: JSONValue = [
            "zeta": 1, "alpha": [true, false, nil, "x", 2.5], "empty": .object([:]), "none": [], "q\"k": "v",
        ]
        #expect(
            JSONWriter.string(value) == #"{"zeta":1,"alpha":[true,false,null,"x",2.5],"empty":{},"none":[],"q\"k":"v"}"#
        )
        #expect(JSONWriter.bytes(value) == Array(JSONWriter.string(value).utf8))
    }

    @Test("write(into:) appends to what the buffer holds")
    func appends() {
        var output = Array("data: ".utf8)
        JSONWriter.write(["a": 1], into: &output)
        #expect(String(decoding: output, as: UTF8.self) == #"data: {"a":1}"#)
    }

    @Test("parse(write(v)) == v for nested values of every kind")
    func nestedRoundTrip() throws {
        let values: [JSONValue] = [
            nil, true, false, 0, -0.5, "", [], .object([:]),
            [
                "id": "job_0123", "weights": [0.1, -2.5e-10, 1e300, .number(.leastNonzeroMagnitude), 3],
                "nested": [[[[]]], ["a": ["b": nil]]],
                "text": "tab\there \"quoted\" \\ é 😀 \u{0}\u{1F}", "flags": [true, false],
                "key/with~chars": ["": 1, "\n": 2], "big": 9_007_199_254_740_994, "third": .number(1.0 / 3.0),
            ],
        ]
        for value in values {
            let bytes = JSONWriter.bytes(value)
            #expect(try JSONParser.parse(bytes) == value, "\(String(decoding: bytes, as: UTF8.self))")
            // Writing the parsed value again gives the same bytes.
            #expect(JSONWriter.bytes(try JSONParser.parse(bytes)) == bytes)
        }
    }

    @Test("kind descriptions name each case")
    func kindDescriptions() {
        #expect(JSONValue.null.kindDescription == "null")
        #expect(JSONValue.bool(true).kindDescription == "a boolean")
        #expect(JSONValue.number(1).kindDescription == "a number")
        #expect(JSONValue.string("").kindDescription == "a string")
        #expect(JSONValue.array([]).kindDescription == "an array")
        #expect(JSONValue.object([:]).kindDescription == "an object")
        #expect(JSONValue(nil as Double?) == .null)
        #expect(JSONValue(2 as Double?) == .number(2))
        #expect(JSONValue([1.5, 2]) == [1.5, 2])
    }
}
