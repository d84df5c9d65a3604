import Testing

@testable import DescentHTTP
@testable import DescentService

@Suite("Request metrics")
struct RequestMetricsTests {
    /// The exposition's sample lines of one family, in order.
    private static func samples(_ text: String, _ family: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(family + "{") }
    }

    @Test("requests are counted by route pattern, method and status; unmatched ones under \"unmatched\"")
    func countsByRoute() {
        let metrics = RequestMetrics()
        metrics.name(routes: ["/healthz", "/v1/jobs/{id}"])
        metrics.record(route: 1, method: .GET, status: 200, seconds: 0.001)
        metrics.record(route: 0, method: .GET, status: 200, seconds: 0.0001)
        metrics.record(route: 0, method: .GET, status: 200, seconds: 0.0001)
        metrics.record(route: 0, method: .HEAD, status: 200, seconds: 0.0001)
        metrics.record(route: 1, method: .GET, status: 404, seconds: 0.002)
        metrics.record(route: nil, method: .POST, status: 404, seconds: 0.003)
        #expect(
            Self.samples(metrics.exposition(), "descent_http_requests_total") == [
                #"descent_http_requests_total{route="/healthz",method="GET",status="200"} 2"#,
                #"descent_http_requests_total{route="/healthz",method="HEAD",status="200"} 1"#,
                #"descent_http_requests_total{route="/v1/jobs/{id}",method="GET",status="200"} 1"#,
                #"descent_http_requests_total{route="/v1/jobs/{id}",method="GET",status="404"} 1"#,
                #"descent_http_requests_total{route="unmatched",method="POST",status="404"} 1"#,
            ])
    }

    @Test("the latency histogram of a route is cumulative, with its count and sum")
    func latencyHistogram() {
        let metrics = RequestMetrics()
        metrics.name(routes: ["/healthz"])
        for seconds in [0.0004, 0.0009, 0.003] {
            metrics.record(route: 0, method: .GET, status: 200, seconds: seconds)
        }
        let text = metrics.exposition()
        let buckets = Self.samples(text, "descent_http_request_duration_seconds_bucket")
        #expect(buckets.count == RequestMetrics.buckets.count + 1)
        #expect(buckets.first == #"descent_http_request_duration_seconds_bucket{route="/healthz",le="0.0005"} 1"#)
        #expect(buckets.contains(#"descent_http_request_duration_seconds_bucket{route="/healthz",le="0.001"} 2"#))
        #expect(buckets.contains(#"descent_http_request_duration_seconds_bucket{route="/healthz",le="0.005"} 3"#))
        #expect(buckets.last == #"descent_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 3"#)
        #expect(
            Self.samples(text, "descent_http_request_duration_seconds_count") == [
                #"descent_http_request_duration_seconds_count{route="/healthz"} 3"#
            ])
        // A route that answered nothing has no series.
        #expect(!text.contains("unmatched"))
    }

    @Test("the route numbers are the router's: Match.route indexes Router.patterns")
    func routeNumbersMatchTheRouter() {
        var router = Router()
        router.add(.GET, "/a") { _, _ in }
        router.add(.POST, "/b/{id}") { _, _ in }
        #expect(router.patterns == ["/a", "/b/{id}"])
        #expect(router.match(.POST, path: "/b/7").route == 1)
        #expect(router.match(.HEAD, path: "/a").route == 0)
        #expect(router.match(.GET, path: "/b/7").route == nil)
        #expect(router.match(.GET, path: "/nowhere").route == nil)
    }
}
