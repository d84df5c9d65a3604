import Foundation

/// How a step turns the gradient g_t into a change of θ, with learning rate η_t. Every rule here is the
/// textbook one (PyTorch's conventions where they differ), applied coordinate-wise:
///
/// - `plain` (gd, sgd, minibatch): θ ← θ − η g.
/// - `momentum(μ)` (heavy ball): v ← μ v + g;  θ ← θ − η v.
/// - `nesterov(μ)`: v ← μ v + g;  θ ← θ − η (g + μ v)  (Sutskever et al. 2013, as in PyTorch).
/// - `adagrad(ε)`: G ← G + g²;  θ ← θ − η g / (√G + ε)  (Duchi, Hazan & Singer 2011).
/// - `rmsprop(ρ, ε)`: E ← ρ E + (1 − ρ) g²;  θ ← θ − η g / (√E + ε)  (Tieleman & Hinton 2012).
/// - `adam(β₁, β₂, ε)`: m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
///   θ ← θ − η m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)  (Kingma & Ba 2015).
package enum UpdateRule: Sendable, Equatable {
    case plain
    case momentum(Double)
    case nesterov(Double)
    case adagrad(epsilon: Double)
    case rmsprop(decay: Double, epsilon: Double)
    case adam(beta1: Double, beta2: Double, epsilon: Double)
}

/// A rule with its state (velocity or moment estimates, step count): everything needed to continue exactly.
package struct Optimizer: Sendable, Equatable {
    package let rule: UpdateRule
    package private(set) var first: [Double]
    package private(set) var second: [Double]
    package private(set) var steps: Int

    package init(rule: UpdateRule, parameterCount: Int) {
        self.rule = rule
        let needsFirst: Bool
        let needsSecond: Bool
        switch rule {
        case .plain: (needsFirst, needsSecond) = (false, false)
        case .momentum, .nesterov: (needsFirst, needsSecond) = (true, false)
        case .adagrad, .rmsprop: (needsFirst, needsSecond) = (false, true)
        case .adam: (needsFirst, needsSecond) = (true, true)
        }
        first = needsFirst ? [Double](repeating: 0, count: parameterCount) : []
        second = needsSecond ? [Double](repeating: 0, count: parameterCount) : []
        steps = 0
    }

    /// A rule with the state a checkpoint recorded.
    package init(rule: UpdateRule, first: [Double], second: [Double], steps: Int) {
        self.rule = rule
        self.first = first
        self.second = second
        self.steps = steps
    }

    /// Applies one step to `theta` in place; `gradient` has θ's length.
    package mutating func step(
        _ theta: inout [Double], gradient: UnsafeBufferPointer<Double>, learningRate eta: Double
    ) {
        steps += 1
        let count = theta.count
        switch rule {
        case .plain:
            for i in 0..<count { theta[i] -= eta * gradient[i] }
        case .momentum(let mu):
            for i in 0..<count {
                first[i] = mu * first[i] + gradient[i]
                theta[i] -= eta * first[i]
            }
        case .nesterov(let mu):
            for i in 0..<count {
                first[i] = mu * first[i] + gradient[i]
                theta[i] -= eta * (gradient[i] + mu * first[i])
            }
        case .adagrad(let epsilon):
            for i in 0..<count {
                second[i] += gradient[i] * gradient[i]
                theta[i] -= eta * gradient[i] / (second[i].squareRoot() + epsilon)
            }
        case .rmsprop(let rho, let epsilon):
            for i in 0..<count {
                second[i] = rho * second[i] + (1 - rho) * gradient[i] * gradient[i]
                theta[i] -= eta * gradient[i] / (second[i].squareRoot() + epsilon)
            }
        case .adam(let beta1, let beta2, let epsilon):
            let correction1 = 1 - Foundation.pow(beta1, Double(steps))
            let correction2 = 1 - Foundation.pow(beta2, Double(steps))
            for i in 0..<count {
                first[i] = beta1 * first[i] + (1 - beta1) * gradient[i]
                second[i] = beta2 * second[i] + (1 - beta2) * gradient[i] * gradient[i]
                theta[i] -= eta * (first[i] / correction1) / ((second[i] / correction2).squareRoot() + epsilon)
            }
        }
    }

    /// How far this rule moves coordinate i per unit of a gradient that stays constant: the factor s_i for which
    /// a proximal step after `step` must use the threshold η·s_i·l1. With it, θ = prox(θ − step(g)) holds exactly
    /// when g + l1·∂‖θ‖₁ ∋ 0, so the fixed points are the minimisers of the composite objective; with η·l1 alone
    /// heavy ball would minimise the lasso with penalty (1 − μ)·l1, and an adaptive rule something else again.
    ///
    /// - plain: 1.
    /// - momentum(μ), nesterov(μ): 1/(1 − μ) (a steady g builds v = g/(1 − μ)).
    /// - adagrad, rmsprop: 1/(√G_i + ε), 1/(√E_i + ε) — the diagonal preconditioner, as in AdaGrad's l1 update
    ///   by composite mirror descent (Duchi, Hazan & Singer 2011).
    /// - adam: 1/(√v̂_i + ε) (m̂ → g for a steady g).
    ///
    /// Read after `step`, so the state includes the current gradient.
    package func proximalScale(_ i: Int) -> Double {
        switch rule {
        case .plain: return 1
        case .momentum(let mu), .nesterov(let mu): return 1 / (1 - mu)
        case .adagrad(let epsilon), .rmsprop(_, let epsilon): return 1 / (second[i].squareRoot() + epsilon)
        case .adam(_, let beta2, let epsilon):
            let correction2 = 1 - Foundation.pow(beta2, Double(steps))
            return 1 / ((second[i] / correction2).squareRoot() + epsilon)
        }
    }
}
