import DescentJSON

extension JobSpec {
    /// The spec as the job resource echoes it: every field, defaults included, in the order of API.md.
    /// Its compact serialization is what `manifest.spec_sha256` hashes.
    package var json: JSONValue {
        if let objective { return objectiveModeJSON(objective) }
        var lossParameters = JSONObject()
        if let (name, _) = loss.parameter, let lossParameter { lossParameters[name] = .number(lossParameter) }
        let object: JSONObject = [
            "dataset_id": .string(datasetID),
            "model": .string(model.rawValue),
            "loss": lossFormula.map { ["expression": .string($0)] } ?? .string(loss.rawValue),
            "loss_params": .object(lossParameters),
            "fit_intercept": .bool(fitIntercept),
            "standardize": .bool(standardize),
            "regularization": ["l2": .number(l2), "l1": .number(l1)],
            "optimizer": optimizerJSON,
            "schedule": scheduleJSON,
            "init": initialJSON,
            "stopping": stoppingJSON,
            "validation": ["fraction": .number(validationFraction), "restore_best": .bool(restoreBest)],
            "seed": .number(Double(seed)),
            "report_every": JSONValue(reportEvery),
        ]
        return .object(object)
    }

    /// Objective mode's echo: the formula and the run's fields, nothing of a model.
    private func objectiveModeJSON(_ objective: ObjectiveSpec) -> JSONValue {
        [
            "objective": objective.json,
            "optimizer": optimizerJSON,
            "schedule": scheduleJSON,
            "stopping": stoppingJSON,
            "seed": .number(Double(seed)),
            "report_every": JSONValue(reportEvery),
        ]
    }

    private var stoppingJSON: JSONValue {
        [
            "max_iterations": JSONValue(stopping.maxIterations),
            "weight_tolerance": .number(stopping.weightTolerance),
            "gradient_tolerance": .number(stopping.gradientTolerance),
            "loss_tolerance": .number(stopping.lossTolerance),
            "patience": JSONValue(stopping.patience),
            "max_seconds": .number(stopping.maxSeconds),
        ]
    }

    private var optimizerJSON: JSONValue {
        let rate: JSONValue =
            switch optimizer.learningRate {
            case .fixed(let value): .number(value)
            case .auto: .string("auto")
            }
        return [
            "method": .string(optimizer.method.rawValue),
            "learning_rate": rate,
            "batch_size": optimizer.batchSize.map { JSONValue($0) } ?? .null,
            "momentum": .number(optimizer.momentum),
            "clip_norm": JSONValue(optimizer.clipNorm),
            "beta1": .number(optimizer.beta1),
            "beta2": .number(optimizer.beta2),
            "epsilon": .number(optimizer.epsilon),
            "rho": .number(optimizer.rho),
            "shuffle": .bool(optimizer.shuffle),
        ]
    }

    private var scheduleJSON: JSONValue {
        switch schedule {
        case .constant: ["type": "constant"]
        case .step(let size, let gamma): ["type": "step", "step_size": JSONValue(size), "gamma": .number(gamma)]
        case .exponential(let gamma): ["type": "exponential", "gamma": .number(gamma)]
        case .inverseTime(let decay): ["type": "inverse_time", "decay": .number(decay)]
        case .cosine(let minimum): ["type": "cosine", "min_learning_rate": .number(minimum)]
        case .backtracking(let shrink, let armijo):
            ["type": "backtracking", "shrink": .number(shrink), "armijo": .number(armijo)]
        }
    }

    private var initialJSON: JSONValue {
        switch initial {
        case .zeros: ["type": "zeros"]
        case .normal(let scale): ["type": "normal", "scale": .number(scale)]
        case .uniform(let scale): ["type": "uniform", "scale": .number(scale)]
        case .values(let values): ["type": "values", "values": JSONValue(values)]
        }
    }
}
