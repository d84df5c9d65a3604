/// Per-column mean and population standard deviation, for fitting on standardized features
/// z_j = (x_j − μ_j) / σ_j without ever materialising z (API.md: "a constant column is only centred", so σ = 1
/// there).
///
/// The kernels work on raw x with effective parameters: x·w_z/σ + b − μ·(w_z/σ) equals z·w_z + b. The same
/// identity converts fitted weights back to the units of the uploaded features (`originalUnits`).
package struct Standardization: Sendable, Equatable {
    package let means: [Double]
    package let scales: [Double]

    package init(means: [Double], scales: [Double]) {
        self.means = means
        self.scales = scales
    }

    /// Means and deviations over `selection`, weighted by the sample weights (two passes: mean, then the
    /// centred sum of squares, which is more accurate than E[x²] − E[x]²).
    package init(of dataset: Dataset, over selection: RowSelection = .all) {
        let columns = dataset.columns
        let count = selection.count(in: dataset.rows)
        var means = [Double](repeating: 0, count: columns)
        var total = 0.0
        for position in 0..<count {
            let row = selection.row(at: position)
            let weight = dataset.sampleWeights?[row] ?? 1
            total += weight
            for column in 0..<columns { means[column] += weight * dataset.features[row * columns + column] }
        }
        means = means.map { $0 / total }
        var squares = [Double](repeating: 0, count: columns)
        for position in 0..<count {
            let row = selection.row(at: position)
            let weight = dataset.sampleWeights?[row] ?? 1
            for column in 0..<columns {
                let centred = dataset.features[row * columns + column] - means[column]
                squares[column] += weight * centred * centred
            }
        }
        self.means = means
        self.scales = zip(squares, means).map { sum, mean in
            let variance = sum / total
            let deviation = variance.squareRoot()
            // A constant column's computed deviation is rounding noise of its mean, not 0: dividing by it would
            // turn that noise into a feature. Below a few thousand ulps of the column's magnitude it is constant.
            let noise = 1e3 * Double.ulpOfOne * (mean * mean + variance).squareRoot()
            return deviation > noise && deviation.isFinite ? deviation : 1
        }
    }

    /// Weights and intercept in the units of the uploaded features, from those fitted on standardized ones.
    package func originalUnits(weights: [Double], intercept: Double) -> (weights: [Double], intercept: Double) {
        var shift = 0.0
        let converted = weights.indices.map { column in
            let weight = weights[column] / scales[column]
            shift += means[column] * weight
            return weight
        }
        return (converted, intercept - shift)
    }
}
