import Foundation
import Testing

@testable import DescentMath

/// One configuration of the objective whose value and gradient are checked.
struct GradientCase: Sendable, CustomTestStringConvertible {
    enum Selection: Sendable { case all, indices, window }

    let output: Model.Output
    var fitIntercept = true
    var weighted = false
    var l2 = 0.0
    var l1 = 0.0
    var standardize = false
    var float32 = false
    var selection = Selection.all
    /// Classification labels as −1/+1 instead of 0/1.
    var signedLabels = false

    var testDescription: String {
        var parts = ["\(output)"]
        if !fitIntercept { parts.append("no intercept") }
        if weighted { parts.append("sample weights") }
        if l2 > 0 { parts.append("l2") }
        if l1 > 0 { parts.append("l1") }
        if standardize { parts.append("standardized") }
        if float32 { parts.append("Float32") }
        if selection != .all { parts.append("\(selection) rows") }
        if signedLabels { parts.append("±1 labels") }
        return parts.joined(separator: ", ")
    }

    static let outputs: [Model.Output] = [
        .scalar(.squared), .scalar(.absolute), .scalar(.huber(delta: 1)), .scalar(.epsilonInsensitive(epsilon: 0.3)),
        .scalar(.quantile(tau: 0.3)), .scalar(.log), .scalar(.hinge), .scalar(.squaredHinge), .scalar(.poisson),
        .softmax(classes: 3),
    ]

    /// Each output with: the defaults; no intercept + l2; weights + l2 + standardization; Float32 + weights +
    /// an index list + ±1 labels; standardization without intercept over a window; l1 + l2 over an index list.
    static let all: [GradientCase] = outputs.flatMap { output in
        [
            GradientCase(output: output),
            GradientCase(output: output, fitIntercept: false, l2: 0.3),
            GradientCase(output: output, weighted: true, l2: 0.1, standardize: true),
            GradientCase(output: output, weighted: true, float32: true, selection: .indices, signedLabels: true),
            GradientCase(output: output, fitIntercept: false, standardize: true, selection: .window),
            GradientCase(output: output, l2: 0.2, l1: 0.05, selection: .indices),
        ]
    }
}

/// A small random problem for one case, with targets chosen so that no residual or margin sits within 0.05 of
/// a kink of its loss at θ (finite differences step by about 1e-6 there).
private struct GradientProblem {
    let x: [[Double]]
    let y: [Double]
    let sampleWeights: [Double]?
    let theta: [Double]
    let selection: RowSelection
    let selected: [Int]
    let model: Model

    init(_ testCase: GradientCase, seed: UInt64) throws {
        let rows = 40
        let columns = 4
        let outputs: Int
        if case .softmax(let classes) = testCase.output { outputs = classes } else { outputs = 1 }
        var x = MathTestData.features(
            rows: rows, columns: columns, seed: seed, means: [0.5, -1, 2, 0], scales: [1, 2, 0.5, 3])
        if testCase.float32 { x = x.map { $0.map { Double(Float($0)) } } }
        let sampleWeights = testCase.weighted ? MathTestData.uniform(rows, 0.2, 2, seed: seed &+ 1) : nil
        var theta = MathTestData.normals(outputs * (columns + 1), scale: 0.4, seed: seed &+ 2)
        if !testCase.fitIntercept { for k in 0..<outputs { theta[outputs * columns + k] = 0 } }
        // Away from l1's kink at w = 0 too.
        for j in 0..<(outputs * columns) where abs(theta[j]) < 0.05 { theta[j] = theta[j] < 0 ? -0.1 : 0.1 }
        let scaling = testCase.standardize ? MathTestData.standardization(x, weights: sampleWeights) : nil
        let p = MathTestData.predictions(
            x, theta: theta, outputs: outputs, fitIntercept: testCase.fitIntercept, standardization: scaling)

        var random = RandomSource(seed: seed &+ 3)
        let y: [Double] = (0..<rows).map { i in
            let sign: Double = random.nextDouble() < 0.5 ? -1 : 1
            let magnitude = random.nextDouble()
            let negative: Double = testCase.signedLabels ? -1 : 0
            switch testCase.output {
            case .scalar(.squared), .scalar(.huber): return p[i][0] - sign * 3 * magnitude
            case .scalar(.absolute), .scalar(.quantile): return p[i][0] - sign * (0.1 + 2 * magnitude)
            case .scalar(.epsilonInsensitive(let epsilon)):
                // |r| in [0, ε − 0.05] or [ε + 0.05, ε + 2].
                let r = i % 2 == 0 ? (epsilon - 0.05) * magnitude : epsilon + 0.05 + 2 * magnitude
                return p[i][0] - sign * r
            case .scalar(.log): return sign > 0 ? 1 : negative
            case .scalar(.hinge), .scalar(.squaredHinge):
                var label = sign
                if abs(1 - label * p[i][0]) < 0.05 { label = -label }
                return label > 0 ? 1 : negative
            case .scalar(.poisson): return Double(random.nextInt(below: 6))
            case .scalar(.expression): return p[i][0] - sign * 3 * magnitude
            case .softmax(let classes): return Double(random.nextInt(below: classes))
            }
        }

        let features: FeatureStorage =
            testCase.float32 ? .float32(x.flatMap { $0.map { Float($0) } }) : .float64(x.flatMap { $0 })
        let dataset = try Dataset(
            rows: rows, columns: columns, features: features, targets: y, sampleWeights: sampleWeights)
        model = try Model(
            dataset: dataset, output: testCase.output, fitIntercept: testCase.fitIntercept, l2: testCase.l2,
            l1: testCase.l1, standardize: testCase.standardize)
        var order = Array(0..<rows)
        random.shuffle(&order)
        switch testCase.selection {
        case .all:
            selection = .all
            selected = Array(0..<rows)
        case .indices:
            selected = Array(order.prefix(25))
            selection = .indices(selected)
        case .window:
            selected = Array(order[5..<30])
            selection = .window(order, 5..<30)
        }
        self.x = x
        self.y = y
        self.sampleWeights = sampleWeights
        self.theta = theta
    }

