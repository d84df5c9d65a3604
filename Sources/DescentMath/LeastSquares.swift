import COpenBLAS

/// The exact minimizer of the linear least-squares objective, and the objective's value there.
package struct LeastSquaresSolution: Sendable, Equatable {
    /// w, in the feature space the problem was posed in (standardized when a `Standardization` was given).
    package let weights: [Double]
    /// b; 0 when no intercept was fitted.
    package let intercept: Double
    /// L(w, b), computed by a separate pass over the rows with these parameters.
    package let objective: Double
}

package enum LeastSquaresError: Error, Equatable, Sendable {
    /// The l2 coefficient was negative or not finite (the objective would be unbounded or undefined).
    case invalidPenalty(Double)
    /// The row selection is empty, or its rows all weigh 0: Σ s_i = 0 and L is undefined.
    case noWeight
    /// The normal equations, the solution or the objective is not finite: the data hold NaN or ±∞, or
    /// their squares overflow.
    case nonFinite
    /// A LAPACK routine failed: its name and the `info` it returned (see the routine's documentation).
    case lapack(routine: String, info: Int32)
}

/// The closed-form optimum of linear regression with squared loss and an optional ridge penalty — the
/// reference that tells how far gradient descent ended from the exact answer (issue 3, point 9).
///
/// The objective is API.md's, with ℓ = ½r²:
///
///     L(w, b) = Σ s_i ½ (x_i·w + b − y_i)² / Σ s_i  +  (λ₂/2) ‖w‖²
///
/// over the selected rows, b unpenalised (b = 0 without an intercept), and x_i replaced by
/// z_i = (x_i − μ) / σ when a `Standardization` is given.
///
/// With S = Σ s_i, the weighted means x̄ = Σ s_i x_i / S and ȳ, and centred rows x̃_i = x_i − x̄, ỹ_i = y_i − ȳ,
/// setting ∂L/∂b = 0 gives b = ȳ − x̄·w, and substituting it back leaves the normal equations
///
///     (C + λ₂ I) w = c,    C = Σ s_i x̃_i x̃_iᵀ / S,    c = Σ s_i x̃_i ỹ_i / S.
///
/// Without an intercept x̄ = ȳ = 0 stand in for the means. Centring first is what keeps the method accurate:
/// the uncentred Gram matrix of features near 10⁶ with unit spread has condition number ≈ 10¹² from the
/// offset alone, while C's depends only on the spread. The centred moments come from one pass over the rows,
/// in chunks: each chunk is centred on its own weighted mean and multiplied by √s_i, `cblas_dsyrk` adds its
/// Gram matrix, and the chunk is merged with the running moments by the pairwise update of Chan, Golub and
/// LeVeque ("Algorithms for computing the sample variance", 1983): M += M_chunk + (W·W_c / (W + W_c)) δδᵀ,
/// δ = mean_chunk − mean. The target rides along as an extra column, so c and Σ s ỹ² come out of the same
/// (d+1)×(d+1) product.
///
/// The system is solved after symmetric Jacobi scaling (D = diag(C + λ₂I)^−½, which makes the rank decision
/// independent of the features' units) by Cholesky, `LAPACKE_dposv`. When that fails or `LAPACKE_dpocon`
/// reports a reciprocal condition number below `rankTolerance` (rank-deficient features with λ₂ = 0, e.g. a
/// duplicated or constant column), the solution is instead the minimum-norm one: eigenvalues of the scaled
/// matrix below `rankTolerance`·λ_max count as zero (`LAPACKE_dsyev`), and among the minimizers the one with
/// the least Euclidean ‖w‖ is chosen (a small `LAPACKE_dgelsd` projection) — the limit of the ridge
/// solution as λ₂ → 0, and the point gradient descent from w = 0 converges to. With an intercept, a column
/// whose centred spread is at rounding level (`constantTolerance`) gets weight exactly 0: the intercept
/// carries it.
package enum LeastSquares {
    /// The relative size below which an eigenvalue of the Jacobi-scaled normal matrix counts as zero. The
    /// Gram matrix of centred data carries rounding errors of a few ulps relative to its largest entries, so
    /// directions below 10⁻¹² are numerically indistinguishable from exact collinearity.
    package static let rankTolerance = 1e-12

    /// The minimizer (w, b) of L over `rows` and L there; the weights are in standardized units when a
    /// `standardization` is given (convert with `Standardization.originalUnits`).
    package static func solve(
        _ dataset: Dataset, rows: RowSelection = .all, fitIntercept: Bool, l2: Double,
        standardization: Standardization? = nil
    ) throws(LeastSquaresError) -> LeastSquaresSolution {
        guard l2 >= 0, l2.isFinite else { throw .invalidPenalty(l2) }
        if let standardization {
            precondition(
                standardization.means.count == dataset.columns && standardization.scales.count == dataset.columns,
                "LeastSquares.solve: the standardization has a different number of columns than the dataset")
        }
        let moments = WeightedMoments(dataset, rows: rows, centred: fitIntercept, standardization: standardization)
        guard moments.weight > 0 else { throw .noWeight }
        guard moments.gram.allSatisfy(\.isFinite), moments.means.allSatisfy(\.isFinite) else { throw .nonFinite }

        let columns = dataset.columns
        let width = columns + 1
        var matrix = [Double](repeating: 0, count: columns * columns)
        var rightHandSide = [Double](repeating: 0, count: columns)
        for i in 0..<columns {
            // dsyrk filled the upper triangle (j ≥ i); LAPACK reads the upper one too, but the 1-norm for dpocon
            // and the scaling below are simpler on the full symmetric matrix.
            for j in i..<columns {
                let value = moments.gram[i * width + j] / moments.weight
                matrix[i * columns + j] = value
                matrix[j * columns + i] = value
            }
            rightHandSide[i] = moments.gram[i * width + columns] / moments.weight
        }
        if fitIntercept {
            for column in 0..<columns where isNumericallyConstant(column, matrix, moments.means) {
                for other in 0..<columns {
                    matrix[column * columns + other] = 0
                    matrix[other * columns + column] = 0
                }
                rightHandSide[column] = 0
            }
        }
        for column in 0..<columns { matrix[column * columns + column] += l2 }
        let weights = try solveNormalEquations(matrix, rightHandSide, dimension: columns)
        var intercept = 0.0
        if fitIntercept {
            intercept = moments.means[columns]
            for column in 0..<columns { intercept -= moments.means[column] * weights[column] }
        }
        guard weights.allSatisfy(\.isFinite), intercept.isFinite else { throw .nonFinite }
        let objective = objective(
            dataset, rows: rows, weights: weights, intercept: intercept, l2: l2, standardization: standardization)
        guard objective.isFinite else { throw .nonFinite }
        return LeastSquaresSolution(weights: weights, intercept: intercept, objective: objective)
    }

    /// L(w, b) by one pass over the rows, z_i computed element by element as (x_ij − μ_j) / σ_j, the sum of
    /// s_i ½ r_i² accumulated with Neumaier's compensated summation so that its error does not grow with n.
    /// The selected rows must weigh more than 0 (else the result is NaN).
    package static func objective(
        _ dataset: Dataset, rows: RowSelection = .all, weights: [Double], intercept: Double, l2: Double,
        standardization: Standardization? = nil
    ) -> Double {
        let columns = dataset.columns
        precondition(weights.count == columns, "LeastSquares.objective: one weight per column expected")
        let count = rows.count(in: dataset.rows)
        var sum = CompensatedSum()
        var total = CompensatedSum()
        var row = [Double](repeating: 0, count: columns)
        row.withUnsafeMutableBufferPointer { row in
            for position in 0..<count {
                let index = rows.row(at: position)
                let weight = dataset.sampleWeights?[index] ?? 1
                copyRow(index, of: dataset, standardization: standardization, into: row.baseAddress!)
                var residual = intercept - dataset.targets[index]
                for column in 0..<columns { residual += row[column] * weights[column] }
                sum.add(weight * 0.5 * residual * residual)
                total.add(weight)
            }
        }
        var penalty = 0.0
        for weight in weights { penalty += weight * weight }
        return sum.value / total.value + 0.5 * l2 * penalty
    }

    /// Whether a column's centred values are only the rounding left by subtracting its mean: weighted variance
    /// ≤ (`constantTolerance`·rms)², rms² = variance + mean². Its row and column of C and its entry of c are then
    /// set to zero, which gives it weight exactly 0 — the intercept carries a constant — instead of a weight
    /// fitted to rounding noise that Jacobi scaling would otherwise magnify to the size of a real feature.
    private static func isNumericallyConstant(_ column: Int, _ matrix: [Double], _ means: [Double]) -> Bool {
        let variance = matrix[column * (means.count - 1) + column]
        return variance <= constantTolerance * constantTolerance * (variance + means[column] * means[column])
    }

    /// The relative spread (standard deviation over root mean square) at or below which a column counts as
    /// constant: 10³ ulps, the most that centring a constant column in floating point leaves behind.
    package static let constantTolerance = 1e3 * Double.ulpOfOne

    /// Solves the symmetric positive semidefinite system A w = c (A is `dimension`², full, row-major).
    private static func solveNormalEquations(
        _ matrix: [Double], _ rightHandSide: [Double], dimension: Int
    ) throws(LeastSquaresError) -> [Double] {
        let n = Int32(dimension)
        // Â = D A D, ĉ = D c, w = D ŵ with D_jj = A_jj^−½ (1 for a zero column, which stays a zero column).
        let scale = (0..<dimension).map { j in
            let diagonal = matrix[j * dimension + j]
            return diagonal > 0 ? 1 / diagonal.squareRoot() : 1
        }
        var scaled = matrix
        for i in 0..<dimension {
            for j in 0..<dimension { scaled[i * dimension + j] *= scale[i] * scale[j] }
        }
        let scaledRightHandSide = (0..<dimension).map { rightHandSide[$0] * scale[$0] }
        var oneNorm = 0.0
        for j in 0..<dimension {
            var column = 0.0
            for i in 0..<dimension { column += abs(scaled[i * dimension + j]) }
            oneNorm = max(oneNorm, column)
        }

        var factor = scaled
        var solution = scaledRightHandSide
        let info = LAPACKE_dposv(LAPACK_ROW_MAJOR, upper, n, 1, &factor, n, &solution, 1)
        if info < 0 { throw .lapack(routine: "dposv", info: info) }
        if info == 0 {
            var reciprocalCondition = 0.0
            let conditionInfo = LAPACKE_dpocon(LAPACK_ROW_MAJOR, upper, n, factor, n, oneNorm, &reciprocalCondition)
            if conditionInfo < 0 { throw .lapack(routine: "dpocon", info: conditionInfo) }
            if reciprocalCondition >= rankTolerance {
                return (0..<dimension).map { solution[$0] * scale[$0] }
            }
        }
        return try minimumNormSolution(scaled, scaledRightHandSide, scale: scale)
    }

    /// The minimum-Euclidean-norm w among the solutions of A w = c, given Â = D A D, ĉ = D c and D.
    ///
    /// With Â = V Λ Vᵀ (`dsyev`) and the numerical null space N = {v_k : λ_k ≤ rankTolerance·λ_max}, the
    /// solutions are w = D(ŵ + N z) with ŵ = Σ_{λ_k > tol} v_k (v_k·ĉ) / λ_k. The shortest is found by the
    /// least-squares problem min_z ‖D ŵ + (D N) z‖ (`dgelsd`, DN having full column rank).
    private static func minimumNormSolution(
        _ scaled: [Double], _ scaledRightHandSide: [Double], scale: [Double]
    ) throws(LeastSquaresError) -> [Double] {
        let dimension = scale.count
        let n = Int32(dimension)
        var vectors = scaled
        var values = [Double](repeating: 0, count: dimension)
        let info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), upper, n, &vectors, n, &values)
        guard info == 0 else { throw .lapack(routine: "dsyev", info: info) }
        // Row-major: eigenvector k is column k, element i at vectors[i * dimension + k]; values ascend.
        let cutoff = rankTolerance * max(values[dimension - 1], 0)
        var particular = [Double](repeating: 0, count: dimension)
        var nullSpace: [Int] = []
        for k in 0..<dimension {
            guard values[k] > cutoff, values[k] > 0 else {
                nullSpace.append(k)
                continue
            }
            var projection = 0.0
            for i in 0..<dimension { projection += vectors[i * dimension + k] * scaledRightHandSide[i] }
            let coefficient = projection / values[k]
            for i in 0..<dimension { particular[i] += coefficient * vectors[i * dimension + k] }
        }
        var weights = (0..<dimension).map { particular[$0] * scale[$0] }
        guard !nullSpace.isEmpty else { return weights }

        // min_z ‖(D N) z − (−D ŵ)‖: B is dimension × k, row-major; the right-hand side becomes z in place.
        let nullity = nullSpace.count
        var basis = [Double](repeating: 0, count: dimension * nullity)
        for i in 0..<dimension {
            for (column, k) in nullSpace.enumerated() {
                basis[i * nullity + column] = scale[i] * vectors[i * dimension + k]
            }
        }
        var target = weights.map { -$0 }
        var singularValues = [Double](repeating: 0, count: nullity)
        var rank: Int32 = 0
        let leastSquaresInfo = LAPACKE_dgelsd(
            LAPACK_ROW_MAJOR, n, Int32(nullity), 1, &basis, Int32(nullity), &target, 1, &singularValues, -1, &rank)
        guard leastSquaresInfo == 0 else { throw .lapack(routine: "dgelsd", info: leastSquaresInfo) }
        for i in 0..<dimension {
            for (column, k) in nullSpace.enumerated() {
                weights[i] += scale[i] * vectors[i * dimension + k] * target[column]
            }
        }
        return weights
    }

    private static let upper = CChar(UInt8(ascii: "U"))

    /// Writes row `index`'s features, standardized when asked, as Doubles to `destination`.
    private static func copyRow(
        _ index: Int, of dataset: Dataset, standardization: Standardization?,
        into destination: UnsafeMutablePointer<Double>
    ) {
        let columns = dataset.columns
        let base = index * columns
        switch dataset.features {
        case .float64(let values):
            values.withUnsafeBufferPointer { values in
                for column in 0..<columns { destination[column] = values[base + column] }
            }
        case .float32(let values):
            values.withUnsafeBufferPointer { values in
                for column in 0..<columns { destination[column] = Double(values[base + column]) }
            }
        }
        if let standardization {
            for column in 0..<columns {
                destination[column] =
                    (destination[column] - standardization.means[column]) / standardization.scales[column]
            }
        }
    }

    /// The weighted first and second moments of the augmented rows a_i = [z_i, y_i] over a selection: total
    /// weight W = Σ s_i, and either the means ā and M = Σ s_i (a_i − ā)(a_i − ā)ᵀ (centred), or ā = 0 and
    /// M = Σ s_i a_i a_iᵀ. M is (d+1)×(d+1), row-major, upper triangle only.
    private struct WeightedMoments {
        var weight = 0.0
        var means: [Double]
        var gram: [Double]

        /// Rows per chunk: a 128 KiB buffer stays in L2 while dsyrk reads it, and dsyrk has enough rows per
        /// call to run at its blocked speed.
        static func chunkRows(width: Int) -> Int { max(16, 16_384 / width) }

        init(_ dataset: Dataset, rows: RowSelection, centred: Bool, standardization: Standardization?) {
            let columns = dataset.columns
            let width = columns + 1
            let count = rows.count(in: dataset.rows)
            let chunkRows = Self.chunkRows(width: width)
            means = [Double](repeating: 0, count: width)
            gram = [Double](repeating: 0, count: width * width)
            var buffer = [Double](repeating: 0, count: min(chunkRows, max(count, 1)) * width)
            var rowWeights = [Double](repeating: 0, count: chunkRows)
            var chunkMeans = [Double](repeating: 0, count: width)
            var difference = [Double](repeating: 0, count: width)
            var start = 0
            while start < count {
                let length = min(chunkRows, count - start)
                defer { start += length }
                var chunkWeight = 0.0
                buffer.withUnsafeMutableBufferPointer { buffer in
                    for offset in 0..<length {
                        let index = rows.row(at: start + offset)
                        let rowStart = buffer.baseAddress! + offset * width
                        LeastSquares.copyRow(index, of: dataset, standardization: standardization, into: rowStart)
                        rowStart[columns] = dataset.targets[index]
                        rowWeights[offset] = dataset.sampleWeights?[index] ?? 1
                        chunkWeight += rowWeights[offset]
                    }
                }
                guard chunkWeight > 0 else { continue }
                if centred {
                    for column in 0..<width { chunkMeans[column] = 0 }
                    for offset in 0..<length where rowWeights[offset] != 0 {
                        for column in 0..<width {
                            chunkMeans[column] += rowWeights[offset] * buffer[offset * width + column]
                        }
                    }
                    for column in 0..<width { chunkMeans[column] /= chunkWeight }
                }
                for offset in 0..<length {
                    let root = rowWeights[offset].squareRoot()
                    for column in 0..<width {
                        let value =
                            centred
                            ? buffer[offset * width + column] - chunkMeans[column] : buffer[offset * width + column]
                        buffer[offset * width + column] = root * value
                    }
                }
                // M += Bᵀ B, B the length × width chunk.
                cblas_dsyrk(
                    CblasRowMajor, CblasUpper, CblasTrans, Int32(width), Int32(length), 1, buffer, Int32(width), 1,
                    &gram, Int32(width))
                guard centred else {
                    weight += chunkWeight
                    continue
                }
                // Chan–Golub–LeVeque merge of (W, ā, M) with the chunk's (W_c, ā_c, M_c).
                let combined = weight + chunkWeight
                for column in 0..<width { difference[column] = chunkMeans[column] - means[column] }
                cblas_dsyr(
                    CblasRowMajor, CblasUpper, Int32(width), weight * chunkWeight / combined, difference, 1, &gram,
                    Int32(width))
                for column in 0..<width { means[column] += chunkWeight / combined * difference[column] }
                weight = combined
            }
        }
    }
}

/// Neumaier's variant of Kahan summation: the running rounding error is carried separately and added at the
/// end, so the result's error is O(ε) rather than O(nε) (Neumaier, ZAMM 54, 1974).
private struct CompensatedSum {
    private var sum = 0.0
    private var compensation = 0.0

    mutating func add(_ value: Double) {
        let next = sum + value
        if abs(sum) >= abs(value) {
            compensation += (sum - next) + value
        } else {
            compensation += (value - next) + sum
        }
        sum = next
    }

    var value: Double { sum + compensation }
}
