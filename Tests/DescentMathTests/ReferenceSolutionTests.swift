import Foundation
import Testing

@testable import DescentMath

struct LeastSquaresCase: Sendable, CustomTestStringConvertible {
    var fitIntercept = true
    var l2 = 0.0
    var weighted = false
    var standardize = false

    var testDescription: String {
        [
            fitIntercept ? "intercept" : "no intercept", l2 > 0 ? "l2 \(l2)" : "no l2",
            weighted ? "sample weights" : "unweighted", standardize ? "standardized" : "raw",
        ].joined(separator: ", ")
    }

    static let all = [
        LeastSquaresCase(),
        LeastSquaresCase(fitIntercept: false, l2: 0.1),
        LeastSquaresCase(l2: 0.05, weighted: true),
        LeastSquaresCase(weighted: true, standardize: true),
        LeastSquaresCase(fitIntercept: false, l2: 0.5, weighted: true, standardize: true),
        LeastSquaresCase(l2: 0.2, standardize: true),
    ]
}

@Suite("Gradient descent reaches the reference optima")
struct ReferenceSolutionTests {
    @Test("full-batch gd on linear + squared converges to the least-squares solution", arguments: LeastSquaresCase.all)
    func gradientDescentReachesLeastSquares(_ testCase: LeastSquaresCase) throws {
        let rows = 200
        // Raw features of very different scales and offsets only where standardization evens them out.
        let means = testCase.standardize ? [10.0, -3, 0.5, 40, 0] : [0.5, -0.3, 0, 0.2, 0.1]
        let scales = testCase.standardize ? [5.0, 0.1, 1, 20, 0.5] : [1.0, 0.8, 1.2, 1, 0.9]
        let x = MathTestData.features(rows: rows, columns: 5, seed: 31, means: means, scales: scales)
        let noise = MathTestData.normals(rows, scale: 0.5, seed: 32)
        let y = x.indices.map { i in 2 + 0.3 * x[i][0] - 1.5 * x[i][1] + 0.7 * x[i][2] - 0.05 * x[i][3] + noise[i] }
        let sampleWeights = testCase.weighted ? MathTestData.uniform(rows, 0.1, 3, seed: 33) : nil
        let dataset = try Dataset(rows: x, targets: y, sampleWeights: sampleWeights)
        let model = try Model(
            dataset: dataset, output: .scalar(.squared), fitIntercept: testCase.fitIntercept, l2: testCase.l2,
            standardize: testCase.standardize)

        let reference = try LeastSquares.solve(
            dataset, fitIntercept: testCase.fitIntercept, l2: testCase.l2, standardization: model.standardization)
        // The same optimum from the normal equations solved here, which shares no code with LeastSquares.
        let scaling = model.standardization.map { (means: $0.means, scales: $0.scales) }
        let normal = MathTestData.normalEquations(
            x: x, y: y, sampleWeights: sampleWeights, fitIntercept: testCase.fitIntercept, l2: testCase.l2,
            scaling: scaling)
        let objective = Objective(model: model)
        let optimum = objective.objective(normal, rows: .all)
        #expect(abs(reference.objective - optimum) <= 1e-12 * optimum)

        var configuration = TrainingConfiguration()
        configuration.learningRate = .auto
        configuration.stopping.maxIterations = 20_000
        configuration.stopping.weightTolerance = 0
        configuration.stopping.gradientTolerance = 1e-11
        let result = try Trainer(model: model, configuration: configuration).run()
        #expect(result.stopReason == .gradientTolerance)
        #expect(result.converged)
        let gap = (result.loss - reference.objective) / reference.objective
        #expect(gap <= 1e-9, "relative objective gap \(gap) after \(result.iterations) iterations")
        #expect(gap >= -1e-12, "below the optimum: the objectives disagree")
        #expect(result.loss == objective.objective(result.parameters, rows: .all))
        #expect(MathTestData.relativeError(Array(result.parameters[0..<5]), reference.weights) <= 1e-6)
        #expect(abs(result.parameters[5] - reference.intercept) <= 1e-6 * max(1, abs(reference.intercept)))
        // In original units the fit predicts the same as in standardized ones.
        let (weights, intercepts) = (result.weights[0], result.intercepts[0])
        let scaled = MathTestData.predictions(
            x, theta: result.parameters, outputs: 1, fitIntercept: testCase.fitIntercept, standardization: scaling)
        for i in [0, 17, 199] {
            let original = zip(x[i], weights).reduce(intercepts) { $0 + $1.0 * $1.1 }
            #expect(abs(original - scaled[i][0]) <= 1e-9 * max(1, abs(original)))
        }
    }

    static let fixtureCases = try! MathTestData.referenceCases()

    @Test("the fixtures' optima are optima of this objective")
    func fixturesAgreeWithTheObjective() throws {
        #expect(Self.fixtureCases.count == 6)
        for reference in Self.fixtureCases {
            let model = try Model(
                dataset: try MathTestData.fixture(reference.dataset), output: reference.output, l2: reference.l2)
            let objective = Objective(model: model)
            let value = objective.objective(reference.theta, rows: .all)
            #expect(abs(value - reference.objective) <= 1e-13, "\(reference.testDescription)")
            let gradient = MathTestData.gradient(objective, reference.theta)
            #expect(MathTestData.norm(gradient) <= 1e-12, "\(reference.testDescription)")
        }
    }

    /// Nesterov momentum at the safe rate 1/L: about √κ times fewer iterations than gd at l2 = 1e-3.
    @Test("logistic and softmax with l2 reach scikit-learn's optimum", arguments: fixtureCases)
    func classifiersReachTheReference(_ reference: MathTestData.ReferenceCase) throws {
        let model = try Model(
            dataset: try MathTestData.fixture(reference.dataset), output: reference.output, l2: reference.l2)
        var configuration = TrainingConfiguration()
        configuration.rule = .nesterov(0.95)
        configuration.learningRate = .auto
        configuration.stopping.maxIterations = 5000
        configuration.stopping.weightTolerance = 0
        configuration.stopping.gradientTolerance = 1e-6
        let result = try Trainer(model: model, configuration: configuration).run()
        #expect(result.stopReason == .gradientTolerance)
        let gap = (result.loss - reference.objective) / reference.objective
        #expect(gap <= 1e-6, "relative objective gap \(gap) after \(result.iterations) iterations")
        #expect(gap >= -1e-12, "below the optimum: the objectives disagree")
        // The weights are unique (for softmax too: Σ_k w_k = 0 at the optimum), the intercepts only up to a shift.
        let weights = model.weightRange
        let distance = MathTestData.relativeError(Array(result.parameters[weights]), Array(reference.theta[weights]))
        #expect(distance <= 1e-3)
    }
}
