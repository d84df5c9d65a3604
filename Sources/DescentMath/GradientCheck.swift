/// The gradient check of `POST /v1/gradcheck`: an analytic gradient against central finite differences.
package enum GradientCheck {
    /// (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ for each coordinate, with hᵢ = 1e-6·max(1, |xᵢ|): a step of about
    /// the cube root of the double's epsilon (times the scale), which balances truncation error (∝ h²) against
    /// rounding (∝ ε/h), leaving ~1e-10 relative for a smooth f. `skip` coordinates get 0 (not parameters).
    package static func centralDifferences(
        at point: [Double], skip: Set<Int> = [], _ f: ([Double]) -> Double
    ) -> [Double] {
        var probe = point
        return point.indices.map { index in
            guard !skip.contains(index) else { return 0 }
            let h = 1e-6 * Swift.max(1, Swift.abs(point[index]))
            probe[index] = point[index] + h
            let above = f(probe)
            probe[index] = point[index] - h
            let below = f(probe)
            probe[index] = point[index]
            return (above - below) / (2 * h)
        }
    }

    /// max over coordinates of |a − n| / max(|a|, |n|, floor), floor = 1e-6·max(1, |f|): relative where a
    /// partial derivative is not tiny, and against the floor where both are nearly 0 — the differences' own
    /// rounding noise is about ε·|f|/h ≈ 2e-10·|f|, so without a floor a zero gradient (−1e-17 against 3e-11)
    /// would read as a large error.
    package static func maxRelativeError(_ analytic: [Double], _ numeric: [Double], scale f: Double = 1) -> Double {
        let floor = 1e-6 * Swift.max(1, f.isFinite ? Swift.abs(f) : 1)
        return zip(analytic, numeric).reduce(0) { worst, pair in
            let (a, n) = pair
            guard a.isFinite, n.isFinite else { return .infinity }
            return Swift.max(worst, Swift.abs(a - n) / Swift.max(Swift.abs(a), Swift.abs(n), floor))
        }
    }
}
