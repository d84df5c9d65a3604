import DescentHTTP
import DescentJSON
import DescentJobs
import DescentMath

/// What a job produces besides its resource: the live event stream, the history, the trajectory
/// (API.md, "Jobs" and "The progress stream").
enum JobDataRoutes {
    static func add(to router: inout Router, _ context: ServiceContext) {
        router.add(.GET, "/v1/jobs/{id}/events") { request, responder in responder.respond(events(request, context)) }
        router.add(.GET, "/v1/jobs/{id}/history") { request, responder in
            responder.respond(history(request, context))
        }
        router.add(.GET, "/v1/jobs/{id}/trajectory") { request, responder in
            responder.respond(trajectory(request, context))
        }
    }

    private static func events(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        if let refusal = request.rejectUnknownParameters(["after"]) { return refusal }
        let job: Job
        switch JobRoutes.job(request, context) {
        case .failure(let error): return error.response
        case .success(let found): job = found
        }
        var after = -1
        if let text = request.queryParameter("after") ?? request.headers["Last-Event-ID"] {
            guard let value = Int(text.trimmingWhitespace), value >= -1 else {
                return Responses.badParameter("after (or Last-Event-ID)", "must be an iteration number")
            }
            after = value
        }
        let format = EventStreamFormat(accept: request.headers["Accept"])
        let stream = JobEventStream(
            job: job, after: after, format: format, keepAliveSeconds: context.streamKeepAliveSeconds,
            registry: context.streams)
        return HTTPResponse(
            status: .ok,
            headers: ["Content-Type": format.contentType, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"],
            body: .stream(stream))
    }

    private static func history(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        if let refusal = request.rejectUnknownParameters([]) { return refusal }
        let job: Job
        switch JobRoutes.job(request, context) {
        case .failure(let error): return error.response
        case .success(let found): job = found
        }
        let history = job.history
        let maxIterations = job.spec.iterationBudget
        if request.headers["Accept"]?.lowercased().contains("text/csv") == true {
            var csv = Array(
                "iteration,loss,gradient_norm,step_norm,learning_rate,validation_loss,elapsed_seconds\n".utf8)
            for event in history {
                for (index, value) in [
                    Double(event.iteration), event.loss, event.gradientNorm, event.stepNorm, event.learningRate,
                    event.validationLoss, event.elapsedSeconds,
                ].enumerated() {
                    if index > 0 { csv.append(UInt8(ascii: ",")) }
                    if let value, value.isFinite { JSONWriter.writeNumber(value, into: &csv) }
                }
                csv.append(UInt8(ascii: "\n"))
            }
            return HTTPResponse(contentType: "text/csv; charset=utf-8", body: csv)
        }
        return Responses.json(.array(history.map { $0.json(maxIterations: maxIterations) }))
    }

    private static func trajectory(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        if let refusal = request.rejectUnknownParameters(["stride"]) { return refusal }
        let job: Job
        switch JobRoutes.job(request, context) {
        case .failure(let error): return error.response
        case .success(let found): job = found
        }
        var stride = 1
        if let text = request.queryParameter("stride") {
            guard let value = Int(text), value >= 1 else {
                return Responses.badParameter("stride", "must be an integer ≥ 1")
            }
            stride = value
        }
        let points = job.snapshot.outcome?.trajectory ?? []
        let softmax = job.spec.model == .softmax
        var items: [JSONValue] = []
        for (index, point) in points.enumerated() where index % stride == 0 || index == points.count - 1 {
            items.append([
                "iteration": JSONValue(point.iteration),
                "weights": softmax ? .array(point.weights.map { JSONValue($0) }) : JSONValue(point.weights[0]),
                // Objective mode: the point is `weights`, and there is no intercept (null).
                "intercept": softmax
                    ? JSONValue(point.intercepts) : (point.intercepts.first.map { .number($0) } ?? .null),
            ])
        }
        return Responses.json(["items": .array(items)])
    }
}

extension String {
    var trimmingWhitespace: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
