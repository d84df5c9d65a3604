import Foundation

/// Evaluating f, one step, and the curvature estimate behind `.auto`.
extension FunctionMinimizer {
    /// f(point), with ∇f(point) written into `gradient`: one forward and one backward sweep over the tape, in
    /// the preallocated scratch.
    func evaluate() -> Double {
        let slots = program.slotCount
        for i in gradient.indices { gradient[i] = 0 }
        return scratch.withUnsafeMutableBufferPointer { scratch in
            point.withUnsafeBufferPointer { x in
                gradient.withUnsafeMutableBufferPointer { g in
                    let values = scratch.baseAddress!
                    let value = program.forward(x.baseAddress!, values: values)
                    program.backward(values: values, adjoints: values + slots, gradient: g.baseAddress!)
                    return value
                }
            }
        }
    }

    /// f(point) alone: a line search's trial.
    private func value() -> Double {
        scratch.withUnsafeMutableBufferPointer { scratch in
            point.withUnsafeBufferPointer { x in program.forward(x.baseAddress!, values: scratch.baseAddress!) }
        }
    }

    /// One step from `point` (= `previous`) with the gradient of the last evaluation, clipped to `clipNorm`;
    /// returns the rate actually used, which backtracking may have shrunk. The same step as `Trainer`'s
    /// full-batch one without l1: Armijo's condition f(x⁺) ≤ f(x) − c·η‖(x − x⁺)/η‖² on the rule's own step
    /// (for `plain`, (x − x⁺)/η is the gradient, as in Nocedal & Wright, Algorithm 3.1), every trial from the
    /// same optimizer state, the last rate kept if the condition never holds.
    func step(rate: Double, loss: Double) -> Double {
        if let limit = configuration.clipNorm {
            let norm = Self.norm(gradient)
            if norm > limit, norm > 0 {
                for i in gradient.indices { gradient[i] *= limit / norm }
            }
        }
        guard let search = configuration.lineSearch else {
            gradient.withUnsafeBufferPointer { optimizer.step(&point, gradient: $0, learningRate: rate) }
            return rate
        }
        var eta = rate
        let state = optimizer
        for attempt in 0...search.maxShrinks {
            for i in point.indices { point[i] = previous[i] }
            optimizer = state
            gradient.withUnsafeBufferPointer { optimizer.step(&point, gradient: $0, learningRate: eta) }
            var mappedSquares = 0.0
            for i in point.indices {
                let mapped = (previous[i] - point[i]) / eta
                mappedSquares += mapped * mapped
            }
            if value() <= loss - search.armijo * eta * mappedSquares || attempt == search.maxShrinks { break }
            eta *= search.shrink
        }
        return eta
    }

    /// The local curvature of f at x: the largest |eigenvalue| of the Hessian ∇²f(x), by power iteration
    /// (Golub & Van Loan, Matrix Computations, §7.3.1) on Hessian–vector products, each a central difference
    /// of the exact gradient, Hv ≈ (∇f(x + hv) − ∇f(x − hv)) / 2h for ‖v‖ = 1, with h = ∛ε·max(1, ‖x‖): the
    /// step that balances the O(h²) truncation and the O(ε/h) rounding of a central difference (Nocedal &
    /// Wright, §8.1). Exact up to rounding for a quadratic. 1/L is then the largest step that plain descent
    /// can take near x without overshooting along the steepest direction of curvature.
    ///
    /// Iterates until ‖Hv‖ changes by less than 1e-6 relative (at most 100 products); nil when ∇f is not
    /// finite near x, 0 when f is flat to first order there.
    func curvature(at x: [Double]) -> Double? {
        let h = 6.055_454_452_393_339_5e-6 * max(1, Self.norm(x))
        // Deterministic and generic: all entries nonzero and distinct, so no symmetry keeps v orthogonal to the
        // leading eigenvector of a typical Hessian.
        var v = x.indices.map { 1 / Double($0 + 1) }
        let length = Self.norm(v)
        for i in v.indices { v[i] /= length }
        var estimate = 0.0
        for _ in 0..<100 {
            let plus = program.gradient(at: x.indices.map { x[$0] + h * v[$0] }).gradient
            let minus = program.gradient(at: x.indices.map { x[$0] - h * v[$0] }).gradient
            let product = plus.indices.map { (plus[$0] - minus[$0]) / (2 * h) }
            let norm = Self.norm(product)
            guard norm.isFinite else { return nil }
            guard norm > 0 else { return 0 }
            let settled = abs(norm - estimate) <= 1e-6 * norm
            estimate = norm
            v = product.map { $0 / norm }
            if settled { break }
        }
        return estimate
    }

    /// The Euclidean norm.
    static func norm(_ vector: [Double]) -> Double {
        var squares = 0.0
        for value in vector { squares += value * value }
        return squares.squareRoot()
    }
}
