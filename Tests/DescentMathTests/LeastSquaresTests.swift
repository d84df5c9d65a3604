import Testing

@testable import DescentMath

@Suite("Least squares (closed form)")
struct LeastSquaresTests {
    @Test(
        "the objective's gradient vanishes at the solution, with or without intercept, l2 and sample weights",
        arguments: [false, true], [0.0, 0.25])
    func gradientVanishes(fitIntercept: Bool, l2: Double) throws {
        for weighted in [false, true] {
            // 3000 rows × 6 columns span two of the solver's chunks, so the chunk merge is exercised.
            var generator = LCG(seed: 11)
            let problem = Problem(rows: 3000, columns: 6, noise: 0.3, weighted: weighted, using: &generator)
            let dataset = try problem.dataset()
            let solution = try LeastSquares.solve(dataset, fitIntercept: fitIntercept, l2: l2)
            if !fitIntercept { #expect(solution.intercept == 0) }
            let gradient = Gradient(dataset, solution, fitIntercept: fitIntercept, l2: l2)
            #expect(gradient.relativeNorm <= 1e-9, "weighted: \(weighted), relative gradient \(gradient.relativeNorm)")
            let objective = referenceObjective(dataset, solution, l2: l2)
            #expect(abs(solution.objective - objective) <= 1e-12 * objective)
        }
    }

    @Test("noise-free data give back the generating weights and intercept, at objective zero")
    func recoversGeneratingModel() throws {
        var generator = LCG(seed: 5)
        let problem = Problem(rows: 200, columns: 4, noise: 0, weighted: false, using: &generator)
        let solution = try LeastSquares.solve(try problem.dataset(), fitIntercept: true, l2: 0)
        #expect(relativeDifference(solution.weights, problem.trueWeights) <= 1e-12)
        #expect(abs(solution.intercept - problem.trueIntercept) <= 1e-12)
        #expect(solution.objective <= 1e-25)
    }

    @Test("integer sample weights give the solution of the data with each row repeated that many times")
    func weightsEqualRepetition() throws {
        var generator = LCG(seed: 23)
        let problem = Problem(rows: 150, columns: 5, noise: 0.5, weighted: false, using: &generator)
        let counts = (0..<150).map { _ in Double(Int((generator.next() + 1) * 2)) }  // 0, 1, 2 or 3
        let weighted = try Dataset(rows: problem.features, targets: problem.targets, sampleWeights: counts)
        var repeatedRows: [[Double]] = []
        var repeatedTargets: [Double] = []
        for (index, count) in counts.enumerated() {
            for _ in 0..<Int(count) {
                repeatedRows.append(problem.features[index])
                repeatedTargets.append(problem.targets[index])
            }
        }
        let repeated = try Dataset(rows: repeatedRows, targets: repeatedTargets)
        for fitIntercept in [false, true] {
            let fromWeights = try LeastSquares.solve(weighted, fitIntercept: fitIntercept, l2: 0.1)
            let fromRepetition = try LeastSquares.solve(repeated, fitIntercept: fitIntercept, l2: 0.1)
            expectSame(fromWeights, fromRepetition, tolerance: 1e-11)
        }
    }

    @Test("a row selection gives the solution of a dataset holding just those rows, repeats included")
    func rowSelection() throws {
        var generator = LCG(seed: 31)
        let problem = Problem(rows: 400, columns: 5, noise: 0.5, weighted: true, using: &generator)
        let dataset = try problem.dataset()
        let indices = [17, 3, 250, 3] + (0..<120).map { _ in Int((generator.next() + 1) * 200) }
        let subset = try Dataset(
            rows: indices.map { problem.features[$0] }, targets: indices.map { problem.targets[$0] },
            sampleWeights: indices.map { problem.sampleWeights![$0] })
        for fitIntercept in [false, true] {
            let selected = try LeastSquares.solve(
                dataset, rows: .indices(indices), fitIntercept: fitIntercept, l2: 0.05)
            let copied = try LeastSquares.solve(subset, fitIntercept: fitIntercept, l2: 0.05)
            expectSame(selected, copied, tolerance: 1e-11)
            let gradient = Gradient(dataset, selected, rows: indices, fitIntercept: fitIntercept, l2: 0.05)
            #expect(gradient.relativeNorm <= 1e-9)
        }
    }

    @Test("with a standardization the solution and objective equal those on an explicitly standardized copy")
    func standardization() throws {
        var generator = LCG(seed: 47)
        var problem = Problem(rows: 300, columns: 4, noise: 0.2, weighted: true, using: &generator)
        // Features on very different scales and offsets, as standardization is meant for.
        problem.features = problem.features.map { row in [row[0] * 1000 + 50, row[1] * 0.001, row[2] - 7, row[3]] }
        let dataset = try problem.dataset()
        let standardization = Standardization(of: dataset)
        let standardized = try Dataset(
            rows: problem.features.map { row in
                row.indices.map { (row[$0] - standardization.means[$0]) / standardization.scales[$0] }
            }, targets: problem.targets, sampleWeights: problem.sampleWeights)
        for fitIntercept in [false, true] {
            for l2 in [0.0, 0.3] {
                let implicit = try LeastSquares.solve(
                    dataset, fitIntercept: fitIntercept, l2: l2, standardization: standardization)
                let explicit = try LeastSquares.solve(standardized, fitIntercept: fitIntercept, l2: l2)
                expectSame(implicit, explicit, tolerance: 1e-11)
                #expect(Gradient(standardized, implicit, fitIntercept: fitIntercept, l2: l2).relativeNorm <= 1e-9)
            }
        }
    }

    @Test("Float32 features give the solution of the same values stored as Float64")
    func float32Storage() throws {
        var generator = LCG(seed: 3)
        let problem = Problem(rows: 100, columns: 3, noise: 0.1, weighted: true, using: &generator)
        let narrowed = problem.features.flatMap { $0 }.map { Float($0) }
        let single = try Dataset(
            rows: 100, columns: 3, features: .float32(narrowed), targets: problem.targets,
            sampleWeights: problem.sampleWeights)
        let double = try Dataset(
            rows: 100, columns: 3, features: .float64(narrowed.map { Double($0) }), targets: problem.targets,
            sampleWeights: problem.sampleWeights)
        expectSame(
            try LeastSquares.solve(single, fitIntercept: true, l2: 0),
            try LeastSquares.solve(double, fitIntercept: true, l2: 0), tolerance: 0)
    }

    @Test("a duplicated column with l2 = 0 gets the minimum-norm solution: its weight split equally")
    func duplicatedColumn() throws {
        var generator = LCG(seed: 59)
        let problem = Problem(rows: 200, columns: 3, noise: 0.4, weighted: true, using: &generator)
        let reduced = try LeastSquares.solve(try problem.dataset(), fitIntercept: true, l2: 0)
        let duplicated = try Dataset(
            rows: problem.features.map { $0 + [$0[1]] }, targets: problem.targets,
            sampleWeights: problem.sampleWeights)
        for standardization in [nil, Standardization(of: duplicated)] {
            let solution = try LeastSquares.solve(
                duplicated, fitIntercept: true, l2: 0, standardization: standardization)
            var expected = reduced.weights
            if let standardization {
                expected = expected.indices.map { expected[$0] * standardization.scales[$0] }
            }
            expected[1] /= 2
            expected.append(expected[1])
            #expect(relativeDifference(solution.weights, expected) <= 1e-9, "\(solution.weights) vs \(expected)")
            #expect(abs(solution.objective - reduced.objective) <= 1e-12 * reduced.objective)
        }
    }

    @Test("a column twice another gets the Euclidean minimum-norm split, not an equal one")
    func scaledDuplicateColumn() throws {
        var generator = LCG(seed: 61)
        let problem = Problem(rows: 200, columns: 2, noise: 0.4, weighted: false, using: &generator)
        let reduced = try LeastSquares.solve(try problem.dataset(), fitIntercept: false, l2: 0)
        // w₀ x₀ + w₂ (2 x₀) = c x₀ has the shortest solution (w₀, w₂) = (c/5, 2c/5).
        let doubled = try Dataset(rows: problem.features.map { $0 + [2 * $0[0]] }, targets: problem.targets)
        let solution = try LeastSquares.solve(doubled, fitIntercept: false, l2: 0)
        let c = reduced.weights[0]
        let expected = [c / 5, reduced.weights[1], 2 * c / 5]
        #expect(relativeDifference(solution.weights, expected) <= 1e-9, "\(solution.weights) vs \(expected)")
    }

    @Test(
        "a constant column gets weight exactly 0 when an intercept is fitted, with or without l2 or standardization"
    )
    func constantColumn() throws {
        var generator = LCG(seed: 67)
        let problem = Problem(rows: 120, columns: 2, noise: 0.4, weighted: true, using: &generator)
        let reduced = try LeastSquares.solve(try problem.dataset(), fitIntercept: true, l2: 0)
        let padded = try Dataset(
            rows: problem.features.map { [$0[0], 3.5, $0[1]] }, targets: problem.targets,
            sampleWeights: problem.sampleWeights)
        let solution = try LeastSquares.solve(padded, fitIntercept: true, l2: 0)
        #expect(solution.weights[1] == 0)
        #expect(relativeDifference([solution.weights[0], solution.weights[2]], reduced.weights) <= 1e-10)
        #expect(abs(solution.intercept - reduced.intercept) <= 1e-10 * abs(reduced.intercept))
        // The weighted mean of 3.5 is not exactly 3.5, so the centred column holds rounding, not zeros.
        let standardization = Standardization(of: padded)
        let standardized = try LeastSquares.solve(padded, fitIntercept: true, l2: 0, standardization: standardization)
        #expect(standardized.weights[1] == 0)
        #expect(abs(standardized.objective - reduced.objective) <= 1e-12 * reduced.objective)
        let ridge = try LeastSquares.solve(padded, fitIntercept: true, l2: 0.5)
        let reducedRidge = try LeastSquares.solve(try problem.dataset(), fitIntercept: true, l2: 0.5)
        #expect(ridge.weights[1] == 0)
        #expect(relativeDifference([ridge.weights[0], ridge.weights[2]], reducedRidge.weights) <= 1e-10)
    }

    @Test("features offset by 10⁶ give the weights of the unshifted ones and a vanishing centred gradient")
    func largeOffset() throws {
        var generator = LCG(seed: 71)
        var problem = Problem(rows: 2000, columns: 3, noise: 0.1, weighted: true, using: &generator)
        // Multiples of 2⁻¹⁰ so that 10⁶ + t is exact and the two problems differ only by the shift.
        problem.features = problem.features.map { row in row.map { ($0 * 1024).rounded() / 1024 } }
        let unshifted = try LeastSquares.solve(try problem.dataset(), fitIntercept: true, l2: 0)
        problem.features = problem.features.map { row in row.map { $0 + 1e6 } }
        let shiftedData = try problem.dataset()
        let shifted = try LeastSquares.solve(shiftedData, fitIntercept: true, l2: 0)
        // The uncentred Gram matrix here has condition number ≈ 10¹⁴; centring leaves that of the spread.
        #expect(relativeDifference(shifted.weights, unshifted.weights) <= 1e-9)
        let shiftedIntercept = unshifted.intercept - 1e6 * unshifted.weights.reduce(0, +)
        let interceptScale = 1e6 * unshifted.weights.reduce(0) { $0 + abs($1) }
        #expect(abs(shifted.intercept - shiftedIntercept) <= 1e-9 * interceptScale)
        #expect(abs(shifted.objective - unshifted.objective) <= 1e-6 * unshifted.objective)
        let gradient = Gradient(shiftedData, shifted, fitIntercept: true, l2: 0, centred: true)
        #expect(gradient.relativeNorm <= 1e-12, "relative centred gradient \(gradient.relativeNorm)")
    }

    @Test("an empty selection, rows weighing nothing, a negative l2 and NaN features are errors")
    func errors() throws {
        let dataset = try Dataset(rows: [[1, 2], [3, 4], [5, 7]], targets: [1, 2, 3], sampleWeights: [0, 1, 1])
        #expect(throws: LeastSquaresError.noWeight) {
            try LeastSquares.solve(dataset, rows: .indices([]), fitIntercept: true, l2: 0)
        }
        #expect(throws: LeastSquaresError.noWeight) {
            try LeastSquares.solve(dataset, rows: .indices([0, 0]), fitIntercept: false, l2: 0)
        }
        #expect(throws: LeastSquaresError.invalidPenalty(-1)) {
            try LeastSquares.solve(dataset, fitIntercept: true, l2: -1)
        }
        let broken = try Dataset(rows: [[1, .nan], [3, 4]], targets: [1, 2])
        #expect(throws: LeastSquaresError.nonFinite) { try LeastSquares.solve(broken, fitIntercept: true, l2: 1) }
        let infinite = try Dataset(rows: [[1, 2], [3, 4]], targets: [1, .infinity])
        #expect(throws: LeastSquaresError.nonFinite) { try LeastSquares.solve(infinite, fitIntercept: false, l2: 0) }
    }
}

