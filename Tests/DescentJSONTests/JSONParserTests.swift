import Testing

@testable import DescentJSON

/// Parses `text` (UTF-8), failing the test when it does not parse.
private func parse(_ text: String) throws -> JSONValue {
    try JSONParser.parse(Array(text.utf8))
}

/// The error `bytes` raise; records an issue (and returns nil) when they parse.
private func parseError(_ bytes: [UInt8]) -> JSONParseError? {
    do {
        let value = try JSONParser.parse(bytes)
        Issue.record("expected an error, parsed \(value)")
        return nil
    } catch {
        return error
    }
}

private func parseError(_ text: String) -> JSONParseError? { parseError(Array(text.utf8)) }

/// A body the parser must refuse, the pointer its error must name, and a fragment of the detail.
struct RejectedBody: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: [UInt8]
    var pointer: String
    var detail: String

    init(_ label: String, _ text: String, pointer: String, detail: String) {
        self.init(label, bytes: Array(text.utf8), pointer: pointer, detail: detail)
    }

    init(_ label: String, bytes: [UInt8], pointer: String, detail: String) {
        self.label = label
        self.bytes = bytes
        self.pointer = pointer
        self.detail = detail
    }

    var testDescription: String { label }
}

@Suite("JSON parser")
struct JSONParserTests {
    // MARK: Values

