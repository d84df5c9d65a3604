import Testing

@testable import DescentHTTP

/// A header field as plain values, so that heads and trailers compare with `==`.
struct Field: Equatable, Sendable, CustomStringConvertible {
    var name: String
    var value: String

    init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    var description: String { "\(name): \(value)" }
}

/// Everything the parser reports about a head, copied out so that two runs can be compared.
struct HeadSnapshot: Equatable, Sendable {
    var method: HTTPMethod
    var target: String
    var path: String
    var query: String?
    var version: HTTPVersion
    var headers: [Field]
    var framing: HTTPRequestHead.BodyFraming
    var keepAlive: Bool
    var expectsContinue: Bool

    /// `path` defaults to the whole target, which is right for targets without a query.
    init(
        _ method: HTTPMethod, _ target: String, path: String? = nil, query: String? = nil,
        version: HTTPVersion = .http1_1, headers: [Field], framing: HTTPRequestHead.BodyFraming = .none,
        keepAlive: Bool = true, expectsContinue: Bool = false
    ) {
        self.method = method
        self.target = target
        self.path = path ?? target
        self.query = query
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }

    init(_ head: HTTPRequestHead) {
        method = head.method
        target = head.target
        path = String(head.path)
        query = head.query.map(String.init)
        version = head.version
        headers = head.headers.map { Field($0.name, $0.value) }
        framing = head.framing
        keepAlive = head.keepAlive
        expectsContinue = head.expectsContinue
    }
}

/// A parser event with its bytes copied. Adjacent body events are merged when recorded, because how a
/// body is cut into pieces depends on how the input was split, and nothing else may.
enum ParsedEvent: Equatable, Sendable {
    case head(HeadSnapshot)
    case body([UInt8])
    case end(trailers: [Field])

    init(_ event: HTTPRequestParser.Event) {
        switch event {
        case .head(let head): self = .head(HeadSnapshot(head))
        case .body(let bytes): self = .body(Array(bytes))
        case .end(let trailers): self = .end(trailers: trailers.map { Field($0.name, $0.value) })
        }
    }

    static func bodyText(_ text: String) -> ParsedEvent { .body(Array(text.utf8)) }
    static let end = ParsedEvent.end(trailers: [])
}

/// What a parser made of some input: the events up to the first error, and that error, if any.
struct ParseOutcome: Equatable, Sendable {
    var events: [ParsedEvent]
    var error: HTTPParseError?
}

/// Drives a parser the way a connection does: bytes arrive in pieces and are appended to a buffer the
/// caller owns; the parser consumes what it can; whatever it leaves (a partial line) stays for the next
/// call. After each complete message the feeder resets the parser and goes on with any pipelined bytes.
struct ParserFeeder {
    private(set) var parser: HTTPRequestParser
    private(set) var events: [ParsedEvent] = []
    /// Whether consumed bytes are dropped from the front of the buffer after each call (so `from:` is 0)
    /// instead of being kept and skipped with a growing `from:` offset.
    let compacting: Bool
    private(set) var buffer: [UInt8] = []
    private(set) var start = 0

    init(limits: HTTPParserLimits = HTTPParserLimits(), compacting: Bool = false) {
        parser = HTTPRequestParser(limits: limits)
        self.compacting = compacting
    }

    /// The bytes handed over that the parser has not consumed.
    var unconsumed: ArraySlice<UInt8> { buffer[start...] }

    mutating func feed(_ bytes: some Collection<UInt8>) throws(HTTPParseError) {
        buffer.append(contentsOf: bytes)
        while start < buffer.count {
            var emitted: [ParsedEvent] = []
            let consumed: Int
            do {
                consumed = try parser.parse(buffer, from: start) { emitted.append(ParsedEvent($0)) }
            } catch {
                record(emitted)
                throw error
            }
            record(emitted)
            start += consumed
            if compacting {
                buffer.removeFirst(start)
                start = 0
            }
            guard parser.isComplete else { break }
            parser.reset()
        }
    }

    private mutating func record(_ emitted: [ParsedEvent]) {
        for event in emitted {
            if case .body(let more) = event, case .body(let earlier)? = events.last {
                events[events.count - 1] = .body(earlier + more)
            } else {
                events.append(event)
            }
        }
    }
}

/// Feeds `pieces` in order and reports the events and the first error.
func parse(
    pieces: [[UInt8]], limits: HTTPParserLimits = HTTPParserLimits(), compacting: Bool = false
) -> ParseOutcome {
    var feeder = ParserFeeder(limits: limits, compacting: compacting)
    for piece in pieces {
        do throws(HTTPParseError) {
            try feeder.feed(piece)
        } catch {
            return ParseOutcome(events: feeder.events, error: error)
        }
    }
    return ParseOutcome(events: feeder.events, error: nil)
}

func parse(_ bytes: [UInt8], limits: HTTPParserLimits = HTTPParserLimits()) -> ParseOutcome {
    parse(pieces: [bytes], limits: limits)
}

func parse(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> ParseOutcome {
    parse(pieces: [Array(text.utf8)], limits: limits)
}

/// Checks that `bytes` give `expected` when fed whole, split into two pieces at every offset (with and
/// without compacting the buffer), and fed one byte at a time. Records only the first difference.
func expectSameOutcomeHoweverSplit(
    _ bytes: [UInt8], limits: HTTPParserLimits = HTTPParserLimits(), expected: ParseOutcome,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    func check(_ outcome: ParseOutcome, _ how: String) -> Bool {
        guard outcome == expected else {
            Issue.record("fed \(how): got \(outcome), expected \(expected)", sourceLocation: sourceLocation)
            return false
        }
        return true
    }
    guard check(parse(pieces: [bytes], limits: limits), "whole") else { return }
    for compacting in [false, true] {
        for offset in 0...bytes.count {
            let pieces = [Array(bytes[..<offset]), Array(bytes[offset...])]
            let outcome = parse(pieces: pieces, limits: limits, compacting: compacting)
            guard check(outcome, "split at \(offset)\(compacting ? ", compacting" : "")") else { return }
        }
        let outcome = parse(pieces: bytes.map { [$0] }, limits: limits, compacting: compacting)
        guard check(outcome, "one byte at a time\(compacting ? ", compacting" : "")") else { return }
    }
}

/// A request made of a request line, field lines and a body, with CRLF line endings.
func request(_ requestLine: String, _ fields: [String], body: String = "") -> [UInt8] {
    Array((requestLine + "\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n" + body).utf8)
}

extension HTTPParseError {
    var isBadRequest: Bool {
        if case .badRequest = self { return true }
        return false
    }
}

extension ParseOutcome {
    /// The error is a `badRequest`, whatever its detail says.
    var isBadRequest: Bool { error?.isBadRequest ?? false }

    /// The single head reported, if there was exactly one.
    var head: HeadSnapshot? {
        let heads = events.compactMap { event -> HeadSnapshot? in
            if case .head(let head) = event { return head }
            return nil
        }
        return heads.count == 1 ? heads[0] : nil
    }
}
