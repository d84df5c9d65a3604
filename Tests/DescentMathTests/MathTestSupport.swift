import Foundation
import Testing

@testable import DescentMath

/// Shared by the objective, optimizer, stopping and reference tests: a deterministic data generator, API.md's
/// objective written out naively (independently of `Objective`), central finite differences, and the fixtures.
enum MathTestData {
    /// `rows` × `columns` features, entry (i, j) = means[j] + scales[j]·z with z ~ N(0, 1) from `RandomSource`.
    static func features(
        rows: Int, columns: Int, seed: UInt64, means: [Double]? = nil, scales: [Double]? = nil
    ) -> [[Double]] {
        var random = RandomSource(seed: seed)
        return (0..<rows).map { _ in
            (0..<columns).map { j in (means?[j] ?? 0) + (scales?[j] ?? 1) * random.nextNormal() }
        }
    }

    /// Uniform on [low, high).
    static func uniform(_ count: Int, _ low: Double, _ high: Double, seed: UInt64) -> [Double] {
        var random = RandomSource(seed: seed)
        return (0..<count).map { _ in low + (high - low) * random.nextDouble() }
    }

    static func normals(_ count: Int, scale: Double = 1, seed: UInt64) -> [Double] {
        var random = RandomSource(seed: seed)
        return (0..<count).map { _ in scale * random.nextNormal() }
    }

    /// A linear regression problem y = x·w + b + noise·z.
    static func linear(
        rows: Int, columns: Int, seed: UInt64, weights: [Double], intercept: Double, noise: Double,
        sampleWeights: [Double]? = nil
    ) throws -> Dataset {
        let x = features(rows: rows, columns: columns, seed: seed)
        let z = normals(rows, scale: noise, seed: seed &+ 1)
        let y = x.indices.map { i in zip(x[i], weights).reduce(intercept) { $0 + $1.0 * $1.1 } + z[i] }
        return try Dataset(rows: x, targets: y, sampleWeights: sampleWeights)
    }

    // MARK: - API.md's objective, written out

    /// Per-column weighted mean and population standard deviation (a constant column keeps σ = 1).
    static func standardization(_ x: [[Double]], weights: [Double]?) -> (means: [Double], scales: [Double]) {
        let columns = x[0].count
        let s = weights ?? [Double](repeating: 1, count: x.count)
        let total = s.reduce(0, +)
        var means = [Double](repeating: 0, count: columns)
        var scales = [Double](repeating: 0, count: columns)
        for j in 0..<columns {
            means[j] = x.indices.reduce(0) { $0 + s[$1] * x[$1][j] } / total
            let variance = x.indices.reduce(0) { $0 + s[$1] * (x[$1][j] - means[j]) * (x[$1][j] - means[j]) } / total
            scales[j] = variance > 0 ? variance.squareRoot() : 1
        }
        return (means, scales)
    }

    /// ℓ(p, y) from API.md's table; `y` as uploaded (0/1 or ±1 for the classification losses).
    static func loss(_ loss: ScalarLoss, _ p: Double, _ y: Double) -> Double {
        let r = p - y
        let signed = y == 1 ? 1.0 : -1.0
        switch loss {
        case .squared: return 0.5 * r * r
        case .absolute: return abs(r)
        case .huber(let delta): return abs(r) <= delta ? 0.5 * r * r : delta * (abs(r) - 0.5 * delta)
        case .epsilonInsensitive(let epsilon): return max(0, abs(r) - epsilon)
        case .quantile(let tau): return max(-tau * r, (1 - tau) * r)
        case .log: return Foundation.log(1 + Foundation.exp(-signed * p))
        case .hinge: return max(0, 1 - signed * p)
        case .squaredHinge: return pow(max(0, 1 - signed * p), 2)
        case .poisson: return Foundation.exp(p) - y * p
        case .expression(let formula):
            // The formula reads y as the model does: ±1 for a logistic model's 0/1 labels.
            return formula.program.value(at: [p, formula.signedLabels ? signed : y])
        }
    }

