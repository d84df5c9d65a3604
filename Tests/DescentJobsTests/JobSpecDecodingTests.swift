import DescentJSON
import Testing

@testable import DescentJobs

/// The object `text` holds (the test fails when it is not a JSON object).
func jsonObject(_ text: String) throws -> JSONObject {
    try #require(try JSONParser.parse(Array(text.utf8)).objectValue, "not an object: \(text)")
}

/// Decodes a job body with the dataset id "ds_test".
func decodeSpec(_ text: String) throws -> JobSpec {
    try JobSpec.decode(try jsonObject(text), datasetID: "ds_test")
}

/// The pointers of the errors a body raises, in the order they were found; records an issue when it decodes.
func specErrorPointers(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
    let body = try jsonObject(text)
    do {
        let spec = try JobSpec.decode(body, datasetID: "ds_test")
        Issue.record("expected a SpecError, decoded \(spec)", sourceLocation: sourceLocation)
        return []
    } catch {
        for field in error.fields {
            #expect(!field.detail.isEmpty, "no detail for \(field.pointer)", sourceLocation: sourceLocation)
        }
        return error.fields.map(\.pointer)
    }
}

/// The echoed spec's member `key`.
private func echoed(_ spec: JobSpec, _ key: String) -> JSONValue? { spec.json.objectValue?[key] }

@Suite("JobSpec.decode")
struct JobSpecDecodingTests {
    static let defaultEcho =
        #"{"dataset_id":"ds_test","model":"linear","loss":"squared","loss_params":{},"fit_intercept":true,"#
        + #""standardize":false,"regularization":{"l2":0,"l1":0},"optimizer":{"method":"gd","learning_rate":0.01,"#
        + #""batch_size":null,"momentum":0.9,"clip_norm":null,"beta1":0.9,"beta2":0.999,"epsilon":1e-08,"rho":0.99,"#
        + #""shuffle":true},"schedule":{"type":"constant"},"init":{"type":"zeros"},"stopping":{"max_iterations":1000,"#
        + #""weight_tolerance":1e-08,"gradient_tolerance":0,"loss_tolerance":0,"patience":10,"max_seconds":3600},"#
        + #""validation":{"fraction":0,"restore_best":true},"seed":0,"report_every":1}"#

    @Test("an empty body gets every default")
    func defaults() throws {
        let spec = try decodeSpec("{}")
        #expect(spec.datasetID == "ds_test")
        #expect(spec.model == .linear)
        #expect(spec.loss == .squared)
        #expect(spec.lossParameter == nil)
        #expect(spec.fitIntercept && !spec.standardize)
        #expect(spec.l2 == 0 && spec.l1 == 0)
        #expect(spec.optimizer.method == .gd)
        #expect(spec.optimizer.learningRate == .fixed(0.01))
        #expect(spec.optimizer.batchSize == nil)
        #expect(spec.optimizer.momentum == 0.9)
        #expect(spec.optimizer.clipNorm == nil)
        #expect(spec.optimizer.beta1 == 0.9 && spec.optimizer.beta2 == 0.999)
        #expect(spec.optimizer.epsilon == 1e-8 && spec.optimizer.rho == 0.99)
        #expect(spec.optimizer.shuffle)
        #expect(spec.schedule == .constant)
        #expect(spec.initial == .zeros)
        #expect(spec.stopping.maxIterations == 1000)
        #expect(spec.stopping.weightTolerance == 1e-8)
        #expect(spec.stopping.gradientTolerance == 0 && spec.stopping.lossTolerance == 0)
        #expect(spec.stopping.patience == 10 && spec.stopping.maxSeconds == 3600)
        #expect(spec.validationFraction == 0 && spec.restoreBest)
        #expect(spec.seed == 0 && spec.reportEvery == 1)
        #expect(spec == JobSpec(datasetID: "ds_test"))
    }

    @Test("the defaults are echoed in full, in the documented order, as compact JSON")
    func defaultEchoText() throws {
        #expect(JSONWriter.string(try decodeSpec("{}").json) == Self.defaultEcho)
    }

