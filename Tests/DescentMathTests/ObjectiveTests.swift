import Foundation
import Testing

@testable import DescentMath

@Suite("Objective: the fused pass")
struct ObjectiveTests {
    /// 7,300 rows: four chunks of `Objective.chunkRows`, the last one partial. 9 columns: a SIMD block plus a tail.
    private static func bigModel(_ output: Model.Output, float32: Bool, standardize: Bool) throws -> Model {
        let rows = 7300
        let columns = 9
        #expect(rows > 3 * Objective.chunkRows)
        let x = MathTestData.features(rows: rows, columns: columns, seed: 5, means: Array(repeating: 1, count: 9))
        var random = RandomSource(seed: 6)
        let y: [Double] = (0..<rows).map { _ in
            switch output {
            case .softmax(let classes): Double(random.nextInt(below: classes))
            case .scalar(.log): Double(random.nextInt(below: 2))
            default: random.nextNormal()
            }
        }
        let weights = MathTestData.uniform(rows, 0.5, 1.5, seed: 7)
        let features: FeatureStorage =
            float32 ? .float32(x.flatMap { $0.map { Float($0) } }) : .float64(x.flatMap { $0 })
        let dataset = try Dataset(rows: rows, columns: columns, features: features, targets: y, sampleWeights: weights)
        return try Model(dataset: dataset, output: output, l2: 0.01, standardize: standardize)
    }

    private static func bits(_ values: [Double]) -> [UInt64] { values.map(\.bitPattern) }

    @Test(
        "the value and gradient are bitwise identical for 1, 2, 3 and 8 threads",
        arguments: [
            (Model.Output.scalar(.log), false, false), (.scalar(.squared), true, true),
            (.softmax(classes: 3), false, true),
        ])
    func parallelPassesAreBitwiseIdentical(output: Model.Output, float32: Bool, standardize: Bool) throws {
        let model = try Self.bigModel(output, float32: float32, standardize: standardize)
        let theta = MathTestData.normals(model.parameterCount, scale: 0.3, seed: 8)
        let subset = Array(stride(from: 7299, through: 0, by: -2))  // 3,650 rows read backwards: two chunks
        for rows in [RowSelection.all, .indices(subset), .window(Array(0..<7300).reversed(), 100..<7200)] {
            var reference: (value: Double, gradient: [Double])?
            for parallelism in [1, 2, 3, 8] {
                let objective = Objective(model: model, parallelism: parallelism)
                for _ in 0..<2 {
                    var gradient = [Double](repeating: 0, count: theta.count)
                    let value = gradient.withUnsafeMutableBufferPointer {
                        objective.evaluate(theta, rows: rows, gradient: $0)
                    }
                    guard let reference else {
                        reference = (value, gradient)
                        continue
                    }
                    #expect(value.bitPattern == reference.value.bitPattern, "\(parallelism) threads")
                    #expect(Self.bits(gradient) == Self.bits(reference.gradient), "\(parallelism) threads")
                }
            }
            // And the sums are right: the value matches the naive formula.
            let naive = MathTestData.objective(
                x: (0..<7300).map { i in (0..<9).map { model.dataset.features[i * 9 + $0] } },
                y: model.dataset.targets, sampleWeights: model.dataset.sampleWeights, output: output, theta: theta,
                fitIntercept: true, l2: 0, l1: 0, standardize: standardize,
                selection: (0..<rows.count(in: 7300)).map { rows.row(at: $0) })
            #expect(abs(reference!.value - naive) <= 1e-11 * abs(naive))
        }
    }

    @Test("an evaluation without a gradient gives the same value as one with it")
    func valueDoesNotDependOnTheGradient() throws {
        let model = try Self.bigModel(.softmax(classes: 3), float32: false, standardize: false)
        let objective = Objective(model: model, parallelism: 2)
        let theta = MathTestData.normals(model.parameterCount, scale: 0.3, seed: 9)
        var gradient = [Double](repeating: 0, count: theta.count)
        let with = gradient.withUnsafeMutableBufferPointer { objective.evaluate(theta, rows: .all, gradient: $0) }
        #expect(objective.evaluate(theta, rows: .all).bitPattern == with.bitPattern)
        #expect(objective.objective(theta, rows: .all) == with + objective.penalty(theta))
    }

    @Test("a small selection after a large one, and a large one after a small one, are both right")
    func scratchIsReusedCorrectly() throws {
        let model = try Self.bigModel(.scalar(.squared), float32: false, standardize: false)
        let theta = MathTestData.normals(model.parameterCount, scale: 0.3, seed: 10)
        let reused = Objective(model: model)
        let small = RowSelection.window(Array(0..<7300), 10..<42)
        let a = MathTestData.gradient(reused, theta, rows: small)
        let b = MathTestData.gradient(reused, theta, rows: .all)
        let c = MathTestData.gradient(reused, theta, rows: small)
        #expect(Self.bits(a) == Self.bits(c))
        #expect(Self.bits(b) == Self.bits(MathTestData.gradient(Objective(model: model), theta, rows: .all)))
        #expect(Self.bits(a) == Self.bits(MathTestData.gradient(Objective(model: model), theta, rows: small)))
    }

