import DescentHTTP
import Testing

@testable import DescentHTTP2

@Suite("H2C: choosing the protocol")
struct H2CTests {
    static func opening(_ text: String) -> H2C.Opening { H2C.opening(ArraySlice(text.utf8)) }

    @Test("every proper prefix of the preface's first line is undecided, the empty one included")
    func prefixesAreUndecided() {
        let line = Array("PRI * HTTP/2.0\r\n".utf8)
        for count in 0..<line.count {
            #expect(H2C.opening(line[..<count]) == .undecided, "\(count) bytes")
        }
    }

    @Test("the first 16 bytes of the preface, or the whole preface, are HTTP/2")
    func prefaceIsHTTP2() {
        #expect(Self.opening("PRI * HTTP/2.0\r\n") == .http2)
        #expect(H2C.opening(ArraySlice(FrameBuilder.preface)) == .http2)
        #expect(H2C.opening(ArraySlice(FrameBuilder.preface + FrameBuilder.settings())) == .http2)
    }

    @Test("HTTP/1.1 requests are HTTP/1.1 as soon as a byte differs from the preface")
    func requestsAreHTTP1() {
        #expect(Self.opening("GET /") == .http1)
        #expect(Self.opening("G") == .http1)
        #expect(Self.opening("POST") == .http1)
        #expect(Self.opening("PRI * HTTP/1.1\r\n") == .http1)
        #expect(Self.opening("pri * HTTP/2.0\r\n") == .http1)
    }

    /// A request that asks to upgrade, as curl --http2 sends it.
    static let curlSettings = "AAMAAABkAAQCAAAAAAIAAAAA"

    static func head(
        version: HTTPVersion = .http1_1,
        _ headers: [(String, String)] = [
            ("Host", "example.test"), ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
            ("HTTP2-Settings", curlSettings),
        ]
    ) -> HTTPRequestHead {
        var fields = HTTPHeaders()
        for (name, value) in headers { fields.add(name, value) }
        return HTTPRequestHead(method: .GET, target: "/", version: version, headers: fields)
    }

    static func without(_ name: String) -> [(String, String)] {
        head().headers.fields.filter { $0.name != name }.map { ($0.name, $0.value) }
    }

    static func replacing(_ name: String, with value: String) -> [(String, String)] {
        head().headers.fields.map { ($0.name, $0.name == name ? value : $0.value) }
    }

    @Test("an upgrade request gives its decoded HTTP2-Settings: three SETTINGS parameters of 6 bytes")
    func upgradeSettings() throws {
        let payload = try #require(H2C.upgradeSettings(Self.head()))
        // MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 33554432, ENABLE_PUSH 0.
        #expect(payload == [0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0])
    }

    @Test("names and tokens are matched without regard to case, among other list elements")
    func caseAndLists() {
        let head = Self.head([
            ("connection", "keep-alive, upgrade,  http2-settings"), ("upgrade", "websocket, H2C"),
            ("http2-settings", ""),
        ])
        #expect(H2C.upgradeSettings(head) == [])
    }

    @Test("the settings may be split over two Connection fields")
    func connectionInTwoFields() {
        let head = Self.head([
            ("Connection", "Upgrade"), ("Connection", "HTTP2-Settings"), ("Upgrade", "h2c"),
            ("HTTP2-Settings", Self.curlSettings),
        ])
        #expect(H2C.upgradeSettings(head) != nil)
    }

    @Test("a request missing any piece of the upgrade is served over HTTP/1.1")
    func missingPieces() {
        #expect(H2C.upgradeSettings(Self.head(version: .http1_0)) == nil, "HTTP/1.0")
        #expect(H2C.upgradeSettings(Self.head(Self.without("Upgrade"))) == nil, "no Upgrade")
        #expect(H2C.upgradeSettings(Self.head(Self.replacing("Upgrade", with: "websocket"))) == nil, "no h2c")
        #expect(H2C.upgradeSettings(Self.head(Self.replacing("Upgrade", with: "h2"))) == nil, "h2 is TLS only")
        #expect(H2C.upgradeSettings(Self.head(Self.without("Connection"))) == nil, "no Connection")
        #expect(
            H2C.upgradeSettings(Self.head(Self.replacing("Connection", with: "HTTP2-Settings"))) == nil,
            "Connection without Upgrade")
        #expect(
            H2C.upgradeSettings(Self.head(Self.replacing("Connection", with: "Upgrade"))) == nil,
            "Connection without HTTP2-Settings")
        #expect(H2C.upgradeSettings(Self.head(Self.without("HTTP2-Settings"))) == nil, "no HTTP2-Settings")
        #expect(
            H2C.upgradeSettings(Self.head(Self.replacing("HTTP2-Settings", with: "AAMA*AAB"))) == nil,
            "not base64url")
    }

    @Test("two HTTP2-Settings fields, even equal ones, are not an upgrade")
    func twoSettingsFields() {
        let head = Self.head(Self.head().headers.fields.map { ($0.name, $0.value) } + [("HTTP2-Settings", "")])
        #expect(H2C.upgradeSettings(head) == nil)
        let same = Self.head(
            Self.head().headers.fields.map { ($0.name, $0.value) } + [("HTTP2-Settings", Self.curlSettings)])
        #expect(H2C.upgradeSettings(same) == nil)
    }
}

@Suite("Base64URL")
struct Base64URLTests {
    @Test("decodes the test vectors of RFC 4648 §10, without padding and with it")
    func vectors() {
        let vectors = [
            ("", ""), ("Zg", "f"), ("Zm8", "fo"), ("Zm9v", "foo"), ("Zm9vYg", "foob"), ("Zm9vYmE", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ]
        for (encoded, decoded) in vectors {
            #expect(Base64URL.decode(encoded) == Array(decoded.utf8), "\(encoded)")
        }
        #expect(Base64URL.decode("Zg==") == Array("f".utf8))
        #expect(Base64URL.decode("Zm8=") == Array("fo".utf8))
    }

    @Test("uses - and _ for 62 and 63 (the URL-safe alphabet of RFC 4648 §5)")
    func urlAlphabet() {
        #expect(Base64URL.decode("-_8") == [0xfb, 0xff])
        #expect(Base64URL.decode("AP__") == [0x00, 0xff, 0xff])
        // Every value once: the 64 characters in order decode to the 48 bytes of 0...63 packed in 6 bits.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        let decoded = Base64URL.decode(alphabet)
        var bits: [UInt8] = []
        for value in 0..<64 { bits += (0..<6).reversed().map { UInt8(value >> $0 & 1) } }
        let packed = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | $1 }
        }
        #expect(decoded == packed)
    }

    @Test("characters outside the alphabet are refused, the standard alphabet's + and / among them")
    func invalidCharacters() {
        for text in ["Zm+v", "Zm/v", "Zm9 v", "Zm9v\n", "Zm.v", "Zm9vé"] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
    }

    @Test("a lone trailing character (6 bits, less than a byte) is refused")
    func loneTrailingCharacter() {
        #expect(Base64URL.decode("Z") == nil)
        #expect(Base64URL.decode("Zm9vY") == nil)
        #expect(Base64URL.decode("Zm9vYmFyZ") == nil)
    }
}
