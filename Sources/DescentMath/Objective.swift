import Dispatch

/// The objective of API.md for one model: L(θ) = Σ s_i ℓ(p_i, y_i) / Σ s_i + (l2/2)‖w‖² + l1‖w‖₁, with the
/// fused kernel that computes its smooth part and gradient in one read of the rows.
///
/// One pass, per row: p = x·w + b (K dot products for softmax), ℓ and ℓ′ at p, and g += s ℓ′ x — the row is
/// read from memory once and reused from L1 for the update, rather than the two passes of Xᵀ(Xw − y).
/// Rows are cut into chunks of a fixed size; each chunk sums into its own slot and the slots are added in
/// chunk order, so the result is bitwise identical for any number of threads. Each worker takes a contiguous
/// run of chunks, not every n-th one: each core then streams one long region of X, which the hardware
/// prefetcher follows best (bench/math.sh, 1M×64: (a)/(d) ≈ 1.19 against ≈ 1.25 with chunks dealt round-robin).
///
/// Thread-safety: the scratch buffers make one evaluation at a time the rule; the training loop that owns
/// an `Objective` calls it from one thread (which then fans out over `parallelism` workers).
package final class Objective: @unchecked Sendable {
    package let model: Model
    /// Workers used for one pass; 1 keeps a pass on the calling thread.
    package let parallelism: Int
    /// Rows per chunk: large enough to amortise a chunk's bookkeeping, small enough to balance cores.
    package static let chunkRows = 2048

    private let stride: Int
    private var partials: [Double] = []
    private var effective: [Double]

    package init(model: Model, parallelism: Int = 1) {
        self.model = model
        self.parallelism = max(1, parallelism)
        // Per chunk: the gradient (θ's length), then Σ s ℓ, then Σ s.
        self.stride = model.parameterCount + 2
        self.effective = [Double](repeating: 0, count: model.parameterCount)
    }

    /// The data term Σ s ℓ / Σ s over `rows`; when `gradient` is given, it receives ∇ of the data term plus
    /// (l2/2)‖w‖² (the smooth part of L), with the intercepts' entries 0 when they are not fitted.
    ///
    /// `normalizer`, when given, divides the gradient's Σ s ℓ′ x instead of the selection's own Σ s: a mini-batch B
    /// passes |B|·s̄, with s̄ the mean weight of all training rows, so that its gradient is an unbiased estimate of
    /// the full one. (Σ_B s varies from batch to batch; dividing by it would ignore the weight of a single row
    /// and bias larger batches towards the unweighted optimum.)
    @discardableResult
    package func evaluate(
        _ theta: [Double], rows: RowSelection, gradient: UnsafeMutableBufferPointer<Double>? = nil,
        normalizer: Double? = nil
    ) -> Double {
        let count = rows.count(in: model.dataset.rows)
        let chunks = max(1, (count + Self.chunkRows - 1) / Self.chunkRows)
        if partials.count < chunks * stride { partials = [Double](repeating: 0, count: chunks * stride) }
        prepareEffectiveParameters(theta)
        let withGradient = gradient != nil
        switch model.dataset.features {
        case .float64(let values): pass(values, rows: rows, count: count, chunks: chunks, withGradient: withGradient)
        case .float32(let values): pass(values, rows: rows, count: count, chunks: chunks, withGradient: withGradient)
        }
        return finish(theta, chunks: chunks, gradient: gradient, normalizer: normalizer)
    }

    /// L(θ) over `rows`, regularization included: the figure every progress event and result reports.
    package func objective(_ theta: [Double], rows: RowSelection) -> Double {
        evaluate(theta, rows: rows) + penalty(theta)
    }

    /// (l2/2)‖w‖² + l1‖w‖₁ — intercepts are never penalised.
    package func penalty(_ theta: [Double]) -> Double {
        var squares = 0.0
        var absolutes = 0.0
        for index in model.weightRange {
            squares += theta[index] * theta[index]
            absolutes += abs(theta[index])
        }
        return 0.5 * model.l2 * squares + model.l1 * absolutes
    }

    /// With standardization, the kernel runs on raw x with w′ = w/σ and b′ = b − μ·w′ (see `Standardization`).
    private func prepareEffectiveParameters(_ theta: [Double]) {
        let columns = model.dataset.columns
        guard let standardization = model.standardization else {
            for index in theta.indices { effective[index] = theta[index] }
            return
        }
        for k in 0..<model.outputs {
            var shift = 0.0
            for j in 0..<columns {
                let weight = theta[k * columns + j] / standardization.scales[j]
                effective[k * columns + j] = weight
                shift += standardization.means[j] * weight
            }
            effective[model.outputs * columns + k] = theta[model.outputs * columns + k] - shift
        }
    }

    private func pass<T: FeatureScalar>(
        _ features: [T], rows: RowSelection, count: Int, chunks: Int, withGradient: Bool
    ) {
        let workers = min(parallelism, chunks)
        features.withUnsafeBufferPointer { x in
            partials.withUnsafeMutableBufferPointer { partials in
                effective.withUnsafeBufferPointer { parameters in
                    model.targets.withUnsafeBufferPointer { targets in
                        let context = PassContext(
                            x: x.baseAddress!, parameters: parameters.baseAddress!, targets: targets.baseAddress!,
                            partials: partials.baseAddress!, stride: stride, count: count, withGradient: withGradient)
                        let run: @Sendable (Int) -> Void = { worker in
                            for chunk in (worker * chunks / workers)..<((worker + 1) * chunks / workers) {
                                self.computeChunk(chunk, rows: rows, context: context)
                            }
                        }
                        if workers == 1 {
                            run(0)
                        } else {
                            DispatchQueue.concurrentPerform(iterations: workers, execute: run)
                        }
                    }
                }
            }
        }
    }

    private func finish(
        _ theta: [Double], chunks: Int, gradient: UnsafeMutableBufferPointer<Double>?, normalizer: Double?
    ) -> Double {
        let parameters = model.parameterCount
        var lossSum = 0.0
        var weightSum = 0.0
        for chunk in 0..<chunks {
            lossSum += partials[chunk * stride + parameters]
            weightSum += partials[chunk * stride + parameters + 1]
        }
        guard let gradient else { return lossSum / weightSum }
        for index in 0..<parameters {
            var sum = 0.0
            for chunk in 0..<chunks { sum += partials[chunk * stride + index] }
            gradient[index] = sum / (normalizer ?? weightSum)
        }
        let columns = model.dataset.columns
        if let standardization = model.standardization {
            // ∂/∂w_z,j = (Σ s ℓ′ x_j − μ_j Σ s ℓ′) / σ_j: the chain rule through w′ = w_z/σ and b′ = b − μ·w′.
            for k in 0..<model.outputs {
                let interceptGradient = gradient[model.outputs * columns + k]
                for j in 0..<columns {
                    let index = k * columns + j
                    gradient[index] =
                        (gradient[index] - standardization.means[j] * interceptGradient) / standardization.scales[j]
                }
            }
        }
        if model.l2 > 0 { for index in model.weightRange { gradient[index] += model.l2 * theta[index] } }
        if !model.fitIntercept { for index in model.weightRange.upperBound..<parameters { gradient[index] = 0 } }
        return lossSum / weightSum
    }
}

/// What one chunk of a pass reads and writes; the pointers are valid for the duration of the pass.
struct PassContext<T: FeatureScalar>: @unchecked Sendable {
    let x: UnsafePointer<T>
    let parameters: UnsafePointer<Double>
    let targets: UnsafePointer<Double>
    let partials: UnsafeMutablePointer<Double>
    let stride: Int
    let count: Int
    let withGradient: Bool
}
