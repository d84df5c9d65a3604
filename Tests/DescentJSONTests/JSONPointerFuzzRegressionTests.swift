import Testing

@testable import DescentJSON

/// Inputs found with the libFuzzer target fuzz/jobspec/FuzzJobSpec.swift (run with scripts/fuzz.sh jobspec),
/// whose invariant "every pointer of a refusal names a place in the body" they broke.
@Suite struct JSONPointerFuzzRegressionTests {
    /// fuzz/jobspec/crashes/pointer-slash-before-combining-mark: `{"a/́b": 1}`, a member name with "/" followed
    /// by U+0301 COMBINING ACUTE ACCENT. The job-spec decoder refused the unknown field at "/a/́b", a pointer to
    /// member "b" of a member "a" that do not exist: the escaping compared Characters, and "/" with the accent
    /// after it is one Character, not "/". Its "~" and "/" must be escaped whatever follows them.
    @Test(
        "'~' and '/' are escaped even when a combining mark follows them",
        arguments: [
            ("a/\u{301}b", "a~1\u{301}b"),
            ("~\u{301}", "~0\u{301}"),
            ("x/\u{20DD}/~\u{308}~", "x~1\u{20DD}~1~0\u{308}~0"),
            ("\u{301}/", "\u{301}~1"),
        ])
    func combiningMarksAfterEscapedCharacters(token: String, escaped: String) {
        #expect(Array(escapePointerToken(token).unicodeScalars) == Array(escaped.unicodeScalars))
    }

    @Test("the parser's error names such a member with its '/' escaped")
    func parserPointer() throws {
        let error = try #require(throws: JSONParseError.self) {
            try JSONParser.parse(Array("{\"a/\u{301}b\": x}".utf8))
        }
        #expect(Array(error.pointer.unicodeScalars) == Array("/a~1\u{301}b".unicodeScalars))
    }
}
