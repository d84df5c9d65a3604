// libFuzzer target for the HTTP/2 adapter (Sources/DescentHTTP2: HTTP2Session over libnghttp2, FrameGuard).
// Built into the DescentHTTP2 module itself, with DescentHTTP and DescentLog compiled as modules of their own
// (see scripts/fuzz.sh), so internal and `package` declarations are visible without an import.
//
// Input layout: byte 0 is a selector, the rest is what a client sends after its connection preface (the
// harness sends the preface first, so the fuzzer need not find those 24 bytes). Selector bits:
//   0x8F  how the bytes are split into reads, as in fuzz/http1: 0 whole; bit 7 set: pieces of (s & 0x0F) + 1
//         bytes; otherwise pieces of 1...16 bytes from a small LCG seeded by the selector.
//   0x10  the server starts a graceful shutdown (goAway) after the first read.
//   0x20  h2c upgrade: byte 1 is a length n, the next n bytes are the HTTP2-Settings payload handed to
//         `upgrade` (stream 1 then exists, answered like any request); the frames follow.
//   0x40  with 0x20: the upgraded request was a HEAD. Without 0x20: output is taken 64 bytes at a time,
//         as from a client that reads slowly.
//
// Each input is served three times:
//   1. as the server does (Sources/DescentServer/Connection+HTTP2.swift): after every read the events are
//      acted on — a request is answered (a small body, no body, a streamed body in two pieces, or a reset,
//      by stream id), a refused request gets its problem — and the output is drained with produce(limit:);
//   2. and 3. passively (no answers, output taken once at the end), in one read and in the selected pieces.
// Checks: no crash or sanitizer report (the main point: the adapter handles libnghttp2's pointers and the
// FrameGuard slices bytes by hand); the output is whole, well-formed frames that a server may send, and
// bounded by the input (no amplification); the events make sense (one answer per stream, nothing for a closed
// stream, request heads within the limits); and the passive runs report the same events and the same output
// (WINDOW_UPDATE increments aside) however the bytes were split (the FrameGuard promises to resume at any byte
// boundary).

import DescentHTTP
import DescentLog
import Foundation

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    // Printed also in -O builds (where `precondition` drops the message), so that libFuzzer's log says which
    // invariant broke.
    FileHandle.standardError.write(Data("FuzzHTTP2 invariant broken: \(message())\n".utf8))
    fatalError("FuzzHTTP2 invariant broken")
}

/// Small limits, so that refusals, CONTINUATION bounds and the discarded-body reset are reachable in 4 KiB.
private let fuzzLimits: HTTPParserLimits = {
    var limits = HTTPParserLimits()
    limits.maxRequestLineBytes = 256
    limits.maxHeaderBytes = 1024
    limits.maxHeaderCount = 16
    limits.maxBodyBytes = 512
    return limits
}()

private let fuzzSettings: HTTP2Settings = {
    var settings = HTTP2Settings()
    settings.maxConcurrentStreams = 8
    settings.initialWindowSize = 1024
    settings.connectionWindowSize = 4096
    settings.maxHeaderBlockBytes = 2048
    settings.maxContinuations = 4
    settings.maxDiscardedBodyBytes = 256
    return settings
}()

private let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
private let date = Array("Fri, 27 Nov 2026 14:42:42 GMT".utf8)

/// Discards log lines: the harness checks behaviour, and formatting them would only slow it down.
private final class NullSink: LogSink {
    func write(_ line: [UInt8]) {}
}

private let logger = Logger(level: .error, sink: NullSink())

/// FUZZ_TRACE=1: print each input's output size, to see what the seeds (run as `.build/fuzz-http2 FILE…`) reach.
private let trace = ProcessInfo.processInfo.environment["FUZZ_TRACE"] == "1"

/// Deterministic piece lengths, as in fuzz/http1 (whole when no split bit is set).
private func pieces(of input: ArraySlice<UInt8>, selector: UInt8) -> [ArraySlice<UInt8>] {
    guard selector & 0x8F != 0, !input.isEmpty else { return [input] }
    var result: [ArraySlice<UInt8>] = []
    var state = UInt32(selector) &* 2_654_435_761
    var index = input.startIndex
    while index < input.endIndex {
        state = state &* 1_103_515_245 &+ 12_345
        let length = selector & 0x80 != 0 ? Int(selector & 0x0F) + 1 : Int((state >> 16) & 0x0F) + 1
        let end = min(index + length, input.endIndex)
        result.append(input[index..<end])
        index = end
    }
    return result
}

