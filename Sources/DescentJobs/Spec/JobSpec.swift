import DescentMath

/// A job as submitted to `POST /v1/jobs`, every default filled in (API.md, "Jobs"; the choices API.md leaves
/// open are in docs/jobs-api-decisions.md). Made by `JobSpec.decode`, which checks every field; echoed back as
/// the job's `spec` by `json`; turned into a `Model` and a `TrainingConfiguration` by `training(on:)`.
package struct JobSpec: Sendable, Equatable {
    package enum ModelKind: String, Sendable, CaseIterable {
        case linear, logistic, softmax, poisson

        /// The loss a model gets when the spec names none.
        var defaultLoss: LossKind {
            switch self {
            case .linear: .squared
            case .logistic: .log
            case .softmax: .crossEntropy
            case .poisson: .poisson
            }
        }
    }

    package enum LossKind: String, Sendable, CaseIterable {
        case squared, absolute, huber
        case epsilonInsensitive = "epsilon_insensitive"
        case quantile, log, hinge
        case squaredHinge = "squared_hinge"
        case crossEntropy = "cross_entropy"
        case poisson

        /// The model family the loss belongs to.
        var model: ModelKind {
            switch self {
            case .squared, .absolute, .huber, .epsilonInsensitive, .quantile: .linear
            case .log, .hinge, .squaredHinge: .logistic
            case .crossEntropy: .softmax
            case .poisson: .poisson
            }
        }

        /// The loss's one parameter, its name in `loss_params`, and its default.
        var parameter: (name: String, defaultValue: Double)? {
            switch self {
            case .huber: ("delta", 1.0)
            case .epsilonInsensitive: ("epsilon", 0.1)
            case .quantile: ("tau", 0.5)
            default: nil
            }
        }
    }

    package enum Method: String, Sendable, CaseIterable {
        case gd, sgd, minibatch, momentum, nesterov, adagrad, rmsprop, adam
    }

    package enum LearningRate: Sendable, Equatable {
        case fixed(Double)
        case auto
    }

    package struct Optimizer: Sendable, Equatable {
        package var method = Method.gd
        package var learningRate = LearningRate.fixed(0.01)
        /// nil: full batch.
        package var batchSize: Int?
        package var momentum = 0.9
        package var clipNorm: Double?
        package var beta1 = 0.9
        package var beta2 = 0.999
        package var epsilon = 1e-8
        /// RMSprop's decay of the squared-gradient average.
        package var rho = 0.99
        package var shuffle = true
    }

    package enum Schedule: Sendable, Equatable {
        case constant
        case step(stepSize: Int, gamma: Double)
        case exponential(gamma: Double)
        case inverseTime(decay: Double)
        case cosine(minimumLearningRate: Double)
        case backtracking(shrink: Double, armijo: Double)
    }

    package enum Initial: Sendable, Equatable {
        case zeros
        case normal(scale: Double)
        case uniform(scale: Double)
        case values([Double])
    }

    /// Empty in objective mode, which fits no data.
    package var datasetID: String
    /// Objective mode: minimise this formula instead of fitting a dataset. Only the run's fields apply then
    /// (optimizer, schedule, stopping, seed, report_every); the model's fields keep their defaults, unused.
    package var objective: ObjectiveSpec?
    package var model = ModelKind.linear
    package var loss = LossKind.squared
    /// huber's delta, epsilon_insensitive's epsilon or quantile's tau; nil for the other losses.
    package var lossParameter: Double?
    /// A loss written as a formula of p and y (`"loss": {"expression": …}`); when set it replaces `loss`,
    /// which keeps the model's default only as a placeholder.
    package var lossFormula: String?
    package var fitIntercept = true
    package var standardize = false
    package var l2 = 0.0
    package var l1 = 0.0
    package var optimizer = Optimizer()
    package var schedule = Schedule.constant
    package var initial = Initial.zeros
    package var stopping = StoppingRules()
    package var validationFraction = 0.0
    package var restoreBest = true
    package var seed: UInt64 = 0
    package var reportEvery = 1

    package init(datasetID: String) { self.datasetID = datasetID }

    /// The last iteration number a run can reach, for progress's `fraction`: `max_iterations`, or with K
    /// objective starts, numbered as one sequence with one step between starts, K·(max_iterations + 1) − 1.
    package var iterationBudget: Int {
        guard let starts = objective?.starts, starts > 1 else { return stopping.maxIterations }
        return starts * (stopping.maxIterations + 1) - 1
    }

    /// The largest `max_iterations` a job may ask for: enough for any real run, and a bound on its history.
    package static let maxIterationsLimit = 10_000_000
    /// The longest `max_seconds`: one day.
    package static let maxSecondsLimit = 86_400.0
    /// Seeds are integers that a Double, and so every JSON reader, holds exactly: 0 … 2^53 − 1. (2^53 + 1 reads as
    /// 2^53, so 2^53 itself is left out: a seed above the range can then never slip in rounded.)
    package static let maxSeed = 9_007_199_254_740_991.0
}
