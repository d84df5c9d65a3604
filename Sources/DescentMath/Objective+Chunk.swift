/// The fused row loop over one chunk (see `Objective`).
extension Objective {
    func computeChunk<T: FeatureScalar>(_ chunk: Int, rows: RowSelection, context: PassContext<T>) {
        let start = chunk * Self.chunkRows
        let end = min(start + Self.chunkRows, context.count)
        let slot = context.partials + chunk * context.stride
        slot.initialize(repeating: 0, count: context.stride)
        let columns = model.dataset.columns
        let outputs = model.outputs
        var lossSum = 0.0
        var weightSum = 0.0
        let weights = model.dataset.sampleWeights
        let intercepts = context.parameters + outputs * columns
        let interceptGradients = slot + outputs * columns

        switch model.output {
        case .scalar(let loss):
            let w = context.parameters
            let b = intercepts[0]
            let (ahead, rowBytes) = Self.prefetchDistance(columns: columns, scalar: T.self)
            for position in start..<end {
                if position + ahead < end {
                    prefetch(context.x + rows.row(at: position + ahead) * columns, bytes: rowBytes)
                }
                let row = rows.row(at: position)
                let x = context.x + row * columns
                let p = T.dot(x, w, count: columns) + b
                let (value, derivative) = loss.evaluate(p, context.targets[row])
                let s = weights?[row] ?? 1
                lossSum += s * value
                weightSum += s
                let coefficient = s * derivative
                if context.withGradient && coefficient != 0 {
                    T.addScaled(coefficient, x, to: slot, count: columns)
                    interceptGradients[0] += coefficient
                }
            }
        case .softmax(let classes):
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * classes) { scratch in
                let scores = scratch.baseAddress!
                let derivatives = scores + classes
                let (ahead, rowBytes) = Self.prefetchDistance(columns: columns, scalar: T.self)
                for position in start..<end {
                    if position + ahead < end {
                        prefetch(context.x + rows.row(at: position + ahead) * columns, bytes: rowBytes)
                    }
                    let row = rows.row(at: position)
                    let x = context.x + row * columns
                    for k in 0..<classes {
                        scores[k] = T.dot(x, context.parameters + k * columns, count: columns) + intercepts[k]
                    }
                    let label = Int(context.targets[row])
                    let value = SoftmaxCrossEntropy.evaluate(
                        scores: scores, label: label, classes: classes, derivative: derivatives)
                    let s = weights?[row] ?? 1
                    lossSum += s * value
                    weightSum += s
                    guard context.withGradient else { continue }
                    for k in 0..<classes {
                        let coefficient = s * derivatives[k]
                        T.addScaled(coefficient, x, to: slot + k * columns, count: columns)
                        interceptGradients[k] += coefficient
                    }
                }
            }
        }
        slot[model.parameterCount] = lossSum
        slot[model.parameterCount + 1] = weightSum
    }

    /// How far ahead the pass prefetches: the row about `prefetchBytes` ahead (at least the next one), and the
    /// bytes of one row. Prefetching changes no result; it only keeps more of the row loads in flight.
    @inline(__always)
    static func prefetchDistance<T>(columns: Int, scalar: T.Type) -> (rows: Int, bytes: Int) {
        let rowBytes = columns * MemoryLayout<T>.stride
        return (max(1, prefetchBytes / rowBytes), rowBytes)
    }

    /// 4 KiB: eight rows of 64 Float64 features — far enough to cover a miss, near enough to stay in L1/L2.
    static let prefetchBytes = 4096
}
