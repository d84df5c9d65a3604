import DescentHTTP
import DescentJSON
import DescentJobs
import DescentMath
import DescentStorage
import Foundation

/// `POST /v1/jobs`: read the body, resolve the dataset (by id or inline), check the spec against it, queue.
enum JobSubmission {
    static func submit(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        if let type = Responses.mediaType(request), type != "application/json" {
            return Problem(
                .unsupportedMediaType,
                detail:
                    "Submit a job as application/json, not \(type) (with curl: -H 'Content-Type: application/json')."
            ).response()
        }
        if let refusal = request.rejectUnknownParameters([]) { return refusal }
        let body: JSONObject
        switch Responses.jsonObject(request.body) {
        case .failure(let error): return error.response
        case .success(let object): body = object
        }
        guard request.headers.values("Idempotency-Key").count <= 1 else {
            return Problem(.badRequest, detail: "Send one Idempotency-Key header, not several.").response()
        }
        let key = request.headers["Idempotency-Key"]
        let bodyHash = SHA256.hex(request.body)
        // Idempotency keys are the tenant's own: another tenant's use of the same key is another job.
        var scopedKey: String?
        if let key {
            guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                return Problem(.badRequest, detail: "Idempotency-Key must be 1 to 255 visible ASCII characters.")
                    .response()
            }
            let scoped = TenantScope.key(key, tenant: request.tenant)
            scopedKey = scoped
            switch context.catalog.lookup(idempotencyKey: scoped, bodyHash: bodyHash) {
            case .none: break
            case .replay(let job): return accepted(job, replayed: true)
            case .conflict(let jobID): return idempotencyConflict(key, jobID: jobID)
            }
        }
        // Objective mode minimises a formula and has no dataset; otherwise the dataset comes first.
        var record: DatasetRecord?
        var inline = false
        if body["objective"] == nil {
            switch dataset(of: body, tenant: request.tenant, context) {
            case .failure(let error): return error.response
            case .success(let found): (record, inline) = found
            }
        }
        var spec: JobSpec
        let parameters: Int
        do throws(SpecError) {
            spec = try JobSpec.decode(body, datasetID: record?.id ?? "")
            if let record {
                parameters = try training(spec, on: record.dataset, inline: inline).model.parameterCount
            } else {
                _ = try spec.minimizer()
                parameters = spec.objective?.variables.count ?? 0
            }
        } catch {
            return Responses.invalid(error)
        }
        // The memory the job will take is promised before anything of it is kept.
        let memory: (run: MemoryReservation, kept: MemoryReservation)
        switch Admission.memory(for: spec, parameters: parameters, rows: record?.dataset.rows ?? 0, context) {
        case .failure(let error): return error.response
        case .success(let reservations): memory = reservations
        }
        // An inline dataset is kept only for a job that is accepted (the same content is the same dataset): one
        // this request stored is deleted again if the job is refused after all.
        var storedInline: String?
        let withdrawingInline = { (response: HTTPResponse) -> HTTPResponse in
            if let storedInline { _ = try? context.catalog.deleteDataset(storedInline, tenant: request.tenant) }
            return response
        }
        if inline, var candidate = record {
            switch Admission.memory(for: candidate.dataset, context) {
            case .failure(let error): return error.response
            case .success(let reservation): candidate.memory = reservation
            }
            switch DatasetRoutes.add(candidate, context) {
            case .failure(let error): return error.response
            case .success(let (kept, created)):
                record = kept
                spec.datasetID = kept.id
                if created { storedInline = kept.id }
            }
        }
        let job = Job(
            id: ResourceID.make(prefix: ResourceID.jobPrefix).rawValue, spec: spec, dataset: record,
            createdAt: Date(), sequence: context.catalog.nextSequence(), version: context.version,
            tenant: request.tenant)
        job.hold(run: memory.run, kept: memory.kept)
        let added: Catalog.AddJobOutcome
        do {
            added = try context.catalog.addJob(
                job, idempotencyKey: scopedKey, bodyHash: bodyHash, maxUnfinished: context.quotas.maxUnfinishedJobs)
        } catch {
            return withdrawingInline(Responses.storageFailure(error))
        }
        switch added {
        case .added: break
        case .replay(let first): return withdrawingInline(accepted(first, replayed: true))
        case .conflict(let jobID): return withdrawingInline(idempotencyConflict(key ?? "", jobID: jobID))
        case .overQuota(let unfinished, let limit):
            return withdrawingInline(Admission.jobQuota(unfinished: unfinished, limit: limit))
        }
        guard context.scheduler.submit(job) else {
            context.catalog.removeJob(job, idempotencyKey: scopedKey)
            return withdrawingInline(
                Problem(
                    .tooManyRequests,
                    detail: "The job queue is full (\(context.scheduler.maxQueue) jobs wait); retry in a moment.",
                    headers: ["Retry-After": "1"]
                ).response())
        }
        return accepted(job, replayed: false)
    }

    private static func idempotencyConflict(_ key: String, jobID: String) -> HTTPResponse {
        Problem(
            .unprocessableContent,
            detail: "The Idempotency-Key \(key) was used for job \(jobID) with a different body; use a new key for a "
                + "new job."
        ).response()
    }

    private static func accepted(_ job: Job, replayed: Bool) -> HTTPResponse {
        var headers = [("Location", "/v1/jobs/\(job.id)")]
        if replayed { headers.append(("Idempotent-Replayed", "true")) }
        return Responses.json(job.json, status: .accepted, headers: headers)
    }

    /// The dataset named by `dataset_id`, or the inline `dataset` stored as one.
    /// The model and configuration of `spec` on `dataset`; for an inline dataset, what the data reveals is
    /// reported at `/dataset` rather than `/dataset_id`.
    static func training(_ spec: JobSpec, on dataset: Dataset, inline: Bool) throws(SpecError) -> (
        model: Model, configuration: TrainingConfiguration
    ) {
        do throws(SpecError) {
            return try spec.training(on: dataset)
        } catch {
            guard inline else { throw error }
            throw SpecError(
                error.fields.map {
                    .init(pointer: $0.pointer == "/dataset_id" ? "/dataset" : $0.pointer, detail: $0.detail)
                })
        }
    }

    /// The dataset a fit names: a stored one by id, or an inline one, parsed and checked but not yet stored
    /// (`inline` true).
    private static func dataset(
        of body: JSONObject, tenant: String, _ context: ServiceContext
    ) -> Result<(record: DatasetRecord, inline: Bool), HTTPResponseError> {
        switch (body["dataset_id"], body["dataset"]) {
        case (nil, nil):
            return .failure(
                HTTPResponseError(
                    Responses.invalid(
                        SpecError(pointer: "/dataset_id", detail: "required: a dataset id, or an inline \"dataset\""))))
        case (_?, _?):
            return .failure(
                HTTPResponseError(
                    Responses.invalid(
                        SpecError(pointer: "/dataset", detail: "give either \"dataset_id\" or \"dataset\", not both"))))
        case (let id?, nil):
            guard case .string(let text) = id, let record = context.catalog.dataset(text, tenant: tenant) else {
                let detail =
                    if case .string(let text) = id { "there is no dataset \(text)" } else {
                        "must be a dataset id string"
                    }
                return .failure(HTTPResponseError(Responses.invalid(SpecError(pointer: "/dataset_id", detail: detail))))
            }
            return .success((record, false))
        case (nil, let inline?):
            guard case .object = inline else {
                return .failure(
                    HTTPResponseError(
                        Responses.invalid(
                            SpecError(pointer: "/dataset", detail: "must be an object like a JSON dataset upload"))))
            }
            // The inline dataset goes through the upload's parser, so it is checked by the same rules.
            let bytes = JSONWriter.bytes(inline)
            do throws(IngestError) {
                let (name, dataset) = try JSONDatasetParser.parse(bytes)
                let sha256 = SHA256.hex(bytes)
                let record = DatasetRecord(
                    id: ResourceID.make(prefix: ResourceID.datasetPrefix).rawValue, name: name ?? "inline",
                    dataset: dataset, createdAt: Date(), bytes: bytes.count, sha256: sha256,
                    contentKey: TenantScope.key("inline\n\(sha256)", tenant: tenant), tenant: tenant)
                return .success((record, true))
            } catch {
                return .failure(HTTPResponseError(DatasetRoutes.ingestProblem(error, pointerPrefix: "/dataset")))
            }
        }
    }
}