/// One output frame's header.
private struct OutputFrame {
    var length: Int
    var type: UInt8
    var flags: UInt8
    var stream: Int32
}

/// Splits the server's output into frames, checking each is one a server may send; nil if the bytes do not
/// end at a frame boundary.
private func frames(of bytes: ArraySlice<UInt8>) -> [OutputFrame]? {
    var frames: [OutputFrame] = []
    var offset = bytes.startIndex
    while offset < bytes.endIndex {
        guard bytes.endIndex - offset >= 9 else { return nil }
        let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
        guard bytes.endIndex - offset - 9 >= length else { return nil }
        let id = bytes[offset + 5..<offset + 9].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
        let frame = OutputFrame(length: length, type: bytes[offset + 3], flags: bytes[offset + 4], stream: Int32(id))
        // The server's frames are small here (short answers), and never beyond the default maximum size.
        check(length <= 16_384, "an output frame of \(length) bytes")
        switch frame.type {
        case 0x0, 0x1:  // DATA, HEADERS: only on client-initiated (odd) streams; the server never pushes.
            check(frame.stream > 0 && frame.stream & 1 == 1, "DATA/HEADERS on stream \(frame.stream)")
        case 0x3:  // RST_STREAM
            check(frame.stream > 0 && length == 4, "RST_STREAM on stream \(frame.stream), \(length) bytes")
        case 0x4, 0x6, 0x7:  // SETTINGS, PING, GOAWAY: connection frames
            check(frame.stream == 0, "frame type \(frame.type) on stream \(frame.stream)")
        case 0x8:  // WINDOW_UPDATE
            check(length == 4, "WINDOW_UPDATE of \(length) bytes")
        default:
            check(false, "the server sent frame type \(frame.type)")
        }
        frames.append(frame)
        offset += 9 + length
    }
    return frames
}

/// The output's frames other than WINDOW_UPDATE, bytes as sent (the output is whole frames: checked before).
private func withoutWindowUpdates(_ bytes: [UInt8]) -> [UInt8] {
    var kept: [UInt8] = []
    var offset = 0
    while offset + 9 <= bytes.count {
        let end = offset + 9 + (Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]))
        if bytes[offset + 3] != 0x8 { kept += bytes[offset..<min(end, bytes.count)] }
        offset = end
    }
    return kept
}

/// A session with the harness's bookkeeping.
private final class Harness {
    let session: HTTP2Session
    /// Answering requests and draining output after every read, as the server does; or neither.
    let interactive: Bool
    /// Bytes taken per `produce` call.
    let outputLimit: Int
    var output: [UInt8] = []
    /// Every event, as text, for comparing runs.
    var log: [String] = []
    var failed = false
    var dispatched: Set<Int32> = []
    var closed: Set<Int32> = []
    /// Streamed answers: pieces supplied so far.
    var streamedPieces: [Int32: Int] = [:]

    init(interactive: Bool, outputLimit: Int) throws(HTTP2Session.Failure) {
        session = try HTTP2Session(settings: fuzzSettings, limits: fuzzLimits, logger: logger)
        self.interactive = interactive
        self.outputLimit = outputLimit
    }

