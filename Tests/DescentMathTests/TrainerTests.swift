import Foundation
import Testing

@testable import DescentMath

@Suite("Trainer")
struct TrainerTests {
    @Test(
        "without an intercept a random start still fits a model with no intercept",
        arguments: [Initialization.normal(scale: 1), .uniform(scale: 2)])
    func randomStartWithoutIntercept(initialization: Initialization) throws {
        let dataset = try MathTestData.linear(
            rows: 100, columns: 3, seed: 101, weights: [1, -1, 2], intercept: 4, noise: 0.1)
        let model = try Model(dataset: dataset, output: .scalar(.squared), fitIntercept: false)
        let reference = try LeastSquares.solve(dataset, fitIntercept: false, l2: 0)
        var configuration = TrainingConfiguration()
        configuration.initialization = initialization
        configuration.learningRate = .auto
        configuration.stopping.maxIterations = 5000
        configuration.stopping.weightTolerance = 0
        configuration.stopping.gradientTolerance = 1e-11
        configuration.seed = 3
        let result = try Trainer(model: model, configuration: configuration).run()
        #expect(result.intercepts == [0])
        #expect(result.parameters[3] == 0)
        let gap = (result.loss - reference.objective) / reference.objective
        #expect(abs(gap) <= 1e-9, "relative objective gap \(gap)")
    }

    @Test("softmax weights and intercepts in original units predict what the standardized ones do")
    func softmaxOriginalUnits() throws {
        let rows = 90
        let x = MathTestData.features(rows: rows, columns: 3, seed: 102, means: [5, -2, 100], scales: [2, 0.1, 30])
        let y = x.map { row -> Double in row[0] > 5 ? (row[1] > -2 ? 2 : 1) : 0 }
        let model = try Model(
            dataset: try Dataset(rows: x, targets: y), output: .softmax(classes: 3), l2: 0.01, standardize: true)
        var configuration = TrainingConfiguration()
        configuration.learningRate = .auto
        configuration.stopping.maxIterations = 50
        let result = try Trainer(model: model, configuration: configuration).run()
        #expect(result.weights.count == 3 && result.weights.allSatisfy { $0.count == 3 })
        #expect(result.intercepts.count == 3)
        let scaling = model.standardization.map { (means: $0.means, scales: $0.scales) }
        let standardized = MathTestData.predictions(
            x, theta: result.parameters, outputs: 3, fitIntercept: true, standardization: scaling)
        for i in [0, 44, 89] {
            for k in 0..<3 {
                let original = zip(x[i], result.weights[k]).reduce(result.intercepts[k]) { $0 + $1.0 * $1.1 }
                #expect(abs(original - standardized[i][k]) <= 1e-9 * max(1, abs(original)))
            }
        }
    }

    @Test("invalid configurations are refused")
    func invalidConfigurations() throws {
        let model = try Model(dataset: try Dataset(rows: [[1], [2]], targets: [1, 2]), output: .scalar(.squared))
        var configuration = TrainingConfiguration()
        configuration.sampling = .miniBatch(size: 0, shuffle: true)
        #expect(throws: TrainingError.self) { try Trainer(model: model, configuration: configuration) }
        configuration = TrainingConfiguration()
        configuration.initialization = .values([1])
        #expect(throws: TrainingError.self) { try Trainer(model: model, configuration: configuration) }
        configuration = TrainingConfiguration()
        configuration.validationFraction = 1
        #expect(throws: TrainingError.self) { try Trainer(model: model, configuration: configuration) }
    }

    @Test("the auto rate is 1/L with L the curvature bound times λ_max plus l2")
    func autoRate() throws {
        let dataset = try MathTestData.linear(
            rows: 100, columns: 3, seed: 103, weights: [1, 1, 1], intercept: 0, noise: 1)
        let counts = try Dataset(
            rows: dataset.rows, columns: 3, features: dataset.features, targets: dataset.targets.map { abs($0) })
        for (loss, curvature) in [(ScalarLoss.squared, 1.0), (.huber(delta: 1), 1), (.absolute, 1), (.poisson, 1)] {
            let model = try Model(dataset: loss == .poisson ? counts : dataset, output: .scalar(loss), l2: 0.5)
            let trainer = try Trainer(model: model, configuration: TrainingConfiguration())
            let (lipschitz, rate) = trainer.safeLearningRate()
            // λ_max of [x, 1]ᵀ[x, 1]/n from the normal-equation matrix, by power iteration here.
            let x = (0..<100).map { i in (0..<3).map { model.dataset.features[i * 3 + $0] } + [1] }
            var gram = [[Double]](repeating: [0, 0, 0, 0], count: 4)
            for row in x { for j in 0..<4 { for k in 0..<4 { gram[j][k] += row[j] * row[k] / 100 } } }
            var v = [1.0, 0.9, 0.8, 0.7]
            var lambda = 0.0
            for _ in 0..<500 {
                let u = gram.map { zip($0, v).reduce(0) { $0 + $1.0 * $1.1 } }
                lambda = MathTestData.norm(u)
                v = u.map { $0 / lambda }
            }
            #expect(abs(lipschitz - (curvature * lambda + 0.5)) <= 1e-5 * lipschitz, "\(loss)")
            #expect(rate == 1 / lipschitz)
        }
        let logistic = try Model(
            dataset: try Dataset(rows: [[1], [-1], [2], [-2]], targets: [1, 0, 1, 0]), output: .scalar(.log))
        let (lipschitz, _) = try Trainer(model: logistic, configuration: TrainingConfiguration()).safeLearningRate()
        // [x, 1]ᵀ[x, 1]/4 = diag(2.5, 1): λ_max = 2.5, times ¼.
        #expect(abs(lipschitz - 0.625) <= 1e-6 * 0.625)  // the power iteration stops at a relative change of 1e-6
    }
}
