import DescentHTTP
import DescentJSON
import DescentJobs
import DescentMath
import Dispatch
import Foundation

/// `POST /v1/gradcheck` (API.md): a job spec, or an objective, and a point → the gradient there, exact (as
/// the run computes it) and by central differences, and their largest relative difference. Nothing is
/// stored: an inline dataset is parsed for the check and dropped.
///
/// The point: `"point"` when given; otherwise drawn from the spec's `seed` — N(0, 1) per coordinate, or
/// uniform in an objective's `bounds`. For a dataset it is θ as the optimizer sees it: weights (of the
/// standardized features when `standardize` is true) row by row, then intercepts; the objective is L of
/// API.md with the penalty, l1 entering by its subgradient l1·sign(w).
enum GradientCheckRoute {
    static func add(to router: inout Router, _ context: ServiceContext) {
        router.add(.POST, "/v1/gradcheck") { request, responder in
            // A full pass over a dataset, twice per coordinate: off the connection's queue.
            DispatchQueue.global().async { responder.respond(check(request, context)) }
        }
    }

    /// Coordinates beyond this make the numeric side (2 evaluations each) too slow to answer a request.
    static let maxParameters = 10_000

    static func check(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        if let type = Responses.mediaType(request), type != "application/json" {
            return Problem(.unsupportedMediaType, detail: "Send the check as application/json, not \(type).").response()
        }
        if let refusal = request.rejectUnknownParameters([]) { return refusal }
        var body: JSONObject
        switch Responses.jsonObject(request.body) {
        case .failure(let error): return error.response
        case .success(let object): body = object
        }
        let point = body["point"]
        body["point"] = nil
        do throws(SpecError) {
            // The rest is a job spec, checked as `POST /v1/jobs` checks it (unknown fields included).
            if body["objective"] != nil {
                let spec = try JobSpec.decode(body, datasetID: "")
                guard let objective = spec.objective else { throw SpecError(pointer: "/objective", detail: "missing") }
                return try checkObjective(objective, point: point, seed: spec.seed)
            }
            return try checkFit(body, point: point, tenant: request.tenant, context)
        } catch {
            return Responses.invalid(error, detail: "The gradient check is not valid.")
        }
    }

    private static func checkObjective(_ spec: ObjectiveSpec, point: JSONValue?, seed: UInt64) throws(SpecError)
        -> HTTPResponse
    {
        let program: ExpressionProgram
        do throws(ExpressionError) { program = try spec.program() } catch {
            throw SpecError(pointer: "/objective/expression", detail: error.description)
        }
        var random = RandomSource(seed: seed)
        let x =
            try readPoint(point, count: spec.variables.count)
            ?? spec.variables.indices.map { index in
                guard let range = spec.bounds?[index] else { return random.nextNormal() }
                return range.lowerBound + random.nextDouble() * (range.upperBound - range.lowerBound)
            }
        let (value, analytic) = program.gradient(at: x)
        let numeric = GradientCheck.centralDifferences(at: x) { program.value(at: $0) }
        return answer(point: x, value: value, analytic: analytic, numeric: numeric)
    }

    private static func checkFit(
        _ body: JSONObject, point: JSONValue?, tenant: String, _ context: ServiceContext
    ) throws(SpecError) -> HTTPResponse {
        let dataset: Dataset
        let datasetID: String
        switch (body["dataset_id"], body["dataset"]) {
        case (.string(let id)?, nil):
            guard let record = context.catalog.dataset(id, tenant: tenant) else {
                throw SpecError(pointer: "/dataset_id", detail: "there is no dataset \(id)")
            }
            dataset = record.dataset
            datasetID = id
        case (nil, let inline?):
            do throws(IngestError) {
                dataset = try JSONDatasetParser.parse(JSONWriter.bytes(inline)).dataset
            } catch {
                // As `POST /v1/jobs` reports it: the pointer inside the inline dataset.
                return DatasetRoutes.ingestProblem(error, pointerPrefix: "/dataset")
            }
            datasetID = "inline"
        default:
            throw SpecError(
                pointer: "/dataset_id", detail: "give a dataset id, an inline \"dataset\", or an \"objective\"")
        }
        let spec = try JobSpec.decode(body, datasetID: datasetID)
        let (model, configuration) = try JobSubmission.training(spec, on: dataset, inline: datasetID == "inline")
        guard model.parameterCount <= maxParameters else {
            throw SpecError(
                pointer: "/dataset_id",
                detail: "the model has \(model.parameterCount) parameters; the check takes at most \(maxParameters)")
        }
        var random = RandomSource(seed: configuration.seed)
        let theta =
            try readPoint(point, count: model.parameterCount)
            ?? (0..<model.parameterCount).map { _ in random.nextNormal() }
        let objective = Objective(model: model)
        var analytic = [Double](repeating: 0, count: model.parameterCount)
        let dataTerm = analytic.withUnsafeMutableBufferPointer { objective.evaluate(theta, rows: .all, gradient: $0) }
        for index in model.weightRange where model.l1 > 0 {
            analytic[index] += model.l1 * (theta[index] > 0 ? 1 : (theta[index] < 0 ? -1 : 0))
        }
        // Unfitted intercepts are not parameters: their gradient is 0 on both sides.
        let fixed = model.fitIntercept ? [] : Set(model.weightRange.upperBound..<model.parameterCount)
        let numeric = GradientCheck.centralDifferences(at: theta, skip: fixed) { objective.objective($0, rows: .all) }
        return answer(
            point: theta, value: dataTerm + objective.penalty(theta), analytic: analytic, numeric: numeric)
    }

    private static func readPoint(_ value: JSONValue?, count: Int) throws(SpecError) -> [Double]? {
        guard let value, value != .null else { return nil }
        guard case .array(let elements) = value, elements.count == count else {
            throw SpecError(pointer: "/point", detail: "must be an array of \(count) numbers")
        }
        return try elements.enumerated().map { (index, element) throws(SpecError) in
            guard case .number(let number) = element else {
                throw SpecError(pointer: "/point/\(index)", detail: "must be a number")
            }
            return number
        }
    }

    private static func answer(point: [Double], value: Double, analytic: [Double], numeric: [Double]) -> HTTPResponse {
        Responses.json([
            "point": JSONValue(point),
            "value": value.isFinite ? .number(value) : .null,
            "analytic": .array(analytic.map { $0.isFinite ? .number($0) : .null }),
            "numeric": .array(numeric.map { $0.isFinite ? .number($0) : .null }),
            "max_relative_error": {
                let error = GradientCheck.maxRelativeError(analytic, numeric, scale: value)
                return error.isFinite ? .number(error) : .null
            }(),
        ])
    }
}
