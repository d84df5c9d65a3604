import Foundation
import Testing

@testable import DescentMath

/// Central finite differences for the expression tests, with the tolerance they can be held to.
///
/// For a step h the central difference (f(x + h) − f(x − h)) / 2h differs from f′(x) by the truncation
/// h² f‴(ξ) / 6 plus the rounding of the two evaluations divided by 2h. With h = 1e-6·max(1, |x|) (or
/// h = 1e-6·|x| for the points near an edge of a domain, where a step of 1e-6 would leave it) and the sampling
/// ranges below, where |f‴/f′| ≲ 10 / max(1, |x|)², the truncation is ≲ 2e-12 of |f′|, and the rounding, each
/// evaluation being correct to a few ulp of |f| (the tape rounds once per step), is ≲ 10 ε |f| / h ≈ 2e-9 |f| /
/// max(1, |x|). In practice the difference agrees with an exact derivative to ~1e-8…1e-10 relative, so the
/// bound `fdTolerance` — 1e-6 of the derivative, plus 100 ε (|f(x+h)| + |f(x−h)|) / 2h for the rounding, which
/// dominates where f′ is near 0 — has a wide margin and still fails on any wrong rule (a wrong sign, a
/// missing chain-rule factor, the derivative of the wrong argument: errors of order |f′| itself).
enum ExpressionNumerics {
    static let fdRelative = 1e-6

    /// ∂f/∂xᵢ by central differences with step `relativeStep`·max(`floor`, |xᵢ|), and each one's tolerance.
    static func centralDifferences(
        _ f: ([Double]) -> Double, at x: [Double], relativeStep: Double = 1e-6, floor: Double = 1
    ) -> [(estimate: Double, tolerance: Double)] {
        x.indices.map { i in
            let h = relativeStep * max(floor, abs(x[i]))
            var plus = x
            var minus = x
            plus[i] += h
            minus[i] -= h
            let high = f(plus)
            let low = f(minus)
            let width = plus[i] - minus[i]
            let estimate = (high - low) / width
            let rounding = 100 * Double.ulpOfOne * (abs(high) + abs(low)) / width
            return (estimate, fdRelative * abs(estimate) + rounding)
        }
    }

    /// Checks ∇f from the tape against central differences and, when given, the exact gradient: to 1e-12
    /// relative (both are the same formula up to a few roundings), or 1e-15 absolute — σ′ is computed as
    /// σ(1 − σ), whose 1 − σ keeps only an absolute accuracy of ε where σ → 1 (1e-10 relative at x = 14).
    /// Returns whether every comparison held.
    @discardableResult
    static func check(
        _ program: ExpressionProgram, at point: [Double], exact: [Double]? = nil, relativeStep: Double = 1e-6,
        floor: Double = 1, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        let (value, gradient) = program.gradient(at: point)
        let context = "\(program.source) at \(point)"
        #expect(value.isFinite, "\(context): value \(value)", sourceLocation: sourceLocation)
        #expect(
            value.bitPattern == program.value(at: point).bitPattern, "\(context): gradient(at:) and value(at:) differ",
            sourceLocation: sourceLocation)
        var passed = value.isFinite
        let differences = centralDifferences(
            { program.value(at: $0) }, at: point, relativeStep: relativeStep, floor: floor)
        for (i, (estimate, tolerance)) in differences.enumerated() {
            let error = abs(gradient[i] - estimate)
            passed = passed && gradient[i].isFinite && error <= tolerance
            #expect(
                gradient[i].isFinite && error <= tolerance,
                "\(context): ∂/∂\(program.variables[i]) = \(gradient[i]), central difference \(estimate)",
                sourceLocation: sourceLocation)
            if let exact {
                passed = passed && abs(gradient[i] - exact[i]) <= 1e-12 * abs(exact[i]) + 1e-15
                #expect(
                    abs(gradient[i] - exact[i]) <= 1e-12 * abs(exact[i]) + 1e-15,
                    "\(context): ∂/∂\(program.variables[i]) = \(gradient[i]), exact \(exact[i])",
                    sourceLocation: sourceLocation)
            }
        }
        return passed
    }

    /// `count` seeded points, coordinate i uniform on ranges[i], redrawn while `accept` is false.
    static func points(
        _ count: Int, _ ranges: [ClosedRange<Double>], seed: UInt64, accept: ([Double]) -> Bool = { _ in true }
    ) -> [[Double]] {
        var random = RandomSource(seed: seed)
        var points: [[Double]] = []
        while points.count < count {
            let point = ranges.map { $0.lowerBound + ($0.upperBound - $0.lowerBound) * random.nextDouble() }
            if accept(point) { points.append(point) }
        }
        return points
    }
}

