/// Routes requests by method and path. Patterns are literal segments and `{name}` parameters, e.g.
/// `/v1/jobs/{id}/events`; parameters are percent-decoded. A path that matches no pattern is a 404; one
/// that matches with another method is a 405 whose `Allow` lists the methods that would work.
package struct Router: Sendable {
    package typealias Handler = @Sendable (HTTPRequest, Responder) -> Void

    private struct Route: Sendable {
        var pattern: String
        var method: HTTPMethod
        var segments: [Segment]
        var handler: Handler
        /// The pattern, when it has no parameters: then a path matches when it is these very bytes.
        var literalPath: String?
    }

    private enum Segment: Sendable, Equatable {
        case literal(Substring)
        case parameter(String)
    }

    package enum Match {
        /// `route` is the route's place in the order routes were added: a number for what `patterns` names.
        case found(Handler, parameters: [String: String], route: Int)
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound

        /// The number of the route found, if one was.
        package var route: Int? {
            if case .found(_, _, let route) = self { return route }
            return nil
        }
    }

    /// Every route's pattern, in the order the routes were added (the numbers of `Match.found`).
    package var patterns: [String] { routes.map(\.pattern) }

    private var routes: [Route] = []

    package init() {}

    package mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? Segment.parameter(String(part.dropFirst().dropLast())) : Segment.literal(part)
        }
        precondition(pattern.hasPrefix("/"), "route pattern \(pattern) must start with /")
        let literal = !segments.contains { if case .parameter = $0 { true } else { false } }
        routes.append(
            Route(
                pattern: pattern, method: method, segments: Array(segments), handler: handler,
                literalPath: literal ? pattern : nil))
    }

    /// Adds a handler that answers at once, from the connection's queue.
    package mutating func add(
        _ method: HTTPMethod, _ pattern: String, answering handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) {
        add(method, pattern) { request, responder in responder.respond(handler(request)) }
    }

    /// Calls the matching route's handler with the path parameters filled in; answers a path that matches no
    /// route with a 404 problem, and one that matches with another method with a 405 problem and `Allow`.
    package func handle(_ request: HTTPRequest, _ responder: Responder) {
        handle(request, responder, as: match(request.method, path: request.path))
    }

    /// Runs what `match` found for `request` (a caller that needed the match first need not match twice).
    package func handle(_ request: consuming HTTPRequest, _ responder: Responder, as match: Match) {
        switch match {
        case .found(let handler, let parameters, _):
            request.pathParameters = parameters
            handler(request, responder)
        case .methodNotAllowed(let allowed):
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            let detail = "\(request.method.rawValue) is not allowed on \(request.path); use \(allow)."
            responder.respond(Problem(.methodNotAllowed, detail: detail, headers: ["Allow": allow]).response())
        case .notFound:
            responder.respond(Problem(.notFound, detail: "There is nothing at \(request.path).").response())
        }
    }

    /// HEAD is answered by the GET route (the server drops the body), as RFC 9110 §9.3.2 asks.
    package func match(_ method: HTTPMethod, path: Substring) -> Match {
        var allowed: [HTTPMethod] = []
        // By index, reading fields in place: `for route in routes` copied each route it looked at (its strings,
        // segments and handler retained, then released).
        for number in routes.indices {
            let parameters: [String: String]
            if let literal = routes[number].literalPath {
                // Compared as bytes at once: walking the segments was most of the cost of routing `/healthz`.
                guard Self.sameBytes(path, literal) else { continue }
                parameters = [:]
            } else {
                guard let bound = Self.bind(routes[number].segments, to: path) else { continue }
                parameters = bound
            }
            let routeMethod = routes[number].method
            if routeMethod == method || (method == .HEAD && routeMethod == .GET) {
                return .found(routes[number].handler, parameters: parameters, route: number)
            }
            allowed.append(routeMethod)
            if routeMethod == .GET { allowed.append(.HEAD) }
        }
        if allowed.isEmpty { return .notFound }
        return .methodNotAllowed(allowed: HTTPMethod.allCases.filter(allowed.contains))
    }

    private static func sameBytes(_ path: Substring, _ literal: String) -> Bool {
        let (left, right) = (path.utf8, literal.utf8)
        guard left.count == right.count else { return false }
        let buffers = left.withContiguousStorageIfAvailable { left in
            right.withContiguousStorageIfAvailable { right in left.elementsEqual(right) }
        }
        return (buffers ?? nil) ?? left.elementsEqual(right)
    }

    /// Walks the path's segments alongside the pattern's, without splitting the path into an array.
    private static func bind(_ segments: [Segment], to path: Substring) -> [String: String]? {
        guard path.utf8.first == UInt8(ascii: "/") else { return nil }
        var rest = path.utf8.dropFirst()
        var parameters: [String: String] = [:]
        for (position, segment) in segments.enumerated() {
            let end = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            let part = Substring(rest[rest.startIndex..<end])
            let isLast = position == segments.count - 1
            // The pattern's last segment must take the rest of the path; any other must be followed by "/".
            guard isLast == (end == rest.endIndex) else { return nil }
            switch segment {
            case .literal(let literal): guard literal == part else { return nil }
            case .parameter(let name):
                guard !part.isEmpty, let value = PercentDecoding.decode(part) else { return nil }
                parameters[name] = value
            }
            if !isLast { rest = rest[rest.index(after: end)...] }
        }
        return parameters
    }
}
