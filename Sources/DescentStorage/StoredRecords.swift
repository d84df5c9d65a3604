import Foundation

/// A dataset as the store keeps it: the metadata the API reports and the arrays as little-endian bytes.
/// Storage knows no `Dataset` (that is the Math layer's); the Jobs layer converts.
package struct StoredDataset: Sendable, Equatable {
    package var id: String
    /// Who owns it: an API key's tenant, or "" without API keys.
    package var tenant: String
    package var sequence: Int
    package var name: String?
    package var createdAt: Date
    package var bytes: Int
    package var sha256: String
    package var contentKey: String
    package var rows: Int
    package var columns: Int
    package var featureNames: [String]
    /// 8 for Float64 features, 4 for Float32.
    package var elementSize: Int
    package var features: [UInt8]
    package var targets: [Double]
    package var sampleWeights: [Double]?
    /// Set when the API deleted the dataset; the row stays for the jobs that used it.
    package var deletedAt: Date?

    package init(
        id: String, sequence: Int, name: String?, createdAt: Date, bytes: Int, sha256: String, contentKey: String,
        rows: Int, columns: Int, featureNames: [String], elementSize: Int, features: [UInt8], targets: [Double],
        sampleWeights: [Double]?, deletedAt: Date? = nil, tenant: String = ""
    ) {
        self.id = id
        self.tenant = tenant
        self.sequence = sequence
        self.name = name
        self.createdAt = createdAt
        self.bytes = bytes
        self.sha256 = sha256
        self.contentKey = contentKey
        self.rows = rows
        self.columns = columns
        self.featureNames = featureNames
        self.elementSize = elementSize
        self.features = features
        self.targets = targets
        self.sampleWeights = sampleWeights
        self.deletedAt = deletedAt
    }
}

/// A job as the store keeps it: the echoed spec, the state, and the result and error as JSON text.
package struct StoredJob: Sendable, Equatable {
    package var id: String
    /// Who owns it: an API key's tenant, or "" without API keys.
    package var tenant: String
    package var sequence: Int
    package var datasetID: String
    package var spec: String
    package var idempotencyKey: String?
    package var bodySHA256: String?
    package var status: String
    package var createdAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?
    package var result: String?
    package var error: String?

    package init(
        id: String, sequence: Int, datasetID: String, spec: String, idempotencyKey: String?, bodySHA256: String?,
        status: String, createdAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil, result: String? = nil,
        error: String? = nil, tenant: String = ""
    ) {
        self.id = id
        self.tenant = tenant
        self.sequence = sequence
        self.datasetID = datasetID
        self.spec = spec
        self.idempotencyKey = idempotencyKey
        self.bodySHA256 = bodySHA256
        self.status = status
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.result = result
        self.error = error
    }
}

/// One reported iteration of a job.
package struct StoredProgress: Sendable, Equatable {
    package var iteration: Int
    package var loss: Double
    package var gradientNorm: Double
    package var stepNorm: Double
    package var learningRate: Double
    package var validationLoss: Double?
    package var elapsedSeconds: Double

    package init(
        iteration: Int, loss: Double, gradientNorm: Double, stepNorm: Double, learningRate: Double,
        validationLoss: Double?, elapsedSeconds: Double
    ) {
        self.iteration = iteration
        self.loss = loss
        self.gradientNorm = gradientNorm
        self.stepNorm = stepNorm
        self.learningRate = learningRate
        self.validationLoss = validationLoss
        self.elapsedSeconds = elapsedSeconds
    }
}
