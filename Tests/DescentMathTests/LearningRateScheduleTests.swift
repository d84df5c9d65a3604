import Foundation
import Testing

@testable import DescentMath

@Suite("Learning-rate schedules and line search")
struct LearningRateScheduleTests {
    private func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-15 * max(abs(a), abs(b)) }

    @Test("each schedule follows its formula")
    func schedulesFollowTheirFormulas() {
        let base = 0.1
        func rate(_ schedule: LearningRateSchedule, _ t: Int) -> Double {
            schedule.rate(base: base, iteration: t, totalIterations: 100)
        }
        for t in [0, 5, 100, 1000] { #expect(rate(.constant, t) == base) }
        let step = LearningRateSchedule.step(every: 10, gamma: 0.5)
        #expect(rate(step, 0) == 0.1 && rate(step, 9) == 0.1)
        #expect(close(rate(step, 10), 0.05) && close(rate(step, 19), 0.05) && close(rate(step, 25), 0.025))
        let exponential = LearningRateSchedule.exponential(gamma: 0.9)
        #expect(rate(exponential, 0) == 0.1 && close(rate(exponential, 3), 0.1 * 0.729))
        let inverse = LearningRateSchedule.inverseTime(decay: 0.5)
        #expect(rate(inverse, 0) == 0.1 && close(rate(inverse, 4), 0.1 / 3))
        let cosine = LearningRateSchedule.cosine(minimum: 0.01)
        #expect(close(rate(cosine, 0), 0.1))
        #expect(close(rate(cosine, 25), 0.01 + 0.045 * (1 + 0.5.squareRoot())))
        #expect(close(rate(cosine, 50), 0.055))
        #expect(close(rate(cosine, 100), 0.01) && close(rate(cosine, 200), 0.01))
    }

    @Test("a run uses the schedule's rate for step t + 1 at iteration t")
    func runsFollowTheSchedule() throws {
        let dataset = try MathTestData.linear(rows: 50, columns: 2, seed: 91, weights: [1, 1], intercept: 0, noise: 1)
        let model = try Model(dataset: dataset, output: .scalar(.squared))
        for schedule in [
            LearningRateSchedule.step(every: 3, gamma: 0.5), .exponential(gamma: 0.8), .cosine(minimum: 0),
        ] {
            var configuration = TrainingConfiguration()
            configuration.learningRate = .fixed(0.2)
            configuration.schedule = schedule
            configuration.stopping.maxIterations = 8
            configuration.stopping.weightTolerance = 0
            var rates: [Double] = []
            _ = try Trainer(model: model, configuration: configuration).run(progress: { rates.append($0.learningRate) })
            #expect(rates == (0..<8).map { schedule.rate(base: 0.2, iteration: $0, totalIterations: 8) })
        }
    }

    /// A badly scaled problem and an initial rate 1000 times too large: every step must shrink, and be accepted
    /// only when it satisfies Armijo's condition, at the first rate of the sequence η₀, βη₀, β²η₀, … that does.
    @Test("backtracking accepts the first rate that satisfies Armijo's condition", arguments: [0.0, 0.05])
    func lineSearchSatisfiesArmijo(l1: Double) throws {
        let x = MathTestData.features(rows: 80, columns: 3, seed: 92, means: [0, 0, 0], scales: [1, 5, 0.2])
        let noise = MathTestData.normals(80, scale: 0.3, seed: 93)
        let y = x.indices.map { i in 1 + x[i][0] - 0.2 * x[i][1] + 3 * x[i][2] + noise[i] }
        let model = try Model(
            dataset: try Dataset(rows: x, targets: y), output: .scalar(.squared), l2: 0.01, l1: l1)
        let search = LineSearch(shrink: 0.5, armijo: 1e-4)
        var configuration = TrainingConfiguration()
        configuration.learningRate = .fixed(40)
        configuration.lineSearch = search
        configuration.stopping.maxIterations = 30
        configuration.stopping.weightTolerance = 0
        configuration.snapshotEvery = 1
        var events: [ProgressEvent] = []
        let result = try Trainer(model: model, configuration: configuration).run(progress: { events.append($0) })
        #expect(result.stopReason == .maxIterations)
        let objective = Objective(model: model)
        let thetas = result.snapshots.map(\.parameters)

        /// The step from θ with rate η: gradient step, then l1's soft threshold on the weights.
        func step(_ theta: [Double], _ gradient: [Double], _ eta: Double) -> [Double] {
            theta.indices.map { i in
                let moved = theta[i] - eta * gradient[i]
                guard model.weightRange.contains(i) else { return moved }
                return moved > eta * l1 ? moved - eta * l1 : (moved < -eta * l1 ? moved + eta * l1 : 0)
            }
        }
        func armijo(_ theta: [Double], _ gradient: [Double], _ eta: Double) -> Bool {
            let next = step(theta, gradient, eta)
            let mapped = zip(theta, next).map { ($0 - $1) / eta }
            let squares = mapped.reduce(0) { $0 + $1 * $1 }
            return objective.objective(next, rows: .all) <= objective.objective(theta, rows: .all) - 1e-4 * eta
                * squares
        }
        for event in events {
            let t = event.iteration
            let theta = thetas[t - 1]
            let gradient = MathTestData.gradient(objective, theta)
            let eta = event.learningRate
            #expect(eta < 40, "iteration \(t): a rate 1000× too large must shrink")
            #expect(MathTestData.relativeError(step(theta, gradient, eta), thetas[t]) <= 1e-12)
            #expect(armijo(theta, gradient, eta), "iteration \(t)")
            #expect(!armijo(theta, gradient, eta / search.shrink), "iteration \(t): a larger rate was acceptable")
        }
        let losses = events.map(\.loss)
        #expect(zip(losses, losses.dropFirst()).allSatisfy { $0 >= $1 })
    }

    /// Trial steps must not leave traces in the optimizer's state: with momentum μ, v₁ = g₀ and
    /// θ₁ = θ₀ − η₁ g₀; v₂ = μ g₀ + g₁ and θ₂ = θ₁ − η₂ v₂, however many rates each line search tried.
    @Test("a line search with momentum or adam takes one optimizer step per iteration")
    func lineSearchTakesOneOptimizerStep() throws {
        let x = MathTestData.features(rows: 60, columns: 2, seed: 94)
        let y = x.map { 2 * $0[0] - $0[1] + 0.5 }
        let model = try Model(dataset: try Dataset(rows: x, targets: y), output: .scalar(.squared))
        let objective = Objective(model: model)
        for rule in [UpdateRule.momentum(0.9), .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)] {
            var configuration = TrainingConfiguration()
            configuration.rule = rule
            configuration.learningRate = .fixed(50)
            configuration.lineSearch = LineSearch()
            configuration.stopping.maxIterations = 3
            configuration.stopping.weightTolerance = 0
            configuration.snapshotEvery = 1
            var rates: [Double] = []
            let result = try Trainer(model: model, configuration: configuration).run(
                progress: { rates.append($0.learningRate) })
            let thetas = result.snapshots.map(\.parameters)
            var optimizer = Optimizer(rule: rule, parameterCount: 3)
            var theta = thetas[0]
            for t in 0..<3 {
                #expect(rates[t] < 50, "\(rule): the search must have shrunk the rate")
                let gradient = MathTestData.gradient(objective, theta)
                gradient.withUnsafeBufferPointer { optimizer.step(&theta, gradient: $0, learningRate: rates[t]) }
                #expect(MathTestData.relativeError(theta, thetas[t + 1]) <= 1e-12, "\(rule), step \(t + 1)")
                theta = thetas[t + 1]
            }
        }
    }

    @Test("a line search with mini-batches is refused")
    func lineSearchNeedsFullBatches() throws {
        let model = try Model(dataset: try Dataset(rows: [[1], [2]], targets: [1, 2]), output: .scalar(.squared))
        var configuration = TrainingConfiguration()
        configuration.lineSearch = LineSearch()
        configuration.sampling = .miniBatch(size: 1, shuffle: true)
        #expect(throws: TrainingError.self) { try Trainer(model: model, configuration: configuration) }
    }
}