// MARK: - Independent reference computations

/// Data from y = x·w* + b* + noise, with optional positive sample weights.
private struct Problem {
    var features: [[Double]]
    var targets: [Double]
    var sampleWeights: [Double]?
    let trueWeights: [Double]
    let trueIntercept: Double

    init(rows: Int, columns: Int, noise: Double, weighted: Bool, using generator: inout LCG) {
        trueWeights = (0..<columns).map { _ in 3 * generator.next() }
        trueIntercept = 2 + generator.next()
        var features: [[Double]] = []
        var targets: [Double] = []
        for _ in 0..<rows {
            // Correlated columns (each shares part of the previous), so the Gram matrix is not diagonal.
            var row: [Double] = []
            for column in 0..<columns { row.append(generator.next() + (column > 0 ? 0.5 * row[column - 1] : 0)) }
            var target = trueIntercept
            for column in 0..<columns { target += row[column] * trueWeights[column] }
            features.append(row)
            targets.append(target + noise * generator.next())
        }
        self.features = features
        self.targets = targets
        sampleWeights = weighted ? (0..<rows).map { _ in 1.5 + generator.next() } : nil
    }

    func dataset() throws -> Dataset { try Dataset(rows: features, targets: targets, sampleWeights: sampleWeights) }
}

/// ∇L at a solution, computed directly from the definition, and its norm relative to the size of the terms
/// that cancel in it: ‖∇L‖ / ‖m‖ with m_j = Σ s_i |r_i a_ij| / Σ s_i + l2 |w_j|.
///
/// `centred` takes the gradient with respect to w in the coordinates (w, b + x̄·w), i.e. with x_i − x̄ in place
/// of x_i (x̄ the weighted mean): at ∂L/∂b = 0 it is the same vector, but its terms are not inflated by a large
/// feature offset. It also measures r_i by the size of what is summed to form it, |b| + Σ|x_ij w_j| + |y_i|:
/// with x ≈ 10⁶, b ≈ −10⁶·Σw, so no floating-point (w, b) gives residuals more accurate than ε·10⁶·‖w‖, and
/// that, not the solver, would otherwise set the floor (≈ 10⁻⁸ relative to the noise).
private struct Gradient {
    let relativeNorm: Double

