import Foundation

/// Objective mode: minimises f(x₁…xₙ), given as an `ExpressionProgram`, by gradient descent with the exact
/// gradient of the program's reverse-mode AD. It uses what `Trainer` uses: the `Optimizer` of
/// `configuration.rule` (every full-batch rule), the `schedule`, backtracking (`lineSearch`), `clipNorm`, and
/// a `StoppingMonitor` with `configuration.stopping` — max iterations, weight, gradient and loss tolerance
/// (with patience), the time limit, divergence; there is no validation.
///
/// One start is `Trainer`'s loop on f: iteration t evaluates f(x_t) and ∇f(x_t), reports, checks the
/// stopping rules, and only then takes step t + 1. With `starts` K > 1 each start runs to its own stopping
/// rule (`maxIterations` is per start) and the lowest f wins, ties to the earlier start. How starts are drawn
/// and what `bounds` mean (only where random starts lie): see `FunctionProblem`.
///
/// Counting. The starts make one sequence of iterates — start 0's, then start 1's, … — in which moving to the
/// next start counts as one iteration. So the iteration numbers of progress events and snapshots strictly
/// increase across starts (a job's event stream uses them as its cursor, and its history is searched by
/// them), and `TrainingResult.iterations` is the total, Σ T_k + K − 1 for starts that took T_k steps — with
/// one start, its steps, as for `Trainer`. Events are due every `reportEvery` of these numbers, and each
/// start's last iterate is always reported.
///
/// The result is the winner's: its point (`parameters`, and `weights` = [point], no intercepts), f there,
/// its stop reason, `converged` when that is a tolerance, and its path as `snapshots` (every `snapshotEvery`
/// of its own iterations, with its first and last, numbered as above). Three things end the whole run early:
/// cancellation and the time limit (`maxSeconds` is for all starts together) end it with that reason and the
/// best point so far; a start that diverges ends it `diverged`, with that start's last point where f was
/// finite and a `detail` — a rate too large for one start is too large for the surface, and f may be
/// unbounded below: a failure to report, not a start to drop quietly.
///
/// `learningRate = .auto` is 1/L at each start for L the local curvature there (`curvature(at:)`; f has no
/// global Lipschitz constant in general), and 1 where f is flat; the result's `lipschitz` is the winner's L.
/// Not used: `initialization` (the problem says where to start), `parallelism` (one evaluation of a formula
/// is too small to share), `restoreBest` (there is no validation).
package final class FunctionMinimizer {
    package let problem: FunctionProblem
    package let configuration: TrainingConfiguration
    let program: ExpressionProgram
    var point: [Double]
    var previous: [Double]
    var gradient: [Double]
    /// The tape's values, then its adjoints (2 × `slotCount`), allocated once: an iteration allocates nothing.
    var scratch: [Double]
    var optimizer: Optimizer

    package init(problem: FunctionProblem, configuration: TrainingConfiguration) throws(TrainingError) {
        try problem.validate()
        if configuration.sampling != .fullBatch {
            throw .invalid(
                "objective mode has no rows to sample: use a full-batch method (gd, momentum, nesterov, adagrad, "
                    + "rmsprop or adam), not sgd or minibatch")
        }
        if configuration.validationFraction != 0 {
            throw .invalid("objective mode has no rows to hold out: the validation fraction must be 0")
        }
        if case .fixed(let rate) = configuration.learningRate, !(rate.isFinite && rate > 0) {
            throw .invalid("the learning rate must be a finite number > 0, got \(rate)")
        }
        self.problem = problem
        self.configuration = configuration
        program = problem.program
        let count = program.variables.count
        point = [Double](repeating: 0, count: count)
        previous = point
        gradient = point
        scratch = [Double](repeating: 0, count: 2 * program.slotCount)
        optimizer = Optimizer(rule: configuration.rule, parameterCount: count)
    }

    /// How one start ended.
    struct StartOutcome {
        var index: Int
        /// The start's last iterate — for a diverged start, the last one where f was finite — and f there.
        var point: [Double]
        var loss: Double
        /// The number (in the run's count) of the start's first iterate, and the steps it took.
        var first: Int
        var steps: Int
        var reason: StopReason
        /// f and ‖∇f‖ at the iterate that stopped the start, and the rate of the step that led there.
        var stoppedLoss: Double
        var stoppedGradientNorm: Double
        var rate: Double
        var lipschitz: Double?
        var snapshots: [(iteration: Int, parameters: [Double])]
    }

    /// Runs every start to its stopping rule (or the run to its end: see the type's comment). `progress` sees
    /// each reported iterate, with its point; `isCancelled` is asked every iteration.
    package func run(
        progress: (ProgressEvent) -> Void = { _ in }, isCancelled: () -> Bool = { false }
    ) -> TrainingResult {
        let started = Date()
        let seeds = problem.streamSeeds(seed: configuration.seed)
        var best: StartOutcome?
        var first = 0
        for index in 0..<problem.starts {
            let outcome = descend(
                from: problem.startPoint(index, streamSeed: seeds[index]), index: index, first: first,
                started: started, progress: progress, isCancelled: isCancelled)
            if outcome.reason == .diverged { return diverged(outcome) }
            if let current = best {
                if outcome.loss < current.loss || (current.loss.isNaN && !outcome.loss.isNaN) { best = outcome }
            } else {
                best = outcome
            }
            if outcome.reason == .cancelled || outcome.reason == .timeLimit {
                return result(best!, reason: outcome.reason, iterations: outcome.first + outcome.steps)
            }
            first = outcome.first + outcome.steps + 1
        }
        return result(best!, reason: best!.reason, iterations: first - 1)
    }

    /// One start, from `start` to its stopping rule; its first iterate is number `first` in the run's count.
    private func descend(
        from start: [Double], index: Int, first: Int, started: Date, progress: (ProgressEvent) -> Void,
        isCancelled: () -> Bool
    ) -> StartOutcome {
        point = start
        previous = start
        optimizer = Optimizer(rule: configuration.rule, parameterCount: start.count)
        var monitor = StoppingMonitor(rules: configuration.stopping, restoreBest: false)
        var lipschitz: Double?
        let baseRate: Double
        switch configuration.learningRate {
        case .fixed(let rate): baseRate = rate
        case .auto:
            lipschitz = curvature(at: start)
            baseRate = lipschitz.map { $0 > 0 ? 1 / $0 : 1 } ?? 1
        }
        let every = max(1, configuration.reportEvery)
        var snapshots: [(iteration: Int, parameters: [Double])] = []
        var rate = baseRate
        var stepNorm = 0.0
        var previousLoss = Double.nan
        var t = 0
        while true {
            let loss = evaluate()
            let gradientNorm = Self.norm(gradient)
            let elapsed = Date().timeIntervalSince(started)
            let decision = monitor.check(
                iteration: t, loss: loss, gradientNorm: gradientNorm, stepNorm: stepNorm, validationLoss: nil,
                elapsed: elapsed, parameters: point, cancelled: isCancelled())
            let number = first + t
            if decision != nil || (number > 0 && number % every == 0) {
                progress(
                    ProgressEvent(
                        iteration: number, loss: loss, gradientNorm: gradientNorm, stepNorm: stepNorm,
                        learningRate: rate, validationLoss: nil, elapsedSeconds: elapsed, point: point))
            }
            if let snapshotEvery = configuration.snapshotEvery, t % max(1, snapshotEvery) == 0 || decision != nil {
                snapshots.append((number, point))
            }
            if let reason = decision {
                // Diverged after a step: `previous` is the iterate before it, which passed every check.
                let backtrack = reason == .diverged && t > 0
                return StartOutcome(
                    index: index, point: backtrack ? previous : point, loss: backtrack ? previousLoss : loss,
                    first: first, steps: t, reason: reason, stoppedLoss: loss, stoppedGradientNorm: gradientNorm,
                    rate: rate, lipschitz: lipschitz, snapshots: snapshots)
            }
            previousLoss = loss
            rate = configuration.schedule.rate(
                base: baseRate, iteration: t, totalIterations: configuration.stopping.maxIterations)
            for i in point.indices { previous[i] = point[i] }
            rate = step(rate: rate, loss: loss)
            var squares = 0.0
            for i in point.indices { squares += (point[i] - previous[i]) * (point[i] - previous[i]) }
            stepNorm = squares.squareRoot()
            t += 1
        }
    }

    private func result(_ winner: StartOutcome, reason: StopReason, iterations: Int) -> TrainingResult {
        var result = TrainingResult(
            parameters: winner.point, weights: [winner.point], intercepts: [], loss: winner.loss,
            iterations: iterations,
            converged: [.weightTolerance, .gradientTolerance, .lossTolerance].contains(reason), stopReason: reason,
            validationLoss: nil)
        result.lipschitz = winner.lipschitz
        result.snapshots = winner.snapshots
        return result
    }

    /// The run's end when a start diverged: its last finite point, and what to change.
    private func diverged(_ outcome: StartOutcome) -> TrainingResult {
        let iteration = outcome.first + outcome.steps
        var result = result(outcome, reason: .diverged, iterations: iteration)
        let which = problem.starts > 1 ? " (start \(outcome.index + 1) of \(problem.starts))" : ""
        let value =
            "f = \(Trainer.spell(outcome.stoppedLoss)) with gradient norm \(Trainer.spell(outcome.stoppedGradientNorm))"
        guard outcome.steps > 0 else {
            result.detail =
                "\(value) at the start point \(outcome.point)\(which): f or its gradient is not finite there."
            return result
        }
        let after = "\(value) at iteration \(iteration)\(which), after a step with learning rate \(outcome.rate)"
        guard outcome.stoppedLoss != -.infinity else {
            result.detail =
                "\(after): f is unbounded below along this descent, so there is no minimum to find from here. "
                + "The point reported is the last one where f was finite."
            return result
        }
        result.detail = after
        if let curvature = curvature(at: outcome.point), curvature > 0 {
            result.lipschitz = curvature
            result.suggestedLearningRate = 1 / curvature
            result.detail! +=
                "; the curvature of f at the last point where it was finite is \(curvature), so try a learning "
                + "rate of at most \(1 / curvature) (or \"auto\", or backtracking)"
        }
        result.detail! += ". The point reported is the last one where f was finite."
        return result
    }
}
