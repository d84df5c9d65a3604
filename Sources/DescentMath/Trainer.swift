import Foundation

/// The optimization loop: initialise, then repeat { evaluate, report, check the stopping rules, step }.
///
/// Iteration t evaluates θ_t (t steps taken) in one fused pass — L(θ_t), ∇L(θ_t), the validation loss —
/// reports it, checks every stopping rule against it, and only then takes step t + 1. With mini-batches one
/// iteration is one epoch of steps over the training rows. Every random choice (initial θ, the split, the
/// shuffles) comes from one `RandomSource` seeded by `configuration.seed`, so a seed fixes the run bit for bit.
package final class Trainer {
    package let model: Model
    package let configuration: TrainingConfiguration
    let objective: Objective
    package let split: TrainValidationSplit
    var random: RandomSource
    var theta: [Double]
    var gradient: [Double]
    var previous: [Double]
    var optimizer: Optimizer
    /// The cumulative l1 penalty of Tsuruoka et al. (2009) for stochastic steps: u_j, the total penalty weight j
    /// could have received (per weight, as the rule's `proximalScale` differs between coordinates), and q_j,
    /// what weight j actually received.
    var l1Total: [Double]
    var l1Applied: [Double]
    var lipschitz: Double?
    /// The training rows in the order of the current epoch: made once, then reshuffled in place each epoch
    /// (no allocation per epoch; each shuffle draws from `random`, so a seed fixes every order).
    var order: [Int] = []

    package init(model: Model, configuration: TrainingConfiguration) throws(TrainingError) {
        self.model = model
        self.configuration = configuration
        objective = Objective(model: model, parallelism: configuration.parallelism)
        random = RandomSource(seed: configuration.seed)
        do {
            split = try TrainValidationSplit(
                rows: model.dataset.rows, validationFraction: configuration.validationFraction, random: &random)
            theta = try configuration.initialization.parameters(count: model.parameterCount, random: &random)
        } catch let error as SplitError {
            throw .invalid("validation: \(error)")
        } catch {
            throw .invalid("init: \(error)")
        }
        if case .miniBatch(let size, _) = configuration.sampling, size < 1 {
            throw .invalid("batch size must be ≥ 1")
        }
        if configuration.lineSearch != nil && configuration.sampling != .fullBatch {
            throw .invalid("backtracking line search needs full-batch steps")
        }
        gradient = [Double](repeating: 0, count: model.parameterCount)
        previous = theta
        optimizer = Optimizer(rule: configuration.rule, parameterCount: model.parameterCount)
        l1Applied = [Double](repeating: 0, count: model.parameterCount)
        l1Total = l1Applied
        // A model without an intercept has b = 0, whatever a random or given start drew for it.
        if !model.fitIntercept { for index in model.weightRange.upperBound..<model.parameterCount { theta[index] = 0 } }
    }

    /// Whether `checkpoint` has the shapes of this trainer's state (same model, same rule): resuming from
    /// anything else would be meaningless, and a caller starts afresh instead.
    package func canResume(from checkpoint: TrainerCheckpoint) -> Bool {
        let count = model.parameterCount
        let fresh = Optimizer(rule: configuration.rule, parameterCount: count)
        let rows = split.training.count(in: model.dataset.rows)
        return checkpoint.theta.count == count && checkpoint.previous.count == count
            && checkpoint.lastFinite.count == count && checkpoint.l1Total.count == count
            && checkpoint.l1Applied.count == count && checkpoint.optimizerFirst.count == fresh.first.count
            && checkpoint.optimizerSecond.count == fresh.second.count && RandomSource(state: checkpoint.random) != nil
            && (checkpoint.order.isEmpty
                || (checkpoint.order.count == rows
                    && checkpoint.order.allSatisfy { $0 >= 0 && $0 < model.dataset.rows }))
            && checkpoint.iteration >= 0 && checkpoint.iteration <= configuration.stopping.maxIterations
    }

    /// The Lipschitz constant L of ∇(data term + l2 part) — λ_max of the weighted Gram matrix of [x, 1]
    /// times the loss's curvature bound, plus l2 — and the safe step 1/L. For losses without a Lipschitz
    /// gradient, λ_max alone (plus l2) stands in, which is the right scale for a subgradient step.
    package func safeLearningRate() -> (lipschitz: Double, rate: Double) {
        if let lipschitz { return (lipschitz, 1 / lipschitz) }
        let eigenvalue = LipschitzEstimate.largestEigenvalue(
            of: model.dataset, rows: split.training, fitIntercept: model.fitIntercept,
            standardization: model.standardization, seed: configuration.seed)
        let curvature: Double
        switch model.output {
        case .scalar(let loss): curvature = loss.curvatureBound ?? 1
        case .softmax: curvature = SoftmaxCrossEntropy.curvatureBound
        }
        let estimate = max(curvature * eigenvalue + model.l2, .leastNormalMagnitude)
        lipschitz = estimate
        return (estimate, 1 / estimate)
    }

    /// Runs to a stopping rule. `progress` sees every reported iteration; `isCancelled` is asked every
    /// iteration (and every few hundred stochastic steps) and ends the run `cancelled`. With `checkpointEvery`,
    /// `checkpoint` receives the run's whole state at the top of an iteration whenever that many seconds have
    /// passed since the last one; `resumingFrom` continues a run from such a state (taken by a trainer with
    /// the same model and configuration) as if it had never stopped. `checkpointNow` asks for one at the next
    /// iteration regardless of the cadence.
    package func run(
        progress: (ProgressEvent) -> Void = { _ in }, isCancelled: () -> Bool = { false },
        resumingFrom resume: TrainerCheckpoint? = nil, checkpointEvery: Double? = nil,
        checkpointNow: () -> Bool = { false }, checkpoint: (TrainerCheckpoint) -> Void = { _ in }
    ) -> TrainingResult {
        var started = Date()
        let stopping = configuration.stopping
        let baseRate: Double
        switch configuration.learningRate {
        case .fixed(let rate): baseRate = rate
        case .auto: baseRate = safeLearningRate().rate
        }
        var monitor = StoppingMonitor(rules: stopping, restoreBest: configuration.restoreBest)
        var snapshots: [(iteration: Int, parameters: [Double])] = []
        var stepNorm = 0.0
        var rate = baseRate
        var iteration = 0
        var lastFinite = theta
        if let resume {
            started = Date().addingTimeInterval(-resume.elapsedSeconds)
            iteration = resume.iteration
            theta = resume.theta
            previous = resume.previous
            lastFinite = resume.lastFinite
            optimizer = Optimizer(
                rule: configuration.rule, first: resume.optimizerFirst, second: resume.optimizerSecond,
                steps: resume.optimizerSteps)
            random = RandomSource(state: resume.random) ?? random
            order = resume.order
            l1Total = resume.l1Total
            l1Applied = resume.l1Applied
            rate = resume.rate
            stepNorm = resume.stepNorm
            monitor.state = resume.monitor
            snapshots = Array(zip(resume.snapshotIterations, resume.snapshotParameters))
        }
        let firstIteration = iteration
        var lastCheckpoint = Date()
        // A full pass costs as much as a whole epoch of SGD steps, so stochastic runs evaluate only when a
        // report, a rule or the last iteration needs it; the cheap rules are checked every epoch regardless.
        let evaluatesEveryIteration =
            configuration.sampling == .fullBatch || stopping.gradientTolerance > 0 || stopping.lossTolerance > 0
            || split.validation != nil
        while true {
            // At the cadence, and whenever the caller asks (a shutdown saves the run before it stops it).
            if let checkpointEvery,
                (iteration > firstIteration && Date().timeIntervalSince(lastCheckpoint) >= checkpointEvery)
                    || checkpointNow()
            {
                checkpoint(
                    TrainerCheckpoint(
                        iteration: iteration, theta: theta, previous: previous, lastFinite: lastFinite,
                        optimizerFirst: optimizer.first, optimizerSecond: optimizer.second,
                        optimizerSteps: optimizer.steps, random: random.state, order: order, l1Total: l1Total,
                        l1Applied: l1Applied, lipschitz: lipschitz, rate: rate, stepNorm: stepNorm,
                        monitor: monitor.state, snapshotIterations: snapshots.map(\.iteration),
                        snapshotParameters: snapshots.map(\.parameters),
                        elapsedSeconds: Date().timeIntervalSince(started)))
                lastCheckpoint = Date()
            }
            let due = iteration == 0 || iteration % max(1, configuration.reportEvery) == 0
            if !evaluatesEveryIteration && !due
                && !monitor.stopsWithoutEvaluation(
                    iteration: iteration, stepNorm: stepNorm, parameters: theta,
                    elapsed: Date().timeIntervalSince(started), cancelled: isCancelled())
            {
                if let every = configuration.snapshotEvery, iteration % max(1, every) == 0 {
                    snapshots.append((iteration, theta))
                }
                takeStep(iteration: iteration, baseRate: baseRate, loss: .nan, rate: &rate, isCancelled)
                stepNorm = distanceFromPrevious()
                iteration += 1
                continue
            }
            let dataTerm = gradient.withUnsafeMutableBufferPointer { g in
                objective.evaluate(theta, rows: split.training, gradient: g)
            }
            let loss = dataTerm + objective.penalty(theta)
            let gradientNorm = currentGradientNorm(rate: rate)
            let validationLoss = split.validation.map { objective.evaluate(theta, rows: $0) }
            let elapsed = Date().timeIntervalSince(started)
            let decision = monitor.check(
                iteration: iteration, loss: loss, gradientNorm: gradientNorm, stepNorm: stepNorm,
                validationLoss: validationLoss, elapsed: elapsed, parameters: theta, cancelled: isCancelled())
            if decision != nil || (iteration > 0 && iteration % max(1, configuration.reportEvery) == 0) {
                progress(
                    ProgressEvent(
                        iteration: iteration, loss: loss, gradientNorm: gradientNorm, stepNorm: stepNorm,
                        learningRate: rate, validationLoss: validationLoss, elapsedSeconds: elapsed))
            }
            if let every = configuration.snapshotEvery, iteration % max(1, every) == 0 || decision != nil {
                snapshots.append((iteration, theta))
            }
            if let reason = decision {
                return finish(
                    reason, iteration: iteration, loss: loss, validationLoss: validationLoss, monitor: monitor,
                    lastFinite: lastFinite, rate: rate, snapshots: snapshots)
            }
            lastFinite = theta
            takeStep(iteration: iteration, baseRate: baseRate, loss: loss, rate: &rate, isCancelled)
            stepNorm = distanceFromPrevious()
            iteration += 1
        }
    }

    /// Step t + 1 from θ_t: the scheduled rate, then a full-batch step or an epoch of mini-batch steps.
    private func takeStep(
        iteration: Int, baseRate: Double, loss: Double, rate: inout Double, _ isCancelled: () -> Bool
    ) {
        rate = configuration.schedule.rate(
            base: baseRate, iteration: iteration, totalIterations: configuration.stopping.maxIterations)
        for index in theta.indices { previous[index] = theta[index] }
        switch configuration.sampling {
        case .fullBatch: rate = fullBatchStep(rate: rate, loss: loss)
        case .miniBatch(let size, let shuffle): epoch(batchSize: size, shuffle: shuffle, rate: rate, isCancelled)
        }
    }

    /// ‖θ_t − θ_{t−1}‖.
    private func distanceFromPrevious() -> Double {
        var squares = 0.0
        for index in theta.indices { squares += (theta[index] - previous[index]) * (theta[index] - previous[index]) }
        return squares.squareRoot()
    }

    /// ‖∇L‖ for the smooth objective; with l1, the norm of the proximal gradient mapping (θ − prox(θ − ηg))/η,
    /// which is 0 exactly at a minimiser of the composite objective.
    private func currentGradientNorm(rate: Double) -> Double {
        var squares = 0.0
        if model.l1 == 0 {
            for value in gradient { squares += value * value }
            return squares.squareRoot()
        }
        let eta = rate > 0 ? rate : 1
        for index in theta.indices {
            var mapped = gradient[index]
            if model.weightRange.contains(index) {
                let moved = softThreshold(theta[index] - eta * gradient[index], eta * model.l1)
                mapped = (theta[index] - moved) / eta
            }
            squares += mapped * mapped
        }
        return squares.squareRoot()
    }

    private func finish(
        _ reason: StopReason, iteration: Int, loss: Double, validationLoss: Double?, monitor: StoppingMonitor,
        lastFinite: [Double], rate: Double, snapshots: [(iteration: Int, parameters: [Double])]
    ) -> TrainingResult {
        var parameters = theta
        var result = TrainingResult(
            parameters: [], weights: [], intercepts: [], loss: loss, iterations: iteration,
            converged: [.weightTolerance, .gradientTolerance, .lossTolerance].contains(reason), stopReason: reason,
            validationLoss: validationLoss)
        if reason == .diverged, case .scalar(.expression) = model.output,
            let culprit = objective.firstNonFiniteRow(theta, rows: split.training)
        {
            // The weights are finite but a row's loss is not: the formula, not the step size, is at fault.
            parameters = lastFinite
            result.loss = objective.objective(parameters, rows: split.training)
            result.detail =
                "The loss is \(Self.spell(culprit.value)) (its derivative \(Self.spell(culprit.derivative))) "
                + "at row \(culprit.row), "
                + "where p = \(culprit.prediction) and y = \(culprit.target), at iteration \(iteration). "
                + "The weights are those of the last iteration with a finite loss."
        } else if reason == .diverged {
            parameters = lastFinite
            let (lipschitz, safe) = safeLearningRate()
            result.lipschitz = lipschitz
            result.suggestedLearningRate = safe
            result.loss = objective.objective(parameters, rows: split.training)
            result.detail =
                "The loss became \(loss) at iteration \(iteration) with learning rate \(rate); "
                + "the gradient's Lipschitz estimate is \(lipschitz), so try a learning rate of at most \(safe) "
                + "(or \"auto\"). The weights are those of the last iteration with a finite loss."
        } else if reason == .earlyStopping, configuration.restoreBest, let best = monitor.best {
            parameters = best.parameters
            result.bestIteration = best.iteration
            result.lastLoss = loss
            result.loss = objective.objective(parameters, rows: split.training)
            result.validationLoss = best.validationLoss
        }
        result.lipschitz = result.lipschitz ?? lipschitz
        result.parameters = parameters
        (result.weights, result.intercepts) = model.originalUnits(parameters)
        result.snapshots = snapshots
        return result
    }
}

extension Trainer {
    /// A number as a person reads it in a message: NaN rather than Swift's "nan" or "-nan".
    static func spell(_ value: Double) -> String {
        value.isNaN ? "NaN" : (value.isInfinite ? (value > 0 ? "infinity" : "-infinity") : "\(value)")
    }
}

package enum TrainingError: Error, Equatable, Sendable {
    case invalid(String)
}

@inline(__always)
func softThreshold(_ value: Double, _ threshold: Double) -> Double {
    if value > threshold { return value - threshold }
    if value < -threshold { return value + threshold }
    return 0
}
