import Foundation
import Testing

@testable import DescentMath

struct OptimizerCase: Sendable, CustomTestStringConvertible {
    let name: String
    let rule: UpdateRule
    var sampling = TrainingConfiguration.Sampling.fullBatch
    let rate: Double
    var schedule = LearningRateSchedule.constant
    /// Relative distance to the optimum required after 2,000 iterations.
    var tolerance = 1e-9

    var testDescription: String { name }

    static let adam = UpdateRule.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    static let all = [
        OptimizerCase(name: "gd", rule: .plain, rate: 0.5),
        OptimizerCase(name: "momentum", rule: .momentum(0.9), rate: 0.1),
        OptimizerCase(name: "nesterov", rule: .nesterov(0.9), rate: 0.1),
        OptimizerCase(name: "adagrad", rule: .adagrad(epsilon: 1e-10), rate: 0.5),
        // RMSprop's step is about η·sign(g) near the optimum: it needs a decaying rate to settle.
        OptimizerCase(
            name: "rmsprop", rule: .rmsprop(decay: 0.9, epsilon: 1e-10), rate: 0.02,
            schedule: .exponential(gamma: 0.995),
            tolerance: 1e-6),
        OptimizerCase(name: "adam", rule: adam, rate: 0.05),
        OptimizerCase(name: "minibatch", rule: .plain, sampling: .miniBatch(size: 8, shuffle: true), rate: 0.1),
        OptimizerCase(
            name: "minibatch without shuffling", rule: .plain, sampling: .miniBatch(size: 5, shuffle: false),
            rate: 0.1),
        OptimizerCase(name: "sgd", rule: .plain, sampling: .miniBatch(size: 1, shuffle: true), rate: 0.05),
        OptimizerCase(
            name: "sgd with momentum", rule: .momentum(0.5), sampling: .miniBatch(size: 1, shuffle: true), rate: 0.02),
        OptimizerCase(name: "minibatch adam", rule: adam, sampling: .miniBatch(size: 16, shuffle: true), rate: 0.01),
        OptimizerCase(
            name: "minibatch adagrad", rule: .adagrad(epsilon: 1e-10), sampling: .miniBatch(size: 16, shuffle: true),
            rate: 0.3),
        OptimizerCase(
            name: "minibatch nesterov", rule: .nesterov(0.9), sampling: .miniBatch(size: 16, shuffle: true),
            rate: 0.02),
    ]
}

@Suite("Optimizers")
struct OptimizerConvergenceTests {
    /// y = x·(1, −2, ½) + 0.7 exactly, on well-conditioned features: the least-squares solution is known, and every
    /// row's gradient vanishes there, so stochastic methods converge to it too.
    @Test("every optimizer reaches the minimum of a well-conditioned quadratic", arguments: OptimizerCase.all)
    func everyOptimizerReachesTheQuadraticMinimum(_ testCase: OptimizerCase) throws {
        let optimum = [1, -2, 0.5, 0.7]
        let dataset = try MathTestData.linear(
            rows: 64, columns: 3, seed: 41, weights: [1, -2, 0.5], intercept: 0.7, noise: 0)
        let model = try Model(dataset: dataset, output: .scalar(.squared))
        var configuration = TrainingConfiguration()
        configuration.rule = testCase.rule
        configuration.sampling = testCase.sampling
        configuration.learningRate = .fixed(testCase.rate)
        configuration.schedule = testCase.schedule
        configuration.stopping.maxIterations = 2000
        configuration.stopping.weightTolerance = 0
        let result = try Trainer(model: model, configuration: configuration).run()
        let distance = MathTestData.relativeError(result.parameters, optimum)
        #expect(distance <= testCase.tolerance, "\(result.parameters)")
        #expect(result.stopReason == .maxIterations)
    }

