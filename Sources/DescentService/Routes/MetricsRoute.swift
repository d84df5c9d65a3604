import DescentHTTP
import DescentJobs

/// `GET /metrics`: the Prometheus text exposition format, version 0.0.4.
enum MetricsRoute {
    static func add(to router: inout Router, _ context: ServiceContext, requests: RequestMetrics) {
        router.add(
            .GET, "/metrics",
            answering: { _ in
                HTTPResponse(
                    contentType: "text/plain; version=0.0.4; charset=utf-8",
                    body: Array(exposition(context, requests).utf8))
            })
    }

    private static func exposition(_ context: ServiceContext, _ requests: RequestMetrics) -> String {
        var text = requests.exposition()
        let counts = context.catalog.jobCounts
        text += "# HELP descent_jobs Jobs the service holds, by status.\n# TYPE descent_jobs gauge\n"
        for status in JobStatus.allCases {
            text += "descent_jobs{status=\"\(status.rawValue)\"} \(counts[status] ?? 0)\n"
        }
        let finished = context.jobMetrics.finishedByStatus
        text += "# HELP descent_jobs_finished_total Jobs that ended since the process started, by how they ended.\n"
        text += "# TYPE descent_jobs_finished_total counter\n"
        for status in JobStatus.allCases where status.isFinished {
            text += "descent_jobs_finished_total{status=\"\(status.rawValue)\"} \(finished[status] ?? 0)\n"
        }
        text += gauge("descent_queue_depth", "Jobs waiting for a worker.", context.scheduler.depth)
        text += gauge("descent_jobs_running", "Jobs a worker runs now.", context.scheduler.running)
        text += "# HELP descent_iterations_total Iterations completed by all jobs.\n"
        text += "# TYPE descent_iterations_total counter\n"
        text += "descent_iterations_total \(context.jobMetrics.iterationsTotal)\n"
        text += gauge("descent_open_streams", "Progress streams open now.", context.streams.open)
        text += gauge("descent_datasets", "Datasets stored.", context.catalog.datasetCount)
        text += gauge(
            "descent_memory_limit_bytes", "Memory datasets and jobs may take (DESCENT_MEMORY_LIMIT).",
            context.memory.limit)
        text += gauge(
            "descent_memory_reserved_bytes", "Memory promised to the datasets and jobs held now.", context.memory.inUse)
        return text
    }

    private static func gauge(_ name: String, _ help: String, _ value: Int) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
    }
}
