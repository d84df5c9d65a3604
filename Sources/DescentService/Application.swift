import DescentHTTP
import DescentJobs
import DescentLog
import DescentPOSIX
import DescentServer
import DescentStorage
import Foundation
import Synchronization

/// The service: its routes, and the HTTP server they are served on.
package final class Application: Sendable {
    package let configuration: Configuration
    let logger: Logger
    private let router: Router
    private let readiness: Readiness
    private let context: ServiceContext
    private let retentionSweep = Lifetime()
    private let access: AccessControl
    private let requestMetrics = RequestMetrics()
    private let serverBox = Mutex<HTTPServer?>(nil)

    package init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        readiness = Readiness(dataDirectory: configuration.dataDirectory)
        let jobMetrics = JobMetrics()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let context = ServiceContext(
            catalog: Catalog(),
            scheduler: JobScheduler(
                workers: configuration.workers, maxQueue: configuration.maxQueue,
                cores: cores, metrics: jobMetrics, logger: logger,
                checkpointSeconds: configuration.checkpointSeconds),
            jobMetrics: jobMetrics, streams: StreamRegistry(), logger: logger, version: Configuration.version,
            streamKeepAliveSeconds: configuration.streamKeepAliveSeconds,
            memory: MemoryBudget(limit: configuration.memoryLimit ?? MachineMemory.defaultLimit()),
            quotas: TenantQuotas(
                maxUnfinishedJobs: configuration.tenantMaxJobs, maxStoredBytes: configuration.tenantMaxBytes),
            cores: cores)
        self.context = context
        access = AccessControl(keys: configuration.apiKeys, protectsMetrics: configuration.metricsNeedKey)
        var router = Router()
        Self.addServiceRoutes(to: &router, readiness: readiness)
        MetricsRoute.add(to: &router, context, requests: requestMetrics)
        DatasetRoutes.add(to: &router, context)
        JobRoutes.add(to: &router, context)
        GradientCheckRoute.add(to: &router, context)
        JobDataRoutes.add(to: &router, context)
        PredictRoute.add(to: &router, context)
        self.router = router
        requestMetrics.name(routes: router.patterns)
    }

    /// Prepares the data directory, binds the socket and starts serving. Throws `StartupError` when it cannot.
    package func start() throws {
        try prepareDataDirectory()
        try openStore()
        let server = HTTPServer(
            configuration: configuration.server, logger: logger, screen: { [self] head in screen(head) },
            handler: { [self] request, responder in handle(request, responder) })
        do {
            try server.start()
        } catch {
            throw StartupError(
                message: "cannot listen on \(configuration.server.host):\(configuration.server.port): \(error)")
        }
        serverBox.withLock { $0 = server }
        readiness.serverStarted(server)
        logger.info("listening", ["address": .string(server.address), "version": .string(Configuration.version)])
    }

    package var port: Int { serverBox.withLock { $0?.port ?? 0 } }

    /// Stops accepting, finishes in-flight requests, then calls `completion`.
    /// Running jobs save a checkpoint and stop (they stay queued on disk, and go on after a restart: a rolling
    /// restart loses no work), while the server finishes its in-flight requests; then `completion`.
    package func shutdown(completion: @escaping @Sendable () -> Void) {
        let server = serverBox.withLock { $0 }
        let group = DispatchGroup()
        group.enter()
        context.scheduler.suspend(timeout: configuration.server.shutdownTimeout) { group.leave() }
        if let server {
            group.enter()
            server.shutdown { group.leave() }
        }
        group.notify(queue: .global(), execute: completion)
    }

    /// Checks who sent the request, then routes it (404 and 405 are answered as problems by the router),
    /// counting it for `/metrics`.
    func handle(_ request: consuming HTTPRequest, _ responder: Responder) {
        let started = request.received != 0 ? request.received : MonotonicClock.now()
        let match = router.match(request.method, path: request.path)
        let route = match.route
        let method = request.method
        let metrics = requestMetrics
        let counted = Responder { response in
            let seconds = Double(MonotonicClock.now() - started) / 1e9
            metrics.record(route: route, method: method, status: response.status.code, seconds: seconds)
            responder.respond(response)
        }
        if let refusal = access.admit(&request) { return counted.respond(refusal) }
        router.handle(request, counted, as: match)
    }

    /// What can be refused from a request's head alone, before its body is read (over HTTP/1.1): a request
    /// without a valid API key, and an upload larger than the memory left. Each is answered again, the same
    /// way, by `handle` when the body did arrive (over HTTP/2, which reads it first).
    func screen(_ head: HTTPRequestHead) -> HTTPResponse? {
        var request = HTTPRequest(head: head)
        if let refusal = access.admit(&request) { return refusal }
        guard head.method == .POST, head.path == "/v1/datasets" || head.path == "/v1/jobs",
            case .contentLength(let length) = head.framing
        else { return nil }
        let memory = context.memory
        let free = memory.limit - memory.inUse
        guard length > free else { return nil }
        return Problem(
            .contentTooLarge,
            detail: "The body (\(length) bytes) cannot be held in memory now: the memory limit is \(memory.limit) "
                + "bytes, of which \(memory.inUse) are in use. Delete datasets or jobs, or raise DESCENT_MEMORY_LIMIT."
        ).response()
    }

    /// Opens the SQLite store in the data directory, puts back what it holds, and queues again the jobs that
    /// had not finished (each goes on from its last checkpoint, or from the start: the same weights either way).
    private func openStore() throws {
        let store: JobStore
        let stored:
            (datasets: [(record: DatasetRecord, deleted: Bool)], jobs: [(job: Job, key: String?, bodyHash: String?)])
        do throws(StorageError) {
            store = try JobStore(directory: configuration.dataDirectory)
            stored = try store.load(version: Configuration.version, memory: context.memory)
        } catch {
            throw StartupError(message: "cannot open the store: \(error)")
        }
        // What was stored is in memory again: it holds its share of the budget whatever the limit is now (the
        // datasets' shares were taken as they were read).
        for (job, _, _) in stored.jobs {
            let (run, kept) = MemoryEstimate.job(job, cores: context.cores)
            job.hold(run: context.memory.reserveRegardless(run), kept: context.memory.reserveRegardless(kept))
        }
        let unfinished = context.catalog.restore(datasets: stored.datasets, jobs: stored.jobs)
        context.catalog.useStore(store)
        context.scheduler.useStore(store)
        readiness.storageOpened { store.unusableReason }
        for job in unfinished { _ = context.scheduler.submit(job, ignoringLimit: true) }
        sweepRetention()
        logger.info(
            "store opened",
            [
                "path": .string(store.path), "datasets": .int(stored.datasets.count), "jobs": .int(stored.jobs.count),
                "requeued": .int(unfinished.count),
            ])
    }

    /// Deletes the jobs that finished more than `DESCENT_RETENTION` ago, then comes back a tenth of that
    /// period later (at most a minute), for as long as the application lives.
    ///
    /// The loop holds what it uses and a weak reference to `retentionSweep`, not to the application: an object that
    /// is weakly referenced keeps its reference counts in a side table, and every retain and release of it then
    /// takes the runtime's slow path — for the application, several per request (perf: `incrementSlow`).
    private func sweepRetention() {
        Self.sweepRetention(
            catalog: context.catalog, after: configuration.retentionSeconds, logger: logger, while: retentionSweep)
    }

    private static func sweepRetention(catalog: Catalog, after retention: Double, logger: Logger, while alive: Lifetime)
    {
        let purged = catalog.purgeJobs(finishedBefore: Date().addingTimeInterval(-retention))
        if !purged.isEmpty { logger.info("retention", ["deleted_jobs": .int(purged.count)]) }
        DispatchQueue.global().asyncAfter(deadline: .now() + min(retention / 10, 60)) { [weak alive] in
            guard let alive else { return }
            sweepRetention(catalog: catalog, after: retention, logger: logger, while: alive)
        }
    }

    /// Lives as long as the application; what outlives it checks it through a weak reference.
    private final class Lifetime: Sendable {}

    private func prepareDataDirectory() throws {
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw StartupError(
                message:
                    "cannot create the data directory \(configuration.dataDirectory): \(error.localizedDescription); "
                    + "choose another with --data-dir or DESCENT_DATA_DIR")
        }
    }
}

/// Why the service could not start; the executable prints it and exits 1.
package struct StartupError: Error, CustomStringConvertible {
    package let message: String
    package var description: String { message }
}
