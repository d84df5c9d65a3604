import Foundation

/// An error that is an HTTP answer: a problem details object (RFC 9457), sent as `application/problem+json`.
/// Handlers throw or return these; anything else that escapes a handler is logged and becomes a plain 500.
package struct Problem: Error, Sendable, Equatable, Encodable {
    /// `about:blank` unless a more specific type is given; then `title` is the status's reason phrase
    /// (RFC 9457 §4.2.1).
    package var type: String
    package var title: String
    package var status: Int
    package var detail: String
    /// For validation failures: each field that is wrong, as a JSON Pointer into the request body.
    package var errors: [FieldError]?
    /// Headers the answer needs besides the body (e.g. `Allow` on a 405, `Retry-After` on a 429).
    package var headers: [String: String] = [:]

    package init(
        _ status: HTTPStatus, detail: String, type: String = "about:blank", errors: [FieldError]? = nil,
        headers: [String: String] = [:]
    ) {
        self.type = type
        self.title = status.reason
        self.status = status.code
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    /// One thing wrong with the request: where (a JSON Pointer into a JSON body, or a 1-based line of a CSV
    /// body) and what.
    package struct FieldError: Sendable, Equatable, Encodable {
        package var pointer: String?
        package var line: Int?
        package var detail: String

        package init(pointer: String? = nil, line: Int? = nil, detail: String) {
            self.pointer = pointer
            self.line = line
            self.detail = detail
        }
    }

    private enum CodingKeys: String, CodingKey { case type, title, status, detail, errors }

    package static let contentType = "application/problem+json"

    /// The response that carries this problem.
    package func response() -> HTTPResponse {
        var response = HTTPResponse(
            status: HTTPStatus(status, title), contentType: Self.contentType, body: Array(json()))
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { response.headers.add(name, value) }
        return response
    }

    package func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and integers cannot fail.
        return (try? encoder.encode(self)) ?? Data(#"{"status":500,"title":"Internal Server Error"}"#.utf8)
    }
}