    @Test("penalties leave the intercepts alone")
    func interceptsAreNotPenalised() throws {
        let dataset = try Dataset(rows: [[1, 2], [3, 4]], targets: [0, 1])
        let model = try Model(dataset: dataset, output: .softmax(classes: 2), l2: 2, l1: 3)
        let objective = Objective(model: model)
        // θ = [w₀ (2), w₁ (2), b₀, b₁]
        let expected: Double = 0.5 * 2 * 5 + 3 * 3
        #expect(objective.penalty([1, -2, 0, 0, 100, -100]) == expected)
        let theta: [Double] = [0, 0, 0, 0, 100, -100]
        let unpenalised = Objective(model: try Model(dataset: dataset, output: .softmax(classes: 2)))
        let gradient = MathTestData.gradient(objective, theta)
        let plain = MathTestData.gradient(unpenalised, theta)
        #expect(gradient == plain)
    }

    /// 8, 16, 17 and 19 columns reach every branch of the kernels: the 16-wide and 8-wide SIMD blocks and the tail.
    @Test(
        "wide rows give the right gradient through every SIMD block, Float64 and Float32",
        arguments: [8, 16, 17, 19], [false, true])
    func wideRows(columns: Int, float32: Bool) throws {
        let rows = 30
        var x = MathTestData.features(rows: rows, columns: columns, seed: 111)
        if float32 { x = x.map { $0.map { Double(Float($0)) } } }
        for i in 0..<rows { x[i][3] = 2.5 }  // a constant column: standardization only centres it
        let weights = MathTestData.uniform(rows, 0.5, 2, seed: 112)
        var random = RandomSource(seed: 113)
        for output in [Model.Output.scalar(.squared), .scalar(.log), .softmax(classes: 3)] {
            let y: [Double] = (0..<rows).map { _ in
                if case .softmax = output { return Double(random.nextInt(below: 3)) }
                if case .scalar(.log) = output { return Double(random.nextInt(below: 2)) }
                return random.nextNormal()
            }
            let features: FeatureStorage =
                float32 ? .float32(x.flatMap { $0.map { Float($0) } }) : .float64(x.flatMap { $0 })
            let dataset = try Dataset(
                rows: rows, columns: columns, features: features, targets: y, sampleWeights: weights)
            let model = try Model(dataset: dataset, output: output, l2: 0.1, standardize: true)
            let objective = Objective(model: model)
            let theta = MathTestData.normals(model.parameterCount, scale: 0.3, seed: 114)
            let naive = MathTestData.objective(
                x: x, y: y, sampleWeights: weights, output: output, theta: theta, fitIntercept: true, l2: 0.1, l1: 0,
                standardize: true, selection: Array(0..<rows))
            let value = objective.objective(theta, rows: .all)
            #expect(abs(value - naive) <= 1e-12 * abs(naive), "\(output)")
            let analytic = MathTestData.gradient(objective, theta)
            let numeric = MathTestData.numericGradient({ objective.objective($0, rows: .all) }, at: theta)
            #expect(MathTestData.relativeError(analytic, numeric) <= 1e-6, "\(output)")
        }
    }

    @Test("standardization statistics come from the rows asked for, weighted")
    func standardizationRows() throws {
        let x = MathTestData.features(rows: 50, columns: 3, seed: 115, means: [1, 2, 3], scales: [1, 2, 3])
        let weights = MathTestData.uniform(50, 0.5, 2, seed: 116)
        let dataset = try Dataset(rows: x, targets: [Double](repeating: 0, count: 50), sampleWeights: weights)
        let subset = Array(stride(from: 0, to: 50, by: 3))
        let model = try Model(
            dataset: dataset, output: .scalar(.squared), standardize: true, standardizationRows: .indices(subset))
        let expected = MathTestData.standardization(subset.map { x[$0] }, weights: subset.map { weights[$0] })
        let standardization = try #require(model.standardization)
        #expect(MathTestData.relativeError(standardization.means, expected.means) <= 1e-14)
        #expect(MathTestData.relativeError(standardization.scales, expected.scales) <= 1e-14)
    }

    @Test("a normalizer divides the data term's gradient instead of the selection's total weight")
    func normalizer() throws {
        let model = try Self.bigModel(.scalar(.squared), float32: false, standardize: false)
        let objective = Objective(model: model)
        let theta = MathTestData.normals(model.parameterCount, scale: 0.3, seed: 117)
        let rows = RowSelection.window(Array(0..<7300), 100..<140)
        let total = model.dataset.totalWeight(rows)
        func gradient(_ normalizer: Double?) -> ([Double], Double) {
            var g = [Double](repeating: 0, count: theta.count)
            let value = g.withUnsafeMutableBufferPointer {
                objective.evaluate(theta, rows: rows, gradient: $0, normalizer: normalizer)
            }
            return (g, value)
        }
        let (plain, value) = gradient(nil)
        #expect(Self.bits(gradient(total).0) == Self.bits(plain))
        let (doubled, sameValue) = gradient(2 * total)
        #expect(sameValue == value)
        // The l2 part (0.01·w on the weights) is not divided.
        for j in 0..<theta.count {
            let l2 = j < 9 ? 0.01 * theta[j] : 0
            #expect(abs(doubled[j] - ((plain[j] - l2) / 2 + l2)) <= 1e-14)
        }
    }
}
