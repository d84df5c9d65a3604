import Testing

@testable import DescentHTTP
@testable import DescentService

@Suite("API keys and access")
struct AccessTests {
    private let aliceKey = "alice-key-0123456789abcdef"
    private let bobKey = "bob-key-0123456789abcdefgh"

    private func keys() throws -> APIKeys {
        try APIKeys(parsing: "# keys\n\n\(aliceKey) alice\r\n\(bobKey)\tbob\nalice-second-key-0123456789 alice\n")
    }

    @Test("a keys file maps each key to its tenant; comments, blank lines and CRLF are fine")
    func parsing() throws {
        let keys = try keys()
        #expect(keys.count == 3)
        #expect(keys.tenants == ["alice", "bob"])
        #expect(keys.tenant(for: Array(aliceKey.utf8)) == "alice")
        #expect(keys.tenant(for: Array("alice-second-key-0123456789".utf8)) == "alice")
        #expect(keys.tenant(for: Array(bobKey.utf8)) == "bob")
        #expect(keys.tenant(for: Array("alice-key-0123456789abcdeF".utf8)) == nil)
        #expect(keys.tenant(for: Array("".utf8)) == nil)
    }

    @Test(
        "a bad keys file is refused with its line, and the message never shows a key",
        arguments: [
            ("short-key alice", "line 1"),
            ("only-a-key-0123456789", "line 1"),
            ("# ok\nkey-0123456789abcdef alice extra", "line 2"),
            ("key-0123456789abcdef al/ice", "line 1"),
            ("key-0123456789abcdef alice\nkey-0123456789abcdef bob", "line 2"),
            ("# nothing but comments\n", "no keys"),
        ])
    func badFiles(text: String, mentions: String) {
        #expect {
            _ = try APIKeys(parsing: text)
        } throws: { error in
            let message = (error as? APIKeys.APIKeysError)?.message ?? ""
            return message.contains(mentions) && !message.contains("key-0123456789abcdef")
                && !message.contains("short-key") && !message.contains("only-a-key")
        }
    }

    @Test("digests are compared whole: equal, different in any byte, or of another length")
    func constantTimeEquality() {
        let digest: [UInt8] = Array(0..<32)
        #expect(APIKeys.constantTimeEqual(digest, digest))
        for index in digest.indices {
            var other = digest
            other[index] ^= 0x80
            #expect(!APIKeys.constantTimeEqual(digest, other))
        }
        #expect(!APIKeys.constantTimeEqual(digest, Array(digest.dropLast())))
    }

    private func request(_ path: String, authorization: String? = nil) -> HTTPRequest {
        var headers: HTTPHeaders = ["Host": "x"]
        if let authorization { headers.add("Authorization", authorization) }
        return HTTPRequest(head: HTTPRequestHead(method: .GET, target: path, headers: headers))
    }

    @Test("without keys every request is tenant \"\"")
    func openService() {
        var request = request("/v1/jobs")
        #expect(AccessControl(keys: nil, protectsMetrics: true).admit(&request) == nil)
        #expect(request.tenant == "")
    }

    @Test(
        "with keys, /v1 needs a valid Bearer key, and says which part is wrong in its challenge",
        arguments: [
            (nil, #"Bearer realm="descent""#),
            ("Basic YWxpY2U6cHc=", #"Bearer realm="descent", error="invalid_request""#),
            ("Bearer", #"Bearer realm="descent", error="invalid_request""#),
            ("Bearer not-a-key-0123456789", #"Bearer realm="descent", error="invalid_token""#),
        ] as [(String?, String)])
    func refusals(authorization: String?, challenge: String) throws {
        let access = AccessControl(keys: try keys(), protectsMetrics: false)
        var request = request("/v1/datasets", authorization: authorization)
        let refusal = try #require(access.admit(&request))
        #expect(refusal.status == .unauthorized)
        #expect(refusal.headers["WWW-Authenticate"] == challenge)
        #expect(refusal.headers["Content-Type"] == "application/problem+json")
        #expect(request.principal == nil)
    }

    @Test("a valid key makes the request its tenant's; the scheme is case-insensitive")
    func admitted() throws {
        let access = AccessControl(keys: try keys(), protectsMetrics: false)
        var request = request("/v1/jobs/job_1", authorization: "bearer \(bobKey)")
        #expect(access.admit(&request) == nil)
        #expect(request.tenant == "bob")
    }

    @Test("probes and the contract stay open; /metrics only when not protected")
    func openPaths() throws {
        for protects in [false, true] {
            let access = AccessControl(keys: try keys(), protectsMetrics: protects)
            for path in ["/healthz", "/readyz", "/openapi.yaml", "/v1x"] {
                var request = request(path)
                #expect(access.admit(&request) == nil)
            }
            var metrics = request("/metrics")
            #expect((access.admit(&metrics) != nil) == protects)
        }
    }

    @Test(
        "byte sizes take binary suffixes and refuse the rest",
        arguments: [
            ("1", 1), ("512M", 512 << 20), ("8G", 8 << 30), ("1k", 1024), ("2T", 2 << 40), ("0", nil), ("-1", nil),
            ("1.5G", nil), ("G", nil), ("12X", nil), ("99999999999T", nil),
        ] as [(String, Int?)])
    func byteSizes(text: String, bytes: Int?) {
        #expect(Configuration.parseBytes(text) == bytes)
    }
}
