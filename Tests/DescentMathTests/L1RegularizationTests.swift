import Foundation
import Testing

@testable import DescentMath

@Suite("l1 regularization")
struct L1RegularizationTests {
    /// y = 3x₀ − 2x₁ + 1.5x₂ + 1 + noise; x₃, x₄, x₅ are irrelevant. With l1 = 0.1 their correlation with the
    /// residual (≈ 0.5/√200) is well inside the penalty, so the lasso sets them to exactly 0.
    private static func lasso(l2: Double = 0) throws -> Model {
        let dataset = try MathTestData.linear(
            rows: 200, columns: 6, seed: 61, weights: [3, -2, 1.5, 0, 0, 0], intercept: 1, noise: 0.5)
        return try Model(dataset: dataset, output: .scalar(.squared), l2: l2, l1: 0.1)
    }

    private static func fullBatchLasso(_ model: Model) throws -> TrainingResult {
        var configuration = TrainingConfiguration()
        configuration.learningRate = .auto
        configuration.stopping.maxIterations = 10_000
        configuration.stopping.weightTolerance = 0
        configuration.stopping.gradientTolerance = 1e-12
        return try Trainer(model: model, configuration: configuration).run()
    }

    @Test("proximal gradient descent finds the lasso optimum with exact zeros", arguments: [0.0, 0.05])
    func proximalGradientDescentGivesExactZeros(l2: Double) throws {
        let model = try Self.lasso(l2: l2)
        let result = try Self.fullBatchLasso(model)
        #expect(result.stopReason == .gradientTolerance)
        let w = result.parameters
        #expect(w[3] == 0 && w[4] == 0 && w[5] == 0, "\(w)")
        #expect(w[0] > 2 && w[1] < -1 && w[2] > 1, "\(w)")
        // Optimality (KKT) of the composite objective: ∇f + l1·sign(w) = 0 where w ≠ 0, |∇f| ≤ l1 where w = 0.
        let gradient = MathTestData.gradient(Objective(model: model), w)
        for j in 0..<3 { #expect(abs(gradient[j] + model.l1 * (w[j] > 0 ? 1 : -1)) <= 1e-10) }
        for j in 3..<6 { #expect(abs(gradient[j]) < 0.8 * model.l1, "coordinate \(j): \(gradient[j])") }
        #expect(abs(gradient[6]) <= 1e-10)
        // And no nearby point is better, zeros included.
        let objective = Objective(model: model)
        for j in 0..<6 {
            for delta in [-1e-4, 1e-4] {
                var moved = w
                moved[j] += delta
                #expect(objective.objective(moved, rows: .all) > result.loss)
            }
        }
    }

    /// The proximal step after a momentum or adaptive step must shrink by what that rule's step does to a
    /// gradient, or the fixed point is the lasso with another penalty: heavy ball with step η and momentum μ moves
    /// η/(1 − μ) per unit of a steady gradient, so a threshold of η·l1 is an effective penalty of (1 − μ)·l1.
    @Test(
        "every full-batch rule with l1 converges to the lasso optimum",
        arguments: [
            (UpdateRule.momentum(0.5), 0.1, LearningRateSchedule.constant, 1e-8),
            (.nesterov(0.5), 0.1, .constant, 1e-8),
            (.adagrad(epsilon: 1e-10), 0.5, .constant, 1e-8),
            (.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-10), 0.01, .constant, 1e-8),
            // RMSprop's steps hover at the scale of η around the optimum: a decaying rate, a looser tolerance.
            (.rmsprop(decay: 0.9, epsilon: 1e-10), 0.02, .exponential(gamma: 0.995), 1e-3),
        ])
    func everyRuleFindsTheLassoOptimum(
        rule: UpdateRule, rate: Double, schedule: LearningRateSchedule, tolerance: Double
    ) throws {
        let model = try Self.lasso()
        let optimum = try Self.fullBatchLasso(model).parameters
        var configuration = TrainingConfiguration()
        configuration.rule = rule
        configuration.learningRate = .fixed(rate)
        configuration.schedule = schedule
        configuration.stopping.maxIterations = 3000
        configuration.stopping.weightTolerance = 0
        let result = try Trainer(model: model, configuration: configuration).run()
        let w = result.parameters
        #expect(w[3] == 0 && w[4] == 0 && w[5] == 0, "\(w)")
        for j in 0..<7 { #expect(abs(w[j] - optimum[j]) <= tolerance, "coordinate \(j): \(w[j]) vs \(optimum[j])") }
    }

    @Test(
        "stochastic steps with the cumulative penalty give exact zeros and approach the lasso optimum",
        arguments: [
            (TrainingConfiguration.Sampling.miniBatch(size: 1, shuffle: true), UpdateRule.plain),
            (.miniBatch(size: 10, shuffle: true), .plain),
            (.miniBatch(size: 1, shuffle: true), .momentum(0.5)),
        ])
    func stochasticStepsGiveExactZeros(sampling: TrainingConfiguration.Sampling, rule: UpdateRule) throws {
        let model = try Self.lasso()
        let optimum = try Self.fullBatchLasso(model).parameters
        var configuration = TrainingConfiguration()
        configuration.sampling = sampling
        configuration.rule = rule
        configuration.learningRate = .fixed(0.01)
        configuration.schedule = .inverseTime(decay: 0.1)
        configuration.stopping.maxIterations = 200
        configuration.stopping.weightTolerance = 0
        let result = try Trainer(model: model, configuration: configuration).run()
        let w = result.parameters
        #expect(w[3] == 0 && w[4] == 0 && w[5] == 0, "\(w)")
        for j in 0..<7 { #expect(abs(w[j] - optimum[j]) <= 0.02, "coordinate \(j): \(w[j]) vs \(optimum[j])") }
    }

    @Test("with l1 the gradient norm reported is that of the proximal gradient mapping, 0 at the optimum")
    func gradientNormIsTheProximalMapping() throws {
        let model = try Self.lasso()
        let optimum = try Self.fullBatchLasso(model).parameters
        var configuration = TrainingConfiguration()
        configuration.initialization = .values(optimum)
        configuration.learningRate = .fixed(0.1)
        configuration.stopping.maxIterations = 1
        var events: [ProgressEvent] = []
        _ = try Trainer(model: model, configuration: configuration).run(progress: { events.append($0) })
        #expect(events.count == 1)
        #expect(events[0].gradientNorm <= 1e-11)
        // While ‖∇f‖ there is at least l1·√3 (|∂f/∂w_j| = l1 at each of the three non-zero weights).
        let smooth = MathTestData.norm(MathTestData.gradient(Objective(model: model), optimum))
        #expect(smooth >= 0.1 * 3.0.squareRoot() - 1e-9)
    }
}
