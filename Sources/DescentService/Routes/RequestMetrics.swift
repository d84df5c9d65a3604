import DescentHTTP
import Foundation
import Synchronization

/// Counts requests by route, method and status, and their latency (to the response head) by route, for
/// `/metrics`. One mutex over a small list per route: no text is hashed per request.
final class RequestMetrics: Sendable {
    /// Upper bounds of the latency histogram's buckets, in seconds.
    static let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct Histogram {
        var counts = [Int](repeating: 0, count: RequestMetrics.buckets.count)
        var sum = 0.0
        var count = 0

        mutating func record(_ seconds: Double) {
            if let bucket = RequestMetrics.buckets.firstIndex(where: { seconds <= $0 }) { counts[bucket] += 1 }
            sum += seconds
            count += 1
        }
    }

    /// The requests one route answered with one method and status.
    private struct Count {
        var method: HTTPMethod
        var status: Int
        var requests: Int
    }

    /// What one route has seen. A route answers with a handful of (method, status) pairs, so a list searched in
    /// order is cheaper than a dictionary whose keys would hash the route's and method's text per request.
    private struct RouteCounts {
        var counts: [Count] = []
        var latency = Histogram()
    }

    /// The routes' patterns by number (`Router.patterns`), and the counts kept under each number; the number
    /// one past the last route counts the requests that matched none ("unmatched").
    private let state = Mutex<(patterns: [String], routes: [RouteCounts])>(([], []))

    /// Names the routes, once they are all added (before the server starts); until then nothing is counted.
    func name(routes patterns: [String]) {
        state.withLock { state in
            state.patterns = patterns
            state.routes = Array(repeating: RouteCounts(), count: patterns.count + 1)
        }
    }

    /// Counts an answer of route number `route` (`Router.Match.route`; nil when no route matched).
    func record(route: Int?, method: HTTPMethod, status: Int, seconds: Double) {
        state.withLock { state in
            guard !state.routes.isEmpty else { return }
            let number = route ?? state.patterns.count
            // Updated in place: a copy taken out of the array would share its storage with the stored one, and
            // the first increment would copy it (an allocation per request).
            if let index = state.routes[number].counts.firstIndex(where: { $0.method == method && $0.status == status })
            {
                state.routes[number].counts[index].requests += 1
            } else {
                state.routes[number].counts.append(Count(method: method, status: status, requests: 1))
            }
            state.routes[number].latency.record(seconds)
        }
    }

    /// The Prometheus text exposition of both families.
    func exposition() -> String {
        let (requests, latency) = state.withLock { state in
            var requests: [(route: String, method: String, status: Int, count: Int)] = []
            var latency: [(route: String, histogram: Histogram)] = []
            for (number, route) in state.routes.enumerated() where route.latency.count > 0 {
                let name = number < state.patterns.count ? state.patterns[number] : "unmatched"
                requests += route.counts.map { (name, $0.method.rawValue, $0.status, $0.requests) }
                latency.append((name, route.latency))
            }
            return (requests, latency)
        }
        var text = "# HELP descent_http_requests_total HTTP requests answered, by route, method and status.\n"
        text += "# TYPE descent_http_requests_total counter\n"
        for key in requests.sorted(by: { ($0.route, $0.method, $0.status) < ($1.route, $1.method, $1.status) }) {
            text +=
                "descent_http_requests_total{route=\"\(key.route)\",method=\"\(key.method)\",status=\"\(key.status)\"} \(key.count)\n"
        }
        text += "# HELP descent_http_request_duration_seconds Time from a request to its response head, by route.\n"
        text += "# TYPE descent_http_request_duration_seconds histogram\n"
        for (route, histogram) in latency.sorted(by: { $0.route < $1.route }) {
            var cumulative = 0
            for (index, bound) in Self.buckets.enumerated() {
                cumulative += histogram.counts[index]
                text +=
                    "descent_http_request_duration_seconds_bucket{route=\"\(route)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            text += "descent_http_request_duration_seconds_bucket{route=\"\(route)\",le=\"+Inf\"} \(histogram.count)\n"
            text += "descent_http_request_duration_seconds_sum{route=\"\(route)\"} \(histogram.sum)\n"
            text += "descent_http_request_duration_seconds_count{route=\"\(route)\"} \(histogram.count)\n"
        }
        return text
    }
}
