import DescentHTTP

/// The service's own endpoints (API.md, "Service").
extension Application {
    static func addServiceRoutes(to router: inout Router, readiness: Readiness) {
        router.add(.GET, "/healthz", answering: { _ in healthy })
        router.add(.GET, "/readyz", answering: { _ in ready(readiness) })
        router.add(.GET, "/openapi.yaml", answering: { _ in openAPI })
    }

    private static let healthy = HTTPResponse(contentType: "application/json", body: Array(#"{"status":"ok"}"#.utf8))

    private static let openAPI = HTTPResponse(contentType: "application/yaml", body: PackageResources.openapi_yaml)

    /// 200 while the service can do its work; 503 while it is starting, draining, or its data directory is
    /// unusable.
    private static func ready(_ readiness: Readiness) -> HTTPResponse {
        if let reason = readiness.notReadyReason() {
            return Problem(.serviceUnavailable, detail: reason, headers: ["Retry-After": "1"]).response()
        }
        return HTTPResponse(contentType: "application/json", body: Array(#"{"status":"ready"}"#.utf8))
    }
}
