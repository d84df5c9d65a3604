/// Everything about a run except the model: how to step, how to sample, when to stop, what to report.
package struct TrainingConfiguration: Sendable {
    package enum Sampling: Sendable, Equatable {
        /// Every step uses all training rows.
        case fullBatch
        /// Steps on batches of `size` rows; one iteration is one epoch over the training rows, visited in a
        /// seeded random order when `shuffle` is true.
        case miniBatch(size: Int, shuffle: Bool)
    }

    package enum LearningRate: Sendable, Equatable {
        case fixed(Double)
        /// 1/L from the Lipschitz estimate of the gradient (see `Trainer.safeLearningRate`).
        case auto
    }

    package var rule: UpdateRule = .plain
    package var sampling: Sampling = .fullBatch
    package var learningRate: LearningRate = .fixed(0.01)
    package var schedule: LearningRateSchedule = .constant
    /// Backtracking instead of the schedule's rate alone; full-batch only.
    package var lineSearch: LineSearch?
    /// Gradients longer than this are scaled down to it before the step.
    package var clipNorm: Double?
    package var initialization: Initialization = .zeros
    package var stopping = StoppingRules()
    /// Rows held out for validation loss and early stopping; 0 holds none.
    package var validationFraction = 0.0
    /// With early stopping, return the parameters of the best validation loss.
    package var restoreBest = true
    package var seed: UInt64 = 0
    /// A progress event every this many iterations (and always for the last).
    package var reportEvery = 1
    /// A copy of θ every this many iterations, for plots of the path; nil keeps none.
    package var snapshotEvery: Int?
    /// Threads one full-batch pass may use.
    package var parallelism = 1

    package init() {}
}

/// When a run stops. Each rule, when it fires, is named in the result's `stopReason`.
package struct StoppingRules: Sendable, Equatable {
    package var maxIterations = 1000
    /// ‖θ_t − θ_{t−1}‖ ≤ this (0 disables).
    package var weightTolerance = 1e-8
    /// ‖∇L(θ_t)‖ ≤ this (0 disables); with l1, the norm of the proximal gradient mapping.
    package var gradientTolerance = 0.0
    /// Relative improvement (L_{t−1} − L_t)/max(|L_{t−1}|, ε) below this for `patience` iterations in a row.
    package var lossTolerance = 0.0
    /// Iterations without enough improvement (loss tolerance) or without a better validation loss (early
    /// stopping) before the run stops.
    package var patience = 10
    package var maxSeconds = 3600.0

    package init() {}
}

package enum StopReason: String, Sendable, Equatable, Codable {
    case maxIterations = "max_iterations"
    case weightTolerance = "weight_tolerance"
    case gradientTolerance = "gradient_tolerance"
    case lossTolerance = "loss_tolerance"
    case earlyStopping = "early_stopping"
    case timeLimit = "time_limit"
    case diverged
    case cancelled
}

/// What a progress callback receives for a reported iteration.
package struct ProgressEvent: Sendable, Equatable {
    package var iteration: Int
    /// L(θ_t), regularization included, over the training rows.
    package var loss: Double
    package var gradientNorm: Double
    package var stepNorm: Double
    package var learningRate: Double
    /// The data term on the validation rows, when rows are held out.
    package var validationLoss: Double?
    package var elapsedSeconds: Double
    /// In objective mode, the current point x_t (one value per variable); nil when fitting data.
    package var point: [Double]?

    package init(
        iteration: Int, loss: Double, gradientNorm: Double, stepNorm: Double, learningRate: Double,
        validationLoss: Double?, elapsedSeconds: Double, point: [Double]? = nil
    ) {
        self.iteration = iteration
        self.loss = loss
        self.gradientNorm = gradientNorm
        self.stepNorm = stepNorm
        self.learningRate = learningRate
        self.validationLoss = validationLoss
        self.elapsedSeconds = elapsedSeconds
        self.point = point
    }
}

package struct TrainingResult: Sendable {
    /// θ: weights then intercepts, in the fitted (standardized, when asked) space.
    package var parameters: [Double]
    /// K rows of weights and K intercepts in the units of the uploaded features.
    package var weights: [[Double]]
    package var intercepts: [Double]
    package var loss: Double
    package var iterations: Int
    package var converged: Bool
    package var stopReason: StopReason
    package var validationLoss: Double?
    /// With `restoreBest`: the iteration whose parameters were returned, and the loss of the last ones.
    package var bestIteration: Int?
    package var lastLoss: Double?
    /// The Lipschitz estimate of the gradient, when one was computed (auto rate, or to explain divergence).
    package var lipschitz: Double?
    /// For a diverged run: what happened and which rate to try.
    package var detail: String?
    package var suggestedLearningRate: Double?
    package var snapshots: [(iteration: Int, parameters: [Double])] = []
}
