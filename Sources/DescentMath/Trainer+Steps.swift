/// The steps between two evaluations: one full-batch step, or one epoch of mini-batch steps.
extension Trainer {
    /// One step from θ with the gradient of the last evaluation; returns the rate actually used (which a line
    /// search may have shrunk).
    func fullBatchStep(rate: Double, loss: Double) -> Double {
        clipGradient()
        guard let search = configuration.lineSearch else {
            applyStep(rate: rate)
            return rate
        }
        // Armijo: accept η when L(θ⁺) ≤ L(θ) − c·η‖G_η‖², G_η = (θ − θ⁺)/η (the plain gradient without l1).
        var eta = rate
        // Every trial starts from the same optimizer state: only the accepted step may advance it.
        let state = optimizer
        for attempt in 0...search.maxShrinks {
            for index in theta.indices { theta[index] = previous[index] }
            optimizer = state
            applyStep(rate: eta)
            var mappedSquares = 0.0
            for index in theta.indices {
                let mapped = (previous[index] - theta[index]) / eta
                mappedSquares += mapped * mapped
            }
            let candidate = objective.objective(theta, rows: split.training)
            if candidate <= loss - search.armijo * eta * mappedSquares || attempt == search.maxShrinks { break }
            eta *= search.shrink
        }
        return eta
    }

    /// The update rule's step, then the l1 proximal operator on the weights.
    private func applyStep(rate: Double) {
        gradient.withUnsafeBufferPointer { g in optimizer.step(&theta, gradient: g, learningRate: rate) }
        if model.l1 > 0 {
            for index in model.weightRange {
                theta[index] = softThreshold(theta[index], rate * model.l1 * optimizer.proximalScale(index))
            }
        }
    }

    private func clipGradient() {
        guard let limit = configuration.clipNorm else { return }
        var squares = 0.0
        for value in gradient { squares += value * value }
        let norm = squares.squareRoot()
        guard norm > limit, norm > 0 else { return }
        let scale = limit / norm
        for index in gradient.indices { gradient[index] *= scale }
    }

    /// One pass over the training rows in batches; the order is shuffled first when asked.
    func epoch(batchSize: Int, shuffle: Bool, rate: Double, _ isCancelled: () -> Bool) {
        if order.isEmpty {
            order = (0..<split.training.count(in: model.dataset.rows)).map { split.training.row(at: $0) }
        }
        if shuffle { random.shuffle(&order) }
        if batchSize == 1 && canTakeFastStochasticSteps {
            return fastStochasticEpoch(order: order, rate: rate)
        }
        let meanWeight = model.dataset.totalWeight(split.training) / Double(order.count)
        var start = 0
        var batches = 0
        while start < order.count {
            let end = min(start + batchSize, order.count)
            gradient.withUnsafeMutableBufferPointer { g in
                _ = objective.evaluate(
                    theta, rows: .window(order, start..<end), gradient: g, normalizer: Double(end - start) * meanWeight)
            }
            clipGradient()
            gradient.withUnsafeBufferPointer { g in optimizer.step(&theta, gradient: g, learningRate: rate) }
            applyCumulativeL1(rate: rate)
            start = end
            batches += 1
            if batches % 256 == 0 && isCancelled() { return }
        }
    }

    /// Plain SGD, one row at a time, without the general pass's bookkeeping: the hot loop of an SGD epoch.
    var canTakeFastStochasticSteps: Bool {
        guard optimizer.rule == .plain, configuration.clipNorm == nil, model.standardization == nil else {
            return false
        }
        if case .scalar = model.output { return true }
        return false
    }

