import DescentHTTP
import Foundation
import Testing

@testable import DescentServer

extension LiveServerTests {
    /// The screen answers from a request's head, before its body is read (the service's 401 and memory 413).
    @Suite("Answering from the head")
    struct ScreenTests {
        private static let refuseUploads: HTTPServer.Screen = { head in
            guard head.path == "/echo" else { return nil }
            return Problem(.unauthorized, detail: "no key", headers: ["WWW-Authenticate": "Bearer"]).response()
        }

        @Test("a client waiting for 100 Continue gets the answer instead, sends no body, and the connection closes")
        func answeredBeforeContinue() throws {
            let server = try TestServer(screen: Self.refuseUploads)
            defer { server.stop() }
            let client = try server.connect()
            try client.send(
                "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 401)
            #expect(response.headers["WWW-Authenticate"] == "Bearer")
            #expect(response.headers["Connection"]?.lowercased() == "close")
            #expect(client.isClosedByServer(within: 3))
        }

        @Test("a body already on its way is not read as the next request; a request without a body is not screened")
        func bodyIsNeverARequest() throws {
            let server = try TestServer(screen: Self.refuseUploads)
            defer { server.stop() }
            let client = try server.connect()
            // The "body" is itself a request: were it read as one, a second response would come.
            let smuggled = "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
            try client.send(
                "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)")
            #expect(try client.readResponse().status == 401)
            #expect(try client.waitForClose(timeout: 3).isEmpty)

            let other = try server.connect()
            try other.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try other.readResponse().status == 200)
        }
    }
}
