// descent-bench-math — the math benchmark of issue 3 ("How fast"); bench/math.sh runs it next to numpy and
// scikit-learn (bench/math.py) and prints the combined table. Build it in release only.
//
//   descent-bench-math --mode fullbatch --rows N --columns D [--iterations K] [--threads T]
//       Generates X (N × D) and y with RandomSource(seed: 1), then times in this one process, interleaved
//       round by round, the median of K runs of:
//         (a) Objective.evaluate with the gradient, linear + squared, parallelism T — the fused one-pass kernel;
//         (b) TwoPassGradient: r = Xw + b − y, g = Xᵀr/n with two cblas_dgemv (OpenBLAS's own threads);
//         (d) one vectorised read pass over X: a SIMD8<Double> sum, T threads on fixed contiguous ranges.
//       --only abd picks which of them run (e.g. --only a under perf); --pause-ms P (200) sleeps before each
//       round while (b) runs, since OpenBLAS's threads spin for a while after a call.
//   descent-bench-math --mode sgd --data FILE --rows N --columns D [--epochs E] [--eta η] [--iterations K]
//       FILE is raw little-endian Float64, X row-major then y (bench/math.py writes it). Times K runs of a
//       Trainer with plain SGD (batch 1, shuffled), a fixed rate η, l2 = 0, an intercept, E epochs.
//   descent-bench-math --mode expression --rows N --columns D [--iterations K] [--threads T]
//       Issue 7: the fused kernel with the built-in squared loss against the formula (p - y)^2 / 2, side by
//       side on the fullbatch data; the ratio against the 3× target (ExpressionLossBench.swift).
//
// Every mode ends with one `RESULT key=value …` line for the script to read.
import DescentMath
import Dispatch
import Foundation

struct Options {
    var mode = "fullbatch"
    var rows = 100_000
    var columns = 64
    var iterations = 10
    var threads = ProcessInfo.processInfo.activeProcessorCount
    var data: String?
    var epochs = 5
    var eta = 0.001
    var pauseMilliseconds = 200
    /// Which of (a), (b), (d) fullbatch times, e.g. "a" alone under perf.
    var only = "abd"