    /// The K predictions of every row: p_ik = z_i·w_k + b_k, with z standardized when asked and b = 0 without
    /// an intercept.
    static func predictions(
        _ x: [[Double]], theta: [Double], outputs: Int, fitIntercept: Bool,
        standardization: (means: [Double], scales: [Double])?
    ) -> [[Double]] {
        let columns = x[0].count
        return x.map { row in
            let z = (0..<columns).map { j in
                guard let standardization else { return row[j] }
                return (row[j] - standardization.means[j]) / standardization.scales[j]
            }
            return (0..<outputs).map { k in
                var p = fitIntercept ? theta[outputs * columns + k] : 0
                for j in 0..<columns { p += z[j] * theta[k * columns + j] }
                return p
            }
        }
    }

    /// L(w, b) = Σ s_i ℓ(p_i, y_i) / Σ s_i + (l2/2)‖w‖² + l1‖w‖₁ over the rows `selection`, from API.md.
    static func objective(
        x: [[Double]], y: [Double], sampleWeights: [Double]?, output: Model.Output, theta: [Double],
        fitIntercept: Bool, l2: Double, l1: Double, standardize: Bool, selection: [Int]
    ) -> Double {
        let outputs: Int
        if case .softmax(let classes) = output { outputs = classes } else { outputs = 1 }
        let scaling = standardize ? standardization(x, weights: sampleWeights) : nil
        let p = predictions(x, theta: theta, outputs: outputs, fitIntercept: fitIntercept, standardization: scaling)
        var sum = 0.0
        var total = 0.0
        for i in selection {
            let s = sampleWeights?[i] ?? 1
            let value: Double
            switch output {
            case .scalar(let scalar): value = loss(scalar, p[i][0], y[i])
            case .softmax:
                value = Foundation.log(p[i].reduce(0) { $0 + Foundation.exp($1) }) - p[i][Int(y[i])]
            }
            sum += s * value
            total += s
        }
        let weights = theta[0..<(outputs * x[0].count)]
        return sum / total + 0.5 * l2 * weights.reduce(0) { $0 + $1 * $1 } + l1 * weights.reduce(0) { $0 + abs($1) }
    }

    // MARK: - Numerics

    /// Central differences (f(θ + h eᵢ) − f(θ − h eᵢ)) / 2h with h = 1e-6·max(1, |θᵢ|).
    static func numericGradient(_ f: ([Double]) -> Double, at theta: [Double]) -> [Double] {
        theta.indices.map { i in
            let h = 1e-6 * max(1, abs(theta[i]))
            var plus = theta
            var minus = theta
            plus[i] += h
            minus[i] -= h
            return (f(plus) - f(minus)) / (plus[i] - minus[i])
        }
    }

