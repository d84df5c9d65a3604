import Foundation
import Testing

@testable import DescentMath

/// A run with every iterate kept: θ_t (from snapshots every iteration) and the progress events.
private struct Recorded {
    let result: TrainingResult
    let events: [ProgressEvent]
    /// θ_0 … θ_T; a missing snapshot is recorded as an issue and stands as NaNs.
    let thetas: [[Double]]

    init(_ model: Model, _ configuration: TrainingConfiguration, isCancelled: @escaping () -> Bool = { false }) throws {
        var configuration = configuration
        configuration.snapshotEvery = 1
        var events: [ProgressEvent] = []
        result = try Trainer(model: model, configuration: configuration).run(
            progress: { events.append($0) }, isCancelled: isCancelled)
        self.events = events
        let snapshots = Dictionary(result.snapshots.map { ($0.iteration, $0.parameters) }, uniquingKeysWith: { $1 })
        #expect(result.snapshots.map(\.iteration) == Array(0...result.iterations), "a snapshot every iteration")
        let missing = [Double](repeating: .nan, count: model.parameterCount)
        thetas = (0...result.iterations).map { snapshots[$0] ?? missing }
    }
}

@Suite("Stopping rules and progress")
struct StoppingRulesTests {
    /// y = x·(1, −2, 0.5) + 0.3 + noise on 100 rows.
    private static func leastSquares(l2: Double = 0) throws -> Model {
        let dataset = try MathTestData.linear(
            rows: 100, columns: 3, seed: 71, weights: [1, -2, 0.5], intercept: 0.3, noise: 0.2)
        return try Model(dataset: dataset, output: .scalar(.squared), l2: l2)
    }

