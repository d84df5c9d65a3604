import DescentHTTP
import DescentHTTP2
import Foundation

/// What the HTTP server needs to know: where to listen, how much to accept, and how long to wait.
package struct ServerConfiguration: Sendable {
    package var host = "0.0.0.0"
    /// 0 asks the kernel for a free port (tests); `HTTPServer.port` tells which.
    package var port = 8080
    package var limits = HTTPParserLimits()
    /// What HTTP/2 connections are offered (h2c on the same port; the request limits above apply too).
    package var http2 = HTTP2Settings()
    /// Open connections beyond this are answered 503 and closed at once, instead of exhausting descriptors.
    package var maxConnections = 10_000
    /// Event lanes (serial queues, so at most one thread each) that read and write the sockets; connections
    /// are spread over them round-robin.
    package var ioThreads = ProcessInfo.processInfo.activeProcessorCount
    /// From the first byte of a request to the end of its header section (slow-loris defence).
    package var headerTimeout = 10.0
    /// Longest pause while a request body arrives.
    package var bodyTimeout = 30.0
    /// Longest wait for the next request on a keep-alive connection.
    package var idleTimeout = 60.0
    /// Longest time a response may sit unsent because the client does not read.
    package var sendTimeout = 60.0
    /// After a response on a connection we close, how long to keep reading (and discarding) so that the
    /// kernel does not answer late client bytes with a RST that would destroy the response in flight.
    package var lingerTimeout = 2.0
    /// Graceful shutdown waits this long for in-flight requests before it closes everything.
    package var shutdownTimeout = 10.0
    /// Bytes of pipelined requests read ahead while one request is being answered; beyond it, reading pauses.
    package var maxReadAheadBytes = 1 << 20

    package init() {}
}