/// One formula, where to sample it, and its exact gradient (written independently of the tape's rules).
struct DerivativeCase: Sendable, CustomTestStringConvertible {
    let formula: String
    let variables: [String]
    let ranges: [ClosedRange<Double>]
    /// Points closer than this to a kink (a |…| of 0, a tie of min/max, a where's switch) are redrawn.
    let kink: (@Sendable ([Double]) -> Double)?
    let exact: @Sendable ([Double]) -> [Double]

    init(
        _ formula: String, _ ranges: [ClosedRange<Double>], variables: [String] = ["x", "y"],
        kink: (@Sendable ([Double]) -> Double)? = nil, exact: @escaping @Sendable ([Double]) -> [Double]
    ) {
        self.formula = formula
        self.variables = Array(variables.prefix(ranges.count))
        self.ranges = ranges
        self.kink = kink
        self.exact = exact
    }

    var testDescription: String { formula }
}

private func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
private func sign(_ x: Double) -> Double { x > 0 ? 1 : -1 }

@Suite("Expression derivatives")
struct ExpressionDerivativeTests {
    static let unary: [DerivativeCase] = [
        DerivativeCase("-x", [-10...10]) { _ in [-1] },
        DerivativeCase("exp(x)", [-5...5]) { [exp($0[0])] },
        DerivativeCase("log(x)", [0.01...20]) { [1 / $0[0]] },
        DerivativeCase("log1p(x)", [-0.9...20]) { [1 / (1 + $0[0])] },
        DerivativeCase("sqrt(x)", [0.01...20]) { [0.5 / $0[0].squareRoot()] },
        DerivativeCase("abs(x)", [-5...5], kink: { abs($0[0]) }, exact: { [sign($0[0])] }),
        DerivativeCase("sin(x)", [-10...10]) { [cos($0[0])] },
        DerivativeCase("cos(x)", [-10...10]) { [-sin($0[0])] },
        DerivativeCase("tan(x)", [-1.4...1.4]) { [1 / (cos($0[0]) * cos($0[0]))] },
        DerivativeCase("tanh(x)", [-5...5]) { [1 - tanh($0[0]) * tanh($0[0])] },
        DerivativeCase("sigmoid(x)", [-15...15]) { [sigmoid($0[0]) * sigmoid(-$0[0])] },
        DerivativeCase("softplus(x)", [-20...20]) { [sigmoid($0[0])] },
        DerivativeCase("x^2", [-5...5]) { [2 * $0[0]] },
        DerivativeCase("pow(x, 2)", [-5...5]) { [2 * $0[0]] },
        DerivativeCase("x^3", [-3...3]) { [3 * $0[0] * $0[0]] },
        DerivativeCase("x^-2", [0.2...5]) { [-2 / ($0[0] * $0[0] * $0[0])] },
        DerivativeCase("x^0.5", [0.01...20]) { [0.5 / $0[0].squareRoot()] },
        DerivativeCase("2^x", [-5...5]) { [pow(2, $0[0]) * log(2)] },
    ]