    static func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// ‖a − b‖ / max(‖a‖, ‖b‖), 0 when both are 0.
    static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        let scale = max(norm(a), norm(b))
        return scale == 0 ? 0 : norm(zip(a, b).map { $0 - $1 }) / scale
    }

    /// ∇ of the data term plus l2 part, as `Objective.evaluate` returns it.
    static func gradient(_ objective: Objective, _ theta: [Double], rows: RowSelection = .all) -> [Double] {
        var g = [Double](repeating: .nan, count: theta.count)
        g.withUnsafeMutableBufferPointer { _ = objective.evaluate(theta, rows: rows, gradient: $0) }
        return g
    }

    /// Solves A x = b by Gaussian elimination with partial pivoting (small dense systems only).
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var m = a
        var r = b
        let n = b.count
        for column in 0..<n {
            let pivot = (column..<n).max { abs(m[$0][column]) < abs(m[$1][column]) }!
            m.swapAt(column, pivot)
            r.swapAt(column, pivot)
            for row in (column + 1)..<n {
                let factor = m[row][column] / m[column][column]
                for k in column..<n { m[row][k] -= factor * m[column][k] }
                r[row] -= factor * r[column]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = r[row]
            for k in (row + 1)..<n { sum -= m[row][k] * x[k] }
            x[row] = sum / m[row][row]
        }
        return x
    }

    /// The minimiser θ = [w, b] of Σ s ½(x·w + b − y)² / Σ s + (l2/2)‖w‖² from the normal equations
    /// (b = 0 without an intercept), on features standardized by `scaling` when given.
    static func normalEquations(
        x: [[Double]], y: [Double], sampleWeights: [Double]?, fitIntercept: Bool, l2: Double,
        scaling: (means: [Double], scales: [Double])? = nil
    ) -> [Double] {
        let columns = x[0].count
        let dimension = columns + (fitIntercept ? 1 : 0)
        let total = sampleWeights?.reduce(0, +) ?? Double(x.count)
        var a = [[Double]](repeating: [Double](repeating: 0, count: dimension), count: dimension)
        var b = [Double](repeating: 0, count: dimension)
        for i in x.indices {
            var row = (0..<columns).map { j in
                scaling.map { (x[i][j] - $0.means[j]) / $0.scales[j] } ?? x[i][j]
            }
            if fitIntercept { row.append(1) }
            let s = (sampleWeights?[i] ?? 1) / total
            for j in 0..<dimension {
                b[j] += s * row[j] * y[i]
                for k in 0..<dimension { a[j][k] += s * row[j] * row[k] }
            }
        }
        for j in 0..<columns { a[j][j] += l2 }
        let solution = solve(a, b)
        return Array(solution[0..<columns]) + [fitIntercept ? solution[columns] : 0]
    }

    // MARK: - Fixtures

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A fixture CSV: a header, feature columns, then the integer target.
    static func fixture(_ name: String) throws -> Dataset {
        let text = try String(contentsOf: fixtures.appendingPathComponent("\(name).csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").dropFirst()
        var x: [[Double]] = []
        var y: [Double] = []
        for line in lines {
            let values = line.split(separator: ",").map { Double($0)! }
            x.append(Array(values.dropLast()))
            y.append(values.last!)
        }
        return try Dataset(rows: x, targets: y)
    }

    struct ReferenceCase: Decodable, Sendable, CustomTestStringConvertible {
        let dataset: String
        let model: String
        let l2: Double
        let classes: Int
        let objective: Double
        /// θ at the optimum in Descent's layout: the K weight rows, then the K intercepts.
        let theta: [Double]

        private enum CodingKeys: String, CodingKey {
            case dataset, model, l2, classes, objective, weights, intercept
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            dataset = try container.decode(String.self, forKey: .dataset)
            model = try container.decode(String.self, forKey: .model)
            l2 = try container.decode(Double.self, forKey: .l2)
            classes = try container.decode(Int.self, forKey: .classes)
            objective = try container.decode(Double.self, forKey: .objective)
            if let rows = try? container.decode([[Double]].self, forKey: .weights) {
                theta = rows.flatMap { $0 } + (try container.decode([Double].self, forKey: .intercept))
            } else {
                theta =
                    try container.decode([Double].self, forKey: .weights)
                    + [try container.decode(Double.self, forKey: .intercept)]
            }
        }

        var output: Model.Output { model == "logistic" ? .scalar(.log) : .softmax(classes: classes) }
        var testDescription: String { "\(model) on \(dataset), l2 = \(l2)" }
    }

    static func referenceCases() throws -> [ReferenceCase] {
        struct File: Decodable { let cases: [ReferenceCase] }
        let data = try Data(contentsOf: fixtures.appendingPathComponent("reference.json"))
        return try JSONDecoder().decode(File.self, from: data).cases
    }
}

/// Shared by the tests that need data independent of `RandomSource`: Knuth's MMIX linear congruential generator; uniform values in [−1, 1) from its top 53 bits.
struct LCG {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) * 0x1p-52 - 1
    }
}
