/// Where a job is in its life (API.md): queued → running → one of the three ends; a queued job can also be
/// cancelled before it starts.
package enum JobStatus: String, Sendable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    package var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
}
