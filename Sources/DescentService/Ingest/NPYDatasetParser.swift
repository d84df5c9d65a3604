import DescentMath

/// Reads a NumPy `.npy` body (format versions 1.0, 2.0 and 3.0) into a `Dataset`: bytes in, dataset out.
///
/// What it accepts: a 2-D array of little-endian float64 (`<f8`) or float32 (`<f4`), in C or Fortran order,
/// with at least one row and two columns. One column is the target (the last one unless `targetIndex` says
/// otherwise; a negative index counts from the end, as in NumPy: -1 is the last column), the others are the
/// features, in file order. float32 data stays `.float32` features (half the memory; the kernels sum in
/// Float64); targets are always Double.
///
/// Why big-endian (`>f8`, `>f4`) is refused rather than byte-swapped: NumPy writes native order and every
/// platform it runs on today is little-endian, so such a file is deliberate and rare; refusing it keeps one
/// straight-copy path (the one held to the memcpy benchmark) and the message tells how to convert it.
///
/// Errors carry neither a pointer nor a line: `detail` names the byte offset, or the row and column (0-based,
/// as in NumPy) of a non-finite value.
package enum NPYDatasetParser {
    package static func parse(_ bytes: [UInt8], targetIndex: Int? = nil) throws(IngestError) -> Dataset {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(IngestError) in try parse(raw, targetIndex: targetIndex) }
        }
        return try result.get()
    }

    package static func parse(_ bytes: UnsafeRawBufferPointer, targetIndex: Int? = nil) throws(IngestError) -> Dataset {
        let header = try NPYHeader(parsing: bytes)
        let target = try resolveTarget(targetIndex, columns: header.columns)
        let features: FeatureStorage
        let targets: [Double]
        switch header.scalar {
        case .float64: (features, targets) = try copy(Double.self, bytes, header, target: target)
        case .float32: (features, targets) = try copy(Float.self, bytes, header, target: target)
        }
        do {
            return try Dataset(rows: header.rows, columns: header.columns - 1, features: features, targets: targets)
        } catch {
            throw IngestError(detail: "the .npy array does not make a dataset: \(error)")
        }
    }

    /// The target column as an index into 0..<columns.
    private static func resolveTarget(_ targetIndex: Int?, columns: Int) throws(IngestError) -> Int {
        guard let targetIndex else { return columns - 1 }
        let resolved = targetIndex < 0 ? targetIndex + columns : targetIndex
        guard resolved >= 0, resolved < columns else {
            throw IngestError(
                detail: "target_index \(targetIndex) is out of range for \(columns) columns "
                    + "(0...\(columns - 1), or -\(columns)...-1 counting from the end)")
        }
        return resolved
    }

    /// Copies the array into the row-major feature buffer and the targets, checking finiteness block by block
    /// right after each block is written (while it is still in cache).
    private static func copy<T: NPYElement>(
        _: T.Type, _ bytes: UnsafeRawBufferPointer, _ header: NPYHeader, target: Int
    ) throws(IngestError) -> (FeatureStorage, [Double]) {
        let rows = header.rows
        let columns = header.columns
        let featureCount = columns - 1
        let source = bytes.baseAddress! + header.dataOffset
        var failure: IngestError?
        var features: FeatureStorage?
        // The targets too get an uninitialized huge-page buffer: a zero-filled array of 4 KiB pages costs as much
        // as a third of the whole ingest on narrow data.
        let targetStorage = FeatureStorage.makeFloat64(count: rows) { targetBuffer in
            features = T.makeStorage(count: rows * featureCount) { featureBuffer in
                let destination = featureBuffer.baseAddress!
                let targetPointer = targetBuffer.baseAddress!
                // Blocks of about 64 KiB of source, at least 16 rows (Fortran tiles want some height).
                let blockRows = max(16, (64 << 10) / (columns * MemoryLayout<T>.size))
                var first = 0
                while first < rows {
                    let end = min(rows, first + blockRows)
                    if header.fortranOrder {
                        copyFortranBlock(
                            source, rows: rows, columns: columns, target: target, first..<end, destination,
                            targetPointer)
                    } else {
                        copyCBlock(source, columns: columns, target: target, first..<end, destination, targetPointer)
                    }
                    let blockFinite =
                        T.allFinite(destination + first * featureCount, count: (end - first) * featureCount)
                        && Double.allFinite(targetPointer + first, count: end - first)
                    if !blockFinite {
                        failure = locateNonFinite(T.self, source, header, first..<end, target: target)
                        return
                    }
                    first = end
                }
            }
        }
        if let failure { throw failure }
        guard let features, case .float64(let targets) = targetStorage else { fatalError("unreachable") }
        return (features, targets)
    }

    /// Rows `block` of a C-order array: each row's feature spans (before and after the target) copied whole.
    @inline(__always)
    private static func copyCBlock<T: NPYElement>(
        _ source: UnsafeRawPointer, columns: Int, target: Int, _ block: Range<Int>,
        _ destination: UnsafeMutablePointer<T>, _ targets: UnsafeMutablePointer<Double>
    ) {
        let size = MemoryLayout<T>.size
        let featureCount = columns - 1
        let after = columns - 1 - target
        for row in block {
            let rowSource = source + row * columns * size
            let rowDestination = destination + row * featureCount
            copySpan(rowDestination, from: rowSource, count: target)
            copySpan(rowDestination + target, from: rowSource + (target + 1) * size, count: after)
            targets[row] = Double(rowSource.loadUnaligned(fromByteOffset: target * size, as: T.self))
        }
    }

    /// `count` elements from a possibly unaligned source: memcpy for long spans, a plain loop for short ones
    /// (a call per few bytes would dominate narrow datasets).
    @inline(__always)
    private static func copySpan<T: NPYElement>(
        _ destination: UnsafeMutablePointer<T>, from source: UnsafeRawPointer, count: Int
    ) {
        let size = MemoryLayout<T>.size
        if count * size >= 128 {
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * size)
        } else {
            for index in 0..<count {
                destination[index] = source.loadUnaligned(fromByteOffset: index * size, as: T.self)
            }
        }
    }

    /// Rows `block` of a Fortran-order array (column j is contiguous): transposed in tiles of `block` rows ×
    /// 64 columns, so the reads run down columns and the tile's destination rows stay in L1.
    private static func copyFortranBlock<T: NPYElement>(
        _ source: UnsafeRawPointer, rows: Int, columns: Int, target: Int, _ block: Range<Int>,
        _ destination: UnsafeMutablePointer<T>, _ targets: UnsafeMutablePointer<Double>
    ) {
        let size = MemoryLayout<T>.size
        let featureCount = columns - 1
        let tileColumns = 64
        var tileStart = 0
        while tileStart < columns {
            let tileEnd = min(columns, tileStart + tileColumns)
            for column in tileStart..<tileEnd {
                let columnSource = source + (column * rows) * size
                if column == target {
                    for row in block {
                        targets[row] = Double(columnSource.loadUnaligned(fromByteOffset: row * size, as: T.self))
                    }
                } else {
                    let featureColumn = column < target ? column : column - 1
                    var output = destination + block.lowerBound * featureCount + featureColumn
                    for row in block {
                        output.pointee = columnSource.loadUnaligned(fromByteOffset: row * size, as: T.self)
                        output += featureCount
                    }
                }
            }
            tileStart = tileEnd
        }
    }

    /// The first non-finite value of `block` in row-major file order, as an error (the slow path, run once).
    private static func locateNonFinite<T: NPYElement>(
        _: T.Type, _ source: UnsafeRawPointer, _ header: NPYHeader, _ block: Range<Int>, target: Int
    ) -> IngestError {
        let size = MemoryLayout<T>.size
        for row in block {
            for column in 0..<header.columns {
                let index = header.fortranOrder ? column * header.rows + row : row * header.columns + column
                let value = source.loadUnaligned(fromByteOffset: index * size, as: T.self)
                if !value.isFinite {
                    let spelled = value.isNaN ? "nan" : value < 0 ? "-inf" : "inf"
                    let role = column == target ? " (the target column)" : ""
                    return IngestError(
                        detail: "non-finite value \(spelled) at row \(row), column \(column)\(role) "
                            + "(0-based; byte offset \(header.dataOffset + index * size))")
                }
            }
        }
        // The block check found something, so the scan above returns; this is unreachable.
        return IngestError(detail: "non-finite value in rows \(block.lowerBound)..<\(block.upperBound)")
    }
}

