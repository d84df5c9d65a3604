import Synchronization
import Testing

@testable import DescentHTTP

/// What the router did with a request, with the handler named by the response it gives.
enum Routed: Equatable, CustomStringConvertible {
    case handled(by: String, parameters: [String: String])
    case methodNotAllowed([HTTPMethod])
    case notFound

    var description: String {
        switch self {
        case .handled(let name, let parameters): "handled by \(name) with \(parameters)"
        case .methodNotAllowed(let allowed): "405, allowed \(allowed.map(\.rawValue))"
        case .notFound: "404"
        }
    }
}

extension Router {
    /// Adds a route whose handler answers with its own name, so tests can tell which route matched.
    mutating func add(_ method: HTTPMethod, _ pattern: String, named name: String) {
        add(method, pattern, answering: { _ in HTTPResponse(contentType: "text/plain", body: Array(name.utf8)) })
    }

    func route(_ method: HTTPMethod, _ path: String) -> Routed {
        switch match(method, path: Substring(path)) {
        case .found(let handler, let parameters, _):
            let answer = Mutex<HTTPResponse?>(nil)
            let request = HTTPRequest(head: HTTPRequestHead(method: method, target: path))
            handler(request, Responder { response in answer.withLock { $0 = response } })
            let name = answer.withLock { response -> String in
                guard case .bytes(let body)? = response?.body else { return "<no answer>" }
                return String(decoding: body, as: UTF8.self)
            }
            return .handled(by: name, parameters: parameters)
        case .methodNotAllowed(let allowed): return .methodNotAllowed(allowed)
        case .notFound: return .notFound
        }
    }
}

@Suite("Router")
struct RouterTests {
    static func jobsRouter() -> Router {
        var router = Router()
        router.add(.GET, "/", named: "root")
        router.add(.GET, "/v1/health", named: "health")
        router.add(.GET, "/v1/jobs", named: "list jobs")
        router.add(.POST, "/v1/jobs", named: "create job")
        router.add(.GET, "/v1/jobs/{id}", named: "get job")
        router.add(.DELETE, "/v1/jobs/{id}", named: "delete job")
        router.add(.GET, "/v1/jobs/{id}/events/{sequence}", named: "get event")
        router.add(.POST, "/v1/uploads", named: "upload")
        return router
    }

    @Test("a literal pattern matches exactly its own path")
    func literal() {
        let router = Self.jobsRouter()
        #expect(router.route(.GET, "/v1/health") == .handled(by: "health", parameters: [:]))
        #expect(router.route(.GET, "/") == .handled(by: "root", parameters: [:]))
        let near = ["/v1/health/", "//v1/health", "v1/health", "", "/v1/hea1th", " /v1/health", "/v1/health "]
        for path in ["/v1/healthz", "/v1/healt", "/v1", "/v1/health/x", "/v2/health", "/V1/health", "/v1//health"]
            + near
        {
            #expect(router.route(.GET, path) == .notFound, "\(path)")
        }
    }

