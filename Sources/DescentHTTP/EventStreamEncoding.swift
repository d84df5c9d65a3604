/// The two framings of a progress stream (API.md, "The progress stream"): Server-Sent Events (the WHATWG
/// HTML standard's `text/event-stream`) and NDJSON (one JSON object per line).
package enum EventStreamFormat: Sendable {
    case serverSentEvents
    case ndjson

    /// NDJSON when `Accept` asks for it, SSE otherwise (the default).
    package init(accept: String?) {
        self = accept?.lowercased().contains("application/x-ndjson") == true ? .ndjson : .serverSentEvents
    }

    package var contentType: String {
        switch self {
        case .serverSentEvents: "text/event-stream; charset=utf-8"
        case .ndjson: "application/x-ndjson"
        }
    }

    /// Appends one event. `json` is a compact JSON object (no line breaks), `{…}`; for NDJSON the `"event"`
    /// member is put first into it.
    package func append(event: String, id: Int?, json: [UInt8], to output: inout [UInt8]) {
        switch self {
        case .serverSentEvents:
            if let id { output.append(contentsOf: "id: \(id)\n".utf8) }
            output.append(contentsOf: "event: \(event)\ndata: ".utf8)
            output.append(contentsOf: json)
            output.append(contentsOf: "\n\n".utf8)
        case .ndjson:
            output.append(contentsOf: "{\"event\":\"\(event)\"".utf8)
            if json.count > 2 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: json.dropFirst())
            output.append(UInt8(ascii: "\n"))
        }
    }

    /// What keeps an idle connection from being dropped by proxies: an SSE comment, or an empty NDJSON line
    /// (which NDJSON readers skip).
    package var keepAlive: [UInt8] {
        switch self {
        case .serverSentEvents: Array(": keep-alive\n\n".utf8)
        case .ndjson: Array("\n".utf8)
        }
    }
}