    static let binary: [DerivativeCase] = [
        DerivativeCase("x + y", [-10...10, -10...10]) { _ in [1, 1] },
        DerivativeCase("x - y", [-10...10, -10...10]) { _ in [1, -1] },
        DerivativeCase("x * y", [-10...10, -10...10]) { [$0[1], $0[0]] },
        DerivativeCase(
            "x / y", [-10...10, -10...10], kink: { abs($0[1]) - 0.1 },
            exact: {
                [1 / $0[1], -$0[0] / ($0[1] * $0[1])]
            }),
        DerivativeCase("x ^ y", [0.1...4, -3...3]) { [$0[1] * pow($0[0], $0[1] - 1), pow($0[0], $0[1]) * log($0[0])] },
        DerivativeCase("pow(x, y)", [0.1...4, -3...3]) {
            [$0[1] * pow($0[0], $0[1] - 1), pow($0[0], $0[1]) * log($0[0])]
        },
        DerivativeCase(
            "min(x, y)", [-5...5, -5...5], kink: { abs($0[0] - $0[1]) },
            exact: {
                $0[0] < $0[1] ? [1, 0] : [0, 1]
            }),
        DerivativeCase(
            "max(x, y)", [-5...5, -5...5], kink: { abs($0[0] - $0[1]) },
            exact: {
                $0[0] > $0[1] ? [1, 0] : [0, 1]
            }),
        DerivativeCase(
            "where(x < y, x*y, x - y^2)", [-3...3, -3...3], kink: { abs($0[0] - $0[1]) },
            exact: {
                $0[0] < $0[1] ? [$0[1], $0[0]] : [1, -2 * $0[1]]
            }),
        DerivativeCase(
            "where(x >= 0, sin(y), exp(x)*y)", [-3...3, -3...3], kink: { abs($0[0]) },
            exact: {
                $0[0] >= 0 ? [0, cos($0[1])] : [exp($0[0]) * $0[1], exp($0[0])]
            }),
        // Comparisons are piecewise constant: no derivative flows through them, only through the branches.
        DerivativeCase(
            "(x < y) + 2*(x > 1)", [-3...3, -3...3], kink: { min(abs($0[0] - $0[1]), abs($0[0] - 1)) },
            exact: {
                _ in [0, 0]
            }),
    ]

    static let composite: [DerivativeCase] = [
        DerivativeCase("(1 - x)^2 + 100*(y - x^2)^2", [-2...2, -1...3]) {
            let (x, y) = ($0[0], $0[1])
            return [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]
        },
        DerivativeCase(
            "exp(-x^2 - y^2) * sin(x*z) + log1p(x^2) / (1 + z^2)", [-2...2, -2...2, -2...2],
            variables: ["x", "y", "z"]
        ) {
            let (x, y, z) = ($0[0], $0[1], $0[2])
            let g = exp(-x * x - y * y)
            let d = 1 + z * z
            return [
                -2 * x * g * sin(x * z) + g * cos(x * z) * z + 2 * x / (1 + x * x) / d,
                -2 * y * g * sin(x * z),
                g * cos(x * z) * x - log1p(x * x) * 2 * z / (d * d),
            ]
        },
        DerivativeCase("sqrt(x^2 + y^2 + z^2) * tanh(x*y*z)", [-2...2, -2...2, -2...2], variables: ["x", "y", "z"]) {
            let (x, y, z) = ($0[0], $0[1], $0[2])
            let r = (x * x + y * y + z * z).squareRoot()
            let t = tanh(x * y * z)
            let dt = 1 - t * t
            return [x / r * t + r * dt * y * z, y / r * t + r * dt * x * z, z / r * t + r * dt * x * y]
        },
        DerivativeCase(
            "softplus(x - y) * sigmoid(z) + pow(x, z) - max(y, z) + abs(x - z) / 2", [0.2...3, -2...2, -2...2],
            variables: ["x", "y", "z"], kink: { min(abs($0[1] - $0[2]), abs($0[0] - $0[2])) },
            exact: {
                let (x, y, z) = ($0[0], $0[1], $0[2])
                let s = sigmoid(z)
                let sp = x - y > 0 ? x - y + log1p(exp(y - x)) : log1p(exp(x - y))
                return [
                    sigmoid(x - y) * s + z * pow(x, z - 1) + sign(x - z) / 2,
                    -sigmoid(x - y) * s - (y > z ? 1 : 0),
                    sp * s * (1 - s) + pow(x, z) * log(x) - (y > z ? 0 : 1) - sign(x - z) / 2,
                ]
            }),
        DerivativeCase(
            "where(x*y > 0, log(x*y), -x*y) + cos(x)^2 + e^y - pi*x", [-2...2, -2...2],
            kink: { abs($0[0] * $0[1]) },
            exact: {
                let (x, y) = ($0[0], $0[1])
                let branch = x * y > 0 ? [1 / x, 1 / y] : [-y, -x]
                return [branch[0] - 2 * cos(x) * sin(x) - Double.pi, branch[1] + exp(y)]
            }),
        // A repeated subexpression is computed once (shared slot) and its adjoint collects both uses.
        DerivativeCase("(x*y)^2 + exp(x*y) + x*y", [-2...2, -2...2]) {
            let u = $0[0] * $0[1]
            let du = 2 * u + exp(u) + 1
            return [du * $0[1], du * $0[0]]
        },
    ]

