// Writes the seed corpus of the http2 fuzz target (fuzz/http2/corpus/) with the tests' FrameBuilder, so the
// seeds are real frame sequences built the way the unit tests build them. Run from the repository root:
//
//   swiftc -parse-as-library Tests/DescentHTTP2Tests/FrameBuilder.swift fuzz/http2/MakeSeeds.swift \
//       -o .build/make-http2-seeds && .build/make-http2-seeds fuzz/http2/corpus
//
// Each seed is the fuzz target's selector byte (see FuzzHTTP2.swift) and what the client sends after its
// connection preface. Not part of any build; the seeds it wrote are committed.

import Foundation

@main
struct MakeSeeds {
    typealias F = FrameBuilder

    static let settings = F.settings()
    static let setup = F.settings() + F.settingsAck

    static func get(_ path: String, on stream: Int32, _ extra: [(String, String)] = []) -> [UInt8] {
        F.headers(stream: stream, F.request("GET", path, extra))
    }

    /// A POST's HEADERS (no END_STREAM) and its body in one DATA frame.
    static func post(_ path: String, on stream: Int32, body: [UInt8], _ extra: [(String, String)] = []) -> [UInt8] {
        let fields = F.request(
            "POST", path, [("content-type", "application/json"), ("content-length", String(body.count))] + extra)
        return F.headers(stream: stream, fields, endStream: false) + F.data(stream: stream, body)
    }