    func naiveObjective(_ theta: [Double]) -> Double {
        MathTestData.objective(
            x: x, y: y, sampleWeights: sampleWeights, output: model.output, theta: theta,
            fitIntercept: model.fitIntercept, l2: model.l2, l1: model.l1, standardize: model.standardization != nil,
            selection: selected)
    }
}

@Suite("Loss values and gradients")
struct LossGradientTests {
    @Test("the objective equals API.md's formula computed naively", arguments: GradientCase.all)
    func objectiveMatchesTheFormula(_ testCase: GradientCase) throws {
        for seed: UInt64 in [11, 12] {
            let problem = try GradientProblem(testCase, seed: seed)
            let objective = Objective(model: problem.model)
            let value = objective.objective(problem.theta, rows: problem.selection)
            let naive = problem.naiveObjective(problem.theta)
            #expect(abs(value - naive) <= 1e-12 * max(1, abs(naive)), "seed \(seed): \(value) vs \(naive)")
        }
    }

    @Test("the gradient matches central finite differences of the objective", arguments: GradientCase.all)
    func gradientMatchesFiniteDifferences(_ testCase: GradientCase) throws {
        for seed: UInt64 in [21, 22, 23] {
            let problem = try GradientProblem(testCase, seed: seed)
            let objective = Objective(model: problem.model)
            var analytic = MathTestData.gradient(objective, problem.theta, rows: problem.selection)
            // The gradient is of the smooth part; away from w = 0 the l1 term adds l1·sign(w).
            for j in problem.model.weightRange { analytic[j] += problem.model.l1 * (problem.theta[j] < 0 ? -1 : 1) }
            let numeric = MathTestData.numericGradient(
                { objective.objective($0, rows: problem.selection) }, at: problem.theta)
            let weights = problem.model.weightRange
            if testCase.fitIntercept {
                let error = MathTestData.relativeError(analytic, numeric)
                #expect(error <= 1e-6, "seed \(seed): \(analytic) vs \(numeric)")
            } else {
                let error = MathTestData.relativeError(Array(analytic[weights]), Array(numeric[weights]))
                #expect(error <= 1e-6, "seed \(seed): \(analytic) vs \(numeric)")
                #expect(analytic[weights.upperBound...].allSatisfy { $0 == 0 }, "unfitted intercepts move")
            }
            // And against differences of the naive formula, which shares no code with `Objective`.
            let naive = MathTestData.numericGradient(problem.naiveObjective, at: problem.theta)
            let naiveError = MathTestData.relativeError(Array(analytic[weights]), Array(naive[weights]))
            #expect(naiveError <= 1e-6, "seed \(seed): \(analytic) vs naive \(naive)")
        }
    }

    @Test("at a kink each loss returns the documented subgradient")
    func kinksUseTheDocumentedSubgradient() {
        #expect(ScalarLoss.absolute.evaluate(2, 2) == (0, 0))
        #expect(ScalarLoss.quantile(tau: 0.3).evaluate(2, 2) == (0, 0))
        #expect(ScalarLoss.epsilonInsensitive(epsilon: 0.5).evaluate(2.5, 2) == (0, 0))
        #expect(ScalarLoss.hinge.evaluate(1, 1) == (0, 0))
        #expect(ScalarLoss.hinge.evaluate(-1, -1) == (0, 0))
        #expect(ScalarLoss.squaredHinge.evaluate(1, 1) == (0, 0))
        #expect(ScalarLoss.huber(delta: 1).evaluate(3, 2) == (0.5, 1))
    }

    @Test("log loss and softmax stay finite and exact for huge scores")
    func largeScoresAreStable() {
        let far = ScalarLoss.log.evaluate(-800, 1)
        #expect(far.value == 800 && far.derivative == -1)
        let near = ScalarLoss.log.evaluate(800, 1)
        #expect(near.value == 0 && near.derivative == 0)
        let scores = [1000.0, 0, -1000]
        var derivative = [Double](repeating: 0, count: 3)
        let value = scores.withUnsafeBufferPointer { s in
            derivative.withUnsafeMutableBufferPointer { d in
                SoftmaxCrossEntropy.evaluate(scores: s.baseAddress!, label: 1, classes: 3, derivative: d.baseAddress!)
            }
        }
        #expect(value == 1000)
        #expect(derivative == [1, -1, 0])
    }

    @Test("a label that does not fit the model is refused with its row")
    func badLabelsAreRefused() throws {
        let dataset = try Dataset(rows: [[1], [2], [3]], targets: [0, 2, 1])
        #expect(throws: ModelError.invalid("row 1: label 2.0 is not 0/1 or −1/+1")) {
            try Model(dataset: dataset, output: .scalar(.log))
        }
        #expect(throws: ModelError.self) { try Model(dataset: dataset, output: .softmax(classes: 2)) }
        #expect(throws: ModelError.self) {
            try Model(dataset: try Dataset(rows: [[1]], targets: [-1]), output: .scalar(.poisson))
        }
    }
}