    static func run(_ testCase: DerivativeCase, seed: UInt64, count: Int = 64) throws {
        let program = try ExpressionProgram(testCase.formula, variables: testCase.variables)
        let points = ExpressionNumerics.points(count, testCase.ranges, seed: seed) { point in
            (testCase.kink?(point) ?? 1) > 1e-3
        }
        // Stops after three failing points: a wrong rule fails at nearly all of them, and three say enough.
        var failures = 0
        for point in points where failures < 3 {
            if !ExpressionNumerics.check(program, at: point, exact: testCase.exact(point)) { failures += 1 }
        }
    }

    @Test(
        "each function and unary operator's derivative matches central differences at 64 seeded points",
        arguments: unary)
    func unaryDerivatives(_ testCase: DerivativeCase) throws {
        try Self.run(testCase, seed: 7001)
    }

    @Test("each binary operator's and where's partial derivatives match central differences", arguments: binary)
    func binaryDerivatives(_ testCase: DerivativeCase) throws {
        try Self.run(testCase, seed: 7002)
    }

    @Test(
        "gradient(at:) of composite formulas of several variables matches central differences per coordinate",
        arguments: composite)
    func compositeGradients(_ testCase: DerivativeCase) throws {
        try Self.run(testCase, seed: 7003)
    }

    @Test("log, log1p and sqrt near the edge of their domain: exact derivatives at 1e-8 and below")
    func nearZero() throws {
        let log = try ExpressionProgram("log(x)", variables: ["x"])
        let log1p = try ExpressionProgram("log1p(x)", variables: ["x"])
        let sqrt = try ExpressionProgram("sqrt(x)", variables: ["x"])
        for x in [1e-8, 3e-10, 1e-12, 1e-300] {
            // A step of 1e-6·|x|: a fixed step of 1e-6 would cross 0.
            ExpressionNumerics.check(log, at: [x], exact: [1 / x], floor: 0)
            ExpressionNumerics.check(sqrt, at: [x], exact: [0.5 / x.squareRoot()], floor: 0)
            ExpressionNumerics.check(log1p, at: [x], exact: [1 / (1 + x)], floor: 0)
        }
        // log1p near its pole at −1: 1 + x ≈ 1e-8, so the step is 1e-15 (nine ulp of x).
        let nearPole = -1 + 1e-8
        ExpressionNumerics.check(log1p, at: [nearPole], exact: [1 / (1 + nearPole)], relativeStep: 1e-15, floor: 0)
        // At the edge itself the limits: log′ and sqrt′ are +∞ at 0 (not NaN).
        #expect(log.gradient(at: [0]).gradient == [.infinity])
        #expect(sqrt.gradient(at: [0]).gradient == [.infinity])
    }

