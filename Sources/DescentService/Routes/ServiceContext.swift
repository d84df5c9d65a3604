import DescentJobs
import DescentLog
import Foundation

/// What the dataset and job routes share: the catalog, the scheduler, the counters and the limits.
struct ServiceContext: Sendable {
    let catalog: Catalog
    let scheduler: JobScheduler
    let jobMetrics: JobMetrics
    let streams: StreamRegistry
    let logger: Logger
    let version: String
    let streamKeepAliveSeconds: Double
    let memory: MemoryBudget
    let quotas: TenantQuotas
    /// Cores a job may use (its per-core buffers count in its memory estimate).
    let cores: Int
}

/// What each tenant may hold at once (nil: no limit of its own).
struct TenantQuotas: Sendable {
    /// Jobs queued or running.
    var maxUnfinishedJobs: Int?
    /// Bytes of uploaded datasets stored (their bodies' sizes).
    var maxStoredBytes: Int?
}
