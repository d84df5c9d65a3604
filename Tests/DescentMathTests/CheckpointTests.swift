import Foundation
import Testing

@testable import DescentMath

/// Issue 5's exact resume at the level of the trainer: a run resumed from any checkpoint — through its byte
/// encoding — ends with the parameters, iteration count, loss, stop reason and snapshots of the run that was
/// never interrupted, bit for bit, for every kind of state a run carries.
struct CheckpointTests {
    struct Case: CustomStringConvertible, Sendable {
        var description: String
        var output: Model.Output = .scalar(.squared)
        var l1 = 0.0
        var standardize = false
        var configure: @Sendable (inout TrainingConfiguration) -> Void
    }

    static let cases: [Case] = [
        Case(description: "sgd with shuffling and the cumulative l1 penalty", l1: 0.01) {
            $0.sampling = .miniBatch(size: 1, shuffle: true)
            $0.learningRate = .fixed(0.01)
        },
        Case(description: "adam on shuffled mini-batches, random start") {
            $0.rule = .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
            $0.sampling = .miniBatch(size: 16, shuffle: true)
            $0.learningRate = .fixed(0.05)
            $0.initialization = .normal(scale: 0.1)
        },
        Case(description: "momentum, full batch, standardized, step schedule", standardize: true) {
            $0.rule = .momentum(0.9)
            $0.schedule = .step(every: 7, gamma: 0.5)
        },
        Case(description: "gd with backtracking line search and proximal l1", l1: 0.02) {
            $0.lineSearch = LineSearch()
            $0.learningRate = .fixed(1)
        },
        Case(description: "validation split, early stopping, best restored") {
            $0.validationFraction = 0.25
            $0.stopping.patience = 3
            $0.learningRate = .fixed(0.3)
            $0.rule = .nesterov(0.5)
        },
        Case(description: "softmax, rmsprop, gradient clipping", output: .softmax(classes: 3)) {
            $0.rule = .rmsprop(decay: 0.99, epsilon: 1e-8)
            $0.clipNorm = 0.5
            $0.learningRate = .fixed(0.01)
        },
    ]

    private func model(_ testCase: Case) throws -> Model {
        let x = MathTestData.features(rows: 120, columns: 3, seed: 7)
        let y: [Double] =
            switch testCase.output {
            case .softmax: x.map { row in row[0] > 0.5 ? 2 : (row[1] > 0 ? 1 : 0) }
            case .scalar: x.map { row in 1.5 * row[0] - 2 * row[1] + 0.5 * row[2] + 0.3 }
            }
        return try Model(
            dataset: try Dataset(rows: x, targets: y), output: testCase.output, l2: 0.001, l1: testCase.l1,
            standardize: testCase.standardize)
    }

    private func configuration(_ testCase: Case) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.seed = 42
        configuration.stopping.maxIterations = 40
        configuration.stopping.weightTolerance = 0
        configuration.reportEvery = 5
        configuration.snapshotEvery = 3
        testCase.configure(&configuration)
        return configuration
    }

    @Test("a run resumed from any checkpoint ends exactly as the uninterrupted run", arguments: cases)
    func resumesExactly(_ testCase: Case) throws {
        let model = try model(testCase)
        let configuration = configuration(testCase)
        var checkpoints: [TrainerCheckpoint] = []
        var events: [ProgressEvent] = []
        let whole = try Trainer(model: model, configuration: configuration).run(
            progress: { events.append($0) }, checkpointEvery: 0, checkpoint: { checkpoints.append($0) })
        #expect(checkpoints.count >= 3, "\(whole.iterations) iterations, \(checkpoints.count) checkpoints")
        for checkpoint in [checkpoints.first, checkpoints[checkpoints.count / 2], checkpoints.last].compactMap({ $0 }) {
            let decoded = try #require(TrainerCheckpoint(decoding: checkpoint.encoded()))
            #expect(decoded == checkpoint)
            var resumedEvents: [ProgressEvent] = []
            let resumed = try Trainer(model: model, configuration: configuration).run(
                progress: { resumedEvents.append($0) }, resumingFrom: decoded)
            #expect(
                resumed.parameters.map(\.bitPattern) == whole.parameters.map(\.bitPattern), "\(checkpoint.iteration)")
            #expect(resumed.iterations == whole.iterations)
            #expect(resumed.loss.bitPattern == whole.loss.bitPattern)
            #expect(resumed.stopReason == whole.stopReason)
            #expect(resumed.snapshots.map(\.iteration) == whole.snapshots.map(\.iteration))
            #expect(resumed.snapshots.map(\.parameters) == whole.snapshots.map(\.parameters))
            // The resumed run reports what the whole run reported from the checkpoint on (times aside).
            let expected = events.filter { $0.iteration >= checkpoint.iteration }
            #expect(resumedEvents.map(\.iteration) == expected.map(\.iteration))
            #expect(resumedEvents.map(\.loss.bitPattern) == expected.map(\.loss.bitPattern))
        }
    }

    @Test("a truncated or foreign checkpoint is refused")
    func refusesDamage() throws {
        let testCase = Self.cases[1]
        var checkpoints: [TrainerCheckpoint] = []
        _ = try Trainer(model: try model(testCase), configuration: configuration(testCase)).run(
            checkpointEvery: 0, checkpoint: { checkpoints.append($0) })
        let bytes = try #require(checkpoints.first).encoded()
        #expect(TrainerCheckpoint(decoding: Array(bytes.dropLast())) == nil)
        #expect(TrainerCheckpoint(decoding: bytes + [0]) == nil)
        #expect(TrainerCheckpoint(decoding: [UInt8](repeating: 0xFF, count: 64)) == nil)
        #expect(TrainerCheckpoint(decoding: []) == nil)
    }
}