    @Test("exp near the top of the Double range: the derivative is the value, finite, and matches differences")
    func largeExp() throws {
        let exp = try ExpressionProgram("exp(x)", variables: ["x"])
        for x in [100.0, 500, 700, 709] {
            let (value, gradient) = exp.gradient(at: [x])
            #expect(value == Foundation.exp(x) && gradient == [value])
            // FD of exp has relative truncation error h²/6: a relative step of 1e-9 keeps it below 1e-7.
            ExpressionNumerics.check(exp, at: [x], exact: [Foundation.exp(x)], relativeStep: 1e-9)
        }
        // Beyond the range the value overflows to +∞, and so does the derivative, without NaN.
        #expect(exp.gradient(at: [710]) == (.infinity, [.infinity]))
        let scaled = try ExpressionProgram("exp(x - 700) * 2", variables: ["x"])
        ExpressionNumerics.check(scaled, at: [1400], exact: [2 * Foundation.exp(700.0)], relativeStep: 1e-10)
    }

    @Test("sigmoid, softplus and tanh stay finite and exact far out: ±40 and ±700")
    func saturation() throws {
        let sigmoid = try ExpressionProgram("sigmoid(x)", variables: ["x"])
        let softplus = try ExpressionProgram("softplus(x)", variables: ["x"])
        let tanh = try ExpressionProgram("tanh(x)", variables: ["x"])
        for x in [-700.0, -40, 40, 700] {
            for program in [sigmoid, softplus, tanh] {
                let (value, gradient) = program.gradient(at: [x])
                #expect(value.isFinite && gradient[0].isFinite && gradient[0] >= 0, "\(program.source) at \(x)")
            }
        }
        // Where σ is tiny, it and its derivative are relatively exact: σ(−x) ≈ σ′(−x) ≈ e^−x.
        for x in [40.0, 700] {
            let tail = Foundation.exp(-x) / (1 + Foundation.exp(-x))
            let (low, lowGradient) = sigmoid.gradient(at: [-x])
            #expect(abs(low - tail) <= 1e-15 * tail)
            #expect(abs(lowGradient[0] - tail) <= 1e-15 * tail)
            let (high, highGradient) = sigmoid.gradient(at: [x])
            #expect(high == 1)
            // σ′(x) = σ(x)σ(−x) ≈ e^−x: the tape's σ(1 − σ) gives it to within an absolute ε·e^−x-ish error.
            #expect(abs(highGradient[0] - tail) <= 1e-16)
            let (plusLow, plusLowGradient) = softplus.gradient(at: [-x])
            #expect(abs(plusLow - Foundation.exp(-x)) <= 1e-15 * Foundation.exp(-x))
            #expect(abs(plusLowGradient[0] - tail) <= 1e-15 * tail)
            #expect(softplus.gradient(at: [x]) == (x, [1]))
            #expect(tanh.gradient(at: [x]) == (1, [0]))
        }
        ExpressionNumerics.check(sigmoid, at: [-40], exact: [Foundation.exp(-40.0) / (1 + Foundation.exp(-40.0))])
        ExpressionNumerics.check(softplus, at: [-40], exact: [Foundation.exp(-40.0) / (1 + Foundation.exp(-40.0))])
        ExpressionNumerics.check(softplus, at: [40], exact: [1 / (1 + Foundation.exp(-40.0))])
        // The naive forms overflow where the built-in ones do not: e.g. log(1 + exp(700)) is +∞.
        let naive = try ExpressionProgram("log(1 + exp(x))", variables: ["x"])
        #expect(naive.value(at: [710]) == .infinity)
        #expect(softplus.value(at: [710]) == 710)
    }

    @Test("pow with a variable base and exponent, and constant exponents over negative bases")
    func power() throws {
        let program = try ExpressionProgram("x^y", variables: ["x", "y"])
        for point in ExpressionNumerics.points(64, [1e-3...50, -4...4], seed: 7004) {
            let (x, y) = (point[0], point[1])
            // A step of 1e-6·|x| down to x = 1e-3: a step of 1e-6 would be 1e-3 of x there.
            ExpressionNumerics.check(
                program, at: point, exact: [y * pow(x, y - 1), pow(x, y) * log(x)], floor: 1e-3)
        }
        // A negative base with an integer exponent is real; its derivative in the base is b·aᵇ⁻¹.
        let cube = try ExpressionProgram("x^3 - pow(x, -1)", variables: ["x"])
        for x in [-2.5, -0.5, 0.5, 2.5] { ExpressionNumerics.check(cube, at: [x], exact: [3 * x * x + 1 / (x * x)]) }
        // At a = 0 with b > 0, ∂(aᵇ)/∂b is 0 in the limit (aᵇ log a → 0), not NaN.
        #expect(program.gradient(at: [0, 2.5]).gradient == [0, 0])
        #expect(program.gradient(at: [0, 1]).gradient == [1, 0])
    }

