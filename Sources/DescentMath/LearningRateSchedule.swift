import Foundation

/// η_t from the base rate η₀ at iteration t (0 for the first step), for a run of T iterations at most.
///
/// - `constant`: η₀
/// - `step(every: k, gamma: γ)`: η₀ γ^⌊t/k⌋
/// - `exponential(gamma: γ)`: η₀ γᵗ
/// - `inverseTime(decay: d)`: η₀ / (1 + d t)
/// - `cosine(minimum: η_min)`: η_min + ½ (η₀ − η_min)(1 + cos(π t / T))  (Loshchilov & Hutter 2017, one cycle)
package enum LearningRateSchedule: Sendable, Equatable {
    case constant
    case step(every: Int, gamma: Double)
    case exponential(gamma: Double)
    case inverseTime(decay: Double)
    case cosine(minimum: Double)

    package func rate(base: Double, iteration t: Int, totalIterations: Int) -> Double {
        switch self {
        case .constant:
            return base
        case .step(let every, let gamma):
            return base * Foundation.pow(gamma, Double(t / max(1, every)))
        case .exponential(let gamma):
            return base * Foundation.pow(gamma, Double(t))
        case .inverseTime(let decay):
            return base / (1 + decay * Double(t))
        case .cosine(let minimum):
            let progress = Double(min(t, totalIterations)) / Double(max(1, totalIterations))
            return minimum + 0.5 * (base - minimum) * (1 + Foundation.cos(Double.pi * progress))
        }
    }
}

/// Backtracking line search with the Armijo condition (Nocedal & Wright, Algorithm 3.1), for full-batch
/// steps: starting from the scheduled rate, shrink η ← shrink·η until
/// f(θ − η g) ≤ f(θ) − c·η‖g‖² (with an l1 penalty, the proximal form of the condition is used).
package struct LineSearch: Sendable, Equatable {
    package var shrink: Double
    package var armijo: Double
    /// Shrinks at most this many times per step; the last rate is kept if the condition never holds.
    package var maxShrinks = 50

    package init(shrink: Double = 0.5, armijo: Double = 1e-4) {
        self.shrink = shrink
        self.armijo = armijo
    }
}
