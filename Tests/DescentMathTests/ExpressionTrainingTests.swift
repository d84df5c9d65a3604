import Foundation
import Testing

@testable import DescentMath

/// One way of training, applied once with a built-in loss and once with the same loss as a formula.
struct ExpressionTrainingCase: Sendable, CustomTestStringConvertible {
    let name: String
    var rule = UpdateRule.plain
    var sampling = TrainingConfiguration.Sampling.fullBatch
    var rate = 0.1
    var iterations = 100
    var l2 = 0.0
    var standardize = false

    var testDescription: String { name }

    var configuration: TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.rule = rule
        configuration.sampling = sampling
        // A fixed rate: `.auto` would differ, as a formula has no curvature bound (ScalarLoss.curvatureBound).
        configuration.learningRate = .fixed(rate)
        configuration.stopping.maxIterations = iterations
        // Every run takes all its iterations, so that a stopping rule cannot hide a difference in θ.
        configuration.stopping.weightTolerance = 0
        configuration.seed = 42
        configuration.reportEvery = iterations
        return configuration
    }
}

@Suite("Expression training")
struct ExpressionTrainingTests {
    /// Trains the same data once with `builtIn` and once with `formula`; returns both results.
    static func train(
        _ dataset: Dataset, _ builtIn: ScalarLoss, _ formula: ExpressionLoss, _ testCase: ExpressionTrainingCase
    ) throws -> (builtIn: TrainingResult, formula: TrainingResult) {
        func run(_ loss: ScalarLoss) throws -> TrainingResult {
            let model = try Model(
                dataset: dataset, output: .scalar(loss), l2: testCase.l2, standardize: testCase.standardize)
            return try Trainer(model: model, configuration: testCase.configuration).run()
        }
        return (try run(builtIn), try run(.expression(formula)))
    }

    /// θ of both runs agree to 1e-12 relative, both ran every iteration, and the runs got somewhere (so that
    /// two runs that both did nothing cannot pass).
    static func expectSameWeights(
        _ results: (builtIn: TrainingResult, formula: TrainingResult), start: Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let (builtIn, formula) = results
        let error = MathTestData.relativeError(formula.parameters, builtIn.parameters)
        #expect(
            error <= 1e-12, "θ differs by \(error) relative: \(formula.parameters) vs \(builtIn.parameters)",
            sourceLocation: sourceLocation)
        #expect(abs(formula.loss - builtIn.loss) <= 1e-12 * abs(builtIn.loss), sourceLocation: sourceLocation)
        #expect(formula.iterations == builtIn.iterations, sourceLocation: sourceLocation)
        #expect(formula.stopReason == .maxIterations, sourceLocation: sourceLocation)
        #expect(
            builtIn.loss < 0.75 * start, "the run did not train: \(start) → \(builtIn.loss)",
            sourceLocation: sourceLocation)
    }

    static let linearCases: [ExpressionTrainingCase] = [
        ExpressionTrainingCase(name: "gd, full batch", rate: 0.1, iterations: 150),
        ExpressionTrainingCase(
            name: "gd with l2 on standardized features", rate: 0.1, iterations: 100, l2: 0.05, standardize: true),
        ExpressionTrainingCase(
            name: "adam, shuffled mini-batches of 16", rule: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8),
            sampling: .miniBatch(size: 16, shuffle: true), rate: 0.02, iterations: 20),
        ExpressionTrainingCase(
            name: "momentum, shuffled mini-batches of 32", rule: .momentum(0.9),
            sampling: .miniBatch(size: 32, shuffle: true), rate: 0.01, iterations: 20),
        ExpressionTrainingCase(
            name: "plain SGD, batch 1 (the fast stochastic path)", sampling: .miniBatch(size: 1, shuffle: true),
            rate: 0.005, iterations: 5),
    ]

    @Test("linear + (p - y)^2 / 2 trains to the built-in squared loss's weights", arguments: linearCases)
    func squared(_ testCase: ExpressionTrainingCase) throws {
        let dataset = try MathTestData.linear(
            rows: 300, columns: 5, seed: 7200, weights: [1.5, -2, 0.5, 3, -1], intercept: 2, noise: 0.3)
        let formula = try ExpressionLoss("(p - y)^2 / 2", signedLabels: false)
        let start = try Objective(model: Model(dataset: dataset, output: .scalar(.squared)))
            .objective([Double](repeating: 0, count: 6), rows: .all)
        Self.expectSameWeights(try Self.train(dataset, .squared, formula, testCase), start: start)
    }

    static let logisticCases: [ExpressionTrainingCase] = [
        ExpressionTrainingCase(name: "gd, full batch, l2", rate: 0.5, iterations: 200, l2: 0.01),
        ExpressionTrainingCase(
            name: "adam, shuffled mini-batches of 16, l2", rule: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8),
            sampling: .miniBatch(size: 16, shuffle: true), rate: 0.01, iterations: 15, l2: 0.01),
    ]

    @Test(
        "logistic with log(1 + exp(-y*p)) on 0/1 labels trains to the built-in log loss's weights",
        arguments: logisticCases)
    func logistic(_ testCase: ExpressionTrainingCase) throws {
        let x = MathTestData.features(rows: 300, columns: 4, seed: 7201)
        let noise = MathTestData.normals(300, scale: 1, seed: 7202)
        let truth = [2.0, -1, 0.5, 1.5]
        let labels = x.indices.map { i -> Double in
            zip(x[i], truth).reduce(0.3) { $0 + $1.0 * $1.1 } + noise[i] > 0 ? 1 : 0
        }
        #expect(Set(labels) == [0, 1])
        let dataset = try Dataset(rows: x, targets: labels)
        let formula = try ExpressionLoss("log(1 + exp(-y*p))", signedLabels: true)
        // Labels are 0/1 here: with signedLabels the model hands the formula ±1, as it does the built-in.
        let model = try Model(dataset: dataset, output: .scalar(.expression(formula)))
        #expect(Set(model.targets) == [-1, 1])
        let start = Foundation.log(2.0)  // the loss of θ = 0
        Self.expectSameWeights(try Self.train(dataset, .log, formula, testCase), start: start)
    }
}