    func receive(_ bytes: ArraySlice<UInt8>) {
        guard !failed, !bytes.isEmpty else { return }
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(HTTP2Session.Failure) in try session.receive(raw) }
        }
        if case .failure(let error) = result {
            log.append("failure \(error)")
            failed = true
            // As the server does: end the session, send what it has left (a GOAWAY), read no more.
            session.terminate(.protocolError)
        }
        if interactive {
            handleEvents()
            drain()
        }
    }

    /// Takes the output until the session has nothing more, acting on the events producing leaves.
    func drain() {
        while true {
            var chunk: [UInt8] = []
            do {
                try session.produce(into: &chunk, limit: outputLimit)
            } catch {
                log.append("produce failure \(error)")
                failed = true
                return
            }
            // produce appends whole frames until it holds `limit` bytes: past it by one small frame at most.
            check(chunk.count < outputLimit + 16_393, "produce gave \(chunk.count) bytes for a limit of \(outputLimit)")
            output += chunk
            if interactive { handleEvents() }
            if chunk.isEmpty { return }
        }
    }

    func handleEvents() {
        for event in session.takeEvents() {
            record(event)
            guard interactive else { continue }
            switch event {
            case .request(let stream, let head, _):
                answer(stream, head: head)
            case .refused(let stream, let error, _):
                let response = error.problem.response()
                guard case .bytes(let body) = response.body else { continue }
                session.respond(
                    stream: stream, status: response.status, headers: response.headers, date: date,
                    requestID: "fuzz", contentLength: body.count, body: .bytes(body))
            case .wantsBody(let stream):
                let supplied = streamedPieces[stream, default: 0]
                streamedPieces[stream] = supplied + 1
                if supplied == 0 {
                    session.supply(stream: stream, Array("data: piece\n\n".utf8))
                } else {
                    session.finish(stream: stream)
                }
            case .closed:
                break
            }
        }
    }

    /// Answers a request the way handlers do, the kind of answer picked by the stream id.
    private func answer(_ stream: Int32, head: HTTPRequestHead) {
        let isHead = head.method == .HEAD
        let accepted: Bool
        switch (stream >> 1) % 4 {
        case 0:
            let body = Array("{\"status\":\"ok\"}".utf8)
            accepted = session.respond(
                stream: stream, status: .ok, headers: ["Content-Type": "application/json", "Connection": "close"],
                date: date, requestID: "fuzz", contentLength: body.count, body: isHead ? .none : .bytes(body))
        case 1:
            accepted = session.respond(
                stream: stream, status: .noContent, headers: [:], date: date, requestID: "", contentLength: nil,
                body: .none)
        case 2:
            accepted = session.respond(
                stream: stream, status: .ok, headers: ["Content-Type": "text/event-stream", "X-Bad": "a\r\nb"],
                date: date, requestID: "fuzz", contentLength: nil, body: isHead ? .none : .streamed)
        default:
            session.reset(stream: stream, .cancel)
            return
        }
        // A stream that is closed cannot be answered.
        if closed.contains(stream) { check(!accepted, "an answer accepted on closed stream \(stream)") }
    }

    /// Checks one event against what came before, and logs it.
    private func record(_ event: HTTP2Session.Event) {
        switch event {
        case .request(let stream, let head, let body):
            log.append("request \(stream) \(head.method) \(head.target) \(head.headers.count) \(body)")
            check(stream > 0 && stream & 1 == 1, "a request on stream \(stream)")
            check(dispatched.insert(stream).inserted, "a second request or refusal on stream \(stream)")
            check(!closed.contains(stream), "a request on closed stream \(stream)")
            check(head.version == .http2, "a request of version \(head.version)")
            check(body.count <= fuzzLimits.maxBodyBytes, "a body of \(body.count) bytes")
            // The host field may be added from :authority, past the count.
            check(head.headers.count <= fuzzLimits.maxHeaderCount + 1, "\(head.headers.count) header fields")
            switch head.framing {
            case .none: check(body.isEmpty, "a body without framing")
            case .contentLength(let length): check(length == body.count, "length \(length), \(body.count) bytes")
            case .chunked: check(false, "chunked framing over HTTP/2")
            }
        case .refused(let stream, let error, _):
            log.append("refused \(stream) \(error)")
            check(stream > 0 && stream & 1 == 1, "a refusal on stream \(stream)")
            check(dispatched.insert(stream).inserted, "a second request or refusal on stream \(stream)")
            check(!closed.contains(stream), "a refusal on closed stream \(stream)")
        case .wantsBody(let stream):
            log.append("wants \(stream)")
            check(dispatched.contains(stream), "wantsBody on stream \(stream), never answered")
            check(!closed.contains(stream), "wantsBody on closed stream \(stream)")
        case .closed(let stream, let error):
            log.append("closed \(stream) \(error.map { "\($0)" } ?? "-")")
            check(closed.insert(stream).inserted, "stream \(stream) closed twice")
        }
    }
}

