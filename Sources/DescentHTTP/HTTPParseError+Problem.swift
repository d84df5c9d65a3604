/// The one place where parser errors become HTTP answers.
extension HTTPParseError {
    package var problem: Problem {
        switch self {
        case .badRequest(let detail):
            Problem(.badRequest, detail: "Malformed request: \(detail).")
        case .uriTooLong(let limit):
            Problem(.uriTooLong, detail: "The request line is longer than \(limit) bytes.")
        case .headerFieldsTooLarge(let limit):
            Problem(.requestHeaderFieldsTooLarge, detail: "The header section is larger than \(limit) bytes.")
        case .tooManyHeaderFields(let limit):
            Problem(.requestHeaderFieldsTooLarge, detail: "The request has more than \(limit) header fields.")
        case .contentTooLarge(let limit):
            Problem(.contentTooLarge, detail: "The body is larger than the limit of \(limit) bytes.")
        case .unknownMethod(let method):
            Problem(.notImplemented, detail: "The method \(method) is not implemented.")
        case .unsupportedTransferCoding(let coding):
            Problem(.notImplemented, detail: "The transfer coding \(coding) is not implemented; use chunked.")
        case .unsupportedVersion(let version):
            Problem(.httpVersionNotSupported, detail: "\(version) is not supported; use HTTP/1.1 or HTTP/1.0.")
        case .unsupportedExpectation(let expectation):
            Problem(.expectationFailed, detail: "Expect: \(expectation) is not supported; only 100-continue is.")
        }
    }
}
