import DescentJSON
import DescentMath
import Testing

@testable import DescentJobs

/// The error `training(on:)` raises for `body` on `dataset`; records an issue when it succeeds.
private func trainingError(
    _ body: String, on dataset: Dataset, sourceLocation: SourceLocation = #_sourceLocation
) throws -> SpecError? {
    let spec = try JobsTestData.spec(body)
    do {
        _ = try spec.training(on: dataset)
        Issue.record("expected a SpecError for \(body)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite("JobSpec.training(on:)")
struct JobSpecTrainingTests {
    let dataset = JobsTestData.linear(rows: 40)

    // MARK: What only the data can reveal

    @Test(
        "labels that do not fit the model are reported at /dataset_id",
        arguments: [
            (#"{"model": "logistic"}"#, [0, 1, 2, 1]),
            (#"{"model": "logistic", "loss": "hinge"}"#, [0, 1, 0.5, 1]),
            (#"{"model": "softmax"}"#, [0, 1, 1.5, 2]),
            (#"{"model": "softmax"}"#, [0, 1, -1, 2]),
            (#"{"model": "softmax"}"#, [0, 0, 0, 0]),
            (#"{"model": "poisson"}"#, [0, 3, -1, 2]),
        ] as [(String, [Double])])
    func labelsThatDoNotFit(body: String, labels: [Double]) throws {
        let error = try #require(try trainingError(body, on: JobsTestData.labelled(labels)))
        #expect(error.fields.map(\.pointer) == ["/dataset_id"])
        #expect(error.fields.first?.detail.contains("do not fit") == true)
    }

    @Test("logistic labels may be 0/1 or -1/+1; poisson counts ≥ 0")
    func labelsThatFit() throws {
        let logistic = try JobsTestData.spec(#"{"model": "logistic"}"#)
        _ = try logistic.training(on: JobsTestData.labelled([0, 1, 1, 0]))
        _ = try logistic.training(on: JobsTestData.labelled([-1, 1, 1, -1]))
        _ = try JobsTestData.spec(#"{"model": "poisson"}"#).training(on: JobsTestData.labelled([0, 3, 1, 7]))
    }

    @Test("softmax infers K from the largest label")
    func softmaxClasses() throws {
        let spec = try JobsTestData.spec(#"{"model": "softmax"}"#)
        let (model, _) = try spec.training(on: JobsTestData.labelled([0, 2, 1, 3, 3, 0]))
        #expect(model.output == .softmax(classes: 4))
        #expect(model.outputs == 4)
        #expect(model.parameterCount == 4 * (2 + 1))
        let (binary, _) = try spec.training(on: JobsTestData.labelled([1, 0, 1]))
        #expect(binary.output == .softmax(classes: 2))
    }

    @Test("init values of the wrong length are reported at /init/values")
    func initValuesLength() throws {
        // Three weights and an intercept: four parameters.
        for values in ["[1, 2, 3]", "[1, 2, 3, 4, 5]", "[]"] {
            let error = try #require(
                try trainingError(#"{"init": {"type": "values", "values": \#(values)}}"#, on: dataset))
            #expect(error.fields.map(\.pointer) == ["/init/values"])
            #expect(error.fields.first?.detail.contains("needs 4 values") == true)
        }
        let spec = try JobsTestData.spec(#"{"init": {"type": "values", "values": [1, 2, 3, 4]}}"#)
        let (_, configuration) = try spec.training(on: dataset)
        #expect(configuration.initialization == .values([1, 2, 3, 4]))
    }

    @Test("softmax init values are K·d weights then K intercepts")
    func softmaxInitValuesLength() throws {
        let labels = JobsTestData.labelled([0, 1, 2, 1, 0])
        let good = try JobsTestData.spec(
            #"{"model": "softmax", "init": {"type": "values", "values": [1,2,3,4,5,6,7,8,9]}}"#)
        _ = try good.training(on: labels)
        let error = try #require(
            try trainingError(#"{"model": "softmax", "init": {"type": "values", "values": [1,2,3,4,5,6]}}"#, on: labels)
        )
        #expect(error.fields.map(\.pointer) == ["/init/values"])
    }

    @Test("a batch larger than the dataset is reported at /optimizer/batch_size")
    func batchLargerThanRows() throws {
        // The minibatch default of 32 on 20 rows, and an explicit 41 on 40.
        let twenty = JobsTestData.linear(rows: 20)
        let cases = [(#"{"method": "minibatch"}"#, twenty), (#"{"method": "adam", "batch_size": 41}"#, dataset)]
        for (optimizer, rows) in cases {
            let error = try #require(try trainingError(#"{"optimizer": \#(optimizer)}"#, on: rows))
            #expect(error.fields.map(\.pointer) == ["/optimizer/batch_size"])
            #expect(error.fields.first?.detail.contains("larger than the dataset's \(rows.rows) rows") == true)
        }
        let (_, configuration) = try JobsTestData.spec(#"{"optimizer": {"method": "minibatch", "batch_size": 40}}"#)
            .training(on: dataset)
        #expect(configuration.sampling == .miniBatch(size: 40, shuffle: true))
    }

    @Test(
        "a validation fraction the rows cannot satisfy is reported at /validation/fraction",
        arguments: [
            // round(0.99 · 6) = 6 holds out every row; round(0.01 · 6) = 0 holds out none.
            (0.99, 6, "0.99 of 6 rows leaves no training rows"),
            (0.99, 40, "0.99 of 40 rows leaves no training rows"),
            (0.01, 6, "0.01 of 6 rows rounds to 0 validation rows"),
            (0.08, 6, "0.08 of 6 rows rounds to 0 validation rows"),
        ] as [(Double, Int, String)])
    func validationFractionThatTheRowsCannotSatisfy(fraction: Double, rows: Int, detail: String) throws {
        let body = #"{"validation": {"fraction": \#(fraction)}}"#
        let error = try #require(try trainingError(body, on: JobsTestData.linear(rows: rows)))
        #expect(error.fields.map(\.pointer) == ["/validation/fraction"])
        #expect(error.fields.first?.detail.contains(detail) == true, "\(error)")
    }

    @Test("a validation fraction that leaves rows on both sides is accepted, as the split takes it")
    func validationFractionThatTheRowsSatisfy() throws {
        // round(0.09 · 6) = 1 and round(0.9 · 6) = 5 leave at least one row on each side.
        for (fraction, rows) in [(0.09, 6), (0.9, 6), (0.5, 2), (0.2, 40)] {
            let spec = try JobsTestData.spec(#"{"validation": {"fraction": \#(fraction)}}"#)
            let (_, configuration) = try spec.training(on: JobsTestData.linear(rows: rows))
            #expect(configuration.validationFraction == fraction)
            var random = RandomSource(seed: 1)
            _ = try TrainValidationSplit(rows: rows, validationFraction: fraction, random: &random)
        }
        let (_, none) = try JobsTestData.spec(#"{"validation": {"fraction": 0}}"#).training(
            on: JobsTestData.linear(rows: 2))
        #expect(none.validationFraction == 0)
    }

    @Test("the model gets the spec's intercept, penalties and scaling")
    func modelFields() throws {
        let spec = try JobsTestData.spec(
            #"{"fit_intercept": false, "standardize": true, "regularization": {"l2": 0.5, "l1": 0.25}}"#)
        let (model, _) = try spec.training(on: dataset)
        #expect(!model.fitIntercept)
        #expect(model.l2 == 0.5 && model.l1 == 0.25)
        #expect(model.standardization != nil)
        #expect(model.output == .scalar(.squared))
    }

    @Test(
        "each loss maps to its scalar loss with its parameter",
        arguments: [
            (#"{"loss": "absolute"}"#, ScalarLoss.absolute),
            (#"{"loss": "huber"}"#, .huber(delta: 1)),
            (#"{"loss": "huber", "loss_params": {"delta": 3}}"#, .huber(delta: 3)),
            (#"{"loss": "epsilon_insensitive"}"#, .epsilonInsensitive(epsilon: 0.1)),
            (#"{"loss": "quantile", "loss_params": {"tau": 0.9}}"#, .quantile(tau: 0.9)),
        ])
    func lossMapping(body: String, loss: ScalarLoss) throws {
        let (model, _) = try JobsTestData.spec(body).training(on: dataset)
        #expect(model.output == .scalar(loss))
    }

    // MARK: Configuration

    @Test(
        "each method maps to its update rule and sampling",
        arguments: [
            (#"{"method": "gd"}"#, UpdateRule.plain, TrainingConfiguration.Sampling.fullBatch),
            (#"{"method": "sgd"}"#, .plain, .miniBatch(size: 1, shuffle: true)),
            (#"{"method": "minibatch", "shuffle": false}"#, .plain, .miniBatch(size: 32, shuffle: false)),
            (#"{"method": "momentum", "momentum": 0.5}"#, .momentum(0.5), .fullBatch),
            (#"{"method": "nesterov"}"#, .nesterov(0.9), .fullBatch),
            (
                #"{"method": "adagrad", "epsilon": 1e-6, "batch_size": 8}"#, .adagrad(epsilon: 1e-6),
                .miniBatch(size: 8, shuffle: true)
            ),
            (#"{"method": "rmsprop", "rho": 0.9}"#, .rmsprop(decay: 0.9, epsilon: 1e-8), .fullBatch),
            (
                #"{"method": "adam", "beta1": 0.8, "beta2": 0.95}"#, .adam(beta1: 0.8, beta2: 0.95, epsilon: 1e-8),
                .fullBatch
            ),
        ])
    func methodMapping(optimizer: String, rule: UpdateRule, sampling: TrainingConfiguration.Sampling) throws {
        let (_, configuration) = try JobsTestData.spec(#"{"optimizer": \#(optimizer)}"#).training(on: dataset)
        #expect(configuration.rule == rule)
        #expect(configuration.sampling == sampling)
    }

    @Test(
        "each schedule maps to a learning-rate schedule, and backtracking to a line search",
        arguments: [
            (#"{"type": "constant"}"#, LearningRateSchedule.constant, nil),
            (#"{"type": "step", "step_size": 7, "gamma": 0.25}"#, .step(every: 7, gamma: 0.25), nil),
            (#"{"type": "exponential"}"#, .exponential(gamma: 0.99), nil),
            (#"{"type": "inverse_time", "decay": 0.5}"#, .inverseTime(decay: 0.5), nil),
            (#"{"type": "cosine", "min_learning_rate": 0.001}"#, .cosine(minimum: 0.001), nil),
            (#"{"type": "backtracking", "shrink": 0.7}"#, .constant, LineSearch(shrink: 0.7, armijo: 1e-4)),
        ] as [(String, LearningRateSchedule, LineSearch?)])
    func scheduleMapping(schedule: String, expected: LearningRateSchedule, lineSearch: LineSearch?) throws {
        let (_, configuration) = try JobsTestData.spec(#"{"schedule": \#(schedule)}"#).training(on: dataset)
        #expect(configuration.schedule == expected)
        #expect(configuration.lineSearch == lineSearch)
    }

    @Test("the rest of the configuration comes from the spec")
    func otherFields() throws {
        let spec = try JobsTestData.spec(
            #"{"optimizer": {"learning_rate": "auto", "clip_norm": 3}, "init": {"type": "normal", "scale": 0.5}, "#
                + #""stopping": {"max_iterations": 5000, "weight_tolerance": 0, "gradient_tolerance": 1e-6, "#
                + #""loss_tolerance": 1e-9, "patience": 4, "max_seconds": 20}, "#
                + #""validation": {"fraction": 0.25, "restore_best": false}, "seed": 99, "report_every": 10}"#)
        let (_, configuration) = try spec.training(on: dataset, parallelism: 3)
        #expect(configuration.learningRate == .auto)
        #expect(configuration.clipNorm == 3)
        #expect(configuration.initialization == .normal(scale: 0.5))
        var stopping = StoppingRules()
        stopping.maxIterations = 5000
        stopping.weightTolerance = 0
        stopping.gradientTolerance = 1e-6
        stopping.lossTolerance = 1e-9
        stopping.patience = 4
        stopping.maxSeconds = 20
        #expect(configuration.stopping == stopping)
        #expect(configuration.validationFraction == 0.25)
        #expect(!configuration.restoreBest)
        #expect(configuration.seed == 99)
        #expect(configuration.reportEvery == 10)
        #expect(configuration.snapshotEvery == 5)
        #expect(configuration.parallelism == 3)
        let (_, fixed) = try JobsTestData.spec(#"{"optimizer": {"learning_rate": 0.3}}"#).training(on: dataset)
        #expect(fixed.learningRate == .fixed(0.3))
        #expect(fixed.clipNorm == nil)
        #expect(fixed.parallelism == 1)
    }

    @Test(
        "snapshots are kept every ceil(max_iterations / 1000) iterations",
        arguments: [(1, 1), (999, 1), (1000, 1), (1001, 2), (2000, 2), (2001, 3), (10_000_000, 10_000)])
    func snapshotInterval(maxIterations: Int, interval: Int) {
        #expect(JobSpec.snapshotInterval(maxIterations: maxIterations) == interval)
    }
}
