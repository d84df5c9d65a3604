import DescentHTTP
import DescentJSON
import DescentJobs
import DescentMath
import Dispatch
import Foundation

/// `POST /v1/jobs/{id}/predict`: the finished job's model applied to new rows.
enum PredictRoute {
    static func add(to router: inout Router, _ context: ServiceContext) {
        router.add(.POST, "/v1/jobs/{id}/predict") { request, responder in
            DispatchQueue.global().async { responder.respond(predict(request, context)) }
        }
    }

    private static func predict(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        if let type = Responses.mediaType(request), type != "application/json" {
            return Problem(.unsupportedMediaType, detail: "Send the rows as application/json, not \(type).").response()
        }
        if let refusal = request.rejectUnknownParameters([]) { return refusal }
        let job: Job
        switch JobRoutes.job(request, context) {
        case .failure(let error): return error.response
        case .success(let found): job = found
        }
        guard let dataset = job.dataset else {
            return Problem(
                .conflict,
                detail: "The job \(job.id) minimised a function (objective mode); it has no model to predict with."
            ).response()
        }
        let snapshot = job.snapshot
        guard snapshot.status == .succeeded, let outcome = snapshot.outcome else {
            return Problem(
                .conflict, detail: "The job \(job.id) is \(snapshot.status.rawValue); only a succeeded job predicts."
            ).response()
        }
        let body: JSONObject
        switch Responses.jsonObject(request.body) {
        case .failure(let error): return error.response
        case .success(let object): body = object
        }
        let columns = dataset.dataset.columns
        var errors: [Problem.FieldError] = []
        for key in body.keys where key != "features" {
            errors.append(
                .init(pointer: "/\(escapePointerToken(key))", detail: "unknown field \"\(key)\"; expected \"features\"")
            )
        }
        var rows: [[Double]] = []
        switch body["features"] {
        case .array(let elements)?:
            for (index, element) in elements.enumerated() {
                guard case .array(let values) = element, values.count == columns,
                    case let numbers = values.compactMap({ value -> Double? in
                        if case .number(let number) = value { number } else { nil }
                    }), numbers.count == columns
                else {
                    errors.append(
                        .init(pointer: "/features/\(index)", detail: "must be an array of \(columns) numbers"))
                    continue
                }
                rows.append(numbers)
            }
            if elements.isEmpty { errors.append(.init(pointer: "/features", detail: "must hold at least one row")) }
        case nil: errors.append(.init(pointer: "/features", detail: "required: an array of rows of \(columns) numbers"))
        case let other?:
            errors.append(.init(pointer: "/features", detail: "must be an array, not \(other.kindDescription)"))
        }
        guard errors.isEmpty else {
            let summary = errors.map { "\($0.pointer ?? ""): \($0.detail)" }.joined(separator: "; ")
            return Problem(.badRequest, detail: "The rows cannot be predicted: \(summary)", errors: errors).response()
        }
        return Responses.json(predictions(rows, job: job, dataset: dataset.dataset, outcome: outcome))
    }

    private static func predictions(_ rows: [[Double]], job: Job, dataset: Dataset, outcome: JobOutcome) -> JSONValue {
        let scores = rows.map { row in
            outcome.weights.indices.map { k in
                zip(row, outcome.weights[k]).reduce(outcome.intercepts[k]) { $0 + $1.0 * $1.1 }
            }
        }
        switch job.spec.model {
        case .linear:
            return ["predictions": JSONValue(scores.map { $0[0] })]
        case .poisson:
            return ["predictions": JSONValue(scores.map { exp($0[0]) })]
        case .logistic:
            let negative: Double = dataset.targets.contains(-1) ? -1 : 0
            var answer: JSONObject = ["predictions": JSONValue(scores.map { $0[0] >= 0 ? 1 : negative })]
            // Probabilities are σ(p) under the log loss only; a formula's scores need not be log-odds.
            if job.spec.loss == .log && job.spec.lossFormula == nil {
                answer["probabilities"] = JSONValue(scores.map { 1 / (1 + exp(-$0[0])) })
            }
            return .object(answer)
        case .softmax:
            var labels: [Double] = []
            var probabilities: [JSONValue] = []
            for score in scores {
                let top = score.max() ?? 0
                let exponentials = score.map { exp($0 - top) }
                let total = exponentials.reduce(0, +)
                labels.append(Double(score.firstIndex(of: top) ?? 0))
                probabilities.append(JSONValue(exponentials.map { $0 / total }))
            }
            return ["predictions": JSONValue(labels), "probabilities": .array(probabilities)]
        }
    }
}
