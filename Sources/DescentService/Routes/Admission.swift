import DescentHTTP
import DescentJobs
import DescentMath

/// The limits a new dataset or job must fit before it is built: the memory budget and the tenant's quotas.
/// Each refusal says the numbers, so that a client can tell how far over it is.
enum Admission {
    /// Memory for a parsed dataset, or 413: it would not fit in what the memory limit leaves.
    static func memory(for dataset: Dataset, _ context: ServiceContext) -> Result<MemoryReservation, HTTPResponseError>
    {
        let bytes = MemoryEstimate.bytes(of: dataset)
        guard let reservation = context.memory.reserve(bytes) else {
            return .failure(
                HTTPResponseError(
                    Problem(
                        .contentTooLarge,
                        detail: "The dataset (\(dataset.rows) rows × \(dataset.columns) columns) needs \(bytes) bytes "
                            + "in memory; \(usage(context.memory)). Upload less data, delete datasets or jobs, or "
                            + "raise DESCENT_MEMORY_LIMIT."
                    ).response()))
        }
        return .success(reservation)
    }

    /// Memory for a job (its run and what it keeps), or 422: it would not fit in what the memory limit leaves.
    static func memory(
        for spec: JobSpec, parameters: Int, rows: Int, _ context: ServiceContext
    ) -> Result<(run: MemoryReservation, kept: MemoryReservation), HTTPResponseError> {
        let (run, kept) = MemoryEstimate.job(spec, parameters: parameters, rows: rows, cores: context.cores)
        guard let keptReservation = context.memory.reserve(kept),
            let runReservation = context.memory.reserve(run)
        else {
            return .failure(
                HTTPResponseError(
                    Problem(
                        .unprocessableContent,
                        detail: "The job needs about \(run + kept) bytes in memory (\(run) while it runs, \(kept) "
                            + "for its history and result); \(usage(context.memory)). Ask for fewer iterations or "
                            + "a larger report_every, wait for jobs to finish, or raise DESCENT_MEMORY_LIMIT."
                    ).response()))
        }
        return .success((runReservation, keptReservation))
    }

    /// The 507 of a tenant whose stored uploads would pass DESCENT_TENANT_MAX_BYTES.
    static func storageQuota(adding bytes: Int, stored: Int, limit: Int) -> HTTPResponse {
        Problem(
            .insufficientStorage,
            detail: "Storing this dataset (\(bytes) bytes) would take your stored datasets past your quota of \(limit) "
                + "bytes (\(stored) are stored); delete datasets you no longer need."
        ).response()
    }

    /// The 429 of a tenant with as many unfinished jobs as DESCENT_TENANT_MAX_JOBS allows.
    static func jobQuota(unfinished: Int, limit: Int) -> HTTPResponse {
        Problem(
            .tooManyRequests,
            detail: "You have \(unfinished) jobs queued or running, the most your quota allows (\(limit)); retry "
                + "when one has finished.",
            headers: ["Retry-After": "5"]
        ).response()
    }

    private static func usage(_ budget: MemoryBudget) -> String {
        "the memory limit is \(budget.limit) bytes, of which \(budget.inUse) are in use"
    }
}
