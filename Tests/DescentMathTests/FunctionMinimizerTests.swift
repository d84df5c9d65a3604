import Foundation
import Testing

@testable import DescentMath

/// Objective mode: the known minima of the classic test functions (Jamil & Yang, "A literature survey of
/// benchmark functions for global optimisation problems", 2013), multi-start, and the run's contract.
@Suite("Function minimisation")
struct FunctionMinimizerTests {
    static let adam = UpdateRule.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    static let rosenbrock = "(1-x)^2 + 100*(y-x^2)^2"
    static let beale = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"
    static let booth = "(x + 2*y - 7)^2 + (2*x + y - 5)^2"
    static let himmelblau = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
    static let rastrigin = "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)"

    static func problem(
        _ formula: String, start: [Double]? = nil, starts: Int = 1, bounds: [ClosedRange<Double>]? = nil
    ) throws -> FunctionProblem {
        FunctionProblem(
            program: try ExpressionProgram(formula, variables: ["x", "y"]), start: start, starts: starts, bounds: bounds
        )
    }

    /// A rule at a fixed rate that stops on ‖∇f‖ ≤ `gradientTolerance` (the weight tolerance off).
    static func configuration(
        _ rule: UpdateRule = .plain, rate: Double, gradientTolerance: Double = 1e-8, maxIterations: Int = 5000
    ) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.rule = rule
        configuration.learningRate = .fixed(rate)
        configuration.stopping.weightTolerance = 0
        configuration.stopping.gradientTolerance = gradientTolerance
        configuration.stopping.maxIterations = maxIterations
        return configuration
    }

    static func minimize(
        _ problem: FunctionProblem, _ configuration: TrainingConfiguration,
        progress: (ProgressEvent) -> Void = { _ in }, isCancelled: () -> Bool = { false }
    ) throws -> TrainingResult {
        try FunctionMinimizer(problem: problem, configuration: configuration).run(
            progress: progress, isCancelled: isCancelled)
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }

    // MARK: - Known minima

    @Test("Rosenbrock's valley is followed to (1, 1) from (−1.2, 1) by adam, and by momentum with backtracking")
    func rosenbrock() throws {
        let problem = try Self.problem(Self.rosenbrock, start: [-1.2, 1])
        var momentum = Self.configuration(.momentum(0.9), rate: 1e-3, gradientTolerance: 1e-6)
        momentum.lineSearch = LineSearch()
        for configuration in [Self.configuration(Self.adam, rate: 0.05, gradientTolerance: 1e-6), momentum] {
            let result = try Self.minimize(problem, configuration)
            #expect(result.stopReason == .gradientTolerance)
            #expect(result.converged)
            #expect(result.iterations < 4000)
            #expect(Self.distance(result.parameters, [1, 1]) < 1e-4, "\(result.parameters)")
            #expect(result.weights == [result.parameters])
            #expect(result.intercepts.isEmpty)
            #expect(result.loss == problem.program.value(at: result.parameters))
        }
    }

    @Test("Beale's function is minimised at (3, 0.5) by gradient descent with backtracking")
    func beale() throws {
        var configuration = Self.configuration(rate: 1, gradientTolerance: 1e-6)
        configuration.lineSearch = LineSearch()
        for start in [[1.0, 1], [0, 0], [2, 2]] {
            let result = try Self.minimize(try Self.problem(Self.beale, start: start), configuration)
            #expect(result.stopReason == .gradientTolerance)
            #expect(Self.distance(result.parameters, [3, 0.5]) < 1e-4, "from \(start): \(result.parameters)")
        }
    }

    @Test("Booth's quadratic is minimised at (1, 3) with the auto rate, whose curvature is the Hessian's 18")
    func booth() throws {
        var configuration = Self.configuration(rate: 1)
        configuration.learningRate = .auto
        let result = try Self.minimize(try Self.problem(Self.booth, start: [0, 0]), configuration)
        // ∇²f = [[10, 8], [8, 10]], eigenvalues 18 and 2.
        #expect(abs(result.lipschitz! - 18) < 1e-6)
        #expect(result.stopReason == .gradientTolerance)
        #expect(Self.distance(result.parameters, [1, 3]) < 1e-8)
    }

    @Test("random starts from different seeds find all four of Himmelblau's minima, and only those")
    func himmelblau() throws {
        let minima = [[3, 2], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]]
        var found = Set<Int>()
        var configuration = Self.configuration(rate: 0.01, maxIterations: 2000)
        configuration.lineSearch = LineSearch()
        let problem = try Self.problem(Self.himmelblau, bounds: [-5...5, -5...5])
        for seed in UInt64(0)..<24 {
            configuration.seed = seed
            let result = try Self.minimize(problem, configuration)
            #expect(result.stopReason == .gradientTolerance)
            let nearest = minima.indices.min {
                Self.distance(minima[$0], result.parameters) < Self.distance(minima[$1], result.parameters)
            }!
            #expect(Self.distance(minima[nearest], result.parameters) < 1e-5, "seed \(seed): \(result.parameters)")
            #expect(result.loss < 1e-12)
            found.insert(nearest)
        }
        #expect(found == [0, 1, 2, 3])
    }

    /// In [−5.12, 5.12]² the global minimum's basin is about 1% of the box (a local descent ends at the local
    /// minimum nearest its start, and there are ~10 per axis), so 500 starts all miss it with probability
    /// 0.99⁵⁰⁰ ≈ 0.7%, and one start almost always does; the seed is fixed, so the run is too.
    @Test("many starts on Rastrigin's surface find the global minimum (0, 0) where one start does not")
    func rastrigin() throws {
        var configuration = Self.configuration(rate: 0.002, maxIterations: 1000)
        configuration.seed = 7
        let bounds: [ClosedRange<Double>] = [-5.12...5.12, -5.12...5.12]
        var single: [ProgressEvent] = []
        let one = try Self.minimize(
            try Self.problem(Self.rastrigin, bounds: bounds), configuration, progress: { single.append($0) })
        #expect(one.loss > 0.9, "a local minimum: f ≥ 1 at every one but (0, 0)")
        var many: [ProgressEvent] = []
        let best = try Self.minimize(
            try Self.problem(Self.rastrigin, starts: 500, bounds: bounds), configuration,
            progress: { many.append($0) })
        #expect(best.stopReason == .gradientTolerance)
        #expect(Self.distance(best.parameters, [0, 0]) < 1e-9, "\(best.parameters)")
        #expect(best.loss < 1e-12)
        // Start 0 of the 500 is the one start of the same seed.
        #expect(Array(many.prefix(single.count)).map(\.point) == single.map(\.point))
    }

    // MARK: - Every rule and schedule

    static let rules: [(String, UpdateRule, Double, LearningRateSchedule)] = [
        ("gd", .plain, 0.05, .constant),
        ("momentum", .momentum(0.9), 0.01, .constant),
        ("nesterov", .nesterov(0.9), 0.01, .constant),
        ("adagrad", .adagrad(epsilon: 1e-8), 1, .constant),
        // RMSprop's step is about η·sign(g) near the minimum: it needs a decaying rate to settle.
        ("rmsprop", .rmsprop(decay: 0.9, epsilon: 1e-8), 0.05, .cosine(minimum: 0)),
        ("adam", adam, 0.1, .constant),
        ("gd, step decay", .plain, 0.05, .step(every: 500, gamma: 0.5)),
        ("gd, exponential decay", .plain, 0.05, .exponential(gamma: 0.999)),
        ("gd, inverse time decay", .plain, 0.05, .inverseTime(decay: 0.01)),
        ("gd, cosine", .plain, 0.05, .cosine(minimum: 0)),
    ]

    @Test("every update rule and schedule reaches Booth's minimum", arguments: rules.indices)
    func everyRule(_ index: Int) throws {
        let (name, rule, rate, schedule) = Self.rules[index]
        var configuration = Self.configuration(rule, rate: rate, gradientTolerance: 1e-6, maxIterations: 3000)
        configuration.schedule = schedule
        let result = try Self.minimize(try Self.problem(Self.booth, start: [0, 0]), configuration)
        #expect(Self.distance(result.parameters, [1, 3]) < 1e-4, "\(name): \(result.parameters)")
    }

    @Test("a clipped gradient bounds every plain step by rate × clip norm")
    func clipping() throws {
        var configuration = Self.configuration(rate: 1, maxIterations: 50)
        configuration.clipNorm = 0.1
        var events: [ProgressEvent] = []
        _ = try Self.minimize(
            try Self.problem(Self.booth, start: [-4, -4]), configuration, progress: { events.append($0) })
        #expect(events.count == 50)
        #expect(events.allSatisfy { $0.stepNorm <= 0.1 * (1 + 1e-12) })
        #expect(events.prefix(20).allSatisfy { abs($0.stepNorm - 0.1) < 1e-12 }, "far away, every step is clipped")
    }

    // MARK: - The run's contract

    @Test("the same seed gives a bitwise identical run; another seed another one")
    func reproducible() throws {
        let problem = try Self.problem(Self.himmelblau, starts: 6, bounds: [-5...5, -5...5])
        var configuration = Self.configuration(Self.adam, rate: 0.05, maxIterations: 300)
        configuration.seed = 42
        var first: [ProgressEvent] = []
        var second: [ProgressEvent] = []
        let a = try Self.minimize(problem, configuration, progress: { first.append($0) })
        let b = try Self.minimize(problem, configuration, progress: { second.append($0) })
        #expect(a.parameters.map(\.bitPattern) == b.parameters.map(\.bitPattern))
        #expect(a.loss.bitPattern == b.loss.bitPattern)
        #expect(a.iterations == b.iterations)
        #expect(first.map(\.point) == second.map(\.point))
        #expect(first.map(\.loss) == second.map(\.loss))
        configuration.seed = 43
        var third: [ProgressEvent] = []
        _ = try Self.minimize(problem, configuration, progress: { third.append($0) })
        #expect(third.first?.point != first.first?.point)
    }

    @Test("progress events carry the point, with f there, numbered in one increasing count across starts")
    func progressCarriesThePoint() throws {
        let problem = try Self.problem(Self.himmelblau, starts: 3, bounds: [-5...5, -5...5])
        let configuration = Self.configuration(rate: 0.005, gradientTolerance: 0, maxIterations: 10)
        var events: [ProgressEvent] = []
        let result = try Self.minimize(problem, configuration, progress: { events.append($0) })
        // Three starts of 10 steps each, and two moves to the next start.
        #expect(result.iterations == 32)
        #expect(result.stopReason == .maxIterations)
        #expect(events.map(\.iteration) == Array(1...32))
        for event in events {
            let point = try #require(event.point)
            #expect(event.loss == problem.program.value(at: point))
            #expect(event.gradientNorm == FunctionMinimizer.norm(problem.program.gradient(at: point).gradient))
        }
        // Each start's last iterate is reported (10, 21, 32); the best of them is the result.
        let lasts = [10, 21, 32].map { events[$0 - 1] }
        let winner = lasts.min { $0.loss < $1.loss }!
        #expect(result.parameters == winner.point)
        #expect(result.loss == winner.loss)
    }

    @Test("reportEvery thins the events, and each start's last iterate is always reported")
    func reportEvery() throws {
        let problem = try Self.problem(Self.booth, starts: 2, bounds: [-5...5, -5...5])
        var configuration = Self.configuration(rate: 0.01, gradientTolerance: 0, maxIterations: 12)
        configuration.reportEvery = 5
        var events: [ProgressEvent] = []
        _ = try Self.minimize(problem, configuration, progress: { events.append($0) })
        #expect(events.map(\.iteration) == [5, 10, 12, 15, 20, 25])
    }

    @Test("random starts lie inside the bounds, and without bounds they differ between starts")
    func startsInsideBounds() throws {
        let bounds: [ClosedRange<Double>] = [-1...2, 10...10.5]
        let configuration = Self.configuration(rate: 0.01, maxIterations: 0)
        var events: [ProgressEvent] = []
        let result = try Self.minimize(
            try Self.problem(Self.booth, starts: 200, bounds: bounds), configuration, progress: { events.append($0) })
        #expect(result.iterations == 199)
        let points = events.compactMap(\.point)
        #expect(points.count == 200)
        #expect(points.allSatisfy { bounds[0].contains($0[0]) && bounds[1].contains($0[1]) })
        #expect(Set(points.map { $0[0] }).count == 200)
        // The given start is start 0; the others are drawn.
        events = []
        _ = try Self.minimize(
            try Self.problem(Self.booth, start: [7, 7], starts: 3), configuration, progress: { events.append($0) })
        #expect(events.map(\.point) == [[7, 7], events[1].point, events[2].point])
        #expect(Set(events.compactMap(\.point)).count == 3)
    }

    @Test("snapshots are the winner's path every snapshotEvery of its iterations, with its first and last")
    func snapshots() throws {
        var configuration = Self.configuration(rate: 0.02, gradientTolerance: 0, maxIterations: 7)
        configuration.snapshotEvery = 3
        let start = [0.0, 0]
        let result = try Self.minimize(try Self.problem(Self.booth, start: start), configuration)
        #expect(result.snapshots.map(\.iteration) == [0, 3, 6, 7])
        #expect(result.snapshots.first?.parameters == start)
        #expect(result.snapshots.last?.parameters == result.parameters)
        configuration.snapshotEvery = nil
        #expect(try Self.minimize(try Self.problem(Self.booth, start: start), configuration).snapshots.isEmpty)
        // With several starts the path is the winner's, numbered as its events are.
        configuration.snapshotEvery = 1
        let problem = try Self.problem(Self.booth, starts: 4, bounds: [-5...5, -5...5])
        var events: [ProgressEvent] = []
        let best = try Self.minimize(problem, configuration, progress: { events.append($0) })
        let path = best.snapshots
        #expect(path.count == 8)
        #expect(path.last?.parameters == best.parameters)
        let numbered = Dictionary(events.map { ($0.iteration, $0.point!) }, uniquingKeysWith: { $1 })
        #expect(path.dropFirst().allSatisfy { numbered[$0.iteration] == $0.parameters })
    }

    @Test("divergence ends the run with the last finite point, and a smaller rate to try when one can help")
    func divergence() throws {
        let configuration = Self.configuration(rate: 1.5)
        let problem = FunctionProblem(
            program: try ExpressionProgram("x^2 + y^2", variables: ["x", "y"]), start: [1, 1])
        let result = try Self.minimize(problem, configuration)
        #expect(result.stopReason == .diverged)
        #expect(!result.converged)
        #expect(result.loss.isFinite && result.loss < 1e10)
        #expect(result.parameters.allSatisfy { $0.isFinite })
        #expect(abs(result.suggestedLearningRate! - 0.5) < 1e-6, "1 / the curvature 2")
        #expect(result.detail?.contains("learning rate of at most") == true)
        // A start where f is not finite cannot be descended from.
        let log = FunctionProblem(program: try ExpressionProgram("log(x)", variables: ["x"]), start: [-1])
        let undefined = try Self.minimize(log, configuration)
        #expect(undefined.stopReason == .diverged)
        #expect(undefined.iterations == 0)
        #expect(undefined.detail?.contains("start point") == true)
        // f → −∞: no rate helps.
        let unbounded = FunctionProblem(program: try ExpressionProgram("-exp(x)", variables: ["x"]), start: [0])
        let falling = try Self.minimize(unbounded, Self.configuration(rate: 1))
        #expect(falling.stopReason == .diverged)
        #expect(falling.detail?.contains("unbounded below") == true)
        #expect(falling.suggestedLearningRate == nil)
        #expect(falling.loss.isFinite)
    }

    @Test("cancellation and the time limit end the whole run, not only the current start")
    func cancellationAndTimeLimit() throws {
        let problem = try Self.problem(Self.booth, starts: 5, bounds: [-5...5, -5...5])
        var events: [ProgressEvent] = []
        let cancelled = try Self.minimize(
            problem, Self.configuration(rate: 0.01, maxIterations: 100), progress: { events.append($0) },
            isCancelled: { events.count >= 3 })
        // Asked before iteration t is reported: at t = 4, after three events; the last event is that iterate.
        #expect(cancelled.stopReason == .cancelled)
        #expect(cancelled.iterations == 4)
        #expect(events.map(\.iteration) == [1, 2, 3, 4])
        var configuration = Self.configuration(rate: 0.01)
        configuration.stopping.maxSeconds = 0
        events = []
        let timed = try Self.minimize(problem, configuration, progress: { events.append($0) })
        #expect(timed.stopReason == .timeLimit)
        #expect(timed.iterations == 0)
        #expect(events.count == 1)
    }

    @Test(
        "what objective mode cannot run is refused with a message naming it",
        arguments: [
            ("mini-batch", "no rows to sample"), ("validation", "no rows to hold out"), ("short start", "start has 1"),
            ("NaN start", "start[1]"), ("bounds", "bounds has 3"), ("infinite bounds", "bounds[1] must be finite"),
            ("no starts", "starts must be between 1 and 1000"), ("too many starts", "starts must be between"),
            ("zero rate", "learning rate"), ("no variables", "at least one variable"),
        ])
    func refused(_ input: String, _ message: String) throws {
        var problem = try Self.problem(Self.booth)
        var configuration = Self.configuration(rate: 0.01)
        switch input {
        case "mini-batch": configuration.sampling = .miniBatch(size: 1, shuffle: true)
        case "validation": configuration.validationFraction = 0.2
        case "short start": problem.start = [1]
        case "NaN start": problem.start = [1, .nan]
        case "bounds": problem.bounds = [0...1, 0...1, 0...1]
        case "infinite bounds": problem.bounds = [0...1, -.infinity...0]
        case "no starts": problem.starts = 0
        case "too many starts": problem.starts = 1001
        case "zero rate": configuration.learningRate = .fixed(0)
        default: problem.program = try ExpressionProgram("3", variables: [])
        }
        let error = #expect(throws: TrainingError.self) {
            try FunctionMinimizer(problem: problem, configuration: configuration)
        }
        guard case .invalid(let detail)? = error else { return }
        #expect(detail.contains(message), "\(detail)")
    }
}
