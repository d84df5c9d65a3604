/// A dataset in the form the kernels read: features row-major in one contiguous buffer, targets, and
/// optional sample weights and feature names. Immutable once made, so every job and thread can share it.
package struct Dataset: Sendable {
    package let rows: Int
    package let columns: Int
    /// Row i occupies elements `i * columns ..< (i + 1) * columns`.
    package let features: FeatureStorage
    package let targets: [Double]
    /// Non-negative weights, one per row; nil means every row weighs 1.
    package let sampleWeights: [Double]?
    package let featureNames: [String]?

    /// Checks the shapes; the values' finiteness is the ingest layer's to check (it knows the line or pointer).
    package init(
        rows: Int, columns: Int, features: FeatureStorage, targets: [Double], sampleWeights: [Double]? = nil,
        featureNames: [String]? = nil
    ) throws(DatasetError) {
        guard rows > 0, columns > 0 else { throw .empty }
        guard features.count == rows * columns else {
            throw .shape("features hold \(features.count) values, not rows × columns = \(rows * columns)")
        }
        guard targets.count == rows else { throw .shape("\(targets.count) targets for \(rows) rows") }
        if let sampleWeights {
            guard sampleWeights.count == rows else {
                throw .shape("\(sampleWeights.count) sample weights for \(rows) rows")
            }
            guard sampleWeights.allSatisfy({ $0 >= 0 && $0.isFinite }), sampleWeights.contains(where: { $0 > 0 })
            else { throw .shape("sample weights must be finite, ≥ 0, and not all 0") }
        }
        if let featureNames, featureNames.count != columns {
            throw .shape("\(featureNames.count) feature names for \(columns) columns")
        }
        self.rows = rows
        self.columns = columns
        self.features = features
        self.targets = targets
        self.sampleWeights = sampleWeights
        self.featureNames = featureNames
    }

    /// A Float64 dataset from rows given as arrays (tests and small inline datasets only: the ingest path
    /// parses straight into the contiguous buffer instead).
    package init(rows: [[Double]], targets: [Double], sampleWeights: [Double]? = nil) throws(DatasetError) {
        let columns = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == columns }) else { throw .shape("rows of different lengths") }
        try self.init(
            rows: rows.count, columns: columns, features: .float64(rows.flatMap { $0 }), targets: targets,
            sampleWeights: sampleWeights)
    }

    /// Σ s_i over `selection` (the number of rows when there are no weights).
    package func totalWeight(_ selection: RowSelection) -> Double {
        guard let sampleWeights else { return Double(selection.count(in: rows)) }
        return (0..<selection.count(in: rows)).reduce(0) { $0 + sampleWeights[selection.row(at: $1)] }
    }
}

/// The feature buffer: Float64, or Float32 for large data (half the memory traffic; sums stay Float64).
package enum FeatureStorage: Sendable {
    case float64([Double])
    case float32([Float])

    package var count: Int {
        switch self {
        case .float64(let values): values.count
        case .float32(let values): values.count
        }
    }

    /// Element `index` as a Double.
    package subscript(index: Int) -> Double {
        switch self {
        case .float64(let values): values[index]
        case .float32(let values): Double(values[index])
        }
    }
}

package enum DatasetError: Error, Equatable, Sendable {
    case empty
    case shape(String)
}

/// Which rows of a dataset a computation uses: all of them, or a list (a training or validation subset, a
/// mini-batch). A list is read in its order, which for a fixed seed is a fixed order.
package enum RowSelection: Sendable, Equatable {
    case all
    case indices([Int])
    /// `indices[range]` without copying it out: a mini-batch of a shuffled order.
    case window([Int], Range<Int>)

    package func count(in rows: Int) -> Int {
        switch self {
        case .all: rows
        case .indices(let indices): indices.count
        case .window(_, let range): range.count
        }
    }

    /// The row at `position` of the selection.
    @inline(__always)
    package func row(at position: Int) -> Int {
        switch self {
        case .all: position
        case .indices(let indices): indices[position]
        case .window(let indices, let range): indices[range.lowerBound + position]
        }
    }
}