    init(
        _ dataset: Dataset, _ solution: LeastSquaresSolution, rows: [Int]? = nil, fitIntercept: Bool, l2: Double,
        centred: Bool = false
    ) {
        let indices = rows ?? Array(0..<dataset.rows)
        let columns = dataset.columns
        let total = indices.reduce(0) { $0 + (dataset.sampleWeights?[$1] ?? 1) }
        var means = [Double](repeating: 0, count: columns)
        if centred {
            for index in indices {
                for column in 0..<columns {
                    means[column] += (dataset.sampleWeights?[index] ?? 1) * dataset.features[index * columns + column]
                }
            }
            means = means.map { $0 / total }
        }
        var gradient = [Double](repeating: 0, count: columns + 1)
        var magnitude = [Double](repeating: 0, count: columns + 1)
        for index in indices {
            let weight = dataset.sampleWeights?[index] ?? 1
            var residual = solution.intercept - dataset.targets[index]
            var size = abs(solution.intercept) + abs(dataset.targets[index])
            for column in 0..<columns {
                let term = dataset.features[index * columns + column] * solution.weights[column]
                residual += term
                size += abs(term)
            }
            let scale = centred ? size : abs(residual)
            for column in 0..<columns {
                let centredFeature = dataset.features[index * columns + column] - means[column]
                gradient[column] += weight * residual * centredFeature / total
                magnitude[column] += weight * scale * abs(centredFeature) / total
            }
            gradient[columns] += weight * residual / total
            magnitude[columns] += weight * scale / total
        }
        for column in 0..<columns {
            gradient[column] += l2 * solution.weights[column]
            magnitude[column] += l2 * abs(solution.weights[column])
        }
        if !fitIntercept {
            gradient.removeLast()
            magnitude.removeLast()
        }
        relativeNorm = norm(gradient) / norm(magnitude)
    }
}