    /// f(x, y) = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1), from the classic start (−1.2, 1).
    @Test(
        "momentum, nesterov and adam reach Rosenbrock's minimum at (1, 1)",
        arguments: [
            (UpdateRule.momentum(0.95), 2e-4, LearningRateSchedule.constant, 1e-8),
            (.nesterov(0.95), 2e-4, .constant, 1e-8),
            (.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8), 0.02, .inverseTime(decay: 1e-3), 1e-5),
        ])
    func rosenbrock(rule: UpdateRule, rate: Double, schedule: LearningRateSchedule, tolerance: Double) {
        var optimizer = Optimizer(rule: rule, parameterCount: 2)
        var theta = [-1.2, 1.0]
        var gradient = [0.0, 0.0]
        for t in 0..<20_000 {
            let (x, y) = (theta[0], theta[1])
            gradient[0] = -2 * (1 - x) - 400 * x * (y - x * x)
            gradient[1] = 200 * (y - x * x)
            let eta = schedule.rate(base: rate, iteration: t, totalIterations: 20_000)
            gradient.withUnsafeBufferPointer { optimizer.step(&theta, gradient: $0, learningRate: eta) }
        }
        #expect(abs(theta[0] - 1) <= tolerance && abs(theta[1] - 1) <= tolerance, "\(theta)")
        #expect(optimizer.steps == 20_000)
    }

    /// Two steps from θ = (1, −1) with g₁ = (2, −4), g₂ = (−1, 3), η = 0.1, written out from each rule's formula.
    @Test("each update rule takes the documented step")
    func rulesFollowTheirFormulas() {
        let g1 = [2.0, -4]
        let g2 = [-1.0, 3]
        func run(_ rule: UpdateRule) -> [Double] {
            var optimizer = Optimizer(rule: rule, parameterCount: 2)
            var theta = [1.0, -1]
            for g in [g1, g2] { g.withUnsafeBufferPointer { optimizer.step(&theta, gradient: $0, learningRate: 0.1) } }
            return theta
        }
        func expected(_ step: (Int, Int) -> Double) -> [Double] {
            (0..<2).map { i in [1.0, -1][i] - 0.1 * step(1, i) - 0.1 * step(2, i) }
        }
        func close(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 1e-14 } }
        let g = [[], g1, g2]

        #expect(close(run(.plain), expected { t, i in g[t][i] }))
        // Heavy ball: v₁ = g₁, v₂ = μ g₁ + g₂.
        let mu = 0.9
        #expect(close(run(.momentum(mu)), expected { t, i in t == 1 ? g1[i] : mu * g1[i] + g2[i] }))
        // Nesterov: the step is g_t + μ v_t.
        #expect(
            close(
                run(.nesterov(mu)), expected { t, i in t == 1 ? g1[i] + mu * g1[i] : g2[i] + mu * (mu * g1[i] + g2[i]) }
            ))
        let epsilon = 1e-3
        #expect(
            close(
                run(.adagrad(epsilon: epsilon)),
                expected { t, i in
                    let sum = t == 1 ? g1[i] * g1[i] : g1[i] * g1[i] + g2[i] * g2[i]
                    return g[t][i] / (sum.squareRoot() + epsilon)
                }))
        let rho = 0.8
        #expect(
            close(
                run(.rmsprop(decay: rho, epsilon: epsilon)),
                expected { t, i in
                    let first = (1 - rho) * g1[i] * g1[i]
                    let average = t == 1 ? first : rho * first + (1 - rho) * g2[i] * g2[i]
                    return g[t][i] / (average.squareRoot() + epsilon)
                }))
        let (b1, b2) = (0.8, 0.9)
        #expect(
            close(
                run(.adam(beta1: b1, beta2: b2, epsilon: epsilon)),
                expected { t, i in
                    let m = t == 1 ? (1 - b1) * g1[i] : b1 * (1 - b1) * g1[i] + (1 - b1) * g2[i]
                    let v = t == 1 ? (1 - b2) * g1[i] * g1[i] : b2 * (1 - b2) * g1[i] * g1[i] + (1 - b2) * g2[i] * g2[i]
                    let mHat = m / (1 - pow(b1, Double(t)))
                    let vHat = v / (1 - pow(b2, Double(t)))
                    return mHat / (vHat.squareRoot() + epsilon)
                }))
    }

    /// Even rows follow y ≈ 2x with weight 5, odd rows y ≈ −x with weight 0.2: the weighted least-squares slope is
    /// 1.77, the unweighted one 0.17. A stochastic step must estimate the weighted gradient Σ s ℓ′ x / Σ s without
    /// bias, so with a decaying rate it settles at the weighted optimum, whatever the batch size and rule.
    @Test(
        "stochastic steps honour sample weights",
        arguments: [
            (1, UpdateRule.plain), (1, .momentum(0.5)), (10, .plain),
            (10, .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)),
        ])
    func stochasticStepsHonourSampleWeights(batchSize: Int, rule: UpdateRule) throws {
        let rows = 100
        let x = MathTestData.features(rows: rows, columns: 1, seed: 51)
        let noise = MathTestData.normals(rows, scale: 0.3, seed: 52)
        let y: [Double] = (0..<rows).map { i in
            let slope: Double = i % 2 == 0 ? 2 : -1
            return slope * x[i][0] + noise[i]
        }
        let s = (0..<rows).map { i in i % 2 == 0 ? 5.0 : 0.2 }
        let model = try Model(dataset: try Dataset(rows: x, targets: y, sampleWeights: s), output: .scalar(.squared))
        let optimum = MathTestData.normalEquations(x: x, y: y, sampleWeights: s, fitIntercept: true, l2: 0)
        #expect(abs(optimum[0] - 1.77) < 0.01)
        var configuration = TrainingConfiguration()
        configuration.rule = rule
        configuration.sampling = .miniBatch(size: batchSize, shuffle: true)
        let adaptive: Bool
        if case .adam = rule { adaptive = true } else { adaptive = false }
        configuration.learningRate = .fixed(adaptive ? 0.01 : 0.02)
        configuration.schedule = .inverseTime(decay: 0.05)
        configuration.stopping.maxIterations = 400
        configuration.stopping.weightTolerance = 0
        let result = try Trainer(model: model, configuration: configuration).run()
        #expect(abs(result.parameters[0] - optimum[0]) <= 0.005, "slope \(result.parameters[0]) vs \(optimum[0])")
        #expect(abs(result.parameters[1] - optimum[1]) <= 0.005, "intercept \(result.parameters[1]) vs \(optimum[1])")
    }

    @Test(
        "Float32 storage trains to the same optimum",
        arguments: [
            TrainingConfiguration.Sampling.fullBatch, .miniBatch(size: 1, shuffle: true),
            .miniBatch(size: 8, shuffle: true),
        ])
    func float32Storage(sampling: TrainingConfiguration.Sampling) throws {
        // Features that are exact Floats and targets exactly linear in them: the optimum is (1, −2, ½, 0.7).
        let x = MathTestData.features(rows: 64, columns: 3, seed: 44).map { $0.map { Double(Float($0)) } }
        let y = x.map { 1 * $0[0] - 2 * $0[1] + 0.5 * $0[2] + 0.7 }
        let dataset = try Dataset(
            rows: 64, columns: 3, features: .float32(x.flatMap { $0.map { Float($0) } }), targets: y)
        var configuration = TrainingConfiguration()
        configuration.sampling = sampling
        configuration.learningRate = .fixed(sampling == .fullBatch ? 0.5 : 0.05)
        configuration.stopping.maxIterations = 2000
        configuration.stopping.weightTolerance = 0
        let result = try Trainer(
            model: try Model(dataset: dataset, output: .scalar(.squared)), configuration: configuration
        ).run()
        #expect(MathTestData.relativeError(result.parameters, [1, -2, 0.5, 0.7]) <= 1e-9, "\(result.parameters)")
    }

    @Test("a clipped gradient step moves exactly clip_norm · η")
    func clippingBoundsTheStep() throws {
        let dataset = try MathTestData.linear(rows: 30, columns: 2, seed: 43, weights: [3, -4], intercept: 5, noise: 0)
        let model = try Model(dataset: dataset, output: .scalar(.squared))
        var configuration = TrainingConfiguration()
        configuration.learningRate = .fixed(0.01)
        configuration.clipNorm = 0.5
        configuration.stopping.maxIterations = 1
        configuration.snapshotEvery = 1
        let result = try Trainer(model: model, configuration: configuration).run()
        let step = MathTestData.norm(
            zip(result.snapshots[1].parameters, result.snapshots[0].parameters).map { $0 - $1 })
        #expect(abs(step - 0.005) <= 1e-15)
        // The direction is still −∇L(θ₀).
        let gradient = MathTestData.gradient(Objective(model: model), [0, 0, 0])
        let direction = result.parameters.map { -$0 / step }
        #expect(MathTestData.relativeError(direction, gradient.map { $0 / MathTestData.norm(gradient) }) <= 1e-12)
    }
}
