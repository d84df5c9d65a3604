import DescentJSON
import DescentMath

extension JobSpec {
    /// The top-level fields of a job body. `dataset`, `dataset_id` and `objective` are read by the service
    /// before it calls `decode` (they need the dataset catalog); they are listed so they are not "unknown".
    static let topLevelFields = [
        "dataset_id", "dataset", "objective", "model", "loss", "loss_params", "fit_intercept", "standardize",
        "regularization", "optimizer", "schedule", "init", "stopping", "validation", "seed", "report_every",
    ]

    /// Reads and checks every field of a job body (all but the data source), filling in the defaults.
    /// Throws one `SpecError` naming every field at fault.
    package static func decode(_ body: JSONObject, datasetID: String) throws(SpecError) -> JobSpec {
        if let objective = body["objective"] { return try decodeObjectiveMode(body, objective) }
        var reader = FieldReader()
        var spec = JobSpec(datasetID: datasetID)
        reader.rejectUnknown(body, known: topLevelFields, at: "")
        spec.model = reader.choice(body["model"], at: "/model", default: ModelKind.linear)
        spec.decodeLoss(body, &reader)
        spec.fitIntercept = reader.bool(body, "fit_intercept", at: "", default: true)
        spec.standardize = reader.bool(body, "standardize", at: "", default: false)
        if let regularization = reader.object(body, "regularization", at: "") {
            reader.rejectUnknown(regularization, known: ["l2", "l1"], at: "/regularization")
            spec.l2 = reader.number(regularization, "l2", at: "/regularization", default: 0, .within(0...1e6))
            spec.l1 = reader.number(regularization, "l1", at: "/regularization", default: 0, .within(0...1e6))
        }
        spec.decodeOptimizer(reader.object(body, "optimizer", at: "") ?? [:], &reader)
        spec.decodeSchedule(reader.object(body, "schedule", at: ""), &reader)
        spec.decodeInitial(reader.object(body, "init", at: ""), &reader)
        spec.decodeStopping(reader.object(body, "stopping", at: "") ?? [:], &reader)
        if let validation = reader.object(body, "validation", at: "") {
            reader.rejectUnknown(validation, known: ["fraction", "restore_best"], at: "/validation")
            spec.validationFraction = reader.number(
                validation, "fraction", at: "/validation", default: 0, .halfOpenUnit)
            spec.restoreBest = reader.bool(validation, "restore_best", at: "/validation", default: true)
        }
        spec.seed = UInt64(reader.number(body, "seed", at: "", default: 0, .integer(in: 0...maxSeed)))
        spec.reportEvery = reader.integer(
            body, "report_every", at: "", default: 1, in: 1...Double(maxIterationsLimit))
        if case .backtracking = spec.schedule, spec.optimizer.batchSize != nil {
            reader.fail("/schedule/type", "backtracking needs full-batch steps; it cannot be used with mini-batches")
        }
        guard reader.errors.isEmpty else { throw SpecError(reader.errors) }
        return spec
    }

    private mutating func decodeLoss(_ body: JSONObject, _ reader: inout FieldReader) {
        switch body["loss"] {
        case .object(let object)?:
            decodeFormula(object, &reader)
        case let value:
            loss = reader.choice(value, at: "/loss", default: model.defaultLoss)
            if value != nil, loss.model != model {
                reader.fail(
                    "/loss",
                    "\"\(loss.rawValue)\" is a loss of the \(loss.model.rawValue) model, not of \(model.rawValue); "
                        + "\(model.rawValue) takes \(Self.losses(of: model))")
            }
        }
        let parameters = reader.object(body, "loss_params", at: "") ?? [:]
        guard lossFormula == nil, let (name, defaultValue) = loss.parameter else {
            reader.rejectUnknown(parameters, known: [], at: "/loss_params")
            return
        }
        reader.rejectUnknown(parameters, known: [name], at: "/loss_params")
        let rule: NumberRule = loss == .quantile ? .openUnit : (loss == .huber ? .positive : .nonNegative)
        lossParameter = reader.number(parameters, name, at: "/loss_params", default: defaultValue, rule)
    }

    /// The fields objective mode reads; a model's fields (`model`, `loss`, `regularization`, `init`, …) and a
    /// dataset are refused there, so a spec never says something the run ignores.
    static let objectiveModeFields = ["objective", "optimizer", "schedule", "stopping", "seed", "report_every"]

