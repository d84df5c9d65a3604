import DescentJSON
import DescentJobs
import DescentMath
import DescentService
import DescentTestSupport
import Foundation
import Testing

/// Issue 4's proof of the whole path: the real binary, real curl, each upload format → a job → its progress
/// stream → final weights that equal, bit for bit, what the Math library computes for the same data, spec
/// and seed when called directly.
@Suite(
    "Jobs end to end (real binary, curl)",
    .enabled(if: DescentBinary.exists && Curl.isInstalled, "needs .build/debug/descent and curl"))
struct JobsEndToEndTests {
    struct Case: CustomStringConvertible, Sendable {
        var description: String
        var contentType: String
        var query: String
        var body: [UInt8]
        var spec: String
        /// The same bytes through the parser the service uses.
        var parse: @Sendable ([UInt8]) throws -> Dataset
    }

    static let cases: [Case] = [
        Case(
            description: "CSV, linear, minibatch with shuffling, standardized", contentType: "text/csv",
            query: "?target=y", body: Array(EndToEndData.csv.utf8),
            spec:
                #"{"standardize": true, "optimizer": {"method": "minibatch", "batch_size": 3, "learning_rate": 0.05},"#
                + #" "stopping": {"max_iterations": 60}, "seed": 42, "report_every": 5}"#,
            parse: { try CSVDatasetParser.parse($0, targetColumn: "y") }),
        Case(
            description: "JSON, logistic, adam, l2", contentType: "application/json", query: "",
            body: Array(EndToEndData.json.utf8),
            spec: #"{"model": "logistic", "regularization": {"l2": 0.01},"#
                + #" "optimizer": {"method": "adam", "learning_rate": 0.1}, "stopping": {"max_iterations": 80}}"#,
            parse: { try JSONDatasetParser.parse($0).dataset }),
        Case(
            description: ".npy float64 C order, huber, nesterov, auto rate", contentType: "application/x-npy",
            query: "", body: EndToEndData.npy(fortran: false),
            spec: #"{"loss": "huber", "loss_params": {"delta": 0.5}, "#
                + #""optimizer": {"method": "nesterov", "learning_rate": "auto"}, "stopping": {"max_iterations": 40}}"#,
            parse: { try NPYDatasetParser.parse($0) }),
        Case(
            description: ".npy float64 Fortran order, sgd, validation split", contentType: "application/x-npy",
            query: "?target_index=0", body: EndToEndData.npy(fortran: true),
            spec: #"{"optimizer": {"method": "sgd", "learning_rate": 0.01}, "validation": {"fraction": 0.25},"#
                + #" "stopping": {"max_iterations": 30, "patience": 100}, "seed": 7}"#,
            parse: { try NPYDatasetParser.parse($0, targetIndex: 0) }),
    ]