    static let json = Array(#"{"features": [[1, 2], [3, 4]], "targets": [1, 2]}"#.utf8)

    /// PRIORITY (RFC 9113 §6.3, deprecated but legal): exclusive bit, dependency, weight.
    static func priority(stream: Int32, dependsOn: Int32, weight: UInt8) -> [UInt8] {
        F.frame(0x2, stream: stream, payload: F.bigEndian(UInt32(dependsOn) | 0x8000_0000) + [weight])
    }

    static func goAway(lastStream: Int32, code: UInt32) -> [UInt8] {
        F.frame(FrameType.goAway, payload: F.bigEndian(UInt32(lastStream)) + F.bigEndian(code) + Array("bye".utf8))
    }

    static let seeds: [(String, UInt8, [UInt8])] = [
        ("get-healthz", 0, setup + get("/healthz", on: 1)),
        ("get-healthz-split-2", 0x81, setup + get("/healthz", on: 1)),
        ("get-healthz-split-random", 0x07, setup + get("/healthz", on: 1)),
        ("no-settings-get", 0, get("/v1/jobs?status=running", on: 1)),
        (
            "four-answers", 0,
            setup + get("/v1/jobs", on: 1) + get("/v1/datasets", on: 3) + get("/v1/jobs/j1/events", on: 5)
                + get("/healthz", on: 7)
        ),
        ("post-data", 0, setup + post("/v1/datasets", on: 1, body: json)),
        (
            "post-two-data-frames", 0,
            setup
                + F.headers(
                    stream: 1, F.request("POST", "/v1/jobs", [("content-type", "application/json")]),
                    endStream: false)
                + F.data(stream: 1, Array(json[0..<20]), endStream: false) + F.windowUpdate(stream: 0, increment: 1000)
                + F.data(stream: 1, Array(json[20...]))
        ),
        (
            "post-trailers", 0,
            setup + F.headers(stream: 1, F.request("POST", "/v1/jobs"), endStream: false)
                + F.data(stream: 1, json, endStream: false) + F.headers(stream: 1, [("x-checksum", "abc")])
        ),
        (
            "expect-100-continue", 0,
            setup
                + F.headers(
                    stream: 1, F.request("POST", "/v1/datasets", [("expect", "100-continue")]), endStream: false)
                + F.data(stream: 1, json)
        ),
        ("expect-other", 0, setup + get("/", on: 1, [("expect", "magic")])),
        ("ping", 0, setup + F.ping([1, 2, 3, 4, 5, 6, 7, 8]) + F.ping([0, 0, 0, 0, 0, 0, 0, 0], ack: true)),
        (
            "window-update", 0,
            setup + F.windowUpdate(stream: 0, increment: 65535) + get("/", on: 1)
                + F.windowUpdate(stream: 1, increment: 1)
        ),
        (
            "rst-stream", 0,
            setup + F.headers(stream: 1, F.request("POST", "/v1/jobs"), endStream: false)
                + F.rstStream(stream: 1, code: 8) + get("/healthz", on: 3)
        ),
        (
            "continuation", 0,
            setup + F.headers(stream: 1, block: F.headerBlock(F.request("GET", "/v1/jobs")), endHeaders: false)
                + F.continuation(stream: 1, block: F.headerBlock([("accept", "text/event-stream")]), endHeaders: false)
                + F.continuation(stream: 1, block: F.headerBlock([("user-agent", "fuzz")]), endHeaders: true)
        ),
        (
            "continuation-flood", 0,
            setup + F.headers(stream: 1, block: F.headerBlock(F.request("GET", "/")), endHeaders: false)
                + (0..<6).flatMap { _ in
                    F.continuation(stream: 1, block: F.headerBlock([("a", "b")]), endHeaders: false)
                }
        ),
        ("goaway", 0, setup + get("/healthz", on: 1) + goAway(lastStream: 0, code: 0) + get("/", on: 3)),
        (
            "priority", 0,
            setup + priority(stream: 3, dependsOn: 1, weight: 16)
                + F.frame(
                    FrameType.headers, flags: 0x25, stream: 1,
                    payload: F.bigEndian(UInt32(0)) + [255] + F.headerBlock(F.request("GET", "/")))
        ),
        (
            "padded", 0,
            setup
                + F.frame(
                    FrameType.headers, flags: 0x0C, stream: 1,
                    payload: [4] + F.headerBlock(F.request("POST", "/")) + [0, 0, 0, 0])
                + F.frame(0x0, flags: 0x09, stream: 1, payload: [2, 0x41, 0x42, 0, 0])
        ),
        ("stream-order", 0, setup + get("/", on: 3) + get("/", on: 1)),
        ("closed-stream", 0, setup + get("/", on: 1) + get("/", on: 1)),
        ("even-stream", 0, setup + get("/", on: 2)),
        (
            "refused-large-body", 0,
            setup
                + F.headers(
                    stream: 1, F.request("POST", "/v1/datasets", [("content-length", "10000")]), endStream: false)
                + F.data(stream: 1, [UInt8](repeating: 0x61, count: 300), endStream: false)
                + F.data(stream: 1, [UInt8](repeating: 0x62, count: 300))
        ),
        (
            "body-over-limit", 0,
            setup + F.headers(stream: 1, F.request("PUT", "/v1/x"), endStream: false)
                + F.data(stream: 1, [UInt8](repeating: 0x30, count: 600))
        ),
        (
            "too-many-headers", 0,
            setup + get("/", on: 1, (0..<20).map { ("x-h\($0)", "v") })
        ),
        ("long-path", 0, setup + get("/" + String(repeating: "a", count: 300), on: 1)),
        ("unknown-method", 0, setup + F.headers(stream: 1, F.request("BREW", "/pot"))),
        ("head", 0, setup + F.headers(stream: 1, F.request("HEAD", "/v1/jobs")) + get("/", on: 3)),
        ("connect", 0, setup + F.headers(stream: 1, [(":method", "CONNECT"), (":authority", "example.test:443")])),
        (
            "missing-pseudo", 0,
            setup + F.headers(stream: 1, [(":method", "GET"), (":path", "/")]) + get("/", on: 3)
        ),
        (
            "too-many-streams", 0,
            setup
                + stride(from: Int32(1), through: 21, by: 2).flatMap {
                    F.headers(stream: $0, F.request("POST", "/"), endStream: false)
                }
        ),
        (
            "settings-parameters", 0,
            F.settings([(0x1, 0), (0x2, 0), (0x3, 1), (0x4, 16), (0x5, 16384), (0x6, 100)]) + F.settingsAck
                + get("/", on: 1)
        ),
        ("settings-bad-window", 0, F.settings([(0x4, 0x8000_0000)])),
        // RFC 7541 C.3.1/C.3.2: indexed fields, and a literal with incremental indexing then used from the
        // dynamic table.
        (
            "hpack-indexed", 0,
            setup + F.headers(stream: 1, block: [0x82, 0x86, 0x84, 0x41, 0x0f] + Array("www.example.com".utf8))
                + F.headers(stream: 3, block: [0x82, 0x86, 0x84, 0xbe, 0x58, 0x08] + Array("no-cache".utf8))
        ),
        // RFC 7541 C.4.1: the same request with Huffman-coded strings.
        (
            "hpack-huffman", 0,
            setup
                + F.headers(
                    stream: 1,
                    block: [
                        0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4,
                        0xff,
                    ])
        ),
        // A dynamic table size update (to 0, then 4096) at the start of a block.
        ("hpack-table-size", 0, setup + F.headers(stream: 1, block: [0x20, 0x3f, 0xe1, 0x1f, 0x82, 0x86, 0x84, 0xbe])),
        ("hpack-bad-index", 0, setup + F.headers(stream: 1, block: [0xff, 0xff, 0xff, 0x7f])),
        ("unknown-frame", 0, setup + F.frame(0xfa, flags: 0xff, stream: 9, payload: [1, 2, 3]) + get("/", on: 1)),
        ("data-on-idle", 0, setup + F.data(stream: 5, [1, 2, 3])),
        (
            "slow-reader", 0x40,
            setup + get("/v1/jobs", on: 1) + get("/v1/jobs/j/events", on: 5) + F.ping([UInt8](repeating: 0, count: 8))
        ),
        ("server-goaway", 0x10, setup + get("/", on: 1) + get("/v1/jobs/j/events", on: 5) + get("/", on: 9)),
        // h2c upgrade: 6 bytes of HTTP2-Settings (MAX_CONCURRENT_STREAMS 100), then the client's frames.
        ("upgrade", 0x20, [6, 0, 3, 0, 0, 0, 100] + setup + get("/", on: 3)),
        ("upgrade-head", 0x60, [0] + setup + F.rstStream(stream: 1, code: 8)),
        ("upgrade-bad-settings", 0x20, [5, 0, 3, 0, 0, 0] + setup),
    ]

    static func main() throws {
        let directory = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "fuzz/http2/corpus"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, selector, bytes) in seeds {
            try Data([selector] + bytes).write(to: URL(fileURLWithPath: "\(directory)/\(name)"))
        }
        print("wrote \(seeds.count) seeds to \(directory)")
    }
}