    @Test("a {parameter} matches one non-empty segment and is reported by name")
    func parameters() {
        let router = Self.jobsRouter()
        #expect(router.route(.GET, "/v1/jobs/job-1") == .handled(by: "get job", parameters: ["id": "job-1"]))
        #expect(
            router.route(.GET, "/v1/jobs/j7/events/42")
                == .handled(by: "get event", parameters: ["id": "j7", "sequence": "42"]))
        #expect(router.route(.GET, "/v1/jobs/j7/events/") == .notFound)
        #expect(router.route(.GET, "/v1/jobs/j7/events") == .notFound)
        #expect(router.route(.GET, "/v1/jobs/a/b") == .notFound)
    }

    @Test("an empty segment never matches a parameter")
    func emptyParameter() {
        let router = Self.jobsRouter()
        #expect(router.route(.GET, "/v1/jobs//events/1") == .notFound)
        #expect(router.route(.DELETE, "/v1/jobs/") == .notFound)
    }

    @Test("parameters are percent-decoded after the path is split, so %2F stays inside its segment")
    func percentDecodedParameters() {
        let router = Self.jobsRouter()
        #expect(router.route(.GET, "/v1/jobs/a%20b") == .handled(by: "get job", parameters: ["id": "a b"]))
        #expect(router.route(.GET, "/v1/jobs/a%2Fb") == .handled(by: "get job", parameters: ["id": "a/b"]))
        #expect(router.route(.GET, "/v1/jobs/J%C3%BCrgen") == .handled(by: "get job", parameters: ["id": "Jürgen"]))
        // In a path, + is a plus sign, not a space.
        #expect(router.route(.GET, "/v1/jobs/a+b") == .handled(by: "get job", parameters: ["id": "a+b"]))
        #expect(router.route(.GET, "/v1/jobs/a+b%21") == .handled(by: "get job", parameters: ["id": "a+b!"]))
    }

    @Test("a parameter with a malformed escape or invalid UTF-8 matches no route")
    func malformedParameter() {
        let router = Self.jobsRouter()
        for path in ["/v1/jobs/%zz", "/v1/jobs/%4", "/v1/jobs/%", "/v1/jobs/%FF", "/v1/jobs/%C3"] {
            #expect(router.route(.GET, path) == .notFound, "\(path)")
        }
    }

    @Test("a path that matches no pattern is 404 whatever the method")
    func notFound() {
        let router = Self.jobsRouter()
        for method in HTTPMethod.allCases {
            #expect(router.route(method, "/v1/nothing") == .notFound, "\(method)")
        }
    }

    @Test("a path that matches with another method is 405 with every method that would work, HEAD with GET")
    func methodNotAllowed() {
        let router = Self.jobsRouter()
        #expect(router.route(.DELETE, "/v1/jobs") == .methodNotAllowed([.GET, .HEAD, .POST]))
        #expect(router.route(.PUT, "/v1/jobs/j1") == .methodNotAllowed([.GET, .HEAD, .DELETE]))
        #expect(router.route(.POST, "/v1/health") == .methodNotAllowed([.GET, .HEAD]))
    }

    @Test("HEAD is not allowed where only other methods than GET are")
    func headNeedsGet() {
        let router = Self.jobsRouter()
        #expect(router.route(.GET, "/v1/uploads") == .methodNotAllowed([.POST]))
        #expect(router.route(.HEAD, "/v1/uploads") == .methodNotAllowed([.POST]))
    }

    @Test("HEAD is served by the GET route")
    func headServedByGet() {
        let router = Self.jobsRouter()
        #expect(router.route(.HEAD, "/v1/health") == .handled(by: "health", parameters: [:]))
        #expect(router.route(.HEAD, "/v1/jobs/j1") == .handled(by: "get job", parameters: ["id": "j1"]))
    }

    @Test("a trailing slash makes a different path: /a and /a/ do not match each other")
    func trailingSlash() {
        var router = Router()
        router.add(.GET, "/plain", named: "plain")
        router.add(.GET, "/slashed/", named: "slashed")
        #expect(router.route(.GET, "/plain") == .handled(by: "plain", parameters: [:]))
        #expect(router.route(.GET, "/plain/") == .notFound)
        #expect(router.route(.GET, "/slashed/") == .handled(by: "slashed", parameters: [:]))
        #expect(router.route(.GET, "/slashed") == .notFound)
        #expect(Self.jobsRouter().route(.GET, "/v1/jobs/") == .notFound)
    }

    @Test("when two patterns match, the route added first wins")
    func firstRouteWins() {
        var router = Router()
        router.add(.GET, "/v1/jobs/latest", named: "latest")
        router.add(.GET, "/v1/jobs/{id}", named: "by id")
        #expect(router.route(.GET, "/v1/jobs/latest") == .handled(by: "latest", parameters: [:]))
        #expect(router.route(.GET, "/v1/jobs/other") == .handled(by: "by id", parameters: ["id": "other"]))
    }

    @Test("an empty router finds nothing")
    func emptyRouter() {
        #expect(Router().route(.GET, "/") == .notFound)
    }

    @Test("a handler receives the request it is routed")
    func handlerSeesRequest() throws {
        var router = Router()
        router.add(.POST, "/echo") { request in
            let line = "\(request.method.rawValue) \(request.path)"
            return HTTPResponse(contentType: "text/plain", body: Array(line.utf8) + request.body)
        }
        guard case .found(let handler, _, _) = router.match(.POST, path: "/echo") else {
            Issue.record("no route for POST /echo")
            return
        }
        let answer = Mutex<[UInt8]?>(nil)
        let request = HTTPRequest(head: HTTPRequestHead(method: .POST, target: "/echo"), body: Array(" body".utf8))
        handler(
            request,
            Responder { response in
                if case .bytes(let bytes) = response.body { answer.withLock { $0 = bytes } }
            })
        #expect(answer.withLock { $0 } == Array("POST /echo body".utf8))
    }
}
