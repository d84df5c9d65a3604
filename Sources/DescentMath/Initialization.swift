/// How the parameter vector θ starts (issue 3, point 6).
///
/// - `zeros`: θ = 0. The usual start for convex losses (every linear, logistic, softmax and Poisson model
///   here is convex, so the optimum does not depend on the start).
/// - `normal(scale)`: θᵢ = scale · zᵢ with zᵢ ~ N(0, 1) i.i.d., from ``RandomSource/nextNormal()``.
/// - `uniform(scale)`: θᵢ ~ U(−scale, scale) i.i.d., as scale · (2uᵢ − 1) with uᵢ from
///   ``RandomSource/nextDouble()`` on [0, 1) (so −scale is attainable and +scale is not).
/// - `values(θ)`: a warm start from given parameters, used as they are.
///
/// Random starts draw θ₀, θ₁, … in index order, one variate each, so the same seed and count give the same
/// vector; and a prefix property holds: the first k entries for count n ≥ k equal those for count k.
package enum Initialization: Sendable, Equatable {
    case zeros
    case normal(scale: Double)
    case uniform(scale: Double)
    case values([Double])

    /// The `count` initial parameters. `zeros` and `values` draw nothing from `random`.
    package func parameters(count: Int, random: inout RandomSource) throws(InitializationError) -> [Double] {
        precondition(count >= 0, "parameter count is negative: \(count)")
        switch self {
        case .zeros:
            return [Double](repeating: 0, count: count)
        case .normal(let scale):
            try Self.check(scale)
            return (0..<count).map { _ in scale * random.nextNormal() }
        case .uniform(let scale):
            try Self.check(scale)
            return (0..<count).map { _ in scale * (2 * random.nextDouble() - 1) }
        case .values(let values):
            guard values.count == count else { throw .wrongCount(expected: count, actual: values.count) }
            if let index = values.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(index: index) }
            return values
        }
    }

    /// A scale must be finite and ≥ 0 (0 is allowed: it is `zeros` that still advances the generator).
    private static func check(_ scale: Double) throws(InitializationError) {
        guard scale.isFinite, scale >= 0 else { throw .invalidScale(scale) }
    }
}

package enum InitializationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `values` held `actual` numbers where the model has `expected` parameters.
    case wrongCount(expected: Int, actual: Int)
    /// `values[index]` is NaN or infinite.
    case nonFinite(index: Int)
    /// A `normal` or `uniform` scale that is negative, NaN or infinite.
    case invalidScale(Double)

    package var description: String {
        switch self {
        case .wrongCount(let expected, let actual):
            "initial values must have exactly \(expected) entries (one per parameter), got \(actual)"
        case .nonFinite(let index):
            "initial value at index \(index) is not a finite number"
        case .invalidScale(let scale):
            "initialization scale must be a finite number ≥ 0, got \(scale)"
        }
    }
}
