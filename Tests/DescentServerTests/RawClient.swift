import DescentHTTP
import DescentPOSIX
import Foundation
import Glibc

/// Why a raw client read failed.
enum ClientError: Error, CustomStringConvertible {
    /// Nothing arrived within the receive timeout (SO_RCVTIMEO).
    case timedOut(seconds: Double, pending: String)
    /// The server closed the connection in the middle of a response.
    case closedEarly(pending: String)
    case malformed(String)

    var description: String {
        switch self {
        case .timedOut(let seconds, let pending):
            "nothing more arrived within \(seconds) s; unparsed: \(pending.debugDescription)"
        case .closedEarly(let pending):
            "the server closed the connection mid-response; unparsed: \(pending.debugDescription)"
        case .malformed(let detail): "malformed response: \(detail)"
        }
    }
}

/// A blocking TCP client that speaks HTTP/1.1 byte for byte, for what curl cannot do: half-sent heads, pipelined
/// requests in one write, reading a response and then checking that the connection was closed. Every read has
/// a receive timeout, so a server that never answers fails the test instead of hanging it.
final class RawClient {
    let socket: Socket
    private(set) var timeout: Double
    /// Received bytes not yet consumed are `buffer[start..<end]`; the buffer grows when a head does not fit.
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0

    init(host: String = "127.0.0.1", port: Int, timeout: Double = 5, bufferSize: Int = 16 * 1024) throws {
        socket = try Socket.connected(to: SocketAddress.resolve(host: host, port: port))
        self.timeout = timeout
        buffer = [UInt8](repeating: 0, count: bufferSize)
        setTimeout(timeout)
    }

    deinit { socket.close() }

    func close() { socket.close() }

    /// Sets the receive and send timeouts for the calls that follow.
    func setTimeout(_ seconds: Double) {
        timeout = seconds
        let microseconds = max(1000, Int(seconds * 1e6))
        var value = timeval(tv_sec: microseconds / 1_000_000, tv_usec: microseconds % 1_000_000)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            let result = setsockopt(
                socket.descriptor, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
            precondition(result == 0, "setsockopt(SOL_SOCKET, \(option)) failed: errno \(errno)")
        }
    }

    /// Fixes the kernel's receive buffer (turning off its autotuning) and returns the size it really uses.
    func setReceiveBuffer(_ bytes: Int32) -> Int {
        try? socket.setOption(SOL_SOCKET, SO_RCVBUF, bytes)
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(socket.descriptor, SOL_SOCKET, SO_RCVBUF, &value, &length)
        return Int(value)
    }

