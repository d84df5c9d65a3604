import DescentMath

extension JobSpec {
    /// The model and the run configuration this spec asks for on `dataset`. Throws, with pointers into the
    /// request, what only the data can reveal: labels that do not fit the model, a warm start of the wrong
    /// length, a batch or validation fraction the rows cannot satisfy.
    package func training(
        on dataset: Dataset, parallelism: Int = 1
    ) throws(SpecError) -> (model: Model, configuration: TrainingConfiguration) {
        let model: Model
        do throws(ModelError) {
            model = try Model(
                dataset: dataset, output: output(for: dataset), fitIntercept: fitIntercept, l2: l2, l1: l1,
                standardize: standardize)
        } catch {
            switch error {
            case .invalid(let detail):
                throw SpecError(
                    pointer: "/dataset_id",
                    detail: "the dataset's targets do not fit a \(self.model.rawValue) model: \(detail)")
            }
        }
        if case .values(let values) = initial, values.count != model.parameterCount {
            throw SpecError(
                pointer: "/init/values",
                detail:
                    "needs \(model.parameterCount) values (weights row by row, then intercepts), not \(values.count)")
        }
        if let size = optimizer.batchSize, size > dataset.rows {
            throw SpecError(
                pointer: "/optimizer/batch_size", detail: "\(size) is larger than the dataset's \(dataset.rows) rows")
        }
        if validationFraction > 0 {
            // The trainer splits the rows the same way; checked here, a fraction the rows cannot satisfy is a
            // 400 at submission instead of a job that fails once it runs.
            do throws(SplitError) {
                _ = try TrainValidationSplit.validationCount(rows: dataset.rows, validationFraction: validationFraction)
            } catch {
                throw SpecError(pointer: "/validation/fraction", detail: "\(error)")
            }
        }
        return (model, configuration(parallelism: parallelism))
    }

    private func output(for dataset: Dataset) throws(ModelError) -> Model.Output {
        if let lossFormula {
            // Decoding compiled it already; a formula that stopped compiling would be a bug, reported as such.
            do throws(ExpressionError) {
                return .scalar(.expression(try ExpressionLoss(lossFormula, signedLabels: model == .logistic)))
            } catch {
                throw .invalid("the loss formula: \(error)")
            }
        }
        switch loss {
        case .squared: return .scalar(.squared)
        case .absolute: return .scalar(.absolute)
        case .huber: return .scalar(.huber(delta: lossParameter ?? 1))
        case .epsilonInsensitive: return .scalar(.epsilonInsensitive(epsilon: lossParameter ?? 0.1))
        case .quantile: return .scalar(.quantile(tau: lossParameter ?? 0.5))
        case .log: return .scalar(.log)
        case .hinge: return .scalar(.hinge)
        case .squaredHinge: return .scalar(.squaredHinge)
        case .poisson: return .scalar(.poisson)
        case .crossEntropy:
            // K is one more than the largest label; the model checks that every label is a class 0…K−1.
            let largest = dataset.targets.max() ?? 0
            guard largest.isFinite, largest >= 1, largest < 10_000 else {
                throw .invalid("labels must be classes 0…K−1 with 2 ≤ K ≤ 10000; the largest is \(largest)")
            }
            return .softmax(classes: Int(largest) + 1)
        }
    }

    /// Objective mode's run: the formula compiled, and the run's configuration.
    package func minimizer(parallelism: Int = 1) throws(SpecError) -> FunctionMinimizer {
        guard let objective else { throw SpecError(pointer: "/objective", detail: "this job fits a dataset") }
        let program: ExpressionProgram
        do throws(ExpressionError) { program = try objective.program() } catch {
            throw SpecError(pointer: "/objective/expression", detail: error.description)
        }
        let problem = FunctionProblem(
            program: program, start: objective.start, starts: objective.starts, bounds: objective.bounds)
        do throws(TrainingError) {
            return try FunctionMinimizer(problem: problem, configuration: configuration(parallelism: parallelism))
        } catch {
            switch error {
            case .invalid(let detail): throw SpecError(pointer: "/objective", detail: detail)
            }
        }
    }

    /// Everything but the model.
    package func configuration(parallelism: Int) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        switch optimizer.method {
        case .gd, .sgd, .minibatch: configuration.rule = .plain
        case .momentum: configuration.rule = .momentum(optimizer.momentum)
        case .nesterov: configuration.rule = .nesterov(optimizer.momentum)
        case .adagrad: configuration.rule = .adagrad(epsilon: optimizer.epsilon)
        case .rmsprop: configuration.rule = .rmsprop(decay: optimizer.rho, epsilon: optimizer.epsilon)
        case .adam:
            configuration.rule = .adam(beta1: optimizer.beta1, beta2: optimizer.beta2, epsilon: optimizer.epsilon)
        }
        configuration.sampling =
            optimizer.batchSize.map { .miniBatch(size: $0, shuffle: optimizer.shuffle) } ?? .fullBatch
        switch optimizer.learningRate {
        case .fixed(let rate): configuration.learningRate = .fixed(rate)
        case .auto: configuration.learningRate = .auto
        }
        switch schedule {
        case .constant: configuration.schedule = .constant
        case .step(let size, let gamma): configuration.schedule = .step(every: size, gamma: gamma)
        case .exponential(let gamma): configuration.schedule = .exponential(gamma: gamma)
        case .inverseTime(let decay): configuration.schedule = .inverseTime(decay: decay)
        case .cosine(let minimum): configuration.schedule = .cosine(minimum: minimum)
        case .backtracking(let shrink, let armijo):
            configuration.lineSearch = LineSearch(shrink: shrink, armijo: armijo)
        }
        configuration.clipNorm = optimizer.clipNorm
        switch initial {
        case .zeros: configuration.initialization = .zeros
        case .normal(let scale): configuration.initialization = .normal(scale: scale)
        case .uniform(let scale): configuration.initialization = .uniform(scale: scale)
        case .values(let values): configuration.initialization = .values(values)
        }
        configuration.stopping = stopping
        configuration.validationFraction = validationFraction
        configuration.restoreBest = restoreBest
        configuration.seed = seed
        configuration.reportEvery = reportEvery
        configuration.snapshotEvery = Self.snapshotInterval(maxIterations: stopping.maxIterations)
        configuration.parallelism = parallelism
        return configuration
    }

    /// θ is kept every this many iterations for `/trajectory`: at most about 1000 snapshots per job.
    package static func snapshotInterval(maxIterations: Int) -> Int {
        max(1, (maxIterations + 999) / 1000)
    }
}
