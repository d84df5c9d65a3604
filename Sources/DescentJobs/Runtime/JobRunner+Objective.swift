import DescentLog
import DescentMath
import DescentStorage

/// Objective mode: minimise the job's formula (API.md: "Or, to minimise a function").
extension JobRunner {
    /// Runs an objective-mode job on the calling (worker) thread. No checkpoints: such a run needs no data and
    /// is deterministic for its seed, so after a crash or a shutdown it runs again from the start and ends at
    /// the same point, bit for bit — what a resume from a checkpoint would also give, for less machinery.
    static func runObjective(_ job: Job, parallelism: Int, store: JobStore?, metrics: JobMetrics, logger: Logger) {
        let minimizer: FunctionMinimizer
        do throws(SpecError) {
            minimizer = try job.spec.minimizer(parallelism: parallelism)
        } catch {
            let detail = error.fields.map { "\($0.pointer): \($0.detail)" }.joined(separator: "; ")
            finish(job, .failed, outcome: nil, failure: .unprocessable(detail), store: store, logger: logger)
            metrics.jobFinished(.failed)
            return
        }
        var reported = 0
        let result = minimizer.run(
            progress: { event in
                job.record(event)
                metrics.iterationsDone(event.iteration - reported)
                reported = event.iteration
            },
            isCancelled: { job.isCancelRequested || job.isSuspendRequested })
        if job.isSuspendRequested && !job.isCancelRequested {
            // Stopped for a shutdown: it stays queued on disk and runs again after the restart.
            logger.info("job suspended", ["job": .string(job.id), "iteration": .int(result.iterations)])
            return
        }
        metrics.iterationsDone(max(0, result.iterations - reported))
        let outcome = JobOutcome(
            weights: result.weights, intercepts: [], loss: result.loss, iterations: result.iterations,
            converged: result.converged, stopReason: result.stopReason, validationLoss: nil,
            lipschitz: result.lipschitz, reference: nil,
            trajectory: result.snapshots.map {
                .init(iteration: $0.iteration, weights: [$0.parameters], intercepts: [])
            })
        end(job, result, outcome: outcome, store: store, storedEvents: 0, metrics: metrics, logger: logger)
    }
}