/// The two element types, with their storage factory and a vectorized finiteness test.
private protocol NPYElement: BinaryFloatingPoint, BitwiseCopyable {
    static func makeStorage(count: Int, _ fill: (UnsafeMutableBufferPointer<Self>) -> Void) -> FeatureStorage
    /// Whether all `count` values are finite. Uses x − x, which is +0 for every finite x and NaN otherwise:
    /// the OR of the bit patterns is zero exactly when all are finite (an integer OR has no latency chain).
    static func allFinite(_ values: UnsafePointer<Self>, count: Int) -> Bool
}

extension Double: NPYElement {
    static func makeStorage(count: Int, _ fill: (UnsafeMutableBufferPointer<Double>) -> Void) -> FeatureStorage {
        FeatureStorage.makeFloat64(count: count, initializer: fill)
    }

    static func allFinite(_ values: UnsafePointer<Double>, count: Int) -> Bool {
        let raw = UnsafeRawPointer(values)
        var vector = SIMD8<UInt64>()
        var index = 0
        while index + 16 <= count {
            let a = raw.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self)
            let b = raw.loadUnaligned(fromByteOffset: (index + 8) * 8, as: SIMD8<Double>.self)
            vector |= unsafeBitCast(a - a, to: SIMD8<UInt64>.self) | unsafeBitCast(b - b, to: SIMD8<UInt64>.self)
            index += 16
        }
        var scalar: UInt64 = 0
        while index < count {
            scalar |= (values[index] - values[index]).bitPattern
            index += 1
        }
        return vector == SIMD8() && scalar == 0
    }
}

extension Float: NPYElement {
    static func makeStorage(count: Int, _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> FeatureStorage {
        FeatureStorage.makeFloat32(count: count, initializer: fill)
    }

    static func allFinite(_ values: UnsafePointer<Float>, count: Int) -> Bool {
        let raw = UnsafeRawPointer(values)
        var vector = SIMD16<UInt32>()
        var index = 0
        while index + 32 <= count {
            let a = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            let b = raw.loadUnaligned(fromByteOffset: (index + 16) * 4, as: SIMD16<Float>.self)
            vector |= unsafeBitCast(a - a, to: SIMD16<UInt32>.self) | unsafeBitCast(b - b, to: SIMD16<UInt32>.self)
            index += 32
        }
        var scalar: UInt32 = 0
        while index < count {
            scalar |= (values[index] - values[index]).bitPattern
            index += 1
        }
        return vector == SIMD16() && scalar == 0
    }
}