    private static func configuration(rate: Double = 0.05) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.learningRate = .fixed(rate)
        configuration.stopping.weightTolerance = 0
        return configuration
    }

    @Test("max_iterations stops after exactly that many steps")
    func maxIterations() throws {
        var configuration = Self.configuration()
        configuration.stopping.maxIterations = 7
        let run = try Recorded(try Self.leastSquares(), configuration)
        #expect(run.result.stopReason == .maxIterations)
        #expect(run.result.iterations == 7)
        #expect(!run.result.converged)
        #expect(run.events.map(\.iteration) == Array(1...7))
    }

    @Test("weight_tolerance stops at the first step no longer than the tolerance")
    func weightTolerance() throws {
        var configuration = Self.configuration()
        configuration.stopping.weightTolerance = 1e-5
        let run = try Recorded(try Self.leastSquares(), configuration)
        #expect(run.result.stopReason == .weightTolerance)
        #expect(run.result.converged)
        let steps = run.events.map(\.stepNorm)
        #expect(steps.last! <= 1e-5)
        #expect(steps.dropLast().allSatisfy { $0 > 1e-5 })
        // The step norm reported is ‖θ_t − θ_{t−1}‖.
        for event in run.events {
            let t = event.iteration
            let step = MathTestData.norm(zip(run.thetas[t], run.thetas[t - 1]).map { $0 - $1 })
            #expect(abs(event.stepNorm - step) <= 1e-15 * max(1, step))
        }
    }

    @Test("gradient_tolerance stops at the first iterate whose gradient is that small")
    func gradientTolerance() throws {
        var configuration = Self.configuration()
        configuration.stopping.gradientTolerance = 1e-4
        let model = try Self.leastSquares(l2: 0.1)
        let run = try Recorded(model, configuration)
        #expect(run.result.stopReason == .gradientTolerance)
        #expect(run.result.converged)
        let objective = Objective(model: model)
        let norms = run.thetas.map { MathTestData.norm(MathTestData.gradient(objective, $0)) }
        #expect(norms.last! <= 1e-4)
        #expect(norms.dropLast().allSatisfy { $0 > 1e-4 })
        for event in run.events { #expect(abs(event.gradientNorm - norms[event.iteration]) <= 1e-14) }
    }

    @Test("loss_tolerance stops once the relative improvement stayed below it for `patience` iterations")
    func lossToleranceWithPatience() throws {
        var configuration = Self.configuration(rate: 0.01)
        configuration.stopping.lossTolerance = 1e-3
        configuration.stopping.patience = 4
        let model = try Self.leastSquares()
        let run = try Recorded(model, configuration)
        #expect(run.result.stopReason == .lossTolerance)
        #expect(run.result.converged)
        let objective = Objective(model: model)
        let losses = run.thetas.map { objective.objective($0, rows: .all) }
        let small = (1..<losses.count).map { t in (losses[t - 1] - losses[t]) / abs(losses[t - 1]) < 1e-3 }
        // small[t − 1] is about iteration t; the run stops at the first t whose last 4 improvements were small.
        let expected = (4...).first { t in small[(t - 4)..<t].allSatisfy { $0 } }!
        #expect(run.result.iterations == expected)
        #expect(expected > 4 && !small[0])
    }

    /// 40 rows of 30 pure-noise features and a pure-noise target: gd first fits the intercept (the validation
    /// loss falls), then the noise (it rises again).
    private static func overfitting() throws -> Model {
        let x = MathTestData.features(rows: 40, columns: 30, seed: 72)
        let y = MathTestData.normals(40, seed: 73).map { $0 + 3 }
        return try Model(dataset: try Dataset(rows: x, targets: y), output: .scalar(.squared), l2: 1e-3)
    }

    @Test("early stopping restores the best-validation parameters and reports both ends", arguments: [true, false])
    func earlyStopping(restoreBest: Bool) throws {
        let model = try Self.overfitting()
        var configuration = Self.configuration(rate: 0.05)
        configuration.validationFraction = 0.25
        configuration.restoreBest = restoreBest
        configuration.stopping.patience = 5
        configuration.seed = 4
        let run = try Recorded(model, configuration)
        #expect(run.result.stopReason == .earlyStopping)
        #expect(!run.result.converged)

        var random = RandomSource(seed: 4)
        let split = try TrainValidationSplit(rows: 40, validationFraction: 0.25, random: &random)
        let objective = Objective(model: model)
        let validation = run.thetas.map { objective.evaluate($0, rows: split.validation!) }
        let best = validation.indices.min { validation[$0] < validation[$1] }!
        #expect(best > 2, "the validation loss must fall first for this test to mean anything")
        #expect(run.result.iterations == best + 5)
        for event in run.events { #expect(event.validationLoss == validation[event.iteration]) }
        let last = objective.objective(run.thetas.last!, rows: split.training)
        #expect(run.events.last!.loss == last)
        if restoreBest {
            #expect(run.result.bestIteration == best)
            #expect(run.result.parameters == run.thetas[best])
            #expect(run.result.validationLoss == validation[best])
            #expect(run.result.loss == objective.objective(run.thetas[best], rows: split.training))
            #expect(run.result.lastLoss == last)
            let (weights, intercepts) = model.originalUnits(run.thetas[best])
            #expect(run.result.weights == weights && run.result.intercepts == intercepts)
        } else {
            #expect(run.result.parameters == run.thetas.last!)
            #expect(run.result.loss == last)
        }
    }

    @Test("time_limit stops a run that has used its seconds")
    func timeLimit() throws {
        var configuration = Self.configuration()
        configuration.stopping.maxSeconds = 1e-9
        configuration.stopping.maxIterations = 1_000_000
        let run = try Recorded(try Self.leastSquares(), configuration)
        #expect(run.result.stopReason == .timeLimit)
        #expect(run.result.iterations == 0)
        #expect(!run.result.converged)
    }

    @Test(
        "cancellation ends the run at the next iteration",
        arguments: [TrainingConfiguration.Sampling.fullBatch, .miniBatch(size: 1, shuffle: true)])
    func cancellation(sampling: TrainingConfiguration.Sampling) throws {
        var configuration = Self.configuration(rate: 0.01)
        configuration.sampling = sampling
        configuration.stopping.maxIterations = 100_000
        let model = try Self.leastSquares()
        var iterations: [Int] = []
        var calls = 0
        var events: [ProgressEvent] = []
        let result = try Trainer(model: model, configuration: configuration).run(
            progress: {
                events.append($0)
                iterations.append($0.iteration)
            },
            isCancelled: {
                calls += 1
                return (events.last?.iteration ?? 0) >= 3
            })
        #expect(result.stopReason == .cancelled)
        #expect(result.iterations == 4)
        #expect(iterations == [1, 2, 3, 4])
        #expect(result.parameters.allSatisfy { $0.isFinite })
        #expect(calls >= 4)
    }

    @Test(
        "a learning rate of 1e3 diverges with finite parameters, a suggested rate and an explanation",
        arguments: [TrainingConfiguration.Sampling.fullBatch, .miniBatch(size: 1, shuffle: true)])
    func divergence(sampling: TrainingConfiguration.Sampling) throws {
        let model = try Self.leastSquares()
        var configuration = Self.configuration(rate: 1e3)
        configuration.sampling = sampling
        var events: [ProgressEvent] = []
        let result = try Trainer(model: model, configuration: configuration).run(progress: { events.append($0) })
        #expect(result.stopReason == .diverged)
        #expect(!result.converged)
        #expect(result.iterations < 100)
        #expect(result.parameters.allSatisfy { $0.isFinite })
        #expect(result.weights.joined().allSatisfy { $0.isFinite } && result.intercepts.allSatisfy { $0.isFinite })
        #expect(result.loss.isFinite)
        #expect(result.loss == Objective(model: model).objective(result.parameters, rows: .all))
        let suggested = try #require(result.suggestedLearningRate)
        let lipschitz = try #require(result.lipschitz)
        #expect(suggested > 0 && suggested < 1)
        #expect(abs(suggested * lipschitz - 1) <= 1e-12)
        let detail = try #require(result.detail)
        #expect(detail.contains("\(suggested)"))
        #expect(detail.contains("learning rate"))
        // The suggestion works.
        var safe = Self.configuration(rate: suggested)
        safe.stopping.maxIterations = 200
        let retried = try Trainer(model: model, configuration: safe).run()
        #expect(retried.stopReason == .maxIterations)
        #expect(retried.loss < Objective(model: model).objective([0, 0, 0, 0], rows: .all))
    }

    @Test("progress is reported every report_every iterations and for the last, with L(θ_t) and ‖∇L(θ_t)‖")
    func progressEvents() throws {
        let model = try Self.leastSquares(l2: 0.2)
        var configuration = Self.configuration()
        configuration.reportEvery = 3
        configuration.stopping.maxIterations = 10
        configuration.schedule = .inverseTime(decay: 0.5)
        let run = try Recorded(model, configuration)
        #expect(run.events.map(\.iteration) == [3, 6, 9, 10])
        let objective = Objective(model: model)
        var elapsed = 0.0
        for event in run.events {
            let theta = run.thetas[event.iteration]
            #expect(event.loss == objective.objective(theta, rows: .all))
            #expect(abs(event.gradientNorm - MathTestData.norm(MathTestData.gradient(objective, theta))) <= 1e-14)
            // The rate of the step that led here: η₀ / (1 + d (t − 1)).
            #expect(event.learningRate == 0.05 / (1 + 0.5 * Double(event.iteration - 1)))
            #expect(event.validationLoss == nil)
            #expect(event.elapsedSeconds >= elapsed)
            elapsed = event.elapsedSeconds
        }
        #expect(run.result.loss == run.events.last!.loss)
    }

    @Test("a stochastic run reports L(θ_t) of the epoch's end too")
    func stochasticProgress() throws {
        let model = try Self.leastSquares(l2: 0.2)
        var configuration = Self.configuration()
        configuration.sampling = .miniBatch(size: 7, shuffle: true)
        configuration.reportEvery = 4
        configuration.stopping.maxIterations = 10
        let run = try Recorded(model, configuration)
        #expect(run.events.map(\.iteration) == [4, 8, 10])
        let objective = Objective(model: model)
        for event in run.events { #expect(event.loss == objective.objective(run.thetas[event.iteration], rows: .all)) }
        #expect(run.result.loss == objective.objective(run.result.parameters, rows: .all))
    }

    @Test("a run that stops at its first evaluation still reports it, since the last iteration is always reported")
    func stopAtTheStartIsReported() throws {
        let model = try Self.leastSquares()
        let optimum = try LeastSquares.solve(model.dataset, fitIntercept: true, l2: 0)
        var configuration = Self.configuration()
        configuration.initialization = .values(optimum.weights + [optimum.intercept])
        configuration.stopping.gradientTolerance = 1e-8
        var events: [ProgressEvent] = []
        let result = try Trainer(model: model, configuration: configuration).run(progress: { events.append($0) })
        #expect(result.stopReason == .gradientTolerance)
        #expect(result.iterations == 0)
        #expect(events.map(\.iteration) == [0])
        #expect(events.first?.loss == result.loss)
    }

    @Test("the validation loss is the data term on the held-out rows, without the penalty")
    func validationLossIsTheDataTerm() throws {
        let model = try Self.leastSquares(l2: 5)
        var configuration = Self.configuration()
        configuration.validationFraction = 0.2
        configuration.stopping.maxIterations = 3
        configuration.seed = 8
        let run = try Recorded(model, configuration)
        var random = RandomSource(seed: 8)
        let split = try TrainValidationSplit(rows: 100, validationFraction: 0.2, random: &random)
        let objective = Objective(model: model)
        for event in run.events {
            let theta = run.thetas[event.iteration]
            #expect(event.validationLoss == objective.evaluate(theta, rows: split.validation!))
            #expect(event.loss == objective.objective(theta, rows: split.training))
        }
    }
}
