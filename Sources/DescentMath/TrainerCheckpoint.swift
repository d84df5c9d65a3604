/// Everything a run needs to go on exactly where it was, taken at the top of an iteration (before θ_t is
/// evaluated): θ_t and θ_{t−1}, the optimizer's moments and step count, the generator's state and the current
/// row order (so the next shuffle continues the same sequence), the cumulative l1 penalties, the stopping
/// monitor's memory, the last step size and step norm, the snapshots so far, and the time already spent.
/// A run resumed from it ends with the same parameters, bit for bit, as one never interrupted (unless a time
/// limit decides, which depends on the clock).
package struct TrainerCheckpoint: Sendable, Equatable {
    package var iteration: Int
    package var theta: [Double]
    package var previous: [Double]
    package var lastFinite: [Double]
    package var optimizerFirst: [Double]
    package var optimizerSecond: [Double]
    package var optimizerSteps: Int
    package var random: [UInt64]
    package var order: [Int]
    package var l1Total: [Double]
    package var l1Applied: [Double]
    package var lipschitz: Double?
    package var rate: Double
    package var stepNorm: Double
    package var monitor: StoppingMonitor.State
    package var snapshotIterations: [Int]
    package var snapshotParameters: [[Double]]
    package var elapsedSeconds: Double

    /// The checkpoint as bytes (a versioned little-endian layout; doubles by their bit patterns, so exact).
    package func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.integer(Self.formatVersion)
        writer.integer(iteration)
        for array in [theta, previous, lastFinite, optimizerFirst, optimizerSecond] { writer.doubles(array) }
        writer.integer(optimizerSteps)
        writer.integer(random.count)
        for word in random { writer.word(word) }
        writer.integer(order.count)
        for row in order { writer.integer(row) }
        writer.doubles(l1Total)
        writer.doubles(l1Applied)
        writer.optionalDouble(lipschitz)
        writer.double(rate)
        writer.double(stepNorm)
        monitor.encode(into: &writer)
        writer.integer(snapshotIterations.count)
        for (iteration, parameters) in zip(snapshotIterations, snapshotParameters) {
            writer.integer(iteration)
            writer.doubles(parameters)
        }
        writer.double(elapsedSeconds)
        return writer.bytes
    }

    /// Reads `encoded()`'s bytes; nil for anything else (another version, a truncated blob).
    package init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard reader.integer() == Self.formatVersion, let iteration = reader.integer(), let theta = reader.doubles(),
            let previous = reader.doubles(), let lastFinite = reader.doubles(), let first = reader.doubles(),
            let second = reader.doubles(), let steps = reader.integer(), let randomCount = reader.integer(),
            randomCount == 4
        else { return nil }
        var random: [UInt64] = []
        for _ in 0..<randomCount {
            guard let word = reader.word() else { return nil }
            random.append(word)
        }
        guard let orderCount = reader.integer(), orderCount >= 0, orderCount <= reader.remaining / 8 else { return nil }
        var order: [Int] = []
        order.reserveCapacity(orderCount)
        for _ in 0..<orderCount {
            guard let row = reader.integer() else { return nil }
            order.append(row)
        }
        guard let l1Total = reader.doubles(), let l1Applied = reader.doubles(), let lipschitz = reader.optionalDouble(),
            let rate = reader.double(), let stepNorm = reader.double(),
            let monitor = StoppingMonitor.State(decoding: &reader), let snapshotCount = reader.integer(),
            snapshotCount >= 0, snapshotCount <= reader.remaining / 8
        else { return nil }
        var snapshotIterations: [Int] = []
        var snapshotParameters: [[Double]] = []
        for _ in 0..<snapshotCount {
            guard let iteration = reader.integer(), let parameters = reader.doubles() else { return nil }
            snapshotIterations.append(iteration)
            snapshotParameters.append(parameters)
        }
        guard let elapsed = reader.double(), reader.remaining == 0 else { return nil }
        self.init(
            iteration: iteration, theta: theta, previous: previous, lastFinite: lastFinite, optimizerFirst: first,
            optimizerSecond: second, optimizerSteps: steps, random: random, order: order, l1Total: l1Total,
            l1Applied: l1Applied, lipschitz: lipschitz ?? nil, rate: rate, stepNorm: stepNorm, monitor: monitor,
            snapshotIterations: snapshotIterations, snapshotParameters: snapshotParameters, elapsedSeconds: elapsed)
    }

    package init(
        iteration: Int, theta: [Double], previous: [Double], lastFinite: [Double], optimizerFirst: [Double],
        optimizerSecond: [Double], optimizerSteps: Int, random: [UInt64], order: [Int], l1Total: [Double],
        l1Applied: [Double], lipschitz: Double?, rate: Double, stepNorm: Double, monitor: StoppingMonitor.State,
        snapshotIterations: [Int], snapshotParameters: [[Double]], elapsedSeconds: Double
    ) {
        self.iteration = iteration
        self.theta = theta
        self.previous = previous
        self.lastFinite = lastFinite
        self.optimizerFirst = optimizerFirst
        self.optimizerSecond = optimizerSecond
        self.optimizerSteps = optimizerSteps
        self.random = random
        self.order = order
        self.l1Total = l1Total
        self.l1Applied = l1Applied
        self.lipschitz = lipschitz
        self.rate = rate
        self.stepNorm = stepNorm
        self.monitor = monitor
        self.snapshotIterations = snapshotIterations
        self.snapshotParameters = snapshotParameters
        self.elapsedSeconds = elapsedSeconds
    }

    static let formatVersion = 1
}

/// Appends fixed-width little-endian values.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func word(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func integer(_ value: Int) { word(UInt64(bitPattern: Int64(value))) }
    mutating func double(_ value: Double) { word(value.bitPattern) }

    mutating func optionalDouble(_ value: Double?) {
        integer(value == nil ? 0 : 1)
        double(value ?? 0)
    }

    mutating func doubles(_ values: [Double]) {
        integer(values.count)
        bytes.reserveCapacity(bytes.count + 8 * values.count)
        for value in values { double(value) }
    }
}

/// Reads what `ByteWriter` wrote; every read is nil past the end.
struct ByteReader {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    mutating func word() -> UInt64? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += 8
        return value
    }

    mutating func integer() -> Int? { word().map { Int(Int64(bitPattern: $0)) } }
    mutating func double() -> Double? { word().map(Double.init(bitPattern:)) }

    /// `.some(nil)` for an absent value, nil for a truncated one.
    mutating func optionalDouble() -> Double?? {
        guard let flag = integer(), let value = double() else { return nil }
        return .some(flag == 0 ? nil : value)
    }

    mutating func doubles() -> [Double]? {
        guard let count = integer(), count >= 0, count <= remaining / 8 else { return nil }
        var values: [Double] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            guard let value = double() else { return nil }
            values.append(value)
        }
        return values
    }
}