    /// Objective mode (API.md: "Or, to minimise a function"): the formula and the run's fields.
    private static func decodeObjectiveMode(_ body: JSONObject, _ objective: JSONValue) throws(SpecError) -> JobSpec {
        var reader = FieldReader()
        var spec = JobSpec(datasetID: "")
        reader.rejectUnknown(body, known: objectiveModeFields, at: "")
        do throws(SpecError) {
            spec.objective = try ObjectiveSpec.decode(objective)
        } catch {
            for field in error.fields { reader.fail(field.pointer, field.detail) }
        }
        spec.decodeOptimizer(reader.object(body, "optimizer", at: "") ?? [:], &reader)
        switch spec.optimizer.method {
        case .sgd, .minibatch:
            reader.fail(
                "/optimizer/method",
                "objective mode has no rows to sample; use gd, momentum, nesterov, adagrad, rmsprop or adam")
        default:
            if spec.optimizer.batchSize != nil {
                reader.fail("/optimizer/batch_size", "objective mode has no rows to batch; leave it out")
            }
        }
        spec.decodeSchedule(reader.object(body, "schedule", at: ""), &reader)
        spec.decodeStopping(reader.object(body, "stopping", at: "") ?? [:], &reader)
        spec.seed = UInt64(reader.number(body, "seed", at: "", default: 0, .integer(in: 0...maxSeed)))
        spec.reportEvery = reader.integer(
            body, "report_every", at: "", default: 1, in: 1...Double(maxIterationsLimit))
        guard reader.errors.isEmpty else { throw SpecError(reader.errors) }
        return spec
    }

    /// `{"expression": "…"}`: a formula of p and y, compiled here so that a formula that does not parse, or
    /// names an unknown variable or function, is a 400 pointing at it (with the column in the detail).
    private mutating func decodeFormula(_ object: JSONObject, _ reader: inout FieldReader) {
        reader.rejectUnknown(object, known: ["expression"], at: "/loss")
        guard case .string(let formula)? = object["expression"] else {
            return reader.fail("/loss/expression", "must be a formula of p and y, e.g. \"(p - y)^2 / 2\"")
        }
        guard model == .linear || model == .logistic else {
            return reader.fail(
                "/loss", "expression losses are for the linear and logistic models, not \(model.rawValue)")
        }
        do throws(ExpressionError) {
            _ = try ExpressionLoss(formula, signedLabels: model == .logistic)
            lossFormula = formula
        } catch {
            reader.fail("/loss/expression", error.description)
        }
    }

    private static func losses(of model: ModelKind) -> String {
        LossKind.allCases.filter { $0.model == model }.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
    }

    private mutating func decodeOptimizer(_ object: JSONObject, _ reader: inout FieldReader) {
        let at = "/optimizer"
        reader.rejectUnknown(
            object,
            known: [
                "method", "learning_rate", "batch_size", "momentum", "clip_norm", "beta1", "beta2", "epsilon", "rho",
                "shuffle",
            ], at: at)
        var optimizer = Optimizer()
        optimizer.method = reader.choice(object["method"], at: at + "/method", default: Method.gd)
        switch object["learning_rate"] {
        case .string("auto")?: optimizer.learningRate = .auto
        case .string(let other)?:
            reader.fail(at + "/learning_rate", "must be a number > 0 or \"auto\", not \"\(other)\"")
        default:
            let rate = reader.number(object, "learning_rate", at: at, default: 0.01, .within(1e-300...1e300))
            optimizer.learningRate = .fixed(rate)
        }
        // Absent or null: the method's own default (full batch, except for sgd and minibatch).
        let requested: Int? =
            object["batch_size"] == nil || object["batch_size"] == .null
            ? nil : reader.integer(object, "batch_size", at: at, default: 32, in: 1...Double(Int32.max))
        switch optimizer.method {
        case .gd:
            if let requested {
                reader.fail(
                    at + "/batch_size", "gd takes full-batch steps; use \"minibatch\" for batches of \(requested)")
            }
        case .sgd:
            if let requested, requested != 1 {
                reader.fail(at + "/batch_size", "sgd steps on one row; use \"minibatch\" for batches of \(requested)")
            }
            optimizer.batchSize = 1
        case .minibatch:
            if object["batch_size"] == .null { reader.fail(at + "/batch_size", "minibatch needs a batch size") }
            optimizer.batchSize = requested ?? 32
        default: optimizer.batchSize = requested
        }
        optimizer.momentum = reader.number(object, "momentum", at: at, default: 0.9, .halfOpenUnit)
        optimizer.clipNorm = reader.optionalNumber(object, "clip_norm", at: at, .positive)
        optimizer.beta1 = reader.number(object, "beta1", at: at, default: 0.9, .halfOpenUnit)
        optimizer.beta2 = reader.number(object, "beta2", at: at, default: 0.999, .halfOpenUnit)
        optimizer.epsilon = reader.number(object, "epsilon", at: at, default: 1e-8, .positive)
        optimizer.rho = reader.number(object, "rho", at: at, default: 0.99, .halfOpenUnit)
        optimizer.shuffle = reader.bool(object, "shuffle", at: at, default: true)
        self.optimizer = optimizer
    }

