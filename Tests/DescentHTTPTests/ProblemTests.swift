import Foundation
import Testing

@testable import DescentHTTP

@Suite("Problem")
struct ProblemTests {
    static func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test("a problem is JSON with sorted keys, about:blank as its type and the reason phrase as its title")
    func minimalJSON() {
        let problem = Problem(.notFound, detail: "No job abc.")
        #expect(problem.title == "Not Found")
        #expect(problem.status == 404)
        #expect(
            Self.text(problem.json())
                == #"{"detail":"No job abc.","status":404,"title":"Not Found","type":"about:blank"}"#)
    }

    @Test("field errors are listed with JSON pointers, and slashes are not escaped")
    func fieldErrors() {
        let problem = Problem(
            .unprocessableContent, detail: "Invalid job.", type: "https://descent.example/problems/validation",
            errors: [Problem.FieldError(pointer: "/learningRate", detail: "must be positive")])
        let expected =
            #"{"detail":"Invalid job.","errors":[{"detail":"must be positive","pointer":"/learningRate"}],"#
            + #""status":422,"title":"Unprocessable Content","type":"https://descent.example/problems/validation"}"#
        #expect(Self.text(problem.json()) == expected)
    }

    @Test("headers travel with the response, not in the JSON body")
    func headersNotInBody() {
        let problem = Problem(.methodNotAllowed, detail: "Use GET.", headers: ["Allow": "GET, HEAD"])
        #expect(!Self.text(problem.json()).contains("GET, HEAD"))
        #expect(!Self.text(problem.json()).contains("headers"))
        #expect(problem.response().headers["Allow"] == "GET, HEAD")
    }

    @Test("a detail with quotes, control characters and non-ASCII survives a JSON round trip")
    func escaping() throws {
        let detail = "a \"quoted\" \\ line\nnext\ttab \u{1} Jürgen 🙂"
        let data = Problem(.badRequest, detail: detail).json()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["detail"] as? String == detail)
        #expect(!data.contains(0x0A), "a raw newline inside the JSON")
    }

    @Test("the response has the problem's status, the problem+json type, the body and the headers sorted by name")
    func response() {
        let problem = Problem(
            .tooManyRequests, detail: "Slow down.", headers: ["Retry-After": "3", "Allow": "GET", "X-Z": "z"])
        let response = problem.response()
        #expect(response.status == HTTPStatus(429, "Too Many Requests"))
        #expect(
            HTTPHeadersTests.fields(response.headers) == [
                Field("Content-Type", "application/problem+json"), Field("Allow", "GET"), Field("Retry-After", "3"),
                Field("X-Z", "z"),
            ])
        guard case .bytes(let body) = response.body else {
            Issue.record("a problem's body is not a complete byte body")
            return
        }
        #expect(body == Array(problem.json()))
    }

    @Test(
        "every parser error maps to its own status, with the limit or the offending value in the detail",
        arguments: [
            (HTTPParseError.badRequest("bare LF"), 400, "bare LF"),
            (.uriTooLong(limit: 8192), 414, "8192"),
            (.headerFieldsTooLarge(limit: 32768), 431, "32768"),
            (.tooManyHeaderFields(limit: 100), 431, "100"),
            (.contentTooLarge(limit: 1024), 413, "1024"),
            (.unknownMethod("BREW"), 501, "BREW"),
            (.unsupportedTransferCoding("gzip"), 501, "gzip"),
            (.unsupportedVersion("HTTP/2.0"), 505, "HTTP/2.0"),
            (.unsupportedExpectation("200-ok"), 417, "200-ok"),
        ])
    func parseErrorProblems(_ error: HTTPParseError, _ status: Int, _ mention: String) {
        let problem = error.problem
        #expect(problem.status == status)
        #expect(problem.type == "about:blank")
        #expect(problem.detail.contains(mention), "\(problem.detail)")
        #expect(problem.title == problem.response().status.reason)
        #expect(!problem.title.isEmpty)
    }
}