    init(_ arguments: [String]) {
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else { fail("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        func integer() -> Int {
            let text = value()
            guard let number = Int(text), number > 0 else { fail("\(arguments[index - 1]): not a count: \(text)") }
            return number
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--mode": mode = value()
            case "--rows": rows = integer()
            case "--columns": columns = integer()
            case "--iterations": iterations = integer()
            case "--threads": threads = integer()
            case "--data": data = value()
            case "--epochs": epochs = integer()
            case "--only": only = value()
            case "--pause-ms":
                let text = value()
                guard let pause = Int(text), pause >= 0 else { fail("--pause-ms: not a count: \(text)") }
                pauseMilliseconds = pause
            case "--eta":
                let text = value()
                guard let rate = Double(text), rate > 0 else { fail("--eta: not a positive number: \(text)") }
                eta = rate
            default: fail("unknown argument \(arguments[index])")
            }
            index += 1
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("descent-bench-math: \(message)\n".utf8))
    exit(2)
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

/// The largest |a − b| over the entries, and the largest |b| (to scale it by).
func maxDifference(_ a: [Double], _ b: [Double], count: Int) -> (difference: Double, scale: Double) {
    var difference = 0.0
    var scale = 0.0
    for index in 0..<count {
        difference = max(difference, abs(a[index] - b[index]))
        scale = max(scale, abs(b[index]))
    }
    return (difference, scale)
}

/// The table of timed passes: median, min and max ms per pass, and X's bytes read per second at the median.
func printTimings(_ rows: [(name: String, values: [Double])], bytes: Double) {
    print("")
    print("  what                                   median ms     min ms     max ms   GB/s of X")
    for (name, values) in rows {
        let m = median(values)
        print(
            "  " + name.padding(toLength: 36, withPad: " ", startingAt: 0) + pad(format(m), 12)
                + pad(format(values.min() ?? .nan), 11) + pad(format(values.max() ?? .nan), 11)
                + pad(format(bytes / (m * 1e6), 1), 12))
    }
    print("")
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// Pointers shared with the read-pass workers for the duration of one pass.
struct ReadPass: @unchecked Sendable {
    let x: UnsafePointer<Double>
    let count: Int
    let sums: UnsafeMutablePointer<Double>
    let workers: Int

    /// Σ x over all elements; worker k sums the k-th contiguous range of whole SIMD8 blocks (the last worker
    /// also takes the tail). Four accumulators so the adds' latency never limits the loads.
    func run() -> Double {
        let blocks = count / 8
        let perWorker = (blocks + workers - 1) / workers
        let body: @Sendable (Int) -> Void = { worker in
            let first = min(worker * perWorker, blocks)
            let last = min(first + perWorker, blocks)
            let raw = UnsafeRawPointer(self.x)
            var a0 = SIMD8<Double>()
            var a1 = SIMD8<Double>()
            var a2 = SIMD8<Double>()
            var a3 = SIMD8<Double>()
            var block = first
            while block + 4 <= last {
                a0 += raw.loadUnaligned(fromByteOffset: block * 64, as: SIMD8<Double>.self)
                a1 += raw.loadUnaligned(fromByteOffset: block * 64 + 64, as: SIMD8<Double>.self)
                a2 += raw.loadUnaligned(fromByteOffset: block * 64 + 128, as: SIMD8<Double>.self)
                a3 += raw.loadUnaligned(fromByteOffset: block * 64 + 192, as: SIMD8<Double>.self)
                block += 4
            }
            while block < last {
                a0 += raw.loadUnaligned(fromByteOffset: block * 64, as: SIMD8<Double>.self)
                block += 1
            }
            var sum = ((a0 + a1) + (a2 + a3)).sum()
            if worker == self.workers - 1 { for index in (blocks * 8)..<self.count { sum += self.x[index] } }
            self.sums[worker] = sum
        }
        if workers == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: body) }
        var total = 0.0
        for worker in 0..<workers { total += sums[worker] }
        return total
    }
}

/// X uniform on [−1, 1), y = X·w* + 0.5 + small noise, all from RandomSource(seed: 1).
func generate(rows: Int, columns: Int) -> Dataset {
    var random = RandomSource(seed: 1)
    let truth = (0..<columns).map { _ in 2 * random.nextDouble() - 1 }
    var targets = [Double](repeating: 0, count: rows)
    let features = FeatureStorage.makeFloat64(count: rows * columns) { features in
        for row in 0..<rows {
            var p = 0.5
            for column in 0..<columns {
                let value = 2 * random.nextDouble() - 1
                features[row * columns + column] = value
                p += value * truth[column]
            }
            targets[row] = p + 0.1 * (random.nextDouble() - 0.5)
        }
    }
    do {
        return try Dataset(rows: rows, columns: columns, features: features, targets: targets)
    } catch {
        fail("dataset: \(error)")
    }
}

func fullBatch(_ options: Options) {
    let rows = options.rows
    let columns = options.columns
    let bytes = Double(rows * columns * 8)
    print(
        "fullbatch: \(rows) × \(columns) float64 (\(format(bytes / 1e6, 0)) MB), \(options.iterations) runs each, "
            + "threads \(options.threads); OpenBLAS: \(LinearAlgebraBackend.description), "
            + "\(LinearAlgebraBackend.threadCount) threads")
    let dataset = generate(rows: rows, columns: columns)
    let model: Model
    do { model = try Model(dataset: dataset, output: .scalar(.squared), fitIntercept: true) } catch { fail("\(error)") }
    let objective = Objective(model: model, parallelism: options.threads)
    // A fixed, non-trivial θ = (w, b).
    var random = RandomSource(seed: 2)
    let theta = (0...columns).map { _ in 0.2 * random.nextDouble() - 0.1 }
    let w = Array(theta[0..<columns])
    let b = theta[columns]
    var kernelGradient = [Double](repeating: 0, count: columns + 1)
    var blasGradient = [Double](repeating: 0, count: columns)
    var residual = [Double](repeating: 0, count: rows)
    var sums = [Double](repeating: 0, count: options.threads)
    var sink = 0.0
    guard case .float64(let features) = dataset.features else { fail("float64 features expected") }

    func kernel() -> Double {
        kernelGradient.withUnsafeMutableBufferPointer { g in objective.evaluate(theta, rows: .all, gradient: g) }
    }
    func blas() {
        residual.withUnsafeMutableBufferPointer { r in
            blasGradient.withUnsafeMutableBufferPointer { g in
                TwoPassGradient.compute(dataset: dataset, w: w, b: b, residual: r.baseAddress!, into: g.baseAddress!)
            }
        }
    }
    func read() -> Double {
        features.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { s in
                ReadPass(x: x.baseAddress!, count: x.count, sums: s.baseAddress!, workers: options.threads).run()
            }
        }
    }

