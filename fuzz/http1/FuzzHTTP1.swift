// libFuzzer target for the HTTP/1.1 request parser. Built into the DescentHTTP module itself (see
// scripts/fuzz.sh), so `package` declarations are visible without an import.
//
// Input layout: byte 0 chooses how the rest is split into reads (and whether consumed bytes are compacted
// away between reads, as Connection.compactInput does); bytes 1... are what the client sends. Each input is
// parsed twice — in one read, and in the chosen pieces — and both runs must report the same events.

import Foundation

/// What one run reported, normalised so that runs over differently split input compare with `==`: adjacent
/// body pieces are merged into one.
private enum Record: Equatable {
    case head(String)
    case body([UInt8])
    case end([String])
    case error(HTTPParseError)
}

/// Like `precondition`, but prints the message also in -O builds (where `precondition` drops it), so that
/// libFuzzer's log says which invariant broke.
private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    fail(message())
}

private func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("FuzzHTTP1 invariant broken: \(message)\n".utf8))
    fatalError(message)
}

/// Whether the runs must also fail with the same error (on by default since the parser checks a line's length
/// before its ending: fuzz/http1/crashes/, HTTPRequestParserFuzzRegressionTests). FUZZ_STRICT_ERRORS=0 relaxes
/// it to "the same events, then some error".
private let strictErrors = ProcessInfo.processInfo.environment["FUZZ_STRICT_ERRORS"] != "0"

private let fuzzLimits: HTTPParserLimits = {
    var limits = HTTPParserLimits()
    limits.maxRequestLineBytes = 256
    limits.maxHeaderBytes = 1024
    limits.maxHeaderCount = 16
    limits.maxBodyBytes = 4096
    limits.maxChunkLineBytes = 64
    return limits
}()

/// Deterministic piece lengths (1...16 bytes, or whole when `selector` is 0) from a small LCG.
private func pieces(of input: ArraySlice<UInt8>, selector: UInt8) -> [ArraySlice<UInt8>] {
    guard selector != 0 else { return [input] }
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

private func describe(_ head: HTTPRequestHead) -> String {
    let fields = head.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    return "\(head.method) \(head.target) \(head.path) \(head.query ?? "-") \(head.version) \(head.framing) "
        + "\(head.keepAlive) \(head.expectsContinue)\n\(fields)"
}

/// Exercises the pure helpers that handlers call on a parsed head.
private func checkHead(_ head: HTTPRequestHead) {
    check(head.path.hasPrefix("/") || head.path == "*", "path does not start with / or *: \(head.path)")
    _ = PercentDecoding.decode(head.path)
    let request = HTTPRequest(head: head)
    guard let query = head.query else {
        check(request.queryParameter("a") == nil, "queryParameter without a query")
        return
    }
    _ = PercentDecoding.decode(query, plusAsSpace: true)
    _ = request.queryParameter("a")
    _ = request.queryParameter("")
    if let firstPair = query.split(separator: "&").first {
        let key = firstPair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
        if let name = PercentDecoding.decode(key, plusAsSpace: true) {
            check(request.queryParameter(name) != nil, "first query parameter \(name) not found")
        }
    }
}

/// Feeds `reads` to a parser the way Connection does, checking invariants; returns what was reported.
private func run(_ reads: [ArraySlice<UInt8>], compact: Bool) -> [Record] {
    var parser = HTTPRequestParser(limits: fuzzLimits)
    var records: [Record] = []
    var buffer: [UInt8] = []
    var start = 0
    // The message being read: its head, and how many body bytes it delivered.
    var head: HTTPRequestHead?
    var delivered = 0
    var ended = false

    func receive(_ event: HTTPRequestParser.Event) {
        check(!ended, "an event after .end before reset()")
        switch event {
        case .head(let newHead):
            check(head == nil, "a second head in one message")
            checkHead(newHead)
            head = newHead
            records.append(.head(describe(newHead)))
        case .body(let bytes):
            guard let head else { fail("body before head") }
            check(!bytes.isEmpty, "an empty body event")
            check(head.framing != .none, "body for a message without framing")
            delivered += bytes.count
            check(delivered <= fuzzLimits.maxBodyBytes, "body beyond maxBodyBytes")
            if case .contentLength(let length) = head.framing {
                check(delivered <= length, "more body than Content-Length")
            }
            if case .body(let previous) = records.last {
                records[records.count - 1] = .body(previous + bytes)
            } else {
                records.append(.body(Array(bytes)))
            }
        case .end(let trailers):
            guard let head else { fail("end before head") }
            if case .contentLength(let length) = head.framing {
                check(delivered == length, "Content-Length \(length) but \(delivered) body bytes")
            }
            if head.framing == .none { check(delivered == 0, "body bytes without framing") }
            if head.framing != .chunked { check(trailers.count == 0, "trailers without chunked") }
            ended = true
            records.append(.end(trailers.map { "\($0.name): \($0.value)" }))
        }
    }

    for read in reads {
        buffer.append(contentsOf: read)
        while start < buffer.count {
            let available = buffer.count - start
            let consumed: Int
            do {
                consumed = try parser.parse(buffer, from: start, receive)
            } catch {
                records.append(.error(strictErrors ? error : .badRequest("(any error)")))
                // After an error the connection closes: nothing more may be parsed.
                return records
            }
            check(consumed >= 0 && consumed <= available, "consumed \(consumed) of \(available)")
            start += consumed
            if parser.isComplete {
                check(ended, "complete without .end")
                parser.reset()
                check(parser.isAtMessageStart && parser.head == nil, "reset() left state behind")
                head = nil
                delivered = 0
                ended = false
                continue
            }
            check(!ended, ".end without isComplete")
            if consumed == 0 { break }
        }
        if compact && start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
    }
    return records
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let selector = bytes[0]
    let input = bytes[1...]
    let whole = run([input], compact: false)
    let split = run(pieces(of: input, selector: selector), compact: selector & 0x40 != 0)
    if whole != split {
        fail("whole and split input differ:\n  whole: \(whole)\n  split: \(split)")
    }
    let byteWise = run(input.indices.map { input[$0...$0] }, compact: selector & 0x20 != 0)
    if whole != byteWise {
        fail("whole and byte-by-byte input differ:\n  whole: \(whole)\n  bytes: \(byteWise)")
    }
    return 0
}
