import DescentHTTP

/// Who may call what. Without API keys everyone may, as tenant "". With them, every `/v1` request (and
/// `/metrics`, when protected) must carry `Authorization: Bearer KEY`, and is served as the key's tenant;
/// `/healthz`, `/readyz` and `/openapi.yaml` stay open, for probes and for clients learning the API.
struct AccessControl: Sendable {
    let keys: APIKeys?
    let protectsMetrics: Bool

    /// Sets `request.principal` to its tenant, or answers the 401 that says what is missing.
    func admit(_ request: inout HTTPRequest) -> HTTPResponse? {
        guard let keys else {
            request.principal = ""
            return nil
        }
        guard needsKey(request.path) else { return nil }
        let authorizations = request.headers.values("Authorization")
        guard authorizations.count <= 1 else {
            return refusal(error: "invalid_request", "Send one Authorization header, not \(authorizations.count).")
        }
        guard let authorization = authorizations.first else {
            return refusal(
                error: nil, "This endpoint needs an API key: send the header 'Authorization: Bearer KEY'.")
        }
        guard let token = Self.bearerToken(authorization) else {
            return refusal(error: "invalid_request", "The Authorization header must be 'Bearer KEY'.")
        }
        guard let tenant = keys.tenant(for: token) else {
            // The key itself is never echoed or logged.
            return refusal(error: "invalid_token", "The API key is not valid.")
        }
        request.principal = tenant
        return nil
    }

    private func needsKey(_ path: Substring) -> Bool {
        path == "/v1" || path.hasPrefix("/v1/") || (protectsMetrics && path == "/metrics")
    }

    /// The token of `Bearer TOKEN` (the scheme is case-insensitive, RFC 9110 §11.1), or nil.
    static func bearerToken(_ value: String) -> Substring.UTF8View? {
        let trimmed = value.trimmingWhitespace
        guard trimmed.utf8.count > 7, HTTPHeaders.equalsIgnoringCase(String(trimmed.prefix(7)), "bearer ") else {
            return nil
        }
        let token = trimmed.dropFirst(7).drop(while: { $0 == " " })
        return token.isEmpty || token.contains(" ") ? nil : token.utf8
    }

    /// 401 with the `WWW-Authenticate` challenge of RFC 6750 §3 (and its error code once a key was offered).
    private func refusal(error: String?, _ detail: String) -> HTTPResponse {
        var challenge = #"Bearer realm="descent""#
        if let error { challenge += #", error="\#(error)""# }
        return Problem(.unauthorized, detail: detail, headers: ["WWW-Authenticate": challenge]).response()
    }
}

extension HTTPRequest {
    /// The tenant the request is served as ("" without API keys).
    var tenant: String { principal ?? "" }
}