private func serve(
    _ reads: [ArraySlice<UInt8>], interactive: Bool, outputLimit: Int, goAwayAfterFirstRead: Bool,
    upgrade: (settings: [UInt8], isHead: Bool)?
) -> Harness {
    let harness: Harness
    do {
        harness = try Harness(interactive: interactive, outputLimit: outputLimit)
    } catch {
        check(false, "the session cannot be made: \(error)")
        fatalError()
    }
    if let upgrade {
        do {
            try harness.session.upgrade(settingsPayload: upgrade.settings, isHeadRequest: upgrade.isHead)
            if interactive {
                // The server answers the upgraded request (stream 1) once the client's SETTINGS are in; here
                // it is dispatched at once, as the session allows.
                harness.dispatched.insert(1)
            }
        } catch {
            // A malformed HTTP2-Settings payload: the server closes the connection.
            harness.log.append("upgrade refused \(error)")
            return harness
        }
    }
    harness.receive(preface[...])
    var answeredUpgrade = false
    for (index, read) in reads.enumerated() {
        harness.receive(read)
        if interactive, upgrade != nil, !answeredUpgrade, harness.session.hasReceivedClientSettings {
            answeredUpgrade = true
            let accepted = harness.session.respond(
                stream: 1, status: .ok, headers: ["Content-Type": "text/plain"], date: date, requestID: "fuzz",
                contentLength: 2, body: upgrade!.isHead ? .none : .bytes(Array("ok".utf8)))
            if !harness.closed.contains(1) { check(accepted, "the upgraded stream's answer was refused") }
            harness.drain()
        }
        if index == 0 && goAwayAfterFirstRead {
            harness.session.goAway()
            if interactive { harness.drain() }
        }
    }
    harness.handleEvents()
    harness.drain()
    harness.handleEvents()
    return harness
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let selector = bytes[0]
    var input = bytes[1...]
    var upgrade: (settings: [UInt8], isHead: Bool)?
    if selector & 0x20 != 0 {
        guard let length = input.first else { return 0 }
        let start = input.startIndex + 1
        let end = min(start + Int(length), input.endIndex)
        upgrade = (Array(input[start..<end]), selector & 0x40 != 0)
        input = input[end...]
    }
    let goAway = selector & 0x10 != 0
    let slowReader = upgrade == nil && selector & 0x40 != 0

    let served = serve(
        pieces(of: input, selector: selector), interactive: true, outputLimit: slowReader ? 64 : 64 * 1024,
        goAwayAfterFirstRead: goAway, upgrade: upgrade)
    guard let output = frames(of: served.output[...]) else {
        check(false, "the output ends inside a frame")
        return 0
    }
    // Every frame the server sends answers something the client sent, and the answers are short. Measured over
    // a corpus of 700 inputs: after the opening SETTINGS and WINDOW_UPDATE (2 frames, 44 bytes), at most 1.4
    // frames per 9 input bytes (the smallest frame) and 5 bytes per input byte. The smallest request (12 bytes)
    // may get 4 frames and a refusal's problem body about 15 bytes per byte it took: the bounds leave room for
    // those, and none for a loop.
    let inputFrames = input.count / 9 + 1
    if trace { print("output: \(output.count) frames, \(served.output.count) bytes for \(input.count) bytes") }
    check(output.count <= 8 + 4 * inputFrames, "\(output.count) frames for \(input.count) bytes of input")
    check(served.output.count <= 1024 + 32 * input.count, "\(served.output.count) bytes for \(input.count)")

    // Passive runs: the same events and output in one read and in pieces.
    let whole = serve(
        [input], interactive: false, outputLimit: 1 << 20, goAwayAfterFirstRead: false, upgrade: upgrade)
    let split = serve(
        pieces(of: input, selector: selector | 0x01), interactive: false, outputLimit: 1 << 20,
        goAwayAfterFirstRead: false, upgrade: upgrade)
    check(frames(of: whole.output[...]) != nil && frames(of: split.output[...]) != nil, "a partial output frame")
    check(whole.log == split.log, "whole and split input differ:\n  whole: \(whole.log)\n  split: \(split.log)")
    // WINDOW_UPDATE frames aside: libnghttp2 credits the window as DATA arrives, so their increments follow
    // the reads.
    check(
        withoutWindowUpdates(whole.output) == withoutWindowUpdates(split.output),
        "whole and split input give different output")
    return 0
}
