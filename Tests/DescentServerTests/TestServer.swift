import DescentHTTP
import DescentLog
import DescentPOSIX
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import DescentServer

/// Every live test shares the machine's two cores and measures time, so they run one at a time; nested
/// suites inherit `.serialized`. The time limit is a guard against a hang, not a speed target.
@Suite("Live HTTP/1.1 server", .serialized, .timeLimit(.minutes(1)))
struct LiveServerTests {}

/// A real `HTTPServer` on a loopback port chosen by the kernel, with the test routes and short timeouts.
final class TestServer: Sendable {
    let server: HTTPServer
    let configuration: ServerConfiguration
    /// What the server logged (access lines included), for assertions and for reading a failure.
    let log = MemorySink()
    let host: String
    let port: Int

    /// Starts a server on `host` port 0. `routes` adds routes to the standard ones of `TestRoutes`; `configure`
    /// adjusts the short test timeouts.
    init(
        host: String = "127.0.0.1", routes: (inout Router) -> Void = { _ in },
        configure: (inout ServerConfiguration) -> Void = { _ in }, screen: HTTPServer.Screen? = nil
    ) throws {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = 0
        configuration.headerTimeout = 2
        configuration.bodyTimeout = 2
        configuration.idleTimeout = 5
        configuration.sendTimeout = 5
        configuration.lingerTimeout = 0.5
        configuration.shutdownTimeout = 3
        configure(&configuration)
        var router = Router()
        TestRoutes.add(to: &router)
        routes(&router)
        let table = router
        self.configuration = configuration
        self.host = host
        server = HTTPServer(configuration: configuration, logger: Logger(level: .info, sink: log), screen: screen) {
            request, responder in
            table.handle(request, responder)
        }
        try server.start()
        port = server.port
    }

    /// A raw client connected to this server.
    func connect(timeout: Double = 5) throws -> RawClient {
        try RawClient(host: host, port: port, timeout: timeout)
    }

    /// The base URL for curl, e.g. `http://127.0.0.1:41234` or `http://[::1]:41234`.
    var url: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }

    /// Begins a graceful shutdown; the flag is set when the server calls its completion.
    func beginShutdown() -> Flag {
        let done = Flag()
        server.shutdown { done.set() }
        return done
    }

    /// Shuts down and waits, bounded, for the server to report that it is over. Every test ends with it, so that
    /// no listener or connection outlives its test.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        server.shutdown { done.signal() }
        _ = done.wait(timeout: .now() + configuration.shutdownTimeout + 1)
    }
}

/// Routes every live test can use.
enum TestRoutes {
    static func add(to router: inout Router) {
        router.add(.GET, "/hello", answering: { _ in text("hello") })
        router.add(.POST, "/echo") { request, responder in
            responder.respond(HTTPResponse(contentType: "application/octet-stream", body: request.body))
        }
        // The length and a checksum of the body, for uploads too big to echo usefully.
        router.add(.POST, "/digest", answering: { request in text("\(request.body.count) \(fnv1a(request.body))") })
        // Answers after `ms` milliseconds from another thread, with `ms` as the body.
        router.add(.GET, "/after/{ms}") { request, responder in
            let milliseconds = Int(request.pathParameters["ms"] ?? "") ?? 0
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
                responder.respond(text("\(milliseconds)"))
            }
        }
        // Answers at once and again from another thread 100 ms later, keeping its responder: the second answer
        // must reach no one (the connection reuses a response slot only when no responder holds it).
        router.add(.GET, "/twice") { _, responder in
            responder.respond(text("first"))
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) {
                responder.respond(text("again"))
            }
        }
    }

    static func text(_ string: String) -> HTTPResponse {
        HTTPResponse(contentType: "text/plain", body: Array(string.utf8))
    }
}

/// FNV-1a, 64 bits, in hex: a checksum that the test and the handler compute the same way.
func fnv1a(_ bytes: some Sequence<UInt8>) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x100_0000_01b3
    }
    return String(hash, radix: 16)
}

/// A one-way flag, set from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// A counter shared with handlers.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    @discardableResult func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Checks `condition` every 10 ms until it holds (true) or `seconds` have passed (false). For conditions that
/// become true on another thread, instead of sleeping a fixed time and hoping.
func poll(within seconds: Double, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
}

/// Seconds since `start` on the monotonic clock.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
