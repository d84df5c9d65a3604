/// Applies `StoppingRules` to the sequence of evaluated iterates and remembers what they need: the loss
/// history for the tolerance's patience, the best validation loss (and its parameters) for early stopping.
package struct StoppingMonitor {
    let rules: StoppingRules
    let restoreBest: Bool
    private(set) var best: (iteration: Int, validationLoss: Double, parameters: [Double])?
    private var initialLoss: Double?
    private var previousLoss: Double?
    private var stalled = 0
    private var sinceBest = 0

    init(rules: StoppingRules, restoreBest: Bool) {
        self.rules = rules
        self.restoreBest = restoreBest
    }

    /// What the monitor remembers between iterations, for checkpoints.
    package struct State: Sendable, Equatable {
        var best: (iteration: Int, validationLoss: Double, parameters: [Double])?
        var initialLoss: Double?
        var previousLoss: Double?
        var stalled = 0
        var sinceBest = 0

        package static func == (lhs: State, rhs: State) -> Bool {
            lhs.best?.iteration == rhs.best?.iteration
                && lhs.best?.validationLoss.bitPattern == rhs.best?.validationLoss.bitPattern
                && lhs.best?.parameters == rhs.best?.parameters
                && lhs.initialLoss?.bitPattern == rhs.initialLoss?.bitPattern
                && lhs.previousLoss?.bitPattern == rhs.previousLoss?.bitPattern && lhs.stalled == rhs.stalled
                && lhs.sinceBest == rhs.sinceBest
        }

        func encode(into writer: inout ByteWriter) {
            writer.integer(best == nil ? 0 : 1)
            writer.integer(best?.iteration ?? 0)
            writer.double(best?.validationLoss ?? 0)
            writer.doubles(best?.parameters ?? [])
            writer.optionalDouble(initialLoss)
            writer.optionalDouble(previousLoss)
            writer.integer(stalled)
            writer.integer(sinceBest)
        }

        init() {}

        init?(decoding reader: inout ByteReader) {
            guard let hasBest = reader.integer(), let iteration = reader.integer(), let loss = reader.double(),
                let parameters = reader.doubles(), let initial = reader.optionalDouble(),
                let previous = reader.optionalDouble(), let stalled = reader.integer(), let sinceBest = reader.integer()
            else { return nil }
            best = hasBest == 1 ? (iteration, loss, parameters) : nil
            initialLoss = initial
            previousLoss = previous
            self.stalled = stalled
            self.sinceBest = sinceBest
        }
    }

    var state: State {
        get {
            var state = State()
            state.best = best
            state.initialLoss = initialLoss
            state.previousLoss = previousLoss
            state.stalled = stalled
            state.sinceBest = sinceBest
            return state
        }
        set {
            best = newValue.best
            initialLoss = newValue.initialLoss
            previousLoss = newValue.previousLoss
            stalled = newValue.stalled
            sinceBest = newValue.sinceBest
        }
    }

    /// Whether a rule that needs no evaluation of L would stop the run here (then the caller evaluates, and
    /// `check` names the rule): cancellation, a non-finite θ, the weight tolerance, time, the iteration budget.
    func stopsWithoutEvaluation(
        iteration: Int, stepNorm: Double, parameters: [Double], elapsed: Double, cancelled: Bool
    ) -> Bool {
        cancelled || !parameters.allSatisfy(\.isFinite)
            || (iteration > 0 && rules.weightTolerance > 0 && stepNorm <= rules.weightTolerance)
            || elapsed >= rules.maxSeconds || iteration >= rules.maxIterations
    }

    /// The rule that stops the run at this iterate, checked in a fixed order, or nil to go on.
    mutating func check(
        iteration: Int, loss: Double, gradientNorm: Double, stepNorm: Double, validationLoss: Double?,
        elapsed: Double, parameters: [Double], cancelled: Bool
    ) -> StopReason? {
        if cancelled { return .cancelled }
        // Divergence: a non-finite loss, or one that grew beyond a million times where it started.
        let start = initialLoss ?? loss
        if initialLoss == nil { initialLoss = loss }
        if !loss.isFinite || !gradientNorm.isFinite || loss > max(1e10, 1e6 * abs(start)) { return .diverged }
        if rules.gradientTolerance > 0 && gradientNorm <= rules.gradientTolerance { return .gradientTolerance }
        if iteration > 0 && rules.weightTolerance > 0 && stepNorm <= rules.weightTolerance { return .weightTolerance }
        if let previousLoss, rules.lossTolerance > 0 {
            let improvement = (previousLoss - loss) / max(abs(previousLoss), .leastNormalMagnitude)
            stalled = improvement < rules.lossTolerance ? stalled + 1 : 0
            if stalled >= max(1, rules.patience) { return .lossTolerance }
        }
        previousLoss = loss
        if let validationLoss {
            if best == nil || validationLoss < best!.validationLoss {
                best = (iteration, validationLoss, restoreBest ? parameters : [])
                sinceBest = 0
            } else {
                sinceBest += 1
                if sinceBest >= max(1, rules.patience) { return .earlyStopping }
            }
        }
        if elapsed >= rules.maxSeconds { return .timeLimit }
        if iteration >= rules.maxIterations { return .maxIterations }
        return nil
    }
}
