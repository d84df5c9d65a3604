/// What is fitted: the model family with its loss, the intercept, the penalty and the scaling, over one dataset.
///
/// Parameters are one flat vector θ = [w₀ (d values), …, w_{K−1}, b₀, …, b_{K−1}], K = 1 except for softmax.
/// With `standardization`, w are the weights of the standardized features (what the penalty acts on, as in
/// glmnet and H2O); `originalUnits` converts them back.
package struct Model: Sendable {
    package enum Output: Sendable, Equatable {
        /// One prediction per row, p = x·w + b, with a scalar loss (linear, logistic, poisson).
        case scalar(ScalarLoss)
        /// K scores per row with softmax cross-entropy; labels are 0…K−1.
        case softmax(classes: Int)
    }

    package let dataset: Dataset
    package let output: Output
    package let fitIntercept: Bool
    package let l2: Double
    package let l1: Double
    package let standardization: Standardization?
    /// The targets as the loss reads them: ±1 for classification losses, class indices for softmax.
    package let targets: [Double]

    package init(
        dataset: Dataset, output: Output, fitIntercept: Bool = true, l2: Double = 0, l1: Double = 0,
        standardize: Bool = false, standardizationRows: RowSelection = .all
    ) throws(ModelError) {
        guard l2 >= 0, l2.isFinite else { throw .invalid("l2 must be finite and ≥ 0") }
        guard l1 >= 0, l1.isFinite else { throw .invalid("l1 must be finite and ≥ 0") }
        self.dataset = dataset
        self.output = output
        self.fitIntercept = fitIntercept
        self.l2 = l2
        self.l1 = l1
        self.standardization = standardize ? Standardization(of: dataset, over: standardizationRows) : nil
        self.targets = try Self.convert(dataset.targets, for: output)
    }

    /// K: the number of outputs per row.
    package var outputs: Int {
        switch output {
        case .scalar: 1
        case .softmax(let classes): classes
        }
    }

    /// The length of θ.
    package var parameterCount: Int { outputs * (dataset.columns + 1) }

    /// The range of θ that holds weights (penalised); the rest are intercepts.
    package var weightRange: Range<Int> { 0..<(outputs * dataset.columns) }

    /// Labels as the losses read them; an error names the first label that does not fit the model.
    private static func convert(_ targets: [Double], for output: Output) throws(ModelError) -> [Double] {
        switch output {
        case .scalar(let loss) where loss.usesSignedLabels:
            // 0/1 or −1/+1 labels: 1 → +1, 0 or −1 → −1.
            var converted = targets
            for (row, label) in targets.enumerated() {
                guard label == 1 || label == 0 || label == -1 else {
                    throw .invalid("row \(row): label \(label) is not 0/1 or −1/+1")
                }
                converted[row] = label == 1 ? 1 : -1
            }
            return converted
        case .scalar(.poisson):
            for (row, count) in targets.enumerated() where count < 0 {
                throw .invalid("row \(row): a Poisson target must be ≥ 0, not \(count)")
            }
            return targets
        case .scalar:
            return targets
        case .softmax(let classes):
            guard classes >= 2 else { throw .invalid("softmax needs at least 2 classes") }
            for (row, label) in targets.enumerated()
            where label.rounded() != label || label < 0
                || label >= Double(classes)
            {
                throw .invalid("row \(row): label \(label) is not a class 0…\(classes - 1)")
            }
            return targets
        }
    }

    /// Weights (K rows of d) and intercepts (K) in the units of the uploaded features.
    package func originalUnits(_ theta: [Double]) -> (weights: [[Double]], intercepts: [Double]) {
        let columns = dataset.columns
        var weights: [[Double]] = []
        var intercepts: [Double] = []
        for k in 0..<outputs {
            let row = Array(theta[(k * columns)..<((k + 1) * columns)])
            let intercept = theta[outputs * columns + k]
            if let standardization {
                let converted = standardization.originalUnits(weights: row, intercept: intercept)
                weights.append(converted.weights)
                intercepts.append(converted.intercept)
            } else {
                weights.append(row)
                intercepts.append(intercept)
            }
        }
        return (weights, intercepts)
    }
}

package enum ModelError: Error, Equatable, Sendable {
    case invalid(String)
}