    @Test("x^0 has derivative 0 everywhere, including at x = 0")
    func zeroExponent() throws {
        let program = try ExpressionProgram("x^0", variables: ["x"])
        #expect(program.gradient(at: [2]) == (1, [0]))
        #expect(program.gradient(at: [0]) == (1, [0]))
    }

    @Test("kinks take the documented subgradient: abs′(0) = 0, min and max the first argument on a tie")
    func subgradients() throws {
        #expect(try ExpressionProgram("abs(x)", variables: ["x"]).gradient(at: [0]).gradient == [0])
        #expect(try ExpressionProgram("min(x, y)", variables: ["x", "y"]).gradient(at: [1, 1]).gradient == [1, 0])
        #expect(try ExpressionProgram("max(x, y)", variables: ["x", "y"]).gradient(at: [1, 1]).gradient == [1, 0])
    }

    @Test("the branch where() does not take contributes nothing, even when it is NaN or infinite there")
    func untakenBranch() throws {
        let program = try ExpressionProgram("where(x > 0, sqrt(x) + log(x), -x)", variables: ["x"])
        #expect(program.gradient(at: [-4]) == (4, [-1]))
        #expect(program.gradient(at: [4]) == (2 + log(4.0), [0.25 + 0.25]))
        let division = try ExpressionProgram("where(y != 0, x / y, 0)", variables: ["x", "y"])
        #expect(division.gradient(at: [3, 0]) == (0, [0, 0]))
    }

    @Test("only the variables asked for are differentiated; the others' entries are 0")
    func differentiatingSubset() throws {
        let program = try ExpressionProgram("x*y + exp(y)", variables: ["x", "y"], differentiating: [0])
        #expect(program.gradient(at: [2, 3]).gradient == [3, 0])
        let loss = try ExpressionLoss("p*y + y^2", signedLabels: false)
        #expect(loss.evaluate(2, 3) == (15, 3))
    }

    @Test("a formula that is one variable is that variable, with derivative 1")
    func bareVariable() throws {
        let p = try ExpressionProgram("p", variables: ["p", "y"])
        #expect(p.gradient(at: [3, 5]) == (3, [1, 0]))
        let y = try ExpressionProgram("y", variables: ["p", "y"])
        #expect(y.gradient(at: [3, 5]) == (5, [0, 1]))
        let x = try ExpressionProgram("(x)", variables: ["x", "y", "z"])
        #expect(x.gradient(at: [1, 2, 3]) == (1, [1, 0, 0]))
        let loss = try ExpressionLoss("p", signedLabels: false)
        #expect(loss.evaluate(3, 5) == (3, 1))
    }

    @Test("a formula that folds to a constant already on the tape has that constant's value")
    func foldedToEarlierConstant() throws {
        #expect(try ExpressionProgram("1 + 1 - 1", variables: ["x"]).value(at: [9]) == 1)
        #expect(try ExpressionProgram("e - e + e", variables: ["x"]).value(at: [9]) == M_E)
        #expect(try ExpressionProgram("1 < 2", variables: ["x"]).value(at: [9]) == 1)
        #expect(try ExpressionProgram("0 >= 1", variables: ["x"]).value(at: [9]) == 0)
    }

    @Test("constant folding keeps −0 apart from +0 (1/−0 is −∞, as IEEE 754 computes it)")
    func negativeZero() throws {
        #expect(try ExpressionProgram("1/(-0)", variables: ["x"]).value(at: [1]) == -.infinity)
        #expect(try ExpressionProgram("x + 1/(0*-1)", variables: ["x"]).value(at: [1]) == -.infinity)
    }
}
