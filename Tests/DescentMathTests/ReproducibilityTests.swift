import Foundation
import Testing

@testable import DescentMath

@Suite("Reproducibility")
struct ReproducibilityTests {
    /// 7,300 rows (four chunks of `Objective.chunkRows`) × 9 columns, 0/1 labels from a noisy linear rule.
    private static func classification(float32: Bool = false) throws -> Model {
        let rows = 7300
        let x = MathTestData.features(rows: rows, columns: 9, seed: 81)
        let noise = MathTestData.normals(rows, seed: 82)
        let y = x.indices.map { i -> Double in x[i][0] - 0.5 * x[i][3] + 0.2 * x[i][8] + noise[i] > 0 ? 1 : 0 }
        let weights = MathTestData.uniform(rows, 0.5, 2, seed: 83)
        let features: FeatureStorage =
            float32 ? .float32(x.flatMap { $0.map { Float($0) } }) : .float64(x.flatMap { $0 })
        let dataset = try Dataset(rows: rows, columns: 9, features: features, targets: y, sampleWeights: weights)
        return try Model(dataset: dataset, output: .scalar(.log), l2: 1e-3, standardize: true)
    }

    private static func bits(_ result: TrainingResult) -> [UInt64] {
        (result.parameters + [result.loss]).map(\.bitPattern)
    }

    @Test("full-batch runs give bitwise-identical parameters for 1, 2, 3 and 8 threads", arguments: [false, true])
    func threadCountDoesNotChangeTheResult(float32: Bool) throws {
        let model = try Self.classification(float32: float32)
        var reference: [UInt64]?
        for parallelism in [1, 2, 3, 8] {
            var configuration = TrainingConfiguration()
            configuration.rule = .nesterov(0.9)
            configuration.learningRate = .fixed(0.5)
            configuration.initialization = .normal(scale: 0.1)
            configuration.validationFraction = 0.1
            configuration.stopping.maxIterations = 8
            configuration.parallelism = parallelism
            configuration.seed = 5
            let result = try Trainer(model: model, configuration: configuration).run()
            #expect(result.stopReason == .maxIterations)
            if let reference {
                #expect(Self.bits(result) == reference, "\(parallelism) threads")
            } else {
                reference = Self.bits(result)
            }
        }
    }

    private static func stochasticRun(seed: UInt64, parallelism: Int = 1) throws -> TrainingResult {
        let dataset = try MathTestData.linear(
            rows: 500, columns: 4, seed: 84, weights: [1, 2, 3, 4], intercept: -1, noise: 0.3,
            sampleWeights: MathTestData.uniform(500, 0.5, 2, seed: 85))
        let model = try Model(dataset: dataset, output: .scalar(.huber(delta: 0.5)), l2: 0.01, l1: 0.01)
        var configuration = TrainingConfiguration()
        configuration.rule = .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        configuration.sampling = .miniBatch(size: 16, shuffle: true)
        configuration.initialization = .uniform(scale: 1)
        configuration.validationFraction = 0.2
        configuration.stopping.maxIterations = 5
        configuration.parallelism = parallelism
        configuration.seed = seed
        return try Trainer(model: model, configuration: configuration).run()
    }

    @Test("the same seed gives bitwise-identical parameters and a different seed different ones")
    func sameSeedSameParameters() throws {
        let first = try Self.stochasticRun(seed: 17)
        #expect(Self.bits(first) == Self.bits(try Self.stochasticRun(seed: 17)))
        #expect(Self.bits(first) == Self.bits(try Self.stochasticRun(seed: 17, parallelism: 3)))
        #expect(Self.bits(first) != Self.bits(try Self.stochasticRun(seed: 18)))
    }

    @Test("plain sgd is reproducible too, and a shuffle-free epoch does not depend on the seed")
    func sgdIsReproducible() throws {
        let dataset = try MathTestData.linear(
            rows: 300, columns: 3, seed: 86, weights: [1, 2, 3], intercept: 0, noise: 0.3)
        let model = try Model(dataset: dataset, output: .scalar(.squared))
        func run(seed: UInt64, shuffle: Bool) throws -> [UInt64] {
            var configuration = TrainingConfiguration()
            configuration.sampling = .miniBatch(size: 1, shuffle: shuffle)
            configuration.stopping.maxIterations = 3
            configuration.seed = seed
            return Self.bits(try Trainer(model: model, configuration: configuration).run())
        }
        #expect(try run(seed: 1, shuffle: true) == (try run(seed: 1, shuffle: true)))
        #expect(try run(seed: 1, shuffle: true) != (try run(seed: 2, shuffle: true)))
        #expect(try run(seed: 1, shuffle: false) == (try run(seed: 2, shuffle: false)))
    }
}
