import DescentServer
import Foundation
import Synchronization

/// What `/readyz` reports: whether the service can do its work right now.
final class Readiness: Sendable {
    private let dataDirectory: String
    private let server = Mutex<HTTPServer?>(nil)

    init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    /// Called once the server accepts connections.
    func serverStarted(_ server: HTTPServer) { self.server.withLock { $0 = server } }

    /// Nil when ready; otherwise why not. Storage (a later issue) will add its own check here.
    func notReadyReason() -> String? {
        guard let server = server.withLock({ $0 }) else { return "The service is starting." }
        if server.isDraining { return "The service is shutting down." }
        guard FileManager.default.isWritableFile(atPath: dataDirectory) else {
            return "The data directory \(dataDirectory) is not writable."
        }
        return nil
    }
}
