import DescentHTTP
import DescentLog

/// What a connection needs of its server for every request: the settings, the handler and screen, the logger
/// and the request-id source. Immutable, and without a reference back to the server, so each connection holds
/// it strongly.
///
/// Why not reach these through the connection's `unowned` server: the server is also weakly referenced (by its
/// sweep timer), which gives it a side table, and every unowned access to such an object takes the runtime's
/// slow path — a measurable share of a small request's CPU (~1.5% in `perf`, under `bench/http1.sh`'s load).
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let handler: HTTPServer.Handler
    let screen: HTTPServer.Screen?
    let logger: Logger
    /// Whether an access-log line is written per request: asked of the logger once, here.
    let logsAccess: Bool
    let requestIDs = RequestIdentifier()

    init(
        configuration: ServerConfiguration, logger: Logger, screen: HTTPServer.Screen?,
        handler: @escaping HTTPServer.Handler
    ) {
        self.configuration = configuration
        self.handler = handler
        self.screen = screen
        self.logger = logger
        self.logsAccess = logger.isEnabled(.info)
    }
}
