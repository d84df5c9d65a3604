/// What objective mode minimises: f(x₁…xₙ), compiled once, and where the descent starts (API.md, "Or, to
/// minimise a function"; issue 7, point 4).
///
/// Starts. Start k (0-based) draws from its own generator, `RandomSource(seed: s_k)`, where s_k is the k-th
/// output of `RandomSource(seed: configuration.seed)`; so a seed fixes every start, and the first k starts of
/// a run with K > k starts are exactly those of a run with k starts. Start 0 is `start` when one is given
/// (its generator then goes unused); every other start is random: uniform in `bounds` per coordinate, or
/// N(0, 1) per coordinate without bounds (drawn in index order, as `Initialization.normal(scale: 1)` does).
///
/// Bounds say only where random starts are drawn; the descent itself is unconstrained. Projecting onto the
/// box would make this a different, constrained problem: the gradient no longer vanishes at a minimum on the
/// boundary (the gradient tolerance would need the projected gradient), and the momentum and adaptive rules
/// lose what their step sizes rest on. API.md describes `bounds` as where the seeded starts lie, and a given
/// `start` may lie outside them.
package struct FunctionProblem: Sendable {
    package var program: ExpressionProgram
    /// The first start; nil draws it like the others.
    package var start: [Double]?
    /// How many starts run, each to its own stopping rule; the lowest f wins (1…1000).
    package var starts: Int
    /// One range per variable, finite: where random starts are drawn.
    package var bounds: [ClosedRange<Double>]?

    package static let maxStarts = 1000

    package init(
        program: ExpressionProgram, start: [Double]? = nil, starts: Int = 1, bounds: [ClosedRange<Double>]? = nil
    ) {
        self.program = program
        self.start = start
        self.starts = starts
        self.bounds = bounds
    }

    /// Refuses what cannot be run, naming the field. (An inverted range cannot reach here: `ClosedRange`
    /// traps on construction when lower > upper or either bound is NaN, so its maker checks that first.)
    func validate() throws(TrainingError) {
        let variables = program.variables
        let names = variables.map { "\"\($0)\"" }.joined(separator: ", ")
        guard !variables.isEmpty else { throw .invalid("objective: the formula must have at least one variable") }
        if let start {
            guard start.count == variables.count else {
                throw .invalid(
                    "objective: start has \(start.count) value\(start.count == 1 ? "" : "s") but there are "
                        + "\(variables.count) variables (\(names))")
            }
            if let index = start.firstIndex(where: { !$0.isFinite }) {
                throw .invalid("objective: start[\(index)] is not a finite number")
            }
        }
        guard (1...Self.maxStarts).contains(starts) else {
            throw .invalid("objective: starts must be between 1 and \(Self.maxStarts), got \(starts)")
        }
        if let bounds {
            guard bounds.count == variables.count else {
                throw .invalid(
                    "objective: bounds has \(bounds.count) range\(bounds.count == 1 ? "" : "s") but there are "
                        + "\(variables.count) variables (\(names))")
            }
            if let index = bounds.firstIndex(where: { !$0.lowerBound.isFinite || !$0.upperBound.isFinite }) {
                throw .invalid("objective: bounds[\(index)] must be finite, got \(bounds[index])")
            }
        }
    }

    /// The seed of each start's generator: the first `starts` outputs of the run's generator.
    func streamSeeds(seed: UInt64) -> [UInt64] {
        var random = RandomSource(seed: seed)
        return (0..<starts).map { _ in random.next() }
    }

    /// Start `index`, from its generator's seed (see the type's comment).
    func startPoint(_ index: Int, streamSeed: UInt64) -> [Double] {
        if index == 0, let start { return start }
        var random = RandomSource(seed: streamSeed)
        guard let bounds else { return program.variables.map { _ in random.nextNormal() } }
        return bounds.map { range in
            // lo·(1 − u) + hi·u rather than lo + (hi − lo)·u: hi − lo overflows for bounds near ±Double.max.
            // Rounding may land a hair outside, so the draw is clamped into the closed range.
            let u = random.nextDouble()
            let value = range.lowerBound * (1 - u) + range.upperBound * u
            return min(max(value, range.lowerBound), range.upperBound)
        }
    }
}
