/// An estimate of λ_max(H) for H = AᵀSA / Σ s_i, where A has rows a_i = [z_i, 1] (the 1 only with an
/// intercept; z_i = (x_i − μ)/σ under a `Standardization`, else x_i) and S = diag(s_i): the curvature scale
/// from which a safe step size follows (issue 3, point 5: `learning_rate: "auto"`).
///
/// For a data term F(θ) = Σ s_i ℓ(a_i·θ, y_i) / Σ s_i, the Hessian is AᵀS diag(ℓ″_i) A / Σ s_i, so when
/// 0 ≤ ℓ″ ≤ c everywhere its gradient is Lipschitz with constant c·λ_max(H). With the l2 penalty add l2
/// (the penalty's Hessian is l2·I on w); l1 is handled by its proximal step and adds nothing. Gradient
/// descent with step η is then monotone for η ≤ 1/L and convergent for η < 2/L.
///
/// | loss | c = sup ℓ″ | L (data term) | note |
/// |---|---|---|---|
/// | squared | 1 | λ | exact: the Hessian is H itself |
/// | huber(δ) | 1 | λ | ℓ″ ∈ {0, 1} |
/// | log (logistic) | 1/4 | λ/4 | σ(p)(1 − σ(p)) ≤ 1/4 |
/// | squared_hinge | 2 | 2λ | ℓ = max(0, 1 − ỹp)², ℓ″ ∈ {0, 2} (ỹ² = 1) |
/// | cross_entropy (softmax, K classes) | 1/2 | λ/2 | Böhning's bound, below |
/// | poisson (log link) | — | none | ℓ″ = exp(p) is unbounded: no global constant; use line search |
/// | absolute, epsilon_insensitive, quantile, hinge | — | none | kinks: the (sub)gradient is not Lipschitz |
///
/// Softmax: ∇²log-sum-exp(p) = diag(π) − ππᵀ ⪯ ½(I − 11ᵀ/K) ⪯ ½I (Böhning, "Multinomial logistic regression
/// algorithm", Ann. Inst. Statist. Math. 44, 1992), so the Hessian over the K·d parameters is ⪯ ½ I_K ⊗ H.
///
/// The method is power iteration on H without forming it: each iteration reads the rows once, computing
/// u_i = a_i·v and accumulating Aᵀ(S u) and the Rayleigh quotient vᵀHv = Σ s_i u_i² / Σ s_i (‖v‖ = 1).
/// The start vector is deterministic (entries in [½, 3/2) from SplitMix64 of `seed`, normalised), so equal
/// inputs give equal estimates on every machine. The Rayleigh quotient converges to λ_max from below
/// (linearly, with ratio (λ₂/λ₁)²): it never overestimates, so a caller choosing a step from it should keep a
/// margin (e.g. η = 1/L rather than 2/L), and the divergence check remains the backstop.
package enum LipschitzEstimate {
    /// λ_max(AᵀSA / Σ s_i), by at most `iterations` power iterations, stopping when the Rayleigh quotient
    /// changes by at most `tolerance` relative to its value. Returns 0 for an empty selection, rows weighing
    /// 0, or all-zero data.
    package static func largestEigenvalue(
        of dataset: Dataset, rows: RowSelection = .all, fitIntercept: Bool, standardization: Standardization? = nil,
        iterations: Int = 100, tolerance: Double = 1e-6, seed: UInt64 = 0
    ) -> Double {
        let columns = dataset.columns
        let dimension = columns + (fitIntercept ? 1 : 0)
        let total = dataset.totalWeight(rows)
        guard total > 0, iterations > 0 else { return 0 }
        // Column j of A is (x_j − shift_j) / divisor_j: the standardization's μ and σ, or 0 and 1.
        let shift = standardization?.means ?? [Double](repeating: 0, count: columns)
        let divisor = standardization?.scales ?? [Double](repeating: 1, count: columns)
        precondition(
            shift.count == columns && divisor.count == columns,
            "LipschitzEstimate: the standardization has a different number of columns than the dataset")

        var vector = startVector(dimension: dimension, seed: seed)
        var product = [Double](repeating: 0, count: dimension)
        var estimate = 0.0
        for _ in 0..<iterations {
            // u_i = Σ_j (x_ij − shift_j)(v_j / divisor_j) + v_b: fold the divisor into the direction.
            let direction = (0..<columns).map { vector[$0] / divisor[$0] }
            let offset = fitIntercept ? vector[columns] : 0
            var sums = [Double](repeating: 0, count: columns)
            let pass: (quadratic: Double, residualSum: Double) =
                switch dataset.features {
                case .float64(let values):
                    multiply(values, dataset, rows, shift, direction, offset, into: &sums)
                case .float32(let values):
                    multiply(values, dataset, rows, shift, direction, offset, into: &sums)
                }
            let previous = estimate
            estimate = pass.quadratic / total
            for column in 0..<columns { product[column] = sums[column] / divisor[column] / total }
            if fitIntercept { product[columns] = pass.residualSum / total }
            let norm = product.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0, norm.isFinite else { return estimate }
            if abs(estimate - previous) <= tolerance * estimate { break }
            vector = product.map { $0 / norm }
        }
        return estimate
    }

    /// One pass: with u_i = (x_i − shift)·direction + offset and t_i = s_i u_i, returns Σ t_i u_i and Σ t_i
    /// and adds Σ t_i (x_i − shift) to `sums`.
    private static func multiply<Element: BinaryFloatingPoint>(
        _ features: [Element], _ dataset: Dataset, _ rows: RowSelection, _ shift: [Double], _ direction: [Double],
        _ offset: Double, into sums: inout [Double]
    ) -> (quadratic: Double, residualSum: Double) {
        let columns = dataset.columns
        let count = rows.count(in: dataset.rows)
        var quadratic = 0.0
        var residualSum = 0.0
        features.withUnsafeBufferPointer { features in
            shift.withUnsafeBufferPointer { shift in
                direction.withUnsafeBufferPointer { direction in
                    sums.withUnsafeMutableBufferPointer { sums in
                        for position in 0..<count {
                            let index = rows.row(at: position)
                            let weight = dataset.sampleWeights?[index] ?? 1
                            if weight == 0 { continue }
                            let base = index * columns
                            var dot = offset
                            for column in 0..<columns {
                                dot += (Double(features[base + column]) - shift[column]) * direction[column]
                            }
                            let scaled = weight * dot
                            quadratic += scaled * dot
                            residualSum += scaled
                            for column in 0..<columns {
                                sums[column] += scaled * (Double(features[base + column]) - shift[column])
                            }
                        }
                    }
                }
            }
        }
        return (quadratic, residualSum)
    }

    /// v_j = ½ + U_j with U_j ∈ [0, 1) the top 53 bits of SplitMix64(seed + j·γ) (Steele, Lea and Flood,
    /// OOPSLA 2014), normalised to ‖v‖ = 1. Positive entries overlap the Perron vector of data with positive
    /// correlations; unequal ones avoid starting orthogonal to a symmetric eigenvector such as (1, −1)/√2.
    private static func startVector(dimension: Int, seed: UInt64) -> [Double] {
        var state = seed
        let vector = (0..<dimension).map { _ -> Double in
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            mixed ^= mixed >> 31
            return 0.5 + Double(mixed >> 11) * 0x1p-53
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { $0 / norm }
    }
}