    @Test("upload → job → SSE stream → weights equal the Math library's, bit for bit", arguments: cases)
    func weightsMatchTheLibrary(_ testCase: Case) throws {
        let directory = try TemporaryDirectory()
        let (descent, port) = try RunningDescent.start(in: directory)
        defer { kill(descent.process.processIdentifier, SIGTERM) }
        let base = "http://127.0.0.1:\(port)"

        let upload = try directory.file("upload", contents: testCase.body)
        let created = try Curl.run([
            "-w", "\n%{http_code}", "-H", "Content-Type: \(testCase.contentType)", "--data-binary", "@\(upload)",
            "\(base)/v1/datasets\(testCase.query)",
        ])
        let (datasetBody, datasetStatus) = splitStatus(created.output)
        #expect(datasetStatus == 201, "\(datasetBody)")
        let datasetID = try #require(try object(datasetBody)["id"].flatMap(string), "\(datasetBody)")

        let specText = "{\"dataset_id\": \"\(datasetID)\", " + testCase.spec.dropFirst()
        let submitted = try Curl.run([
            "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "--data-binary", specText,
            "\(base)/v1/jobs",
        ])
        let (jobBody, jobStatus) = splitStatus(submitted.output)
        #expect(jobStatus == 202, "\(jobBody)")
        let jobID = try #require(try object(jobBody)["id"].flatMap(string))

        // The stream ends by itself after the result event.
        let stream = try Curl.run(["-N", "\(base)/v1/jobs/\(jobID)/events"])
        let events = ServerSentEvents.parse(stream.output)
        let progressIDs = events.filter { $0.event == "progress" }.compactMap { $0.id.flatMap { Int($0) } }
        #expect(!progressIDs.isEmpty)
        #expect(progressIDs == progressIDs.sorted() && Set(progressIDs).count == progressIDs.count)
        #expect(events.first?.event == "status")
        let last = try #require(events.last)
        #expect(last.event == "result")
        let job = try object(last.data)
        #expect(job["status"] == .string("succeeded"), "\(last.data)")
        let result = try #require(job["result"]?.objectValue)

        // The same computation, in process.
        let dataset = try testCase.parse(testCase.body)
        let spec = try JobSpec.decode(try object(specText), datasetID: datasetID)
        let (model, configuration) = try spec.training(on: dataset)
        let expected = try Trainer(model: model, configuration: configuration).run()
        let weights = try #require(numbers(result["weights"]))
        #expect(
            weights.map(\.bitPattern) == expected.weights[0].map(\.bitPattern), "\(weights) vs \(expected.weights[0])")
        #expect(numbers(.array([result["intercept"] ?? .null]))?.first?.bitPattern == expected.intercepts[0].bitPattern)
        #expect(result["iterations"] == .number(Double(expected.iterations)))
        #expect(result["loss"] == .number(expected.loss))
        #expect(result["stop_reason"] == .string(expected.stopReason.rawValue))
    }

    @Test("an idle stream sends keep-alive comments; a cancelled job's stream ends with its result")
    func keepAliveThenCancel() throws {
        let directory = try TemporaryDirectory()
        let (descent, port) = try RunningDescent.start(in: directory, extraArguments: ["--stream-keepalive", "0.3"])
        defer { kill(descent.process.processIdentifier, SIGTERM) }
        let base = "http://127.0.0.1:\(port)"
        // A job that reports only at its end, far away: the stream has nothing to say but keep-alives.
        let spec =
            #"{"dataset": {"features": [[1], [2], [3], [4]], "targets": [2, 4, 6, 8]}, "report_every": 10000000,"#
            + #" "stopping": {"max_iterations": 10000000, "weight_tolerance": 0, "max_seconds": 60}}"#
        let submitted = try Curl.run(["-H", "Content-Type: application/json", "--data-binary", spec, "\(base)/v1/jobs"])
        let jobID = try #require(try object(submitted.output)["id"].flatMap(string), "\(submitted.output)")
        let idle = try ChildProcess.run(
            Curl.path, ["-sS", "-N", "--max-time", "1.5", "\(base)/v1/jobs/\(jobID)/events"], timeout: 10)
        #expect(idle.output.hasPrefix("event: status\n"), "\(idle.output)")
        #expect(idle.output.components(separatedBy: ": keep-alive\n\n").count >= 3, "\(idle.output)")

        let cancelled = try Curl.run(["-X", "POST", "-w", "\n%{http_code}", "\(base)/v1/jobs/\(jobID)/cancel"])
        #expect(splitStatus(cancelled.output).status == 202)
        // Cancelling is asynchronous: wait until the job has ended, so that the stream below is a finished
        // job's (opened earlier, it would be a live stream, whose pieces are cut differently).
        let ended = try Curl.run(["\(base)/v1/jobs/\(jobID)?wait=30"])
        #expect(try object(ended.output)["status"] == .string("cancelled"), "\(ended.output)")
        let stream = try Curl.run(["-N", "\(base)/v1/jobs/\(jobID)/events"])
        let events = ServerSentEvents.parse(stream.output)
        // A finished job's stream: its status, its progress (the last iteration is always reported), the result.
        #expect(events.first?.event == "status" && events.first?.data.contains(#""status":"cancelled""#) == true)
        #expect(events.map(\.event).suffix(2) == ["progress", "result"], "\(stream.output)")
        let job = try object(try #require(events.last).data)
        #expect(job["status"] == .string("cancelled"))
        #expect(job["result"]?.objectValue?["stop_reason"] == .string("cancelled"))
    }

    // MARK: Helpers

    private func splitStatus(_ output: String) -> (body: String, status: Int) {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.dropLast().joined(separator: "\n"), Int(lines.last ?? "") ?? 0)
    }

    private func object(_ text: String) throws -> JSONObject {
        guard case .object(let object) = try JSONParser.parse(Array(text.utf8)) else {
            throw TestFailure("not a JSON object: \(text)")
        }
        return object
    }

    private func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    private func numbers(_ value: JSONValue?) -> [Double]? {
        guard case .array(let elements)? = value else { return nil }
        return elements.compactMap { if case .number(let number) = $0 { number } else { nil } }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The events of a `text/event-stream` body: `id`, `event` and `data` of each.
enum ServerSentEvents {
    struct Event {
        var id: String?
        var event = "message"
        var data = ""
    }

    static func parse(_ text: String) -> [Event] {
        var events: [Event] = []
        var current = Event()
        var hasField = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                if hasField { events.append(current) }
                current = Event()
                hasField = false
                continue
            }
            if line.hasPrefix(":") { continue }
            let parts = line.split(separator: ":", maxSplits: 1)
            let value = parts.count > 1 ? String(parts[1].drop(while: { $0 == " " })) : ""
            hasField = true
            switch parts[0] {
            case "id": current.id = value
            case "event": current.event = value
            case "data": current.data += value
            default: break
            }
        }
        return events
    }
}

/// Small datasets in each upload format: 12 rows, two features, with binary labels in the JSON one.
enum EndToEndData {
    static let rows: [(Double, Double, Double)] = (0..<12).map { i in
        let x0 = Double(i) * 0.37 - 1.9
        let x1 = sin(Double(i) * 1.3) * 2.5
        return (x0, x1, 1.5 * x0 - 0.75 * x1 + 0.25 + 0.1 * cos(Double(i)))
    }

    static var csv: String {
        "a,b,y\n" + rows.map { "\($0.0),\($0.1),\($0.2)" }.joined(separator: "\n") + "\n"
    }

    static var json: String {
        let features = rows.map { "[\($0.0), \($0.1)]" }.joined(separator: ", ")
        let labels = rows.map { $0.2 > 0 ? "1" : "0" }.joined(separator: ", ")
        return #"{"features": [\#(features)], "targets": [\#(labels)]}"#
    }

    /// A 12×3 float64 array [x0, x1, y] (target last) in C order, or [y, x0, x1] in Fortran order.
    static func npy(fortran: Bool) -> [UInt8] {
        let table = rows.map { fortran ? [$0.2, $0.0, $0.1] : [$0.0, $0.1, $0.2] }
        var values: [Double] = []
        if fortran {
            for column in 0..<3 { for row in table { values.append(row[column]) } }
        } else {
            values = table.flatMap { $0 }
        }
        var header = "{'descr': '<f8', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (12, 3), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }
}
