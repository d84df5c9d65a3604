// descent-bench-math --mode expression --rows N --columns D [--iterations K] [--threads T]
//
// Issue 7's speed target: a job whose loss is the formula `(p - y)^2 / 2` within 3× of the built-in squared
// loss's time per full-batch iteration. On the data of --mode fullbatch (X uniform, RandomSource(seed: 1)),
// times in one process, interleaved run by run, the median of K runs of Objective.evaluate with the gradient
// (the fused kernel, parallelism T) for:
//   (s) ScalarLoss.squared
//   (f) ScalarLoss.expression(ExpressionLoss("(p - y)^2 / 2")) — the compiled tape, one forward and one
//       backward sweep per row
//   (d) one vectorised read pass over X, the floor of any full-batch iteration (as in --mode fullbatch)
// and checks that both give the same gradient (they should agree bit for bit: the tape computes r·r/2 and
// 0.5·2r, the built-in 0.5·r·r and r).
import DescentMath
import Foundation

func expressionLoss(_ options: Options) {
    let rows = options.rows
    let columns = options.columns
    let bytes = Double(rows * columns * 8)
    let formula = "(p - y)^2 / 2"
    print(
        "expression: \(rows) × \(columns) float64 (\(format(bytes / 1e6, 0)) MB), \(options.iterations) runs each, "
            + "threads \(options.threads); built-in squared vs the formula \(formula)")
    let dataset = generate(rows: rows, columns: columns)
    let expression: ExpressionLoss
    let squared: Model
    let custom: Model
    do {
        expression = try ExpressionLoss(formula, signedLabels: false)
        squared = try Model(dataset: dataset, output: .scalar(.squared), fitIntercept: true)
        custom = try Model(dataset: dataset, output: .scalar(.expression(expression)), fitIntercept: true)
    } catch {
        fail("\(error)")
    }
    let builtIn = Objective(model: squared, parallelism: options.threads)
    let compiled = Objective(model: custom, parallelism: options.threads)
    var random = RandomSource(seed: 2)
    let theta = (0...columns).map { _ in 0.2 * random.nextDouble() - 0.1 }
    var squaredGradient = [Double](repeating: 0, count: columns + 1)
    var formulaGradient = [Double](repeating: 0, count: columns + 1)
    var sums = [Double](repeating: 0, count: options.threads)
    guard case .float64(let features) = dataset.features else { fail("float64 features expected") }

    func evaluate(_ objective: Objective, into gradient: inout [Double]) -> Double {
        gradient.withUnsafeMutableBufferPointer { g in objective.evaluate(theta, rows: .all, gradient: g) }
    }
    func read() -> Double {
        features.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { s in
                ReadPass(x: x.baseAddress!, count: x.count, sums: s.baseAddress!, workers: options.threads).run()
            }
        }
    }

    // Warm-up, then K rounds of (d), (s), (f); the order within a round alternates so that neither loss always
    // runs right after the read pass.
    var sink = read() + evaluate(builtIn, into: &squaredGradient) + evaluate(compiled, into: &formulaGradient)
    var times: (squared: [Double], formula: [Double], read: [Double]) = ([], [], [])
    for round in 0..<options.iterations {
        var start = now()
        sink += read()
        times.read.append(Double(now() - start) / 1e6)
        for which in round % 2 == 0 ? [0, 1] : [1, 0] {
            start = now()
            if which == 0 {
                sink += evaluate(builtIn, into: &squaredGradient)
                times.squared.append(Double(now() - start) / 1e6)
            } else {
                sink += evaluate(compiled, into: &formulaGradient)
                times.formula.append(Double(now() - start) / 1e6)
            }
        }
    }
    let s = median(times.squared)
    let f = median(times.formula)
    let d = median(times.read)
    let (difference, scale) = maxDifference(formulaGradient, squaredGradient, count: columns + 1)
    printTimings(
        [
            ("(s) built-in squared loss", times.squared),
            ("(f) formula \(formula)", times.formula),
            ("(d) read pass over X (SIMD8 sum)", times.read),
        ], bytes: bytes)
    let verdict = f / s <= 3 ? "met" : "MISSED"
    print(
        "  (f)/(s) = \(format(f / s, 2)) (target ≤ 3: \(verdict))   (s)/(d) = \(format(s / d, 2))   "
            + "(f)/(d) = \(format(f / d, 2))")
    print(
        "  max |g_formula − g_squared| / max |g| = \(String(format: "%.1e", difference / scale))   checksum \(sink)")
    print(
        "RESULT mode=expression rows=\(rows) columns=\(columns) threads=\(options.threads) "
            + "squared_ms=\(format(s, 4)) formula_ms=\(format(f, 4)) read_ms=\(format(d, 4)) "
            + "ratio=\(format(f / s, 3))")
}
