import Foundation

/// A per-row loss ℓ(p, y) of a scalar prediction p (API.md, "The objective"), with its derivative ∂ℓ/∂p.
/// Where ℓ is not differentiable (a kink), `derivative` returns a subgradient: the one of the right side
/// except where noted.
///
/// | loss | ℓ(p, y), r = p − y, ỹ = ±1 | ∂ℓ/∂p |
/// |---|---|---|
/// | squared | ½ r² | r |
/// | absolute | \|r\| | sign(r) (0 at 0) |
/// | huber(δ) | ½ r² if \|r\| ≤ δ, else δ(\|r\| − ½δ) | clamp(r, −δ, δ) |
/// | epsilon_insensitive(ε) | max(0, \|r\| − ε) | sign(r) where \|r\| > ε, else 0 |
/// | quantile(τ) | max(−τ r, (1 − τ) r) | 1 − τ if r > 0, −τ if r < 0, 0 at 0 |
/// | log | log(1 + exp(−ỹ p)) | −ỹ σ(−ỹ p) |
/// | hinge | max(0, 1 − ỹ p) | −ỹ where ỹ p < 1, else 0 |
/// | squared_hinge | max(0, 1 − ỹ p)² | −2ỹ max(0, 1 − ỹ p) |
/// | poisson (log link) | exp(p) − y p | exp(p) − y |
///
/// For the classification losses, targets are given as ỹ = ±1 (the model converts 0/1 labels once).
package enum ScalarLoss: Sendable, Equatable {
    case squared
    case absolute
    case huber(delta: Double)
    case epsilonInsensitive(epsilon: Double)
    case quantile(tau: Double)
    case log
    case hinge
    case squaredHinge
    case poisson
    /// A formula of p and y (`ExpressionLoss`), differentiated exactly by the formula's program.
    case expression(ExpressionLoss)

    /// ℓ(p, y) and ∂ℓ/∂p together: the fused kernel needs both for every row.
    @inline(__always)
    package func evaluate(_ p: Double, _ y: Double) -> (value: Double, derivative: Double) {
        switch self {
        case .squared:
            let r = p - y
            return (0.5 * r * r, r)
        case .absolute:
            let r = p - y
            return (abs(r), r > 0 ? 1 : (r < 0 ? -1 : 0))
        case .huber(let delta):
            let r = p - y
            if abs(r) <= delta { return (0.5 * r * r, r) }
            return (delta * (abs(r) - 0.5 * delta), r > 0 ? delta : -delta)
        case .epsilonInsensitive(let epsilon):
            let r = p - y
            let excess = abs(r) - epsilon
            return excess > 0 ? (excess, r > 0 ? 1 : -1) : (0, 0)
        case .quantile(let tau):
            let r = p - y
            if r > 0 { return ((1 - tau) * r, 1 - tau) }
            if r < 0 { return (-tau * r, -tau) }
            return (0, 0)
        case .log:
            // log(1 + e^m) with m = −ỹp, stably: m + log1p(e^−m) for m > 0; the derivative is −ỹ σ(m).
            let m = -y * p
            if m > 0 {
                let e = Foundation.exp(-m)
                return (m + Foundation.log1p(e), -y / (1 + e))
            }
            let e = Foundation.exp(m)
            return (Foundation.log1p(e), -y * e / (1 + e))
        case .hinge:
            let margin = 1 - y * p
            return margin > 0 ? (margin, -y) : (0, 0)
        case .squaredHinge:
            let margin = 1 - y * p
            return margin > 0 ? (margin * margin, -2 * y * margin) : (0, 0)
        case .poisson:
            let e = Foundation.exp(p)
            return (e - y * p, e - y)
        case .expression(let loss):
            return loss.evaluate(p, y)
        }
    }

    /// A bound on ∂²ℓ/∂p², which times λ_max(AᵀSA/Σs) bounds the Lipschitz constant of the data term's
    /// gradient; nil for losses whose gradient is not Lipschitz (kinks) or unbounded (poisson), where the
    /// caller picks a step from λ_max alone.
    package var curvatureBound: Double? {
        switch self {
        case .squared, .huber: 1
        case .log: 0.25
        case .squaredHinge: 2
        case .absolute, .epsilonInsensitive, .quantile, .hinge, .poisson, .expression: nil
        }
    }

    /// Classification losses read labels as ±1.
    package var usesSignedLabels: Bool {
        switch self {
        case .log, .hinge, .squaredHinge: true
        case .expression(let loss): loss.signedLabels
        default: false
        }
    }
}

/// Softmax cross-entropy over K classes: ℓ(p, y) = log Σ_k exp(p_k) − p_y, and ∂ℓ/∂p_k = softmax(p)_k − [k = y].
/// The log-sum-exp is taken after subtracting max_k p_k, so no exp overflows.
package enum SoftmaxCrossEntropy {
    /// Writes ∂ℓ/∂p into `derivative` and returns ℓ. `scores` and `derivative` hold K values.
    @inline(__always)
    package static func evaluate(
        scores: UnsafePointer<Double>, label: Int, classes: Int, derivative: UnsafeMutablePointer<Double>
    ) -> Double {
        var largest = scores[0]
        for k in 1..<classes where scores[k] > largest { largest = scores[k] }
        var sum = 0.0
        for k in 0..<classes {
            let e = Foundation.exp(scores[k] - largest)
            derivative[k] = e
            sum += e
        }
        let inverse = 1 / sum
        for k in 0..<classes { derivative[k] *= inverse }
        derivative[label] -= 1
        return Foundation.log(sum) + largest - scores[label]
    }

    /// ∂²ℓ/∂p² ≼ ½ I (the softmax Jacobian diag(π) − ππᵀ has eigenvalues at most ½).
    package static let curvatureBound = 0.5
}
