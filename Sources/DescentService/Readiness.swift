import DescentServer
import Foundation
import Synchronization

/// What `/readyz` reports: whether the service can do its work right now.
final class Readiness: Sendable {
    private let dataDirectory: String
    private let server = Mutex<HTTPServer?>(nil)
    private let storage = Mutex<(@Sendable () -> String?)?>(nil)

    init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    /// Called once the store is open: `reason` says why storage cannot take writes, or nil.
    func storageOpened(_ reason: @escaping @Sendable () -> String?) { storage.withLock { $0 = reason } }

    /// Called once the server accepts connections.
    func serverStarted(_ server: HTTPServer) { self.server.withLock { $0 = server } }

    /// Nil when ready; otherwise why not.
    func notReadyReason() -> String? {
        guard let server = server.withLock({ $0 }) else { return "The service is starting." }
        if server.isDraining { return "The service is shutting down." }
        guard FileManager.default.isWritableFile(atPath: dataDirectory) else {
            return "The data directory \(dataDirectory) is not writable."
        }
        guard let storage = storage.withLock({ $0 }) else { return "The store is not open yet." }
        return storage()
    }
}