    /// Per row: p = x·w + b; w ← (1 − η l2) w − η s ℓ′ x / s̄; b ← b − η s ℓ′ / s̄ — the stochastic estimate of
    /// the gradient of Σ s ℓ / Σ s + (l2/2)‖w‖², where s̄ is the mean weight — then the cumulative l1 step.
    private func fastStochasticEpoch(order: [Int], rate: Double) {
        guard case .scalar(let loss) = model.output else { return }
        let columns = model.dataset.columns
        let weights = model.dataset.sampleWeights
        let meanWeight = weights == nil ? 1 : model.dataset.totalWeight(split.training) / Double(order.count)
        let shrink = 1 - rate * model.l2
        let fitIntercept = model.fitIntercept
        // The loss's switch is hoisted out of the row loop for the common squared loss (its derivative is
        // p − y); the other losses keep `evaluate` per row.
        switch (model.dataset.features, loss) {
        case (.float64(let values), .squared):
            sgdRows(values, order, columns, weights, meanWeight, shrink, rate, fitIntercept) { p, y in p - y }
        case (.float32(let values), .squared):
            sgdRows(values, order, columns, weights, meanWeight, shrink, rate, fitIntercept) { p, y in p - y }
        case (.float64(let values), _):
            sgdRows(values, order, columns, weights, meanWeight, shrink, rate, fitIntercept) { p, y in
                loss.evaluate(p, y).derivative
            }
        case (.float32(let values), _):
            sgdRows(values, order, columns, weights, meanWeight, shrink, rate, fitIntercept) { p, y in
                loss.evaluate(p, y).derivative
            }
        }
        if model.l1 > 0 {
            // One cumulative step per row, summed: the same total penalty, applied once after the epoch.
            applyCumulativeL1(rate: rate * Double(order.count))
        }
    }

    /// The row loop, specialised per feature type and loss derivative ∂ℓ/∂p(p, y) (inlined into each case).
    ///
    /// Memory, not arithmetic, bounds it: shuffled rows of a set larger than the cache each miss on their
    /// first load, and so does their target (the targets array is evicted from L3 by the streaming rows). So
    /// both are prefetched `ahead` rows early — twice the full-batch pass's distance, as a row here is
    /// visited at a random place (bench/math.sh, 100,000 × 64, with huge pages: 8 and 16 measured alike
    /// with prefetched targets, 32 slower; prefetching the targets took ~20% off an epoch).
    @inline(__always)
    private func sgdRows<T: FeatureScalar>(
        _ features: [T], _ order: [Int], _ columns: Int, _ weights: [Double]?, _ meanWeight: Double,
        _ shrink: Double, _ rate: Double, _ fitIntercept: Bool, _ derivative: (Double, Double) -> Double
    ) {
        features.withUnsafeBufferPointer { x in
            model.targets.withUnsafeBufferPointer { targets in
                theta.withUnsafeMutableBufferPointer { theta in
                    let w = theta.baseAddress!
                    let (distance, rowBytes) = Objective.prefetchDistance(columns: columns, scalar: T.self)
                    let ahead = 2 * distance
                    for (position, row) in order.enumerated() {
                        if position + ahead < order.count {
                            let next = order[position + ahead]
                            prefetch(x.baseAddress! + next * columns, bytes: rowBytes)
                            prefetch(targets.baseAddress! + next, bytes: MemoryLayout<Double>.size)
                        }
                        let xi = x.baseAddress! + row * columns
                        let p = T.dot(xi, w, count: columns) + theta[columns]
                        let coefficient = (weights?[row] ?? 1) / meanWeight * derivative(p, targets[row])
                        T.scaleAndAdd(shrink, w, -rate * coefficient, xi, count: columns)
                        if fitIntercept { theta[columns] -= rate * coefficient }
                    }
                }
            }
        }
    }

    /// Tsuruoka, Tsujii & Ananiadou (2009): each weight is pulled towards 0 by what the l1 penalty would
    /// have taken in total so far (u) minus what it already took (q_j), and never across 0.
    private func applyCumulativeL1(rate: Double) {
        guard model.l1 > 0 else { return }
        for index in model.weightRange {
            l1Total[index] += rate * model.l1 * optimizer.proximalScale(index)
            let before = theta[index]
            if before > 0 {
                theta[index] = max(0, before - (l1Total[index] + l1Applied[index]))
            } else if before < 0 {
                theta[index] = min(0, before + (l1Total[index] - l1Applied[index]))
            }
            l1Applied[index] += theta[index] - before
        }
    }
}
