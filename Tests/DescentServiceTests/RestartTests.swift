import DescentJSON
import DescentTestSupport
import Foundation
import Testing

/// Issue 5's first promise, through the real binary: what was accepted is on disk. Killed with SIGKILL and
/// started again on the same data directory, the service has every dataset and finished job (with its
/// history), and runs again the jobs that had not finished, to the same weights bit for bit.
@Suite(
    "Restart recovery (real binary, kill -9)",
    .enabled(if: DescentBinary.exists && Curl.isInstalled, "needs .build/debug/descent and curl"))
struct RestartTests {
    private func request(_ arguments: [String]) throws -> (body: String, status: Int) {
        let result = try Curl.run(["-w", "\n%{http_code}"] + arguments)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.dropLast().joined(separator: "\n"), Int(lines.last ?? "") ?? 0)
    }

    private func object(_ text: String) throws -> JSONObject {
        guard case .object(let object) = try JSONParser.parse(Array(text.utf8)) else {
            throw TestFailure("not a JSON object: \(text)")
        }
        return object
    }

    private func submit(_ base: String, _ spec: String) throws -> String {
        let (body, status) = try request([
            "-H", "Content-Type: application/json", "--data-binary", spec, "\(base)/v1/jobs",
        ])
        #expect(status == 202, "\(body)")
        return try #require(try object(body)["id"]?.stringValue, "\(body)")
    }

    /// The job once it has ended. Each `?wait` is kept under curl's 20 s limit (`Curl.run`) and asked again while
    /// the job is still queued or running, for at most 120 s: under a sanitizer (scripts/sanitize.sh) the same
    /// jobs take several times longer than in a debug build.
    private func finished(_ base: String, _ id: String) throws -> JSONObject {
        let deadline = Date().addingTimeInterval(120)
        while true {
            let (body, status) = try request(["\(base)/v1/jobs/\(id)?wait=15"])
            #expect(status == 200, "\(body)")
            let job = try object(body)
            let ongoing = job["status"] == .string("queued") || job["status"] == .string("running")
            if !ongoing || Date() >= deadline { return job }
        }
    }

    @Test(
        "after kill -9: datasets, finished jobs and histories are back; an interrupted job resumes to the same weights")
    func survivesKill() throws {
        let directory = try TemporaryDirectory()
        let checkpoints = ["--checkpoint-seconds", "0.2"]
        var (descent, port) = try RunningDescent.start(in: directory, extraArguments: checkpoints)
        var base = "http://127.0.0.1:\(port)"
        let csv = try directory.file("data.csv", contents: Array(EndToEndData.csv.utf8))
        let upload = try request(["-H", "Content-Type: text/csv", "--data-binary", "@\(csv)", "\(base)/v1/datasets"])
        #expect(upload.status == 201)
        let datasetID = try #require(try object(upload.body)["id"]?.stringValue)

        let quick = try submit(base, #"{"dataset_id": "\#(datasetID)", "report_every": 10, "seed": 3}"#)
        let before = try finished(base, quick)
        #expect(before["status"] == .string("succeeded"))
        let history = try request(["\(base)/v1/jobs/\(quick)/history"]).body
        // A job long enough to be running when the process dies (≈ seconds of work; weight_tolerance 0 keeps it
        // from stopping early), and the same spec again, run to its end, as the reference.
        let longSpec =
            #"{"dataset_id": "\#(datasetID)", "optimizer": {"method": "minibatch", "batch_size": 2},"#
            + #" "stopping": {"max_iterations": 40000, "weight_tolerance": 0}, "report_every": 10000, "seed": 11}"#
        let interrupted = try submit(base, longSpec)
        usleep(700_000)
        let state = try object(try request(["\(base)/v1/jobs/\(interrupted)"]).body)
        #expect(state["status"] == .string("running"), "the job should still run when the process is killed")
        kill(descent.process.processIdentifier, SIGKILL)
        descent.process.waitUntilExit()

        (descent, port) = try RunningDescent.start(in: directory, extraArguments: checkpoints)
        defer { kill(descent.process.processIdentifier, SIGTERM) }
        base = "http://127.0.0.1:\(port)"
        let dataset = try request(["\(base)/v1/datasets/\(datasetID)"])
        #expect(dataset.status == 200)
        #expect(try object(dataset.body) == object(upload.body))
        let after = try finished(base, quick)
        #expect(after == before)
        #expect(try request(["\(base)/v1/jobs/\(quick)/history"]).body == history)

        let rerun = try finished(base, interrupted)
        #expect(rerun["status"] == .string("succeeded"), "\(rerun)")
        // It went on from a checkpoint, not from the start, and its history has every report exactly once.
        let resumed = try #require(descent.logLine("job resumed"), "\(descent.stderrLines.suffix(5))")
        #expect((resumed["iteration"] as? Int ?? 0) > 0)
        guard
            case .array(let events) = try JSONParser.parse(
                Array(try request(["\(base)/v1/jobs/\(interrupted)/history"]).body.utf8))
        else { throw TestFailure("history is not an array") }
        let iterations = events.compactMap { $0.objectValue?["iteration"]?.numberValue }
        #expect(iterations == [10000, 20000, 30000, 40000])
        let reference = try finished(base, try submit(base, longSpec))
        #expect(rerun["result"]?.objectValue?["weights"] == reference["result"]?.objectValue?["weights"])
        #expect(rerun["result"]?.objectValue?["intercept"] == reference["result"]?.objectValue?["intercept"])
        #expect(rerun["manifest"] == reference["manifest"])
    }

    @Test("SIGTERM: a running job saves a checkpoint and stops; after the restart it goes on from there")
    func gracefulShutdownLosesNoWork() throws {
        let directory = try TemporaryDirectory()
        // No checkpoint from the cadence: the one the job resumes from is the shutdown's.
        let noCadence = ["--checkpoint-seconds", "86400"]
        var (descent, port) = try RunningDescent.start(in: directory, extraArguments: noCadence)
        var base = "http://127.0.0.1:\(port)"
        let spec =
            #"{"dataset": {"features": [[1, 2], [2, 1], [3, 5], [4, 3], [5, 8]], "targets": [3, 4, 9, 8, 14]},"#
            + #" "optimizer": {"method": "sgd", "learning_rate": 0.001}, "report_every": 10000,"#
            + #" "stopping": {"max_iterations": 100000, "weight_tolerance": 0}, "seed": 5}"#
        let job = try submit(base, spec)
        usleep(500_000)
        #expect(try object(try request(["\(base)/v1/jobs/\(job)"]).body)["status"] == .string("running"))
        kill(descent.process.processIdentifier, SIGTERM)
        descent.process.waitUntilExit()
        #expect(descent.process.terminationStatus == 0)
        let suspended = try #require(descent.logLine("job suspended"), "\(descent.stderrLines.suffix(5))")
        #expect((suspended["iteration"] as? Int ?? 0) > 0)

        (descent, port) = try RunningDescent.start(in: directory, extraArguments: noCadence)
        defer { kill(descent.process.processIdentifier, SIGTERM) }
        base = "http://127.0.0.1:\(port)"
        let resumedJob = try finished(base, job)
        #expect(resumedJob["status"] == .string("succeeded"))
        let resumed = try #require(descent.logLine("job resumed"), "\(descent.stderrLines.suffix(5))")
        #expect(resumed["iteration"] as? Int == suspended["iteration"] as? Int)
        let reference = try finished(base, try submit(base, spec))
        #expect(resumedJob["result"]?.objectValue?["weights"] == reference["result"]?.objectValue?["weights"])
        #expect(resumedJob["result"]?.objectValue?["intercept"] == reference["result"]?.objectValue?["intercept"])
    }

    @Test("finished jobs are deleted with their history after the retention period; datasets stay")
    func retention() throws {
        let directory = try TemporaryDirectory()
        let (descent, port) = try RunningDescent.start(in: directory, extraArguments: ["--retention", "1s"])
        defer { kill(descent.process.processIdentifier, SIGTERM) }
        let base = "http://127.0.0.1:\(port)"
        let job = try submit(
            base,
            #"{"dataset": {"features": [[1], [2], [3]], "targets": [1, 2, 3]}, "stopping": {"max_iterations": 5}}"#)
        let finishedJob = try finished(base, job)
        #expect(finishedJob["status"] == .string("succeeded"))
        let datasetID = try #require(finishedJob["dataset_id"]?.stringValue)
        #expect(try request(["\(base)/v1/jobs/\(job)"]).status == 200)
        let deadline = Date().addingTimeInterval(10)
        while try request(["\(base)/v1/jobs/\(job)"]).status == 200, Date() < deadline { usleep(100_000) }
        #expect(try request(["\(base)/v1/jobs/\(job)"]).status == 404)
        #expect(try request(["\(base)/v1/jobs/\(job)/history"]).status == 404)
        #expect(try request(["\(base)/v1/datasets/\(datasetID)"]).status == 200)
    }

    @Test("a store file that is not a database stops start-up with a message naming it")
    func corruptStore() throws {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 8192).write(to: data.appendingPathComponent("descent.sqlite"))
        let result = try ChildProcess.run(
            DescentBinary.path, ["--host", "127.0.0.1", "--port", "0", "--data-dir", data.path],
            environment: DescentBinary.cleanEnvironment, timeout: 20)
        #expect(result.status == 1)
        #expect(result.stderr.contains(data.appendingPathComponent("descent.sqlite").path), "\(result.stderr)")
        #expect(result.stderr.contains("move it away"), "\(result.stderr)")
    }
}
