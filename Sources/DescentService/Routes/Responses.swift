import DescentHTTP
import DescentJSON
import DescentJobs
import DescentStorage
import Foundation

/// Small helpers every route uses to answer.
enum Responses {
    static func json(_ value: JSONValue, status: HTTPStatus = .ok, headers: [(String, String)] = []) -> HTTPResponse {
        var response = HTTPResponse(status: status, contentType: "application/json", body: JSONWriter.bytes(value))
        for (name, value) in headers { response.headers.add(name, value) }
        return response
    }

    /// A write the store could not make: 507 when the disk is full or cannot be written (the request may be
    /// retried once there is room), 500 otherwise. Nothing of the request was kept.
    static func storageFailure(_ error: StorageError) -> HTTPResponse {
        if case .sqlite(let failure) = error, failure.isFull || failure.isReadOnly {
            return Problem(
                .insufficientStorage, detail: "The request could not be stored, and nothing of it was kept: \(error)."
            ).response()
        }
        return Problem(.internalServerError, detail: "The request could not be stored: \(error).").response()
    }

    static func notFound(_ what: String, _ id: String) -> HTTPResponse {
        Problem(.notFound, detail: "There is no \(what) \(id).").response()
    }

    /// A 400 naming every field at fault.
    static func invalid(_ error: SpecError, detail: String = "The job spec is not valid.") -> HTTPResponse {
        let fields = error.fields.map { Problem.FieldError(pointer: $0.pointer, detail: $0.detail) }
        let summary = fields.map { "\($0.pointer ?? ""): \($0.detail)" }.joined(separator: "; ")
        return Problem(.badRequest, detail: "\(detail) \(summary)", errors: fields).response()
    }

    static func badParameter(_ name: String, _ detail: String) -> HTTPResponse {
        Problem(.badRequest, detail: "The query parameter \(name) \(detail).").response()
    }

    /// The body parsed as a JSON object, or the 400 that says why it is not one.
    static func jsonObject(_ body: [UInt8]) -> Result<JSONObject, HTTPResponseError> {
        do throws(JSONParseError) {
            guard case .object(let object) = try JSONParser.parse(body) else {
                return .failure(
                    HTTPResponseError(
                        Problem(
                            .badRequest, detail: "The body must be a JSON object.",
                            errors: [.init(pointer: "", detail: "must be an object")]
                        ).response()))
            }
            return .success(object)
        } catch {
            return .failure(
                HTTPResponseError(
                    Problem(
                        .badRequest, detail: "The body is not valid JSON: \(error.detail) (byte \(error.offset)).",
                        errors: [.init(pointer: error.pointer, detail: error.detail)]
                    ).response()))
        }
    }

    /// `?limit=` (1…1000, default 50) and `?cursor=`, or the 400 for a bad one.
    static func page(_ request: HTTPRequest) -> Result<(limit: Int, cursor: Int?), HTTPResponseError> {
        var limit = 50
        if let text = request.queryParameter("limit") {
            guard let value = Int(text), (1...1000).contains(value) else {
                return .failure(HTTPResponseError(badParameter("limit", "must be an integer from 1 to 1000")))
            }
            limit = value
        }
        var cursor: Int?
        if let text = request.queryParameter("cursor") {
            guard let value = Int(text), value > 0 else {
                return .failure(HTTPResponseError(badParameter("cursor", "is not a cursor this service gave out")))
            }
            cursor = value
        }
        return .success((limit, cursor))
    }

    static func list(_ items: [JSONValue], next: Int?) -> HTTPResponse {
        json(["items": .array(items), "next_cursor": next.map { .string(String($0)) } ?? .null])
    }

    /// The media type of a `Content-Type` header, lowercased, without parameters.
    static func mediaType(_ request: HTTPRequest) -> String? {
        guard let value = request.headers["Content-Type"] else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first ?? ""
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }
}

/// A response that ends a handler early (as the failure of a `Result`).
struct HTTPResponseError: Error {
    let response: HTTPResponse
    init(_ response: HTTPResponse) { self.response = response }
}

extension HTTPRequest {
    /// The names of the query's parameters, in order, decoded.
    var queryParameterNames: [String] {
        guard let query = head.query else { return [] }
        return query.split(separator: "&").compactMap { pair in
            let name = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            return PercentDecoding.decode(name, plusAsSpace: true)
        }
    }

    /// A 400 for the first query parameter that cannot be decoded or is not in `known`, or nil. Every route
    /// calls it first, so a malformed escape or non-UTF-8 text is refused rather than read as "" or dropped.
    func rejectUnknownParameters(_ known: [String]) -> HTTPResponse? {
        for pair in (head.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.allSatisfy({ PercentDecoding.decode($0, plusAsSpace: true) != nil }) else {
                let name = PercentDecoding.decode(parts[0], plusAsSpace: true) ?? String(parts[0])
                return Responses.badParameter(
                    name, "cannot be decoded: a malformed %-escape, or bytes that are not UTF-8")
            }
        }
        guard let unknown = queryParameterNames.first(where: { !known.contains($0) }) else { return nil }
        let expected = known.isEmpty ? "none" : known.joined(separator: ", ")
        return Responses.badParameter(unknown, "is not known here (expected: \(expected))")
    }
}
