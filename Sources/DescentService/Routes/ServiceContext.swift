import DescentJobs
import DescentLog
import Foundation

/// What the dataset and job routes share: the catalog, the scheduler and the counters.
struct ServiceContext: Sendable {
    let catalog: Catalog
    let scheduler: JobScheduler
    let jobMetrics: JobMetrics
    let streams: StreamRegistry
    let logger: Logger
    let version: String
    let streamKeepAliveSeconds: Double
}
