import DescentHTTP
import Dispatch
import Synchronization

/// Produces `chunkCount` chunks of `chunkSize` bytes on demand, then the end; counts how often it was asked,
/// so a test can tell how far ahead of the client the server pulled.
final class CountingStream: HTTPBodyStream {
    let chunk: [UInt8]
    let chunkCount: Int
    private let calls = Atomic<Int>(0)
    private let cancelled = Atomic<Bool>(false)

    init(chunkSize: Int = 64 * 1024, chunkCount: Int) {
        chunk = [UInt8](repeating: UInt8(ascii: "d"), count: chunkSize)
        self.chunkCount = chunkCount
    }

    var nextCalls: Int { calls.load(ordering: .acquiring) }
    var wasCancelled: Bool { cancelled.load(ordering: .acquiring) }
    var totalBytes: Int { chunk.count * chunkCount }

    func next(_ deliver: @escaping @Sendable (HTTPStreamChunk) -> Void) {
        let call = calls.add(1, ordering: .acquiringAndReleasing).newValue
        let piece: HTTPStreamChunk = call <= chunkCount ? .bytes(chunk) : .end
        // From another thread, as a real producer would.
        DispatchQueue.global().async { deliver(piece) }
    }

    func cancel() { cancelled.store(true, ordering: .releasing) }
}

/// An endless stream of small lines, one every `interval` seconds, until cancelled: a progress stream.
final class TickingStream: HTTPBodyStream {
    private let interval: Double
    private let ticks = Atomic<Int>(0)
    private let cancelled = Atomic<Bool>(false)

    init(interval: Double = 0.02) { self.interval = interval }

    var delivered: Int { ticks.load(ordering: .acquiring) }
    var wasCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func next(_ deliver: @escaping @Sendable (HTTPStreamChunk) -> Void) {
        DispatchQueue.global().asyncAfter(deadline: .now() + interval) { [self] in
            guard !wasCancelled else { return deliver(.end) }
            let tick = ticks.add(1, ordering: .acquiringAndReleasing).newValue
            deliver(.bytes(Array("tick \(tick)\n".utf8)))
        }
    }

    func cancel() { cancelled.store(true, ordering: .releasing) }
}

extension HTTPResponse {
    static func streaming(_ stream: any HTTPBodyStream) -> HTTPResponse {
        HTTPResponse(headers: ["Content-Type": "application/octet-stream"], body: .stream(stream))
    }
}
