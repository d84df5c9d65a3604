/// A per-row loss written as a formula of `p` (the model's prediction x·w + b) and `y` (the row's target),
/// e.g. `log(1 + exp(-y*p))`. Compiled once; each row costs one forward and one backward sweep of its tape
/// (∂ℓ/∂p only: `y`'s part of the tape is skipped), with no allocation.
///
/// For a logistic model `signedLabels` is set and y is given as ±1 (labels 0/1 are converted, as for the
/// built-in classification losses), so the same formulas work for 0/1 and −1/+1 data.
package struct ExpressionLoss: Sendable, Equatable, CustomStringConvertible {
    package let program: ExpressionProgram
    package let signedLabels: Bool

    package static let variables = ["p", "y"]

    package init(_ formula: String, signedLabels: Bool) throws(ExpressionError) {
        program = try ExpressionProgram(formula, variables: Self.variables, differentiating: [0])
        self.signedLabels = signedLabels
    }

    package static func == (lhs: ExpressionLoss, rhs: ExpressionLoss) -> Bool {
        lhs.program.source == rhs.program.source && lhs.signedLabels == rhs.signedLabels
    }

    package var description: String { program.source }

    /// ℓ(p, y) and ∂ℓ/∂p.
    @inline(__always)
    package func evaluate(_ p: Double, _ y: Double) -> (value: Double, derivative: Double) {
        let slots = program.slotCount
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * slots + 2) { scratch in
            let base = scratch.baseAddress!
            let inputs = base + 2 * slots
            inputs[0] = p
            inputs[1] = y
            let value = program.forward(inputs, values: base)
            var derivative = 0.0
            program.backward(values: base, adjoints: base + slots, gradient: &derivative)
            return (value, derivative)
        }
    }
}
