import DescentHTTP
import DescentJSON
import DescentJobs
import DescentMath
import DescentStorage
import Dispatch
import Foundation
import Synchronization

/// `/v1/jobs`: submit, poll, list, cancel, delete (API.md, "Jobs").
enum JobRoutes {
    static func add(to router: inout Router, _ context: ServiceContext) {
        router.add(.POST, "/v1/jobs") { request, responder in
            // An inline dataset is parsed here: off the connection's queue.
            DispatchQueue.global().async { responder.respond(JobSubmission.submit(request, context)) }
        }
        router.add(.GET, "/v1/jobs") { request, responder in responder.respond(list(request, context)) }
        router.add(.GET, "/v1/jobs/{id}") { request, responder in get(request, context, responder) }
        router.add(.DELETE, "/v1/jobs/{id}") { request, responder in
            if let refusal = request.rejectUnknownParameters([]) { return responder.respond(refusal) }
            let id = request.pathParameters["id"] ?? ""
            let outcome: Catalog.DeleteOutcome
            do throws(StorageError) {
                outcome = try context.catalog.deleteJob(id, tenant: request.tenant)
            } catch {
                return responder.respond(Responses.storageFailure(error))
            }
            switch outcome {
            case .deleted: responder.respond(HTTPResponse(status: .noContent))
            case .notFound: responder.respond(Responses.notFound("job", id))
            case .inUse:
                responder.respond(
                    Problem(.conflict, detail: "The job \(id) has not finished; cancel it first.").response())
            }
        }
        router.add(.POST, "/v1/jobs/{id}/cancel") { request, responder in
            if let refusal = request.rejectUnknownParameters([]) { return responder.respond(refusal) }
            let id = request.pathParameters["id"] ?? ""
            guard let job = context.catalog.job(id, tenant: request.tenant) else {
                return responder.respond(Responses.notFound("job", id))
            }
            let status = job.status
            guard !status.isFinished else {
                return responder.respond(
                    Problem(.conflict, detail: "The job \(id) has already finished (\(status.rawValue)).").response())
            }
            context.scheduler.cancel(job)
            responder.respond(Responses.json(job.json, status: .accepted))
        }
    }

    static func job(_ request: HTTPRequest, _ context: ServiceContext) -> Result<Job, HTTPResponseError> {
        let id = request.pathParameters["id"] ?? ""
        guard let job = context.catalog.job(id, tenant: request.tenant) else {
            return .failure(HTTPResponseError(Responses.notFound("job", id)))
        }
        return .success(job)
    }

    private static func list(_ request: HTTPRequest, _ context: ServiceContext) -> HTTPResponse {
        if let refusal = request.rejectUnknownParameters(["status", "dataset_id", "limit", "cursor"]) {
            return refusal
        }
        var status: JobStatus?
        if let text = request.queryParameter("status") {
            guard let value = JobStatus(rawValue: text) else {
                let names = JobStatus.allCases.map(\.rawValue).joined(separator: ", ")
                return Responses.badParameter("status", "must be one of \(names)")
            }
            status = value
        }
        switch Responses.page(request) {
        case .failure(let error): return error.response
        case .success(let (limit, cursor)):
            let (items, next) = context.catalog.jobs(
                tenant: request.tenant, status: status, datasetID: request.queryParameter("dataset_id"), limit: limit,
                before: cursor)
            return Responses.list(items.map(\.json), next: next)
        }
    }

    /// The job now, or with `?wait=S` as soon as it finishes (at most S seconds later).
    private static func get(_ request: HTTPRequest, _ context: ServiceContext, _ responder: Responder) {
        if let refusal = request.rejectUnknownParameters(["wait"]) { return responder.respond(refusal) }
        let job: Job
        switch Self.job(request, context) {
        case .failure(let error): return responder.respond(error.response)
        case .success(let found): job = found
        }
        var wait = 0.0
        if let text = request.queryParameter("wait") {
            // Plain decimals only: Double(String) would also take "0x10", "1e1" and "nan".
            guard text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") }),
                let value = Double(text), (0...60).contains(value)
            else {
                return responder.respond(Responses.badParameter("wait", "must be a number of seconds from 0 to 60"))
            }
            wait = value
        }
        guard wait > 0 else { return responder.respond(Responses.json(job.json)) }
        let answered = Atomic<Bool>(false)
        let answer: @Sendable () -> Void = {
            guard answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
            else { return }
            responder.respond(Responses.json(job.json))
        }
        let token = job.whenFinished(answer)
        DispatchQueue.global().asyncAfter(deadline: .now() + wait) {
            if let token { job.unwatch(token) }
            answer()
        }
    }
}