/// L(w, b) straight from API.md's definition.
private func referenceObjective(_ dataset: Dataset, _ solution: LeastSquaresSolution, l2: Double) -> Double {
    var sum = 0.0
    var total = 0.0
    for index in 0..<dataset.rows {
        let weight = dataset.sampleWeights?[index] ?? 1
        var residual = solution.intercept - dataset.targets[index]
        for column in 0..<dataset.columns {
            residual += dataset.features[index * dataset.columns + column] * solution.weights[column]
        }
        sum += weight * residual * residual / 2
        total += weight
    }
    return sum / total + l2 / 2 * solution.weights.reduce(0) { $0 + $1 * $1 }
}

private func norm(_ vector: [Double]) -> Double { vector.reduce(0) { $0 + $1 * $1 }.squareRoot() }

private func relativeDifference(_ value: [Double], _ reference: [Double]) -> Double {
    norm(zip(value, reference).map { $0 - $1 }) / norm(reference)
}

private func expectSame(
    _ value: LeastSquaresSolution, _ reference: LeastSquaresSolution, tolerance: Double,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        relativeDifference(value.weights, reference.weights) <= tolerance,
        "weights \(value.weights) vs \(reference.weights)", sourceLocation: sourceLocation)
    #expect(
        abs(value.intercept - reference.intercept) <= tolerance * max(abs(reference.intercept), 1),
        "intercept \(value.intercept) vs \(reference.intercept)", sourceLocation: sourceLocation)
    #expect(
        abs(value.objective - reference.objective) <= tolerance * reference.objective,
        "objective \(value.objective) vs \(reference.objective)", sourceLocation: sourceLocation)
}