    // MARK: Sending

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let result = try bytes.withUnsafeBytes { try socket.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            switch result {
            case .processed(let count): offset += count
            case .wouldBlock: throw ClientError.timedOut(seconds: timeout, pending: "(sending)")
            }
        }
    }

    // MARK: Reading

    /// Reads one response. `toHEAD`: the request was HEAD, so no body follows whatever the headers say.
    /// `bodySink`: receives the body piece by piece instead of collecting it in the response.
    func readResponse(toHEAD: Bool = false, bodySink: ((ArraySlice<UInt8>) -> Void)? = nil) throws -> RawResponse {
        var response = try readHead()
        let status = response.status
        if toHEAD || status / 100 == 1 || status == 204 || status == 304 { return response }
        let sink: (ArraySlice<UInt8>) -> Void = { piece in
            response.bodyLength += piece.count
            if let bodySink { bodySink(piece) } else { response.body.append(contentsOf: piece) }
        }
        if response.isChunked {
            response.trailers = try readChunkedBody(sink)
            response.sawLastChunk = true
        } else if let length = response.headers["Content-Length"] {
            guard let length = Int(length) else { throw ClientError.malformed("Content-Length \(length)") }
            try readExactly(length, sink)
        } else {
            try readUntilClosed(sink)
        }
        return response
    }

    /// Reads on until the server closes its side; returns whatever arrived first (empty for a silent close).
    /// Throws `timedOut` when the connection stays open, and the system error when it is reset.
    func waitForClose(timeout: Double? = nil) throws -> [UInt8] {
        if let timeout { setTimeout(timeout) }
        var extra: [UInt8] = []
        try readUntilClosed { extra.append(contentsOf: $0) }
        return extra
    }

    /// Whether the server has closed the connection without sending more, judged within `timeout`.
    func isClosedByServer(within timeout: Double) -> Bool {
        (try? waitForClose(timeout: timeout))?.isEmpty ?? false
    }

    /// Reads a status line and header fields.
    func readHead() throws -> RawResponse {
        while true {
            if let headEnd = find([13, 10, 13, 10]) {
                let text = String(decoding: buffer[start..<headEnd], as: UTF8.self)
                start = headEnd + 4
                return try RawResponse(head: text)
            }
            guard try fill() else { throw ClientError.closedEarly(pending: pending) }
        }
    }

    /// Reads a chunked body (RFC 9112 §7.1) to its last chunk and trailer section; returns the trailers.
    func readChunkedBody(_ sink: (ArraySlice<UInt8>) -> Void) throws -> HTTPHeaders {
        while true {
            let sizeLine = try readLine()
            let digits = sizeLine.split(separator: ";", maxSplits: 1).first ?? ""
            guard let size = Int(digits, radix: 16), size >= 0 else {
                throw ClientError.malformed("chunk size \(sizeLine)")
            }
            if size == 0 { break }
            try readExactly(size, sink)
            guard try readLine().isEmpty else { throw ClientError.malformed("chunk data not followed by CRLF") }
        }
        var trailers = HTTPHeaders()
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            let parts = line.split(separator: ":", maxSplits: 1)
            trailers.add(String(parts[0]), String(parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""))
        }
        return trailers
    }

    private func readLine() throws -> String {
        while true {
            if let lineEnd = find([13, 10]) {
                let line = String(decoding: buffer[start..<lineEnd], as: UTF8.self)
                start = lineEnd + 2
                return line
            }
            guard try fill() else { throw ClientError.closedEarly(pending: pending) }
        }
    }

    private func readExactly(_ count: Int, _ sink: (ArraySlice<UInt8>) -> Void) throws {
        var remaining = count
        while remaining > 0 {
            if start == end {
                guard try fill() else { throw ClientError.closedEarly(pending: "(\(remaining) bytes short)") }
            }
            let take = min(remaining, end - start)
            sink(buffer[start..<start + take])
            start += take
            remaining -= take
        }
    }

    private func readUntilClosed(_ sink: (ArraySlice<UInt8>) -> Void) throws {
        while true {
            if start < end {
                sink(buffer[start..<end])
                start = end
            }
            guard try fill() else { return }
        }
    }

    /// One `read` into the free end of the buffer; false at end of stream.
    private func fill() throws -> Bool {
        if start == end {
            start = 0
            end = 0
        } else if start > 0 && end == buffer.count {
            buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        let result = try buffer.withUnsafeMutableBytes { raw in
            try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
        }
        switch result {
        case .processed(let count):
            end += count
            return count > 0
        case .wouldBlock:
            throw ClientError.timedOut(seconds: timeout, pending: pending)
        }
    }

    /// The index where `pattern` starts in the unconsumed bytes.
    private func find(_ pattern: [UInt8]) -> Int? {
        guard end - start >= pattern.count else { return nil }
        var index = start
        while index <= end - pattern.count {
            if buffer[index] == pattern[0] && buffer[index..<index + pattern.count].elementsEqual(pattern) {
                return index
            }
            index += 1
        }
        return nil
    }

    private var pending: String { String(decoding: buffer[start..<min(end, start + 300)], as: UTF8.self) }
}

/// A response as it came off the wire.
struct RawResponse {
    var version: String
    var status: Int
    var reason: String
    var headers: HTTPHeaders
    var body: [UInt8] = []
    /// Body bytes received, also when they went to a sink instead of `body`.
    var bodyLength = 0
    /// A chunked body ended with its last chunk (`0\r\n`) and the empty line after the trailers.
    var sawLastChunk = false
    var trailers = HTTPHeaders()

    init(head: String) throws {
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw ClientError.malformed("status line in \(head.debugDescription)")
        }
        version = String(statusLine[0])
        self.status = status
        reason = statusLine.count > 2 ? String(statusLine[2]) : ""
        headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                throw ClientError.malformed("field line \(line.debugDescription)")
            }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    var isChunked: Bool { headers["Transfer-Encoding"]?.lowercased() == "chunked" }
    var text: String { String(decoding: body, as: UTF8.self) }
    var connection: String? { headers["Connection"]?.lowercased() }

    /// The body as a JSON object, or nil.
    var jsonObject: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }

    /// A problem+json answer with this status: the content type, and a body whose `status` says the same.
    func isProblem(_ expected: Int) -> Bool {
        status == expected && headers["Content-Type"] == "application/problem+json"
            && (jsonObject?["status"] as? Int) == expected
    }
}
