import DescentHTTP
import DescentJSON
import DescentJobs
import DescentMath
import DescentStorage
import Dispatch
import Foundation

/// `/v1/datasets` (API.md, "Datasets").
enum DatasetRoutes {
    static func add(to router: inout Router, _ context: ServiceContext) {
        router.add(.POST, "/v1/datasets") { request, responder in
            // Parsing a large body takes a while: off the connection's queue, which serves other clients too.
            DispatchQueue.global().async { responder.respond(upload(request, context)) }
        }
        router.add(.GET, "/v1/datasets") { request, responder in responder.respond(list(request, context)) }
        router.add(.GET, "/v1/datasets/{id}") { request, responder in
            if let refusal = request.rejectUnknownParameters([]) { return responder.respond(refusal) }
            let id = request.pathParameters["id"] ?? ""
            guard let record = context.catalog.dataset(id, tenant: request.tenant) else {
                return responder.respond(Responses.notFound("dataset", id))
            }
            responder.respond(Responses.json(record.json))
        }
        router.add(.DELETE, "/v1/datasets/{id}") { request, responder in
            if let refusal = request.rejectUnknownParameters([]) { return responder.respond(refusal) }
            let id = request.pathParameters["id"] ?? ""
            let outcome: Catalog.DeleteOutcome
            do throws(StorageError) {
                outcome = try context.catalog.deleteDataset(id, tenant: request.tenant)
            } catch {
                return responder.respond(Responses.storageFailure(error))
            }
            switch outcome {
            case .deleted: responder.respond(HTTPResponse(status: .noContent))
            case .notFound: responder.respond(Responses.notFound("dataset", id))
            case .inUse(let job):
                responder.respond(
                    Problem(.conflict, detail: "The dataset \(id) is used by job \(job), which has not finished.")
                        .response())
            }
        }
    }

    private static func list(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        if let refusal = request.rejectUnknownParameters(["limit", "cursor"]) { return refusal }
        switch Responses.page(request) {
        case .failure(let error): return error.response
        case .success(let (limit, cursor)):
            let (items, next) = context.catalog.datasets(tenant: request.tenant, limit: limit, before: cursor)
            return Responses.list(items.map(\.json), next: next)
        }
    }

    private static func upload(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        let format = Responses.mediaType(request)
        let known: [String]
        switch format {
        case "application/json": known = []
        case "text/csv": known = ["name", "target", "weight"]
        case "application/x-npy": known = ["name", "target_index"]
        default:
            return Problem(
                .unsupportedMediaType,
                detail: "Upload a dataset as application/json, text/csv or application/x-npy, not "
                    + (format.map { "\($0)" } ?? "a body without Content-Type") + "."
            ).response()
        }
        if let refusal = request.rejectUnknownParameters(known) { return refusal }
        let uploadFormat: DatasetUpload.Format
        switch format {
        case "application/json": uploadFormat = .json
        case "text/csv":
            uploadFormat = .csv(
                targetColumn: request.queryParameter("target"), weightColumn: request.queryParameter("weight"))
        default:
            var targetIndex: Int?
            if let text = request.queryParameter("target_index") {
                guard let value = Int(text), value >= 0 else {
                    return Responses.badParameter("target_index", "must be a column index ≥ 0")
                }
                targetIndex = value
            }
            uploadFormat = .npy(targetIndex: targetIndex)
        }
        let upload: DatasetUpload.Parsed
        do throws(IngestError) {
            upload = try DatasetUpload.parse(request.body, as: uploadFormat)
        } catch {
            return ingestProblem(error)
        }
        let name = upload.name ?? request.queryParameter("name")
        let contentKey =
            ([format ?? "", upload.sha256]
            + request.queryParameterNames.sorted().map { name in "\(name)=\(request.queryParameter(name) ?? "")" })
            .joined(separator: "\n") + "\nname=\(name ?? "")"
        var record = DatasetRecord(
            id: ResourceID.make(prefix: ResourceID.datasetPrefix).rawValue, name: name, dataset: upload.dataset,
            createdAt: Date(), bytes: request.body.count, sha256: upload.sha256,
            contentKey: TenantScope.key(contentKey, tenant: request.tenant), targetSummary: upload.targetSummary,
            tenant: request.tenant)
        switch Admission.memory(for: upload.dataset, context) {
        case .failure(let error): return error.response
        case .success(let reservation): record.memory = reservation
        }
        switch add(record, context) {
        case .failure(let error): return error.response
        case .success(let (stored, created: true)):
            return Responses.json(stored.json, status: .created, headers: [("Location", "/v1/datasets/\(stored.id)")])
        case .success(let (stored, created: false)):
            // The same content was uploaded before: 200 with that dataset.
            return Responses.json(stored.json)
        }
    }

    /// Stores `record` under its tenant's quota: the new or the existing dataset, or the 507 of the quota (or the
    /// storage failure).
    static func add(
        _ record: DatasetRecord, _ context: ServiceContext
    ) -> Result<(record: DatasetRecord, created: Bool), HTTPResponseError> {
        let outcome: Catalog.AddDatasetOutcome
        do {
            outcome = try context.catalog.addDataset(record, maxTenantBytes: context.quotas.maxStoredBytes)
        } catch {
            return .failure(HTTPResponseError(Responses.storageFailure(error)))
        }
        switch outcome {
        case .created(let stored): return .success((stored, true))
        case .existing(let stored): return .success((stored, false))
        case .overQuota(let stored, let limit):
            return .failure(
                HTTPResponseError(Admission.storageQuota(adding: record.bytes, stored: stored, limit: limit)))
        }
    }

    /// A 400 that says where the body is wrong: a pointer (JSON), a line (CSV), or the header (.npy).
    static func ingestProblem(_ error: IngestError, pointerPrefix: String = "") -> HTTPResponse {
        var detail = error.detail
        var field: Problem.FieldError?
        if let pointer = error.pointer {
            field = .init(pointer: pointerPrefix + pointer, detail: error.detail)
            detail = "\(pointerPrefix + pointer): \(error.detail)"
        } else if let line = error.line {
            field = .init(line: line, detail: error.detail)
            if !detail.contains("line \(line)") { detail = "line \(line): \(detail)" }
        }
        return Problem(
            .badRequest, detail: "The dataset cannot be read: \(detail)", errors: field.map { [$0] }
        ).response()
    }
}