    @Test("every kind of value parses to its case")
    func everyKind() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("0") == .number(0))
        #expect(try parse("-12.5e-1") == .number(-1.25))
        #expect(try parse("1E+2") == .number(100))
        #expect(try parse(#""hi""#) == .string("hi"))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object(JSONObject()))
        #expect(
            try parse(#" { "a" : [ 1 , true , null , "x" , { } , [ ] ] } "#)
                == ["a": [1, true, nil, "x", .object([:]), []]])
    }

    @Test("whitespace of all four kinds is allowed around values")
    func whitespace() throws {
        #expect(try parse(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n") == [1, 2])
    }

    @Test("-0 parses to negative zero")
    func negativeZero() throws {
        let value = try parse("-0")
        #expect(value == .number(0))
        if case .number(let zero) = value { #expect(zero.sign == .minus) }
    }

    @Test("every escape is decoded, including \\u0000 and a surrogate pair")
    func escapes() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u00E9\u20AC\u0000""#) == .string("Aéé€\u{0}"))
        #expect(try parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try parse("\"é€😀\"") == .string("é€😀"))
    }

    @Test("object members keep the order of the document")
    func memberOrder() throws {
        let value = try parse(#"{"zeta": 1, "alpha": 2, "mid": {"y": 1, "b": 2, "x": 3}, "beta": 4}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["zeta", "alpha", "mid", "beta"])
        #expect(object["mid"]?.objectValue?.keys == ["y", "b", "x"])
        // Order is part of equality: the same members in another order are another object.
        #expect(value != ["alpha": 2, "zeta": 1, "mid": ["y": 1, "b": 2, "x": 3], "beta": 4])
    }

    @Test("setting a member keeps its place, a new one goes last, and nil removes one")
    func objectSubscript() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        object["d"] = 4
        object["a"] = nil
        #expect(object.keys == ["b", "c", "d"])
        #expect(object["b"] == "two")
        #expect(object["a"] == nil)
    }

    // MARK: Errors and their pointers

    @Test("a duplicate key is rejected with the pointer of the repeated member")
    func duplicateKeys() throws {
        let top = try #require(parseError(#"{"a": 1, "a": 2}"#))
        #expect(top.pointer == "/a")
        #expect(top.detail.contains("twice"))
        let nested = try #require(parseError(#"{"a": 1, "b": [0, {"c": 1, "d": 2, "c": 3}]}"#))
        #expect(nested.pointer == "/b/1/c")
        let escaped = try #require(parseError(#"{"x/y": {"~": 1, "~": 2}}"#))
        #expect(escaped.pointer == "/x~1y/~0")
        // The same key in two different objects is fine.
        #expect(try parse(#"{"a": {"k": 1}, "b": {"k": 2}}"#) == ["a": ["k": 1], "b": ["k": 2]])
    }

    static let rejected: [RejectedBody] = [
        // Numbers.
        .init("leading zero", #"{"a": 01}"#, pointer: "/a", detail: "leading zeros"),
        .init("leading zero after minus", "[1, -012]", pointer: "/1", detail: "leading zeros"),
        .init("leading zeros with a fraction", #"{"a": [00.5]}"#, pointer: "/a/0", detail: "leading zeros"),
        .init("plus sign", "[+1]", pointer: "/0", detail: "'+'"),
        .init("no digit before the point", "[.5]", pointer: "/0", detail: "'.'"),
        .init("no digit after the point", #"{"a": 1.}"#, pointer: "/a", detail: "after '.'"),
        .init("no exponent digits", #"{"a": 1e}"#, pointer: "/a", detail: "exponent"),
        .init("no exponent digits after the sign", #"{"a": 1e+}"#, pointer: "/a", detail: "exponent"),
        .init("lone minus", #"{"a": -}"#, pointer: "/a", detail: "after '-'"),
        .init("hex number", "[0x10]", pointer: "", detail: "'x'"),
        // NaN and infinity spellings.
        .init("NaN", #"{"x": NaN}"#, pointer: "/x", detail: "'N'"),
        .init("nan", #"{"x": nan}"#, pointer: "/x", detail: "'nan'"),
        .init("Infinity", #"{"x": [Infinity]}"#, pointer: "/x/0", detail: "'I'"),
        .init("-Infinity", #"{"x": -Infinity}"#, pointer: "/x", detail: "after '-'"),
        .init("inf", #"{"x": inf}"#, pointer: "/x", detail: "'i'"),
        // Literals.
        .init("capitalised True", "[True]", pointer: "/0", detail: "'T'"),
        .init("truncated true", #"{"a": tru}"#, pointer: "/a", detail: "'tru'"),
        .init("nul", #"{"a": nul"#, pointer: "/a", detail: "'nul'"),
        .init("undefined", #"{"a": undefined}"#, pointer: "/a", detail: "'u'"),
        // Trailing commas.
        .init("trailing comma in an array", "[1, 2,]", pointer: "/2", detail: "']'"),
        .init("trailing comma in an object", #"{"a": 1,}"#, pointer: "", detail: "member name"),
        .init("nested trailing comma", #"{"o": {"a": 1,}}"#, pointer: "/o", detail: "member name"),
        .init("leading comma", "[,1]", pointer: "/0", detail: "','"),
        .init("double comma", "[1,,2]", pointer: "/1", detail: "','"),
        .init("missing comma", "[1 2]", pointer: "", detail: "',' or ']'"),
        .init("missing colon", #"{"a" 1}"#, pointer: "/a", detail: "':'"),
        .init("missing value", #"{"a": }"#, pointer: "/a", detail: "'}'"),
        // Quotes.
        .init("single-quoted key", "{'a': 1}", pointer: "", detail: "member name in quotes"),
        .init("single-quoted value", #"{"a": 'b'}"#, pointer: "/a", detail: "'''"),
        .init("unquoted key", "{a: 1}", pointer: "", detail: "member name in quotes"),
        // Comments.
        .init("line comment after a member", "{\"a\": 1 // one\n}", pointer: "", detail: "'/'"),
        .init("block comment in an array", "[1, /* two */ 2]", pointer: "/1", detail: "'/'"),
        .init("comment before the document", "/* c */ {}", pointer: "", detail: "'/'"),
        .init("hash comment", "{\"a\": 1 # one\n}", pointer: "", detail: "'#'"),
        // Strings.
        .init("raw newline in a string", "{\"a\": \"x\ny\"}", pointer: "/a", detail: "control characters"),
        .init("raw tab in a string", "[\"x\ty\"]", pointer: "/0", detail: "control characters"),
        .init("raw NUL in a string", "[\"\u{0}\"]", pointer: "/0", detail: "control characters"),
        .init("raw control in a key", "{\"a\u{1F}b\": 1}", pointer: "", detail: "control characters"),
        .init("unknown escape", #"{"a": "\x41"}"#, pointer: "/a", detail: "unknown escape"),
        .init("short \\u escape", #"{"a": "\u12"}"#, pointer: "/a", detail: "four hex digits"),
        .init("unterminated string", #"{"a": "abc"#, pointer: "/a", detail: "inside a string"),
        .init("unterminated escape", #"{"a": "abc\"#, pointer: "/a", detail: "inside an escape"),
        // Lone surrogates.
        .init("lone high surrogate", #"{"s": "\uD800"}"#, pointer: "/s", detail: "lone high surrogate"),
        .init("high surrogate then a letter", #"["a", "\uD83Dx"]"#, pointer: "/1", detail: "lone high surrogate"),
        .init("high surrogate then a BMP escape", #"["\uD83D\u0041"]"#, pointer: "/0", detail: "lone high"),
        .init("two high surrogates", #"["\uD83D\uD83D"]"#, pointer: "/0", detail: "lone high surrogate"),
        .init("lone low surrogate", #"{"s": ["\uDE00"]}"#, pointer: "/s/0", detail: "lone low surrogate"),
        // Invalid UTF-8.
        .init(
            "0xFF in a string", bytes: Array(#"{"a": ""#.utf8) + [0xFF] + Array(#""}"#.utf8), pointer: "/a",
            detail: "UTF-8"),
        .init(
            "overlong NUL in a string", bytes: Array(#"["ok", ""#.utf8) + [0xC0, 0x80] + Array(#""]"#.utf8),
            pointer: "/1", detail: "UTF-8"),
        .init(
            "truncated sequence in a string", bytes: Array(#"{"b": [""#.utf8) + [0xE2, 0x82] + Array(#""]}"#.utf8),
            pointer: "/b/0", detail: "UTF-8"),
        .init(
            "encoded surrogate in a string", bytes: Array(#"[""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""]"#.utf8),
            pointer: "/0", detail: "UTF-8"),
        .init(
            "invalid UTF-8 in a key", bytes: Array(#"{""#.utf8) + [0xFE] + Array(#"": 1}"#.utf8), pointer: "",
            detail: "UTF-8"),
        .init("0xFF outside strings", bytes: [0xFF], pointer: "", detail: "0xff"),
        // Trailing garbage and empty bodies.
        .init("a second document", "{} {}", pointer: "", detail: "after the document"),
        .init("a trailing letter", "[1]x", pointer: "", detail: "after the document"),
        .init("two numbers", "1 2", pointer: "", detail: "after the document"),
        .init("an extra closing brace", #"{"a": 1}}"#, pointer: "", detail: "after the document"),
        .init("a NUL after the document", "true\u{0}", pointer: "", detail: "after the document"),
        .init("empty body", "", pointer: "", detail: "ends where a value should start"),
        .init("whitespace only", " \n\t ", pointer: "", detail: "ends where a value should start"),
        .init("unclosed array", #"{"a": [1, 2"#, pointer: "/a", detail: "the end of the body"),
        .init("unclosed object", #"{"a": {"b": 1"#, pointer: "/a", detail: "the end of the body"),
    ]

    @Test("strict grammar: each malformed body is rejected with the pointer of the value at fault", arguments: rejected)
    func strictGrammar(body: RejectedBody) throws {
        let error = try #require(parseError(body.bytes))
        #expect(error.pointer == body.pointer, "\(error)")
        #expect(error.detail.contains(body.detail), "\(error)")
        #expect(error.offset >= 0 && error.offset <= body.bytes.count)
    }

    @Test("the offset is the byte where the fault was found")
    func offsets() throws {
        #expect(try #require(parseError("{} x")).offset == 3)
        #expect(try #require(parseError(#"{"a": 01}"#)).offset == 7)
        #expect(try #require(parseError("")).offset == 0)
        #expect(try #require(parseError("[1,]")).offset == 3)
    }

    @Test("the description names the byte offset and the pointer (or the document)")
    func description() throws {
        #expect(try #require(parseError("[1,]")).description.contains("at byte 3 (/1)"))
        #expect(try #require(parseError("")).description.contains("(the document)"))
    }

    // MARK: Nesting depth

    private func nestedArrays(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    private func nestedObjects(_ depth: Int) -> String {
        String(repeating: #"{"k":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
    }

    @Test("64 levels of nesting parse")
    func depthLimitAllowed() throws {
        #expect(JSONParser.maxDepth == 64)
        var arrays = try parse(nestedArrays(64))
        var levels = 0
        while case .array(let inner) = arrays {
            levels += 1
            guard let first = inner.first else { break }
            arrays = first
        }
        #expect(levels == 64)
        _ = try parse(nestedObjects(64))
        _ = try parse(String(repeating: "[{\"a\":", count: 32) + "1" + String(repeating: "}]", count: 32))
    }

    @Test("65 levels of nesting are rejected at the 65th, and deeper ones do not exhaust the stack")
    func depthLimitExceeded() throws {
        let arrays = try #require(parseError(nestedArrays(65)))
        #expect(arrays.pointer == String(repeating: "/0", count: 64))
        #expect(arrays.detail.contains("64"))
        #expect(arrays.offset == 64)
        let objects = try #require(parseError(nestedObjects(65)))
        #expect(objects.pointer == String(repeating: "/k", count: 64))
        let mixed = try #require(
            parseError(String(repeating: "[{\"a\":", count: 33) + "1" + String(repeating: "}]", count: 33)))
        #expect(mixed.pointer == String(repeating: "/0/a", count: 32))
        let hostile = try #require(parseError(String(repeating: "[", count: 1_000_000)))
        #expect(hostile.pointer == String(repeating: "/0", count: 64))
    }

    @Test(
        "an object with many members parses in linear time (duplicate detection must not rescan the object)")
    func manyMembers() throws {
        // About 110 KB. A linear scan per member makes this 5·10^7 string comparisons (over 10 s in a debug
        // build; an 870 KB body of 80 000 members costs 40 s of CPU in release). A hashed lookup takes milliseconds.
        let count = 10_000
        let text = "{" + (0..<count).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}"
        let started = ContinuousClock.now
        let object = try #require(try parse(text).objectValue)
        let elapsed = ContinuousClock.now - started
        #expect(object.members.count == count)
        #expect(object.keys.last == "k\(count - 1)")
        #expect(elapsed < .seconds(1), "parsing \(count) members took \(elapsed)")
        // The last member repeating the first is still found.
        let duplicate = try #require(parseError(String(text.dropLast()) + #","k0":1}"#))
        #expect(duplicate.pointer == "/k0")
    }

    // MARK: Pointers

    @Test("pointer tokens escape '~' as ~0 and '/' as ~1 (RFC 6901)")
    func pointerEscaping() throws {
        #expect(escapePointerToken("plain") == "plain")
        #expect(escapePointerToken("a/b") == "a~1b")
        #expect(escapePointerToken("m~n") == "m~0n")
        #expect(escapePointerToken("~1") == "~01")
        #expect(escapePointerToken("/~/") == "~1~0~1")
        #expect(escapePointerToken("") == "")
        let error = try #require(parseError(#"{"a/b": {"c~d": {"~1": [true, 01]}}}"#))
        #expect(error.pointer == "/a~1b/c~0d/~01/1")
        // The empty key is a token too: "/" names it.
        #expect(try #require(parseError(#"{"": 01}"#)).pointer == "/")
    }

    // MARK: Numbers

    @Test(
        "numbers beyond the range of a Double are rejected",
        arguments: ["1e309", "-1e309", "2e308", "1" + String(repeating: "0", count: 400)])
    func numberOverflow(text: String) throws {
        let error = try #require(parseError(#"{"n": [0, "# + text + "]}"))
        #expect(error.pointer == "/n/1")
        #expect(error.detail.contains("range of a Double"))
    }

    @Test("the largest and smallest Doubles parse exactly; a number below the smallest rounds to zero")
    func numberExtremes() throws {
        #expect(try parse("1.7976931348623157e308") == .number(.greatestFiniteMagnitude))
        #expect(try parse("-1.7976931348623157e308") == .number(-.greatestFiniteMagnitude))
        #expect(try parse("5e-324") == .number(.leastNonzeroMagnitude))
        #expect(try parse("1e-400") == .number(0))
        #expect(try parse("0.1") == .number(0.1))
        #expect(try parse("9007199254740993") == .number(9_007_199_254_740_992))
    }
}
