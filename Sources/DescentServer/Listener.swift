import DescentHTTP
import DescentPOSIX
import Dispatch

/// Accepts connections on one listening socket from a Dispatch read source, and hands each to a new
/// `Connection`, or answers 503 when the server already holds its maximum.
///
/// Thread-safety: every mutable property is touched only on `queue`.
final class Listener: @unchecked Sendable {
    let address: SocketAddress
    private let socket: Socket
    private let queue = DispatchQueue(label: "descent.accept")
    private let source: any DispatchSourceRead
    private unowned let server: HTTPServer
    private let lanes: [EventLane]
    private var nextLane = 0
    private var paused = false

    init(address: SocketAddress, server: HTTPServer, lanes: [EventLane]) throws(SystemError) {
        socket = try Socket.listening(on: address)
        self.address = (try? socket.localAddress()) ?? address
        self.server = server
        self.lanes = lanes
        source = DispatchSource.makeReadSource(fileDescriptor: socket.descriptor, queue: queue)
    }

    func start() {
        source.setEventHandler { [self] in acceptPending() }
        source.setCancelHandler { [socket] in socket.close() }
        source.activate()
    }

    /// Stops accepting and closes the listening socket.
    func stop() {
        queue.async { [self] in
            if paused { source.resume() }
            paused = false
            source.cancel()
        }
    }

    private func acceptPending() {
        // A bounded batch per event, so one busy listener cannot starve the queue's other work.
        for _ in 0..<64 {
            // `stop` cancels the source asynchronously; a batch already running must not accept past it, or a
            // connection could arrive after the shutdown found none left and completed.
            guard !server.isDraining else { return }
            let accepted: (Socket, SocketAddress)?
            do {
                accepted = try socket.accept()
            } catch {
                if error.errno == .tooManyOpenFiles || error.errno == .tooManyOpenFilesInSystem {
                    server.logger.error(
                        "out of file descriptors; pausing accept for 100 ms", ["error": .string("\(error)")])
                    pauseBriefly()
                } else {
                    server.logger.error("accept failed", ["error": .string("\(error)")])
                }
                return
            }
            guard let (client, remote) = accepted else { return }
            client.disableNagle()
            if server.connectionCount >= server.configuration.maxConnections {
                reject(client)
                continue
            }
            nextLane = (nextLane + 1) % lanes.count
            let connection = Connection(socket: client, remote: remote, server: server, lane: lanes[nextLane])
            guard server.register(connection) else {
                client.close()
                return
            }
            connection.start()
        }
    }

    /// Answers 503 on a connection over the limit and closes it, without ever blocking.
    private func reject(_ client: Socket) {
        let problem = Problem(
            .serviceUnavailable, detail: "The server has reached its limit of open connections; try again shortly.",
            headers: ["Retry-After": "1"])
        let response = problem.response()
        guard case .bytes(let body) = response.body else { return }
        var bytes: [UInt8] = []
        HTTPResponseEncoder.appendHead(
            response.status, headers: response.headers, contentLength: body.count, chunked: false, keepAlive: false,
            requestID: server.requestIDs.next(), into: &bytes)
        bytes.append(contentsOf: body)
        _ = bytes.withUnsafeBytes { try? client.write($0) }
        client.shutdownWrite()
        // Read what the client already sent, so closing does not reset the connection under the 503.
        withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 1) { scratch in
            _ = try? client.read(into: scratch)
        }
        client.close()
    }

    private func pauseBriefly() {
        guard !paused else { return }
        paused = true
        source.suspend()
        queue.asyncAfter(deadline: .now() + 0.1) { [self] in
            guard paused else { return }
            paused = false
            source.resume()
        }
    }
}
