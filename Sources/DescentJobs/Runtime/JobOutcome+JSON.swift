import DescentJSON
import DescentMath

/// The outcome as the job resource's `result` shows it, and back: the store keeps this form (with the
/// trajectory, which the resource leaves out), so one codec serves the API and the disk.
extension JobOutcome {
    package func json(softmax: Bool) -> JSONValue {
        [
            "weights": softmax ? .array(weights.map { JSONValue($0) }) : JSONValue(weights[0]),
            // Objective mode has no intercept: null.
            "intercept": softmax ? JSONValue(intercepts) : (intercepts.first.map { .number($0) } ?? .null),
            "loss": .number(loss),
            "iterations": JSONValue(iterations),
            "converged": .bool(converged),
            "stop_reason": .string(stopReason.rawValue),
            "validation_loss": JSONValue(validationLoss),
            "lipschitz": JSONValue(lipschitz),
            "reference": reference.map { ["loss": .number($0.loss), "weights_distance": .number($0.weightsDistance)] }
                ?? .null,
        ]
    }

    /// The stored form: the resource's `result` plus the trajectory.
    package func storedJSON(softmax: Bool) -> JSONValue {
        guard case .object(var object) = json(softmax: softmax) else { return json(softmax: softmax) }
        object["trajectory"] = .array(
            trajectory.map { point in
                [
                    "iteration": JSONValue(point.iteration), "weights": .array(point.weights.map { JSONValue($0) }),
                    "intercepts": JSONValue(point.intercepts),
                ]
            })
        return .object(object)
    }

    /// Reads the stored form back; nil when it is not one.
    package init?(stored value: JSONValue) {
        guard case .object(let object) = value,
            let stopReason = object["stop_reason"]?.stringValue.flatMap(StopReason.init),
            let weights = Self.rows(object["weights"]), let intercepts = Self.numbers(object["intercept"])
        else { return nil }
        self.weights = weights
        self.intercepts = intercepts
        loss = object["loss"]?.numberValue ?? .nan
        iterations = Int(object["iterations"]?.numberValue ?? 0)
        converged = object["converged"] == .bool(true)
        self.stopReason = stopReason
        validationLoss = object["validation_loss"]?.numberValue
        lipschitz = object["lipschitz"]?.numberValue
        if case .object(let reference)? = object["reference"], let loss = reference["loss"]?.numberValue,
            let distance = reference["weights_distance"]?.numberValue
        {
            self.reference = Reference(loss: loss, weightsDistance: distance)
        }
        var trajectory: [TrajectoryPoint] = []
        if case .array(let points)? = object["trajectory"] {
            for case .object(let point) in points {
                guard let weights = Self.rows(point["weights"]), let intercepts = Self.numbers(point["intercepts"])
                else { continue }
                trajectory.append(
                    TrajectoryPoint(
                        iteration: Int(point["iteration"]?.numberValue ?? 0), weights: weights, intercepts: intercepts))
            }
        }
        self.trajectory = trajectory
    }

    /// A number or an array of numbers, as an array.
    private static func numbers(_ value: JSONValue?) -> [Double]? {
        switch value {
        case .number(let number)?: return [number]
        case .null?: return [.nan]  // a non-finite value written as null
        case .array(let elements)?: return elements.map { $0.numberValue ?? .nan }
        default: return nil
        }
    }

    /// One row (an array of numbers) or several (an array of arrays), as rows.
    private static func rows(_ value: JSONValue?) -> [[Double]]? {
        guard case .array(let elements)? = value else { return nil }
        if case .array? = elements.first { return elements.compactMap { numbers($0) } }
        return numbers(value).map { [$0] }
    }
}

extension JobFailure {
    package var json: JSONValue {
        ["type": "about:blank", "title": .string(title), "status": JSONValue(status), "detail": .string(detail)]
    }

    package init?(json value: JSONValue) {
        guard case .object(let object) = value, let status = object["status"]?.numberValue,
            let title = object["title"]?.stringValue, let detail = object["detail"]?.stringValue
        else { return nil }
        self.init(status: Int(status), title: title, detail: detail)
    }
}
