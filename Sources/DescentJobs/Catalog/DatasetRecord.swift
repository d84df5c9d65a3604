import DescentMath
import Foundation

/// An uploaded dataset with what the API reports about it (API.md, "Datasets").
package struct DatasetRecord: Sendable {
    package let id: String
    package let name: String?
    package let dataset: Dataset
    package let featureNames: [String]
    package let createdAt: Date
    /// The size and SHA-256 of the uploaded body.
    package let bytes: Int
    package let sha256: String
    package let targetSummary: TargetSummary
    /// What makes two uploads the same dataset: the body's hash and every parameter that shaped its parsing.
    package let contentKey: String
    /// Order of creation, for listings and their cursors.
    package internal(set) var sequence = 0

    package struct TargetSummary: Sendable, Equatable {
        package var min: Double
        package var max: Double
        package var mean: Double
        package var distinct: Int

        package init(_ targets: [Double]) {
            var low = Double.infinity
            var high = -Double.infinity
            var sum = 0.0
            for value in targets {
                low = Swift.min(low, value)
                high = Swift.max(high, value)
                sum += value
            }
            min = low
            max = high
            mean = targets.isEmpty ? 0 : sum / Double(targets.count)
            distinct = Set(targets).count
        }
    }

    package init(
        id: String, name: String?, dataset: Dataset, createdAt: Date, bytes: Int, sha256: String, contentKey: String
    ) {
        self.id = id
        self.name = name
        self.dataset = dataset
        self.featureNames = dataset.featureNames ?? (0..<dataset.columns).map { "x\($0)" }
        self.createdAt = createdAt
        self.bytes = bytes
        self.sha256 = sha256
        self.targetSummary = TargetSummary(dataset.targets)
        self.contentKey = contentKey
    }
}
