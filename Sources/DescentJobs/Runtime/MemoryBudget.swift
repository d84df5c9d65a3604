import DescentMath
import Synchronization

/// The memory the service may promise to datasets and jobs (`DESCENT_MEMORY_LIMIT`), and how much of it is
/// promised. Datasets live in memory for as long as they are stored, and a job's history for as long as the
/// job is kept, so each holds a reservation for what it keeps; a job also holds one for what its run
/// allocates until the run ends. Something that would not fit is refused before any of it is built — the
/// service answers 413 or 422 with the numbers instead of being killed by the kernel halfway.
package final class MemoryBudget: Sendable {
    package let limit: Int
    private let reserved = Atomic<Int>(0)

    package init(limit: Int) { self.limit = limit }

    /// Bytes promised now.
    package var inUse: Int { reserved.load(ordering: .relaxed) }

    /// A reservation of `bytes` if they fit under the limit with what is promised already; nil if not.
    package func reserve(_ bytes: Int) -> MemoryReservation? {
        var current = reserved.load(ordering: .relaxed)
        while true {
            guard bytes <= limit - current else { return nil }
            let (exchanged, original) = reserved.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return MemoryReservation(bytes: bytes, budget: self) }
            current = original
        }
    }

    /// A reservation made whatever the limit: for what is already in memory (what a restart read back).
    package func reserveRegardless(_ bytes: Int) -> MemoryReservation {
        reserved.wrappingAdd(bytes, ordering: .relaxed)
        return MemoryReservation(bytes: bytes, budget: self)
    }

    fileprivate func release(_ bytes: Int) { reserved.wrappingSubtract(bytes, ordering: .relaxed) }
}

/// Bytes promised by a `MemoryBudget`, given back by `release()` or, at the latest, when the last reference
/// to this goes. Explicit release matters: a deleted job may linger a while in a closure (a `?wait=` timer),
/// and its memory must be free for others at once.
package final class MemoryReservation: Sendable {
    package let bytes: Int
    private let budget: MemoryBudget
    private let released = Atomic<Bool>(false)

    fileprivate init(bytes: Int, budget: MemoryBudget) {
        self.bytes = bytes
        self.budget = budget
    }

    /// Gives the bytes back (once, however often it is called).
    package func release() {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        budget.release(bytes)
    }

    deinit { release() }
}

/// What datasets and jobs take in memory: exact for a dataset's arrays, an upper estimate for a job.
package enum MemoryEstimate {
    /// The dataset's arrays: features, targets, weights. (Not its feature names: small next to the arrays, and
    /// a dataset read back after a restart has the default names it was given, so counting them would make
    /// the same dataset weigh differently before and after.)
    package static func bytes(of dataset: Dataset) -> Int {
        let featureBytes: Int =
            switch dataset.features {
            case .float64(let values): values.count * 8
            case .float32(let values): values.count * 4
            }
        return featureBytes + 8 * dataset.targets.count + 8 * (dataset.sampleWeights?.count ?? 0)
    }

    /// A job's memory: what its run allocates until it ends (`run`: a row order and the validation split, and
    /// the optimizer's vectors and the per-core gradients), and what it keeps as long as it is kept (`kept`: its
    /// progress history, the trajectory's snapshots, the result). `parameters` is the model's parameter count
    /// (the number of variables in objective mode); `rows` the dataset's (0 in objective mode).
    package static func job(_ spec: JobSpec, parameters: Int, rows: Int, cores: Int) -> (run: Int, kept: Int) {
        var rowBytes = 0
        // Stochastic optimizers shuffle a row order; a validation split keeps both index lists and a mask.
        if spec.optimizer.batchSize != nil || spec.optimizer.method == .sgd { rowBytes += 8 * rows }
        if spec.validationFraction > 0 { rowBytes += 9 * rows }
        // θ, its previous and last finite values, the gradient, two optimizer moments, the l1 sums, the best
        // validation weights, plus one partial gradient per core.
        let vector = 8 * parameters
        let runBytes = rowBytes + vector * (10 + max(1, cores))
        let budget = spec.iterationBudget
        let events = budget / max(1, spec.reportEvery) + 2
        let pointBytes = spec.objective == nil ? 0 : vector + 32
        let snapshots = budget / JobSpec.snapshotInterval(maxIterations: spec.stopping.maxIterations) + 2
        let keptBytes =
            events * (MemoryLayout<ProgressEvent>.stride + pointBytes) + snapshots * (vector + 32) + 4 * vector
        return (runBytes, keptBytes)
    }
}

extension MemoryEstimate {
    /// For a job read back from the store: its parameter count from the spec and the dataset's shape (and, for
    /// softmax, its largest label), without building the model.
    package static func job(_ job: Job, cores: Int) -> (run: Int, kept: Int) {
        guard let dataset = job.dataset?.dataset else {
            return Self.job(job.spec, parameters: job.spec.objective?.variables.count ?? 0, rows: 0, cores: cores)
        }
        let largest = dataset.targets.max() ?? 0
        let outputs = job.spec.model == .softmax && largest.isFinite ? Int(min(max(largest, 1), 9_999)) + 1 : 1
        return Self.job(job.spec, parameters: outputs * (dataset.columns + 1), rows: dataset.rows, cores: cores)
    }
}
