import COpenBLAS
import Testing

@testable import DescentMath

@Suite("Lipschitz estimate (power iteration)")
struct LipschitzEstimateTests {
    @Test(
        "the estimate matches LAPACK's largest eigenvalue of the explicit weighted Gram matrix",
        arguments: [false, true], [false, true])
    func matchesEigenvalue(fitIntercept: Bool, weighted: Bool) throws {
        for standardized in [false, true] {
            let dataset = try makeDataset(rows: 500, columns: 5, weighted: weighted, seed: 7)
            let standardization = standardized ? Standardization(of: dataset) : nil
            let estimate = LipschitzEstimate.largestEigenvalue(
                of: dataset, fitIntercept: fitIntercept, standardization: standardization)
            let exact = try largestEigenvalue(
                dataset, rows: Array(0..<500), fitIntercept: fitIntercept, standardization: standardization)
            #expect(
                abs(estimate - exact) <= 1e-5 * exact,
                "standardized: \(standardized): estimate \(estimate), dsyev \(exact)")
        }
    }

    @Test("a row selection and Float32 storage give the eigenvalue of the selected rows")
    func rowSelectionAndFloat32() throws {
        let dataset = try makeDataset(rows: 300, columns: 4, weighted: true, seed: 13)
        let values = (0..<dataset.features.count).map { Float(dataset.features[$0]) }
        let single = try Dataset(
            rows: 300, columns: 4, features: .float32(values), targets: dataset.targets,
            sampleWeights: dataset.sampleWeights)
        let indices = (0..<300).filter { $0 % 3 != 1 } + [5, 5]
        let estimate = LipschitzEstimate.largestEigenvalue(of: single, rows: .indices(indices), fitIntercept: true)
        let exact = try largestEigenvalue(single, rows: indices, fitIntercept: true, standardization: nil)
        #expect(abs(estimate - exact) <= 1e-5 * exact, "estimate \(estimate), dsyev \(exact)")
    }

    @Test("the Rayleigh quotient never exceeds the largest eigenvalue, even after few iterations")
    func lowerBound() throws {
        let dataset = try makeDataset(rows: 200, columns: 6, weighted: true, seed: 17)
        let standardization = Standardization(of: dataset)
        let exact = try largestEigenvalue(
            dataset, rows: Array(0..<200), fitIntercept: false, standardization: standardization)
        for iterations in 1...6 {
            let estimate = LipschitzEstimate.largestEigenvalue(
                of: dataset, fitIntercept: false, standardization: standardization, iterations: iterations)
            #expect(estimate > 0 && estimate <= exact * (1 + 1e-12), "\(iterations) iterations: \(estimate)")
        }
    }

    @Test("the start vector is not orthogonal to an antisymmetric top eigenvector")
    func antisymmetricEigenvector() throws {
        // Columns u and −u plus a small independent one: the top eigenvector is (1, −1, 0)/√2, orthogonal to
        // the all-ones start that a naïve implementation would use.
        var generator = LCG(seed: 19)
        let rows = (0..<100).map { _ -> [Double] in
            let u = generator.next()
            return [u, -u, 0.01 * generator.next()]
        }
        let dataset = try Dataset(rows: rows, targets: [Double](repeating: 0, count: 100))
        let estimate = LipschitzEstimate.largestEigenvalue(of: dataset, fitIntercept: false)
        let exact = try largestEigenvalue(dataset, rows: Array(0..<100), fitIntercept: false, standardization: nil)
        #expect(abs(estimate - exact) <= 1e-5 * exact, "estimate \(estimate), dsyev \(exact)")
    }

    @Test("the same seed gives the same estimate, and all-zero data give 0")
    func deterministicAndZero() throws {
        let dataset = try makeDataset(rows: 100, columns: 3, weighted: false, seed: 23)
        let first = LipschitzEstimate.largestEigenvalue(of: dataset, fitIntercept: true, iterations: 3, seed: 9)
        let second = LipschitzEstimate.largestEigenvalue(of: dataset, fitIntercept: true, iterations: 3, seed: 9)
        #expect(first == second)
        let zeros = try Dataset(rows: [[0, 0], [0, 0]], targets: [1, 2])
        #expect(LipschitzEstimate.largestEigenvalue(of: zeros, fitIntercept: false) == 0)
        #expect(LipschitzEstimate.largestEigenvalue(of: dataset, rows: .indices([]), fitIntercept: true) == 0)
    }
}

/// Correlated columns with distinct offsets and scales, so that centring and scaling change the spectrum.
private func makeDataset(rows: Int, columns: Int, weighted: Bool, seed: UInt64) throws -> Dataset {
    var generator = LCG(seed: seed)
    var features: [[Double]] = []
    for _ in 0..<rows {
        var row: [Double] = []
        for column in 0..<columns {
            let shared = column > 0 ? 0.6 * row[column - 1] : 0
            row.append(Double(column + 1) * (generator.next() + shared) + Double(column) - 1)
        }
        features.append(row)
    }
    let weights = weighted ? (0..<rows).map { _ in 1.2 + generator.next() } : nil
    return try Dataset(rows: features, targets: [Double](repeating: 0, count: rows), sampleWeights: weights)
}

/// λ_max of (1/Σs) Σ s_i a_i a_iᵀ, a_i = [z_i, 1?], formed explicitly and handed to `LAPACKE_dsyev`.
private func largestEigenvalue(
    _ dataset: Dataset, rows: [Int], fitIntercept: Bool, standardization: Standardization?
) throws -> Double {
    let columns = dataset.columns
    let dimension = columns + (fitIntercept ? 1 : 0)
    var gram = [Double](repeating: 0, count: dimension * dimension)
    var total = 0.0
    for index in rows {
        let weight = dataset.sampleWeights?[index] ?? 1
        var augmented = (0..<columns).map { column in
            let value = dataset.features[index * columns + column]
            guard let standardization else { return value }
            return (value - standardization.means[column]) / standardization.scales[column]
        }
        if fitIntercept { augmented.append(1) }
        for i in 0..<dimension {
            for j in 0..<dimension { gram[i * dimension + j] += weight * augmented[i] * augmented[j] }
        }
        total += weight
    }
    gram = gram.map { $0 / total }
    var eigenvalues = [Double](repeating: 0, count: dimension)
    let info = LAPACKE_dsyev(
        LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "U")), Int32(dimension), &gram,
        Int32(dimension), &eigenvalues)
    try #require(info == 0)
    return eigenvalues.max()!
}
