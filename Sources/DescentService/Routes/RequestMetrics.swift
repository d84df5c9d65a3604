import DescentHTTP
import Foundation
import Synchronization

/// Counts requests by route, method and status, and their latency (to the response head) by route, for
/// `/metrics`. One mutex over small dictionaries: a few hundred nanoseconds a request.
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

    private struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private let state = Mutex<(requests: [Key: Int], latency: [String: Histogram])>(([:], [:]))

    func record(route: String, method: String, status: Int, seconds: Double) {
        state.withLock { state in
            state.requests[Key(route: route, method: method, status: status), default: 0] += 1
            // Updated in place: a copy taken out of the dictionary would share its counts with the stored
            // one, and the first increment would copy the array (an allocation per request).
            state.latency[route, default: Histogram()].record(seconds)
        }
    }

    /// The Prometheus text exposition of both families.
    func exposition() -> String {
        let (requests, latency) = state.withLock { ($0.requests, $0.latency) }
        var text = "# HELP descent_http_requests_total HTTP requests answered, by route, method and status.\n"
        text += "# TYPE descent_http_requests_total counter\n"
        for (key, count) in requests.sorted(by: {
            ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status)
        }) {
            text +=
                "descent_http_requests_total{route=\"\(key.route)\",method=\"\(key.method)\",status=\"\(key.status)\"} \(count)\n"
        }
        text += "# HELP descent_http_request_duration_seconds Time from a request to its response head, by route.\n"
        text += "# TYPE descent_http_request_duration_seconds histogram\n"
        for (route, histogram) in latency.sorted(by: { $0.key < $1.key }) {
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
