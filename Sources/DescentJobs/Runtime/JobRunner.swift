import DescentLog
import DescentMath
import DescentStorage
import Foundation

/// Runs one job on the calling (worker) thread: builds the model, trains, computes the closed-form reference
/// where there is one, and records the outcome on the job.
enum JobRunner {
    static func run(
        _ job: Job, parallelism: Int, store: JobStore?, checkpointSeconds: Double?, metrics: JobMetrics, logger: Logger
    ) {
        guard job.start(at: Date()) else { return }
        guard let dataset = job.dataset else {
            return runObjective(job, parallelism: parallelism, store: store, metrics: metrics, logger: logger)
        }
        let spec = job.spec
        let trainer: Trainer
        do throws(SpecError) {
            let (model, configuration) = try spec.training(on: dataset.dataset, parallelism: parallelism)
            do throws(TrainingError) {
                trainer = try Trainer(model: model, configuration: configuration)
            } catch {
                switch error {
                case .invalid(let detail): throw SpecError(pointer: "", detail: detail)
                }
            }
        } catch {
            let detail = error.fields.map { "\($0.pointer): \($0.detail)" }.joined(separator: "; ")
            finish(job, .failed, outcome: nil, failure: .unprocessable(detail), store: store, logger: logger)
            metrics.jobFinished(.failed)
            return
        }
        // A job restored after a restart goes on from its checkpoint, if that fits this trainer.
        let resume = job.takeResumeCheckpoint().flatMap { trainer.canResume(from: $0) ? $0 : nil }
        if let resume {
            logger.info("job resumed", ["job": .string(job.id), "iteration": .int(resume.iteration)])
        }
        var reported = resume?.iteration ?? 0
        // The history up to here is in the store already (restored, or empty).
        var stored = job.history.count
        // A shutdown's request is honoured in two steps: a checkpoint at the top of the next iteration, then
        // the stop (so the stored state is exactly where the run ends).
        var suspended = false
        let result = trainer.run(
            progress: { event in
                job.record(event)
                metrics.iterationsDone(event.iteration - reported)
                reported = event.iteration
            },
            isCancelled: { job.isCancelRequested || (job.isSuspendRequested && suspended) }, resumingFrom: resume,
            checkpointEvery: store == nil ? nil : checkpointSeconds,
            checkpointNow: { job.isSuspendRequested && !suspended },
            checkpoint: { checkpoint in
                let newEvents = job.history(from: stored)
                do throws(StorageError) {
                    try store?.saveCheckpoint(job, checkpoint, newEvents: newEvents)
                    stored += newEvents.count
                    suspended = job.isSuspendRequested
                } catch {
                    logger.error("cannot store a checkpoint", ["job": .string(job.id), "error": .string("\(error)")])
                }
            })
        if suspended {
            // Stopped for a shutdown after its checkpoint: it stays queued on disk and goes on after the restart.
            logger.info("job suspended", ["job": .string(job.id), "iteration": .int(result.iterations)])
            return
        }
        let model = trainer.model
        var outcome = JobOutcome(
            weights: result.weights, intercepts: result.intercepts, loss: result.loss, iterations: result.iterations,
            converged: result.converged, stopReason: result.stopReason, validationLoss: result.validationLoss,
            lipschitz: result.lipschitz, reference: nil,
            trajectory: result.snapshots.map { snapshot in
                let (weights, intercepts) = model.originalUnits(snapshot.parameters)
                return .init(iteration: snapshot.iteration, weights: weights, intercepts: intercepts)
            })
        outcome.reference = reference(for: trainer, outcome: outcome)
        metrics.iterationsDone(max(0, result.iterations - reported))
        end(job, result, outcome: outcome, store: store, storedEvents: stored, metrics: metrics, logger: logger)
    }

    /// Records how a run ended: its status from the stop reason, stored, published, counted and logged.
    static func end(
        _ job: Job, _ result: TrainingResult, outcome: JobOutcome, store: JobStore?, storedEvents: Int,
        metrics: JobMetrics, logger: Logger
    ) {
        let status: JobStatus
        var failure: JobFailure?
        switch result.stopReason {
        case .cancelled: status = .cancelled
        case .diverged:
            status = .failed
            failure = .unprocessable(result.detail ?? "the loss diverged; try a smaller learning rate or \"auto\"")
        default: status = .succeeded
        }
        finish(
            job, status, outcome: outcome, failure: failure, store: store, storedEvents: storedEvents, logger: logger)
        metrics.jobFinished(status)
        logger.info(
            "job finished",
            [
                "job": .string(job.id), "status": .string(status.rawValue),
                "iterations": .int(result.iterations), "stop_reason": .string(result.stopReason.rawValue),
            ])
    }

    /// Stores the job's end, then publishes it: whoever sees a job finished can count on it staying finished
    /// after a restart. A store that cannot write (a full disk) is logged; the job is then finished in memory
    /// only, and would run again after a restart.
    static func finish(
        _ job: Job, _ status: JobStatus, outcome: JobOutcome?, failure: JobFailure?, store: JobStore?,
        storedEvents: Int = 0, logger: Logger
    ) {
        let date = Date()
        do throws(StorageError) {
            try store?.finish(
                job, status, startedAt: job.snapshot.startedAt, finishedAt: date, outcome: outcome, failure: failure,
                storedEvents: storedEvents)
        } catch {
            logger.error("cannot store a finished job", ["job": .string(job.id), "error": .string("\(error)")])
        }
        job.finish(status, outcome: outcome, failure: failure, at: date)
    }

    /// For linear least squares (l1 = 0, where the optimum has a closed form): the loss at the exact optimum
    /// over the same training rows, and the distance of the run's (w, b) from it in original units.
    private static func reference(for trainer: Trainer, outcome: JobOutcome) -> JobOutcome.Reference? {
        let model = trainer.model
        guard model.output == .scalar(.squared), model.l1 == 0 else { return nil }
        guard
            let solution = try? LeastSquares.solve(
                model.dataset, rows: trainer.split.training, fitIntercept: model.fitIntercept, l2: model.l2,
                standardization: model.standardization)
        else { return nil }
        var weights = solution.weights
        var intercept = solution.intercept
        if let standardization = model.standardization {
            (weights, intercept) = standardization.originalUnits(weights: weights, intercept: intercept)
        }
        var squares = (outcome.intercepts[0] - intercept) * (outcome.intercepts[0] - intercept)
        for (index, weight) in weights.enumerated() {
            let difference = outcome.weights[0][index] - weight
            squares += difference * difference
        }
        return .init(loss: solution.objective, weightsDistance: squares.squareRoot())
    }
}
