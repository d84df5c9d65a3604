import DescentHTTP
import DescentTestSupport
import Foundation
import Testing

extension LiveServerTests {
    @Suite("With curl", .enabled(if: Curl.isInstalled, "curl is not installed at /usr/bin/curl"))
    struct CurlTests {
        @Test("curl reuses one keep-alive connection for two requests")
        func curlReusesTheConnection() throws {
            let server = try TestServer()
            defer { server.stop() }
            let result = try Curl.run([
                "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n",
                "\(server.url)/hello", "\(server.url)/hello",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            // num_connects: new connections made for that transfer; 0 for the second means it was reused.
            #expect(result.output == "200 1\n200 0\n")
        }

        @Test("curl --http1.0 gets its answer with Connection: close")
        func curlHTTP10() throws {
            let server = try TestServer()
            defer { server.stop() }
            let result = try Curl.run(["--http1.0", "-D", "-", "\(server.url)/hello"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(result.output.contains("\r\nConnection: close\r\n"))
            #expect(result.output.hasSuffix("\r\n\r\nhello"))
        }

        @Test("curl -I gets the headers and Content-Length of a GET without a body")
        func curlHead() throws {
            let server = try TestServer()
            defer { server.stop() }
            let result = try Curl.run(["-I", "\(server.url)/hello"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output.contains("Content-Length: 5\r\n"))
            #expect(result.output.contains("X-Request-Id: "))
            #expect(!result.output.contains("hello"))
        }

        @Test("curl's upload of more than 1 MB with Expect: 100-continue is answered without curl's one-second wait")
        func curlExpectContinue() throws {
            let server = try TestServer()
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            let payload = patternBytes(1_500_000)
            let file = try directory.file("upload.bin", contents: payload)
            let result = try Curl.run([
                "-v", "-H", "Expect: 100-continue", "-H", "Content-Type: application/octet-stream",
                "--data-binary", "@\(file)", "-w", "\\n%{http_code}", "\(server.url)/digest",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.output.split(separator: "\n")
            try #require(lines.count == 2, "\(result.output)")
            #expect(lines[0] == "\(payload.count) \(fnv1a(payload))")
            #expect(lines[1] == "200")
            // curl waits a second for a 100 Continue, then sends the body anyway and says so (-v). Read from its
            // trace rather than timed, so that a slower build (scripts/sanitize.sh) still tests the same thing.
            #expect(result.stderr.contains("< HTTP/1.1 100 Continue"), "\(result.stderr)")
            #expect(
                !result.stderr.contains("Done waiting for 100-continue"),
                "curl waited for 100 Continue: \(result.stderr)")
        }

        @Test("curl's chunked upload reaches the handler intact")
        func curlChunkedUpload() throws {
            let server = try TestServer()
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            let payload = patternBytes(700_000)
            let file = try directory.file("upload.bin", contents: payload)
            let result = try Curl.run([
                "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(file)", "\(server.url)/digest",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output == "\(payload.count) \(fnv1a(payload))")
        }

        @Test("curl -N reads a streamed body to its end")
        func curlReadsAStream() throws {
            let stream = CountingStream(chunkSize: 10_000, chunkCount: 50)
            let server = try TestServer { $0.add(.GET, "/stream", answering: { _ in .streaming(stream) }) }
            defer { server.stop() }
            let result = try Curl.run(["-N", "-D", "/dev/stderr", "\(server.url)/stream"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.count == stream.totalBytes)
            #expect(result.stderr.contains("Transfer-Encoding: chunked"))
        }

        @Test("curl sees an error as problem+json with the request id it sent")
        func curlSeesAProblem() throws {
            let server = try TestServer()
            defer { server.stop() }
            let result = try Curl.run([
                "-H", "X-Request-Id: curl-1", "-D", "/dev/stderr", "-w", "\\n%{http_code} %{content_type}",
                "\(server.url)/nowhere",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output.hasSuffix("\n404 application/problem+json"))
            #expect(result.output.contains(#""status":404"#))
            #expect(result.stderr.contains("X-Request-Id: curl-1\r\n"))
        }

        @Test("curl over IPv6 gets an answer", .enabled(if: hasIPv6Loopback(), "this machine has no IPv6 loopback"))
        func curlOverIPv6() throws {
            let server = try TestServer(host: "::1")
            defer { server.stop() }
            let result = try Curl.run(["-g", "\(server.url)/hello"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output == "hello")
        }
    }
}