    // Warm-up (page faults, thread pools), then K rounds of (d), (a), (b). OpenBLAS's pthreads spin for a
    // while after a call; the pause after (b) keeps them from stealing a core from the next round's (d), (a).
    let withKernel = options.only.contains("a")
    let withBLAS = options.only.contains("b")
    let withRead = options.only.contains("d")
    sink += read() + kernel()
    if withBLAS { blas() }
    var times: (kernel: [Double], blas: [Double], read: [Double]) = ([], [], [])
    for _ in 0..<options.iterations {
        if options.pauseMilliseconds > 0 && withBLAS { usleep(UInt32(options.pauseMilliseconds * 1000)) }
        var start = now()
        if withRead {
            sink += read()
            times.read.append(Double(now() - start) / 1e6)
        }
        start = now()
        if withKernel {
            sink += kernel()
            times.kernel.append(Double(now() - start) / 1e6)
        }
        start = now()
        if withBLAS {
            blas()
            times.blas.append(Double(now() - start) / 1e6)
            sink += blasGradient[0]
        }
    }
    let a = median(times.kernel)
    let bm = median(times.blas)
    let d = median(times.read)
    let (difference, scale) = maxDifference(kernelGradient, blasGradient, count: columns)
    printTimings(
        [
            ("(a) fused kernel, Objective.evaluate", times.kernel),
            ("(b) two-pass BLAS dgemv ×2", times.blas),
            ("(d) read pass over X (SIMD8 sum)", times.read),
        ], bytes: bytes)
    print("  (a)/(d) = \(format(a / d, 2))   (b)/(a) = \(format(bm / a, 2))")
    print("  max |g_kernel − g_blas| / max |g| = \(String(format: "%.1e", difference / scale))   checksum \(sink)")
    print(
        "RESULT mode=fullbatch rows=\(rows) columns=\(columns) threads=\(options.threads) "
            + "blas_threads=\(LinearAlgebraBackend.threadCount) kernel_ms=\(format(a, 4)) blas_ms=\(format(bm, 4)) "
            + "read_ms=\(format(d, 4)) read_gbs=\(format(bytes / (d * 1e6), 2))")
}

func loadDataset(_ options: Options) -> Dataset {
    guard let path = options.data else { fail("--mode sgd needs --data FILE") }
    let rows = options.rows
    let columns = options.columns
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    guard data.count == (rows * columns + rows) * 8 else {
        fail("\(path) holds \(data.count) bytes, not (rows × columns + rows) × 8 = \((rows * columns + rows) * 8)")
    }
    var targets = [Double](repeating: 0, count: rows)
    // Raw little-endian Float64, this machine's order (x86-64 and arm64 are little-endian).
    let split = rows * columns * 8
    let features = FeatureStorage.makeFloat64(count: rows * columns) { features in
        data.withUnsafeBytes { raw in
            UnsafeMutableRawBufferPointer(features).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[..<split]))
        }
    }
    data.withUnsafeBytes { raw in
        targets.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[split...])) }
    }
    do {
        return try Dataset(rows: rows, columns: columns, features: features, targets: targets)
    } catch {
        fail("dataset: \(error)")
    }
}

/// AnonHugePages of this process (Linux /proc/self/smaps_rollup), to show whether X got its huge pages.
func hugePages() -> String {
    guard let text = try? String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("AnonHugePages:") })
    else { return "?" }
    return line.dropFirst("AnonHugePages:".count).trimmingCharacters(in: .whitespaces)
}

func sgd(_ options: Options) {
    let dataset = loadDataset(options)
    let model: Model
    do { model = try Model(dataset: dataset, output: .scalar(.squared), fitIntercept: true) } catch { fail("\(error)") }
    var configuration = TrainingConfiguration()
    configuration.rule = .plain
    configuration.sampling = .miniBatch(size: 1, shuffle: true)
    configuration.learningRate = .fixed(options.eta)
    configuration.stopping.maxIterations = options.epochs
    configuration.stopping.weightTolerance = 0
    configuration.reportEvery = options.epochs
    configuration.parallelism = options.threads
    print(
        "sgd: \(options.rows) × \(options.columns), \(options.epochs) epochs, η = \(options.eta), batch 1, shuffled, "
            + "\(options.iterations) runs; huge pages in use: \(hugePages())")
    var seconds: [Double] = []
    var loss = 0.0
    var stop = ""
    for _ in 0..<options.iterations {
        let trainer: Trainer
        do { trainer = try Trainer(model: model, configuration: configuration) } catch { fail("\(error)") }
        let start = now()
        let result = trainer.run()
        seconds.append(Double(now() - start) / 1e9)
        loss = result.loss
        stop = result.stopReason.rawValue
    }
    let perEpoch = median(seconds) / Double(options.epochs)
    print(
        "  descent: \(format(perEpoch * 1e3)) ms/epoch (median run \(format(median(seconds), 4)) s, including"
            + " the loss evaluations at the first and the last epoch), final objective \(loss), stop \(stop)")
    print(
        "RESULT mode=sgd rows=\(options.rows) columns=\(options.columns) epochs=\(options.epochs) "
            + "seconds_per_epoch=\(String(format: "%.6f", perEpoch)) loss=\(String(format: "%.10g", loss))")
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
switch options.mode {
case "fullbatch": fullBatch(options)
case "sgd": sgd(options)
case "expression": expressionLoss(options)
default: fail("--mode is fullbatch, sgd or expression, not \(options.mode)")
}
