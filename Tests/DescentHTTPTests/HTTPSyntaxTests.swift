import Testing

@testable import DescentHTTP

@Suite("HTTPSyntax and HTTPMethod on bytes")
struct HTTPSyntaxTests {
    @Test("isTokenByte is tchar (RFC 9110 §5.6.2) for every byte value")
    func tokenBytes() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for value in 0...255 {
            let byte = UInt8(value)
            #expect(HTTPSyntax.isTokenByte(byte) == tchar.contains(byte), "byte \(value)")
        }
    }

    @Test("every method is read back from its bytes, and a near miss is not taken for one")
    func methodsFromBytes() {
        for method in HTTPMethod.allCases {
            #expect(HTTPMethod(bytes: ArraySlice(method.rawValue.utf8)) == method)
            // In the middle of a larger buffer, as the parser hands it over.
            let line = Array("x\(method.rawValue) /".utf8)
            #expect(HTTPMethod(bytes: line[1..<(1 + method.rawValue.utf8.count)]) == method)
        }
        for word in ["GEt", "get", "GETS", "GE", "POSX", "PUST", "XOST", "HEAF", ""] {
            #expect(HTTPMethod(bytes: ArraySlice(word.utf8)) == nil, "\(word)")
        }
    }

    @Test("the version is HTTP/1.0 or HTTP/1.1 exactly")
    func versions() throws {
        #expect(try HTTPRequestParser.parseVersion(ArraySlice("HTTP/1.1".utf8)) == .http1_1)
        #expect(try HTTPRequestParser.parseVersion(ArraySlice("xHTTP/1.0".utf8).dropFirst()) == .http1_0)
        for bad in ["HTTP/1.", "HTTP/1.10", "HTTX/1.1", "http/1.1", "HTTP-1.1", "HTTP/1,1", "HTTP/a.1", "XTTP/1.1"] {
            #expect(throws: HTTPParseError.self, "\(bad)") { try HTTPRequestParser.parseVersion(ArraySlice(bad.utf8)) }
        }
    }
}