    private mutating func decodeSchedule(_ object: JSONObject?, _ reader: inout FieldReader) {
        guard let object else { return }
        let at = "/schedule"
        let type = reader.choice(object["type"], at: at + "/type", default: ScheduleType.constant)
        switch type {
        case .constant:
            reader.rejectUnknown(object, known: ["type"], at: at)
            schedule = .constant
        case .step:
            reader.rejectUnknown(object, known: ["type", "step_size", "gamma"], at: at)
            schedule = .step(
                stepSize: reader.integer(object, "step_size", at: at, default: 100, in: 1...1e9),
                gamma: reader.number(object, "gamma", at: at, default: 0.5, .openUnit))
        case .exponential:
            reader.rejectUnknown(object, known: ["type", "gamma"], at: at)
            schedule = .exponential(gamma: reader.number(object, "gamma", at: at, default: 0.99, .openUnit))
        case .inverseTime:
            reader.rejectUnknown(object, known: ["type", "decay"], at: at)
            schedule = .inverseTime(decay: reader.number(object, "decay", at: at, default: 0.01, .nonNegative))
        case .cosine:
            reader.rejectUnknown(object, known: ["type", "min_learning_rate"], at: at)
            schedule = .cosine(
                minimumLearningRate: reader.number(object, "min_learning_rate", at: at, default: 0, .nonNegative))
        case .backtracking:
            reader.rejectUnknown(object, known: ["type", "shrink", "armijo"], at: at)
            schedule = .backtracking(
                shrink: reader.number(object, "shrink", at: at, default: 0.5, .openUnit),
                armijo: reader.number(object, "armijo", at: at, default: 1e-4, .openUnit))
        }
    }

    private mutating func decodeInitial(_ object: JSONObject?, _ reader: inout FieldReader) {
        guard let object else { return }
        let at = "/init"
        switch reader.choice(object["type"], at: at + "/type", default: InitialType.zeros) {
        case .zeros:
            reader.rejectUnknown(object, known: ["type"], at: at)
        case .normal:
            reader.rejectUnknown(object, known: ["type", "scale"], at: at)
            initial = .normal(scale: reader.number(object, "scale", at: at, default: 0.01, .within(0...1e6)))
        case .uniform:
            reader.rejectUnknown(object, known: ["type", "scale"], at: at)
            initial = .uniform(scale: reader.number(object, "scale", at: at, default: 0.01, .within(0...1e6)))
        case .values:
            reader.rejectUnknown(object, known: ["type", "values"], at: at)
            guard let value = object["values"] else {
                return reader.fail(at + "/values", "init type \"values\" needs the initial parameters")
            }
            initial = .values(reader.numbers(value, at: at + "/values") ?? [])
        }
    }

    private mutating func decodeStopping(_ object: JSONObject, _ reader: inout FieldReader) {
        let at = "/stopping"
        reader.rejectUnknown(
            object,
            known: [
                "max_iterations", "weight_tolerance", "gradient_tolerance", "loss_tolerance", "patience",
                "max_seconds",
            ], at: at)
        stopping.maxIterations = reader.integer(
            object, "max_iterations", at: at, default: 1000, in: 1...Double(Self.maxIterationsLimit))
        stopping.weightTolerance = reader.number(object, "weight_tolerance", at: at, default: 1e-8, .nonNegative)
        stopping.gradientTolerance = reader.number(object, "gradient_tolerance", at: at, default: 0, .nonNegative)
        stopping.lossTolerance = reader.number(object, "loss_tolerance", at: at, default: 0, .nonNegative)
        stopping.patience = reader.integer(object, "patience", at: at, default: 10, in: 1...1e9)
        stopping.maxSeconds = reader.number(
            object, "max_seconds", at: at, default: 3600, .within(1e-3...Self.maxSecondsLimit))
    }

    enum ScheduleType: String, CaseIterable {
        case constant, step, exponential
        case inverseTime = "inverse_time"
        case cosine, backtracking
    }

    enum InitialType: String, CaseIterable {
        case zeros, normal, uniform, values
    }
}
