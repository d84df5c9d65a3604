import DescentJSON
import DescentJobs
import DescentMath

/// The job resource (API.md, "Jobs"), built from one snapshot of the job: never from its history.
extension Job {
    var json: JSONValue {
        let snapshot = self.snapshot
        return [
            "id": .string(id),
            "status": .string(snapshot.status.rawValue),
            "created_at": .string(Timestamp.format(createdAt)),
            "started_at": snapshot.startedAt.map { .string(Timestamp.format($0)) } ?? .null,
            "finished_at": snapshot.finishedAt.map { .string(Timestamp.format($0)) } ?? .null,
            "dataset_id": dataset.map { .string($0.id) } ?? .null,
            "spec": specJSON,
            "progress": snapshot.progress.map { $0.json(maxIterations: spec.iterationBudget) } ?? .null,
            "result": snapshot.outcome.map { $0.json(softmax: spec.model == .softmax) } ?? .null,
            "manifest": manifest,
            "error": snapshot.failure.map(\.json) ?? .null,
        ]
    }
}

extension ProgressEvent {
    /// `fraction` is the share of the iteration budget used: a lower bound on how far along the job is.
    func json(maxIterations: Int) -> JSONValue {
        var object: JSONObject = [
            "iteration": JSONValue(iteration),
            "fraction": .number(min(1, Double(iteration) / Double(max(1, maxIterations)))),
            "loss": .number(loss),
            "gradient_norm": .number(gradientNorm),
            "step_norm": .number(stepNorm),
            "learning_rate": .number(learningRate),
            "validation_loss": JSONValue(validationLoss),
            "elapsed_seconds": .number(elapsedSeconds),
        ]
        // Objective mode: the current point x_t (absent when fitting data).
        object["point"] = point.map { JSONValue($0) }
        return .object(object)
    }
}
