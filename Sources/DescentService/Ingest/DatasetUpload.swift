import DescentJobs
import DescentMath
import DescentStorage
import Dispatch
import Synchronization

/// Everything an upload computes from its body: the dataset, the body's SHA-256 and the target summary.
///
/// The hash reads the raw bytes and the parse does not need it, so the two run side by side (on two cores a
/// 100 MB `.npy` upload then costs the parse and summary, not the parse, summary and hash in a row).
package enum DatasetUpload {
    package enum Format: Sendable {
        case json
        case csv(targetColumn: String?, weightColumn: String?)
        case npy(targetIndex: Int?)
    }

    package struct Parsed: Sendable {
        /// The name inside a JSON body, if it has one.
        package var name: String?
        package var dataset: Dataset
        package var sha256: String
        package var targetSummary: DatasetRecord.TargetSummary
    }

    package static func parse(_ body: [UInt8], as format: Format) throws(IngestError) -> Parsed {
        let hash = Mutex<String>("")
        let parsed = Mutex<Result<(String?, Dataset, DatasetRecord.TargetSummary), IngestError>?>(nil)
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 {
                let digest = SHA256.hex(body)
                hash.withLock { $0 = digest }
                return
            }
            let result = Result { () throws(IngestError) in
                let (name, dataset) = try parseDataset(body, format)
                return (name, dataset, DatasetRecord.TargetSummary(dataset.targets))
            }
            parsed.withLock { $0 = result }
        }
        // concurrentPerform returns after both parts; the parse part always stores a result.
        guard let result = parsed.withLock({ $0 }) else { throw IngestError(detail: "internal: no parse result") }
        let (name, dataset, summary) = try result.get()
        return Parsed(name: name, dataset: dataset, sha256: hash.withLock { $0 }, targetSummary: summary)
    }

    private static func parseDataset(
        _ body: [UInt8], _ format: Format
    ) throws(IngestError) -> (String?, Dataset) {
        switch format {
        case .json: return try JSONDatasetParser.parse(body)
        case .csv(let target, let weight):
            return (nil, try CSVDatasetParser.parse(body, targetColumn: target, weightColumn: weight))
        case .npy(let targetIndex): return (nil, try NPYDatasetParser.parse(body, targetIndex: targetIndex))
        }
    }
}
