import Foundation
import Testing

@testable import DescentLog

@Suite("Logger")
struct LoggerTests {
    private func decode(_ line: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any])
    }

    @Test("each line is one JSON object with time, level, message, metadata and fields")
    func writesStructuredLines() throws {
        let sink = MemorySink()
        let logger = Logger(level: .info, sink: sink).with("component", "server")
        logger.info("request", ["status": .int(200), "ok": .bool(true), "ms": .double(1.5)])
        let entry = try decode(try #require(sink.entries.first))
        #expect(entry["level"] as? String == "info")
        #expect(entry["msg"] as? String == "request")
        #expect(entry["component"] as? String == "server")
        #expect(entry["status"] as? Int == 200)
        #expect(entry["ok"] as? Bool == true)
        #expect(entry["ms"] as? Double == 1.5)
        let time = try #require(entry["time"] as? String)
        #expect(time.hasSuffix("Z") && time.count == 24)
    }

    @Test("lines below the logger's level are not written")
    func filtersByLevel() {
        let sink = MemorySink()
        let logger = Logger(level: .warning, sink: sink)
        logger.info("hidden")
        logger.debug("hidden")
        logger.warning("shown")
        logger.error("shown")
        #expect(sink.entries.count == 2)
    }

    @Test("quotes, backslashes, newlines and control characters are escaped so a line stays one line")
    func escapesStrings() throws {
        let sink = MemorySink()
        let nasty = "a\"b\\c\nd\re\tf\u{01}g\u{1F}h é"
        Logger(sink: sink).info(nasty, ["path": .string(nasty)])
        let line = try #require(sink.entries.first)
        #expect(!line.contains("\n"))
        let entry = try decode(line)
        #expect(entry["msg"] as? String == nasty)
        #expect(entry["path"] as? String == nasty)
    }

    @Test("non-finite doubles are written as null, keeping the line valid JSON")
    func nonFiniteDoubles() throws {
        let sink = MemorySink()
        Logger(sink: sink).info("x", ["value": .double(.nan)])
        let entry = try decode(try #require(sink.entries.first))
        #expect(entry["value"] is NSNull)
    }

    @Test("level names parse case-insensitively and unknown names do not")
    func levelNames() {
        #expect(LogLevel(name: "WARNING") == .warning)
        #expect(LogLevel(name: "debug") == .debug)
        #expect(LogLevel(name: "verbose") == nil)
    }
}
