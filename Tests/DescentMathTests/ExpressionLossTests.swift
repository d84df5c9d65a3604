import Foundation
import Testing

@testable import DescentMath

/// A built-in loss and the same loss written as a formula of p and y.
struct BuiltInLossCase: Sendable, CustomTestStringConvertible {
    let formula: String
    let loss: ScalarLoss
    /// Predictions are drawn uniformly from here.
    let predictions: ClosedRange<Double>
    /// A target for the loss (±1 for the classification losses, which read labels that way).
    let target: @Sendable (inout RandomSource) -> Double
    /// Whether the formula computes with the very same operations as the built-in; otherwise 1e-12 relative.
    let bitwise: Bool

    var testDescription: String { "\(loss) as \(formula)" }

    static let regression: @Sendable (inout RandomSource) -> Double = { 10 * $0.nextDouble() - 5 }
    static let label: @Sendable (inout RandomSource) -> Double = { $0.nextDouble() < 0.5 ? -1 : 1 }
    static let count: @Sendable (inout RandomSource) -> Double = { Double($0.nextInt(below: 6)) }

    static let all: [BuiltInLossCase] = [
        BuiltInLossCase(
            formula: "(p - y)^2 / 2", loss: .squared, predictions: -50...50, target: regression, bitwise: true),
        BuiltInLossCase(formula: "abs(p - y)", loss: .absolute, predictions: -8...8, target: regression, bitwise: true),
        BuiltInLossCase(
            formula: "where(abs(p - y) <= 1.5, (p - y)^2 / 2, 1.5 * (abs(p - y) - 0.5 * 1.5))",
            loss: .huber(delta: 1.5), predictions: -8...8, target: regression, bitwise: true),
        BuiltInLossCase(
            formula: "max(0, abs(p - y) - 0.3)", loss: .epsilonInsensitive(epsilon: 0.3), predictions: -8...8,
            target: regression, bitwise: true),
        BuiltInLossCase(
            formula: "max(-0.3 * (p - y), (1 - 0.3) * (p - y))", loss: .quantile(tau: 0.3), predictions: -8...8,
            target: regression, bitwise: true),
        // log(1 + e^m) rounds 1 + e^m, which loses the relative accuracy of e^m ≪ 1 that the built-in's log1p
        // keeps: about ε / e^m relative, 1e-14 at |p| = 5 (and 1e-12 only past |p| ≈ 9) — hence moderate p.
        BuiltInLossCase(
            formula: "log(1 + exp(-y*p))", loss: .log, predictions: -5...5, target: label, bitwise: false),
        // softplus is the built-in's stable form, so this one is exact at any p.
        BuiltInLossCase(formula: "softplus(-y*p)", loss: .log, predictions: -60...60, target: label, bitwise: true),
        BuiltInLossCase(formula: "max(0, 1 - y*p)", loss: .hinge, predictions: -3...3, target: label, bitwise: true),
        BuiltInLossCase(
            formula: "max(0, 1 - y*p)^2", loss: .squaredHinge, predictions: -3...3, target: label, bitwise: true),
        BuiltInLossCase(formula: "exp(p) - y*p", loss: .poisson, predictions: -3...3, target: count, bitwise: true),
    ]
}

@Suite("Expression losses")
struct ExpressionLossTests {
    @Test(
        "a formula equal to a built-in loss gives its value and derivative at 2,000 seeded (p, y)",
        arguments: BuiltInLossCase.all)
    func equalsBuiltIn(_ testCase: BuiltInLossCase) throws {
        let formula = try ExpressionLoss(testCase.formula, signedLabels: testCase.loss.usesSignedLabels)
        #expect(ScalarLoss.expression(formula).usesSignedLabels == testCase.loss.usesSignedLabels)
        var random = RandomSource(seed: 7100)
        var mismatches = 0
        var first: String?
        for _ in 0..<2000 {
            let range = testCase.predictions
            let p = range.lowerBound + (range.upperBound - range.lowerBound) * random.nextDouble()
            let y = testCase.target(&random)
            let expected = testCase.loss.evaluate(p, y)
            let got = ScalarLoss.expression(formula).evaluate(p, y)
            let equal: Bool
            if testCase.bitwise {
                equal =
                    got.value.bitPattern == expected.value.bitPattern
                    && got.derivative.bitPattern == expected.derivative.bitPattern
            } else {
                let valueError = abs(got.value - expected.value) / abs(expected.value)
                let derivativeError = abs(got.derivative - expected.derivative) / abs(expected.derivative)
                equal = valueError <= 1e-12 && derivativeError <= 1e-12
            }
            if !equal {
                mismatches += 1
                first = first ?? "p = \(p), y = \(y): \(got) for the built-in's \(expected)"
            }
        }
        #expect(mismatches == 0, "\(mismatches) of 2,000 differ; the first: \(first ?? "")")
    }
}
