/// Finding the row behind a non-finite loss.
extension Objective {
    /// Where a formula's loss stops being a number.
    package struct NonFiniteRow: Equatable, Sendable {
        package var row: Int
        package var prediction: Double
        /// The target as the loss read it (±1 for a logistic model).
        package var target: Double
        package var value: Double
        package var derivative: Double
    }

    /// The first row (in `rows` order) whose ℓ(p, y) or ∂ℓ/∂p is NaN or infinite at θ, for a scalar loss;
    /// nil when every row is finite, for softmax, or when θ itself is not finite (then the step size, not a
    /// row, is the cause). One plain pass, run only once a job has already failed.
    package func firstNonFiniteRow(_ theta: [Double], rows: RowSelection) -> NonFiniteRow? {
        guard case .scalar(let loss) = model.output, theta.allSatisfy(\.isFinite) else { return nil }
        let columns = model.dataset.columns
        // The kernel's own parameters: with standardization, w′ = w/σ and b′ = b − μ·w′.
        var weights = Array(theta[0..<columns])
        var intercept = theta[columns]
        if let standardization = model.standardization {
            var shift = 0.0
            for j in 0..<columns {
                weights[j] /= standardization.scales[j]
                shift += standardization.means[j] * weights[j]
            }
            intercept -= shift
        }
        for position in 0..<rows.count(in: model.dataset.rows) {
            let row = rows.row(at: position)
            var p = intercept
            for j in 0..<columns { p += model.dataset.features[row * columns + j] * weights[j] }
            let y = model.targets[row]
            let (value, derivative) = loss.evaluate(p, y)
            if !value.isFinite || !derivative.isFinite {
                return NonFiniteRow(row: row, prediction: p, target: y, value: value, derivative: derivative)
            }
        }
        return nil
    }
}