    @Test("explicit nulls for the optional objects read as their defaults")
    func nullObjects() throws {
        let spec = try decodeSpec(
            #"{"regularization": null, "optimizer": null, "schedule": null, "init": null, "stopping": null, "#
                + #""validation": null, "loss_params": null}"#)
        #expect(spec == JobSpec(datasetID: "ds_test"))
    }

    @Test(
        "each model has its own default loss",
        arguments: [
            ("linear", "squared"), ("logistic", "log"), ("softmax", "cross_entropy"), ("poisson", "poisson"),
        ])
    func defaultLossPerModel(model: String, loss: String) throws {
        let spec = try decodeSpec(#"{"model": "\#(model)"}"#)
        #expect(spec.model.rawValue == model)
        #expect(spec.loss.rawValue == loss)
        #expect(echoed(spec, "loss") == .string(loss))
        #expect(echoed(spec, "loss_params") == .object([:]))
    }

    @Test(
        "every allowed model and loss pair decodes",
        arguments: [
            ("linear", "squared"), ("linear", "absolute"), ("linear", "huber"), ("linear", "epsilon_insensitive"),
            ("linear", "quantile"), ("logistic", "log"), ("logistic", "hinge"), ("logistic", "squared_hinge"),
            ("softmax", "cross_entropy"), ("poisson", "poisson"),
        ])
    func allowedPairs(model: String, loss: String) throws {
        let spec = try decodeSpec(#"{"model": "\#(model)", "loss": "\#(loss)"}"#)
        #expect(spec.model.rawValue == model && spec.loss.rawValue == loss)
    }

    @Test(
        "a loss of another model is rejected at /loss",
        arguments: [
            ("logistic", "squared"), ("linear", "log"), ("softmax", "hinge"), ("poisson", "squared"),
            ("linear", "cross_entropy"), ("softmax", "poisson"),
        ])
    func mismatchedLoss(model: String, loss: String) throws {
        #expect(try specErrorPointers(#"{"model": "\#(model)", "loss": "\#(loss)"}"#) == ["/loss"])
    }

    @Test(
        "a loss's parameter defaults and is echoed; the other losses echo {}",
        arguments: [
            ("huber", #"{"delta":1}"#), ("epsilon_insensitive", #"{"epsilon":0.1}"#), ("quantile", #"{"tau":0.5}"#),
            ("absolute", "{}"),
        ])
    func lossParameterDefaults(loss: String, params: String) throws {
        let spec = try decodeSpec(#"{"loss": "\#(loss)"}"#)
        #expect(JSONWriter.string(try #require(echoed(spec, "loss_params"))) == params)
    }

    @Test("a given loss parameter is kept and echoed")
    func lossParameterGiven() throws {
        let spec = try decodeSpec(#"{"loss": "quantile", "loss_params": {"tau": 0.9}}"#)
        #expect(spec.lossParameter == 0.9)
        #expect(echoed(spec, "loss_params") == ["tau": 0.9])
    }

    @Test(
        "loss parameter errors point at the parameter",
        arguments: [
            (#"{"loss": "huber", "loss_params": {"tau": 0.3}}"#, "/loss_params/tau"),
            (#"{"loss_params": {"delta": 1}}"#, "/loss_params/delta"),
            (#"{"loss": "quantile", "loss_params": {"tau": 1}}"#, "/loss_params/tau"),
            (#"{"loss": "quantile", "loss_params": {"tau": 0}}"#, "/loss_params/tau"),
            (#"{"loss": "huber", "loss_params": {"delta": 0}}"#, "/loss_params/delta"),
            (#"{"loss": "epsilon_insensitive", "loss_params": {"epsilon": -0.1}}"#, "/loss_params/epsilon"),
            (#"{"loss": "huber", "loss_params": {"delta": "big"}}"#, "/loss_params/delta"),
            (#"{"loss_params": 3}"#, "/loss_params"),
        ])
    func lossParameterErrors(body: String, pointer: String) throws {
        #expect(try specErrorPointers(body) == [pointer])
    }

    @Test("an expression loss is decoded and echoed as its object; a bad formula is refused at /loss/expression")
    func expressionLoss() throws {
        let spec = try decodeSpec(#"{"loss": {"expression": "(p - y)^2 / 2"}}"#)
        #expect(spec.lossFormula == "(p - y)^2 / 2")
        #expect(spec.json.objectValue?["loss"] == ["expression": "(p - y)^2 / 2"])
        #expect(try specErrorPointers(#"{"loss": {"expression": "(p - y)^"}}"#) == ["/loss/expression"])
        #expect(try specErrorPointers(#"{"model": "poisson", "loss": {"expression": "p"}}"#) == ["/loss"])
    }

    // MARK: Unknown fields and wrong types

    @Test(
        "unknown fields are rejected with their pointer, at any depth",
        arguments: [
            (#"{"modle": "linear"}"#, "/modle"),
            (#"{"optimizer": {"lerning_rate": 0.1}}"#, "/optimizer/lerning_rate"),
            (#"{"regularization": {"l3": 1}}"#, "/regularization/l3"),
            (#"{"stopping": {"max_iteration": 10}}"#, "/stopping/max_iteration"),
            (#"{"validation": {"fraction": 0.1, "shuffle": true}}"#, "/validation/shuffle"),
            (#"{"schedule": {"type": "exponential", "step_size": 10}}"#, "/schedule/step_size"),
            (#"{"schedule": {"gamma": 0.5}}"#, "/schedule/gamma"),
            (#"{"init": {"type": "zeros", "scale": 1}}"#, "/init/scale"),
            (#"{"init": {"type": "normal", "values": [1]}}"#, "/init/values"),
            (#"{"a/b~c": 1}"#, "/a~1b~0c"),
        ])
    func unknownFields(body: String, pointer: String) throws {
        #expect(try specErrorPointers(body) == [pointer])
    }

    @Test("the data source fields are known to decode (the service reads them)")
    func serviceFieldsAreKnown() throws {
        let spec = try decodeSpec(#"{"dataset_id": "ds_other", "dataset": {}}"#)
        #expect(spec.datasetID == "ds_test")
    }

    @Test("objective mode takes the run's fields only, and its echo decodes back to the same spec")
    func objectiveMode() throws {
        let body =
            #"{"objective": {"expression": "(1-x)^2 + 100*(y-x^2)^2", "variables": ["x", "y"], "starts": 3, "bounds": [[-2, 2], [-1, 3]]}, "optimizer": {"method": "adam"}, "seed": 4}"#
        let spec = try decodeSpec(body)
        #expect(spec.objective?.variables == ["x", "y"])
        #expect(spec.objective?.starts == 3)
        guard case .object(let echo) = spec.json else { return #expect(Bool(false), "the echo is an object") }
        // A restart decodes the stored echo: it must give the same spec.
        #expect(try JobSpec.decode(echo, datasetID: "") == spec)
        #expect(
            try specErrorPointers(#"{"objective": {"expression": "x", "variables": ["x"]}, "model": "linear"}"#) == [
                "/model"
            ])
        #expect(
            try specErrorPointers(
                #"{"objective": {"expression": "x", "variables": ["x"]}, "optimizer": {"method": "sgd"}}"#)
                == ["/optimizer/method"])
        #expect(
            try specErrorPointers(#"{"objective": {"expression": "x + z", "variables": ["x"]}}"#) == [
                "/objective/expression"
            ])
    }

    @Test(
        "values of the wrong type are rejected with their pointer",
        arguments: [
            (#"{"model": 3}"#, "/model"),
            (#"{"model": "tree"}"#, "/model"),
            (#"{"loss": true}"#, "/loss"),
            (#"{"fit_intercept": "yes"}"#, "/fit_intercept"),
            (#"{"standardize": 1}"#, "/standardize"),
            (#"{"regularization": [0.1]}"#, "/regularization"),
            (#"{"regularization": {"l2": "0.1"}}"#, "/regularization/l2"),
            (#"{"regularization": {"l1": -1}}"#, "/regularization/l1"),
            (#"{"optimizer": "adam"}"#, "/optimizer"),
            (#"{"optimizer": {"method": 1}}"#, "/optimizer/method"),
            (#"{"optimizer": {"momentum": 1}}"#, "/optimizer/momentum"),
            (#"{"optimizer": {"beta2": 1.5}}"#, "/optimizer/beta2"),
            (#"{"optimizer": {"epsilon": 0}}"#, "/optimizer/epsilon"),
            (#"{"optimizer": {"clip_norm": -1}}"#, "/optimizer/clip_norm"),
            (#"{"optimizer": {"shuffle": "no"}}"#, "/optimizer/shuffle"),
            (#"{"schedule": "cosine"}"#, "/schedule"),
            (#"{"schedule": {"type": "linear"}}"#, "/schedule/type"),
            (#"{"schedule": {"type": "step", "step_size": 0}}"#, "/schedule/step_size"),
            (#"{"schedule": {"type": "exponential", "gamma": 1}}"#, "/schedule/gamma"),
            (#"{"init": {"type": "xavier"}}"#, "/init/type"),
            (#"{"init": {"type": "normal", "scale": -1}}"#, "/init/scale"),
            (#"{"stopping": {"max_iterations": "10"}}"#, "/stopping/max_iterations"),
            (#"{"stopping": {"patience": 0}}"#, "/stopping/patience"),
            (#"{"stopping": {"weight_tolerance": -1}}"#, "/stopping/weight_tolerance"),
            (#"{"validation": {"restore_best": null}}"#, "/validation/restore_best"),
            (#"{"seed": "1"}"#, "/seed"),
            (#"{"report_every": [1]}"#, "/report_every"),
        ])
    func wrongTypes(body: String, pointer: String) throws {
        #expect(try specErrorPointers(body) == [pointer])
    }

    // MARK: Optimizer

    @Test(
        "learning_rate must be a number > 0 or \"auto\"",
        arguments: ["0", "-1", #""fast""#, "null", "true", #""AUTO""#, "[0.1]"])
    func badLearningRate(rate: String) throws {
        #expect(try specErrorPointers(#"{"optimizer": {"learning_rate": \#(rate)}}"#) == ["/optimizer/learning_rate"])
    }

    @Test("learning_rate \"auto\" and a positive number are accepted and echoed")
    func learningRates() throws {
        let auto = try decodeSpec(#"{"optimizer": {"learning_rate": "auto"}}"#)
        #expect(auto.optimizer.learningRate == .auto)
        #expect(echoed(auto, "optimizer")?.objectValue?["learning_rate"] == "auto")
        let fixed = try decodeSpec(#"{"optimizer": {"learning_rate": 2.5}}"#)
        #expect(fixed.optimizer.learningRate == .fixed(2.5))
    }

    @Test("an unknown method is rejected at /optimizer/method")
    func unknownMethod() throws {
        #expect(try specErrorPointers(#"{"optimizer": {"method": "lbfgs"}}"#) == ["/optimizer/method"])
    }

    @Test(
        "batch_size per method: sgd 1, minibatch 32 by default, gd and the adaptive ones full batch unless given",
        arguments: [
            (#"{"method": "sgd"}"#, 1), (#"{"method": "sgd", "batch_size": 1}"#, 1),
            (#"{"method": "minibatch"}"#, 32), (#"{"method": "minibatch", "batch_size": 8}"#, 8),
            (#"{"method": "gd"}"#, nil), (#"{"method": "gd", "batch_size": null}"#, nil),
            (#"{"method": "adam"}"#, nil), (#"{"method": "adam", "batch_size": 64}"#, 64),
            (#"{"method": "momentum", "batch_size": 16}"#, 16), (#"{"method": "rmsprop", "batch_size": null}"#, nil),
            (#"{"method": "nesterov"}"#, nil), (#"{"method": "adagrad", "batch_size": 2}"#, 2),
        ] as [(String, Int?)])
    func batchSizes(optimizer: String, batchSize: Int?) throws {
        let spec = try decodeSpec(#"{"optimizer": \#(optimizer)}"#)
        #expect(spec.optimizer.batchSize == batchSize)
        #expect(echoed(spec, "optimizer")?.objectValue?["batch_size"] == JSONValue(batchSize.map(Double.init)))
    }

    @Test(
        "a batch_size the method cannot take is rejected at /optimizer/batch_size",
        arguments: [
            #"{"method": "sgd", "batch_size": 5}"#, #"{"method": "gd", "batch_size": 5}"#,
            #"{"batch_size": 1}"#, #"{"method": "minibatch", "batch_size": null}"#,
            #"{"method": "minibatch", "batch_size": 0}"#, #"{"method": "minibatch", "batch_size": 2.5}"#,
            #"{"method": "adam", "batch_size": -3}"#, #"{"method": "adam", "batch_size": "64"}"#,
            #"{"method": "minibatch", "batch_size": 1e12}"#,
        ])
    func badBatchSizes(optimizer: String) throws {
        #expect(try specErrorPointers(#"{"optimizer": \#(optimizer)}"#) == ["/optimizer/batch_size"])
    }

    @Test("the optimizer is echoed in full with the given values")
    func optimizerEcho() throws {
        let spec = try decodeSpec(
            #"{"optimizer": {"method": "adam", "learning_rate": 0.5, "batch_size": 4, "momentum": 0.5, "#
                + #""clip_norm": 10, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6, "rho": 0.9, "shuffle": false}}"#)
        #expect(
            JSONWriter.string(try #require(echoed(spec, "optimizer")))
                == #"{"method":"adam","learning_rate":0.5,"batch_size":4,"momentum":0.5,"clip_norm":10,"#
                + #""beta1":0.8,"beta2":0.99,"epsilon":1e-06,"rho":0.9,"shuffle":false}"#)
    }

    // MARK: Schedule and init

    @Test(
        "each schedule is echoed with its parameters' defaults",
        arguments: [
            ("constant", #"{"type":"constant"}"#),
            ("step", #"{"type":"step","step_size":100,"gamma":0.5}"#),
            ("exponential", #"{"type":"exponential","gamma":0.99}"#),
            ("inverse_time", #"{"type":"inverse_time","decay":0.01}"#),
            ("cosine", #"{"type":"cosine","min_learning_rate":0}"#),
            ("backtracking", #"{"type":"backtracking","shrink":0.5,"armijo":0.0001}"#),
        ])
    func scheduleDefaults(type: String, echo: String) throws {
        let spec = try decodeSpec(#"{"schedule": {"type": "\#(type)"}}"#)
        #expect(JSONWriter.string(try #require(echoed(spec, "schedule"))) == echo)
    }

    @Test("a schedule without a type is constant; given parameters are kept")
    func scheduleValues() throws {
        #expect(try decodeSpec(#"{"schedule": {}}"#).schedule == .constant)
        #expect(
            try decodeSpec(#"{"schedule": {"type": "step", "step_size": 7, "gamma": 0.25}}"#).schedule
                == .step(stepSize: 7, gamma: 0.25))
        #expect(
            try decodeSpec(#"{"schedule": {"type": "backtracking", "shrink": 0.8, "armijo": 0.3}}"#).schedule
                == .backtracking(shrink: 0.8, armijo: 0.3))
    }

    @Test(
        "backtracking with mini-batches is rejected at /schedule/type",
        arguments: [
            #"{"method": "minibatch"}"#, #"{"method": "sgd"}"#, #"{"method": "adam", "batch_size": 8}"#,
        ])
    func backtrackingNeedsFullBatch(optimizer: String) throws {
        #expect(
            try specErrorPointers(#"{"optimizer": \#(optimizer), "schedule": {"type": "backtracking"}}"#)
                == ["/schedule/type"])
    }

    @Test("backtracking with full-batch methods is accepted")
    func backtrackingFullBatch() throws {
        for method in ["gd", "momentum", "adam"] {
            let spec = try decodeSpec(#"{"optimizer": {"method": "\#(method)"}, "schedule": {"type": "backtracking"}}"#)
            #expect(spec.schedule == .backtracking(shrink: 0.5, armijo: 1e-4))
        }
    }

    @Test(
        "each init is echoed with its parameters",
        arguments: [
            (#"{"type": "zeros"}"#, #"{"type":"zeros"}"#),
            (#"{"type": "normal"}"#, #"{"type":"normal","scale":0.01}"#),
            (#"{"type": "uniform", "scale": 2}"#, #"{"type":"uniform","scale":2}"#),
            (#"{"type": "values", "values": [1, -2.5, 0]}"#, #"{"type":"values","values":[1,-2.5,0]}"#),
            (#"{"type": "values", "values": []}"#, #"{"type":"values","values":[]}"#),
            ("{}", #"{"type":"zeros"}"#),
        ])
    func initEcho(initial: String, echo: String) throws {
        let spec = try decodeSpec(#"{"init": \#(initial)}"#)
        #expect(JSONWriter.string(try #require(echoed(spec, "init"))) == echo)
    }

    @Test("init values are kept in order")
    func initValues() throws {
        #expect(
            try decodeSpec(#"{"init": {"type": "values", "values": [1, -2.5, 3e-3]}}"#).initial
                == .values([1, -2.5, 3e-3]))
    }

    @Test(
        "bad init values point at the list or the element",
        arguments: [
            (#"{"type": "values"}"#, "/init/values"),
            (#"{"type": "values", "values": 3}"#, "/init/values"),
            (#"{"type": "values", "values": [1, "2", 3]}"#, "/init/values/1"),
            (#"{"type": "values", "values": [1, null]}"#, "/init/values/1"),
        ])
    func badInitValues(initial: String, pointer: String) throws {
        #expect(try specErrorPointers(#"{"init": \#(initial)}"#) == [pointer])
    }

    // MARK: Ranges

    @Test(
        "out-of-range stopping, validation, seed and report_every values are rejected",
        arguments: [
            (#"{"stopping": {"max_iterations": 0}}"#, "/stopping/max_iterations"),
            (#"{"stopping": {"max_iterations": 1e8}}"#, "/stopping/max_iterations"),
            (#"{"stopping": {"max_iterations": 10000001}}"#, "/stopping/max_iterations"),
            (#"{"stopping": {"max_iterations": 10.5}}"#, "/stopping/max_iterations"),
            (#"{"stopping": {"max_seconds": 0}}"#, "/stopping/max_seconds"),
            (#"{"stopping": {"max_seconds": 86401}}"#, "/stopping/max_seconds"),
            (#"{"validation": {"fraction": 1.0}}"#, "/validation/fraction"),
            (#"{"validation": {"fraction": -0.1}}"#, "/validation/fraction"),
            (#"{"seed": -1}"#, "/seed"),
            (#"{"seed": 1.5}"#, "/seed"),
            (#"{"seed": 9007199254740994}"#, "/seed"),
            (#"{"seed": 9007199254740992}"#, "/seed"),
            (#"{"seed": 9007199254740993}"#, "/seed"),
            (#"{"report_every": 0}"#, "/report_every"),
            (#"{"report_every": 2.5}"#, "/report_every"),
        ])
    func ranges(body: String, pointer: String) throws {
        #expect(try specErrorPointers(body) == [pointer])
    }

    @Test("the ends of the ranges are accepted")
    func rangeEnds() throws {
        let spec = try decodeSpec(
            #"{"stopping": {"max_iterations": 10000000, "max_seconds": 86400}, "validation": {"fraction": 0.99}, "#
                + #""seed": 9007199254740991, "report_every": 10000000}"#)
        #expect(spec.stopping.maxIterations == 10_000_000)
        #expect(spec.stopping.maxSeconds == 86_400)
        #expect(spec.validationFraction == 0.99)
        #expect(spec.seed == 9_007_199_254_740_991)
        #expect(spec.reportEvery == 10_000_000)
        #expect(try decodeSpec(#"{"stopping": {"max_iterations": 1}, "seed": 0}"#).stopping.maxIterations == 1)
        // Integers written with an exponent or a zero fraction are still integers.
        #expect(try decodeSpec(#"{"stopping": {"max_iterations": 1e3}}"#).stopping.maxIterations == 1000)
        #expect(try decodeSpec(#"{"seed": 42.0}"#).seed == 42)
    }

    @Test("every field at fault is reported together, in one error")
    func severalErrors() throws {
        let pointers = try specErrorPointers(
            #"{"extra": 1, "model": "tree", "optimizer": {"method": "sgd", "learning_rate": 0, "batch_size": 4, "#
                + #""momentun": 0.5}, "stopping": {"max_iterations": 0}, "validation": {"fraction": 1}, "seed": -1, "#
                + #""report_every": 0}"#)
        #expect(
            Set(pointers) == [
                "/extra", "/model", "/optimizer/learning_rate", "/optimizer/batch_size", "/optimizer/momentun",
                "/stopping/max_iterations", "/validation/fraction", "/seed", "/report_every",
            ])
        #expect(pointers.count == Set(pointers).count, "a field reported twice: \(pointers)")
    }

    @Test("a fully specified body round-trips through its echo")
    func echoRoundTrip() throws {
        let body =
            #"{"model":"linear","loss":"huber","loss_params":{"delta":2},"fit_intercept":false,"standardize":true,"#
            + #""regularization":{"l2":0.5,"l1":0.25},"optimizer":{"method":"nesterov","learning_rate":0.1,"#
            + #""batch_size":16,"momentum":0.8,"clip_norm":5,"beta1":0.85,"beta2":0.95,"epsilon":0.001,"rho":0.5,"#
            + #""shuffle":false},"schedule":{"type":"cosine","min_learning_rate":0.001},"#
            + #""init":{"type":"uniform","scale":0.5},"stopping":{"max_iterations":500,"weight_tolerance":0,"#
            + #""gradient_tolerance":1e-06,"loss_tolerance":1e-09,"patience":3,"max_seconds":60},"#
            + #""validation":{"fraction":0.2,"restore_best":false},"seed":7,"report_every":5}"#
        let spec = try decodeSpec(body)
        #expect(JSONWriter.string(spec.json) == #"{"dataset_id":"ds_test","# + body.dropFirst())
        // Decoding the echo gives the same spec again.
        #expect(try JobSpec.decode(try #require(spec.json.objectValue), datasetID: "ds_test") == spec)
    }
}
