/// The two inner loops of every fused pass, on one row: a dot product with the weights, and adding a
/// multiple of the row to a gradient. SIMD over 8 lanes with separate accumulators; the order of additions is
/// fixed, so results are bitwise reproducible.
package protocol FeatureScalar: BinaryFloatingPoint, Sendable {
    static func dot(_ x: UnsafePointer<Self>, _ w: UnsafePointer<Double>, count: Int) -> Double
    static func addScaled(
        _ coefficient: Double, _ x: UnsafePointer<Self>, to g: UnsafeMutablePointer<Double>, count: Int)
    /// w ← a·w + c·x in one pass (the stochastic step with its l2 shrinkage).
    static func scaleAndAdd(
        _ a: Double, _ w: UnsafeMutablePointer<Double>, _ c: Double, _ x: UnsafePointer<Self>, count: Int)
}

extension Double: FeatureScalar {
    @inline(__always)
    package static func dot(_ x: UnsafePointer<Double>, _ w: UnsafePointer<Double>, count: Int) -> Double {
        var a0 = SIMD8<Double>()
        var a1 = SIMD8<Double>()
        var j = 0
        let xr = UnsafeRawPointer(x)
        let wr = UnsafeRawPointer(w)
        while j + 16 <= count {
            a0 +=
                xr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
                * wr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
            a1 +=
                xr.loadUnaligned(fromByteOffset: (j + 8) * 8, as: SIMD8<Double>.self)
                * wr.loadUnaligned(fromByteOffset: (j + 8) * 8, as: SIMD8<Double>.self)
            j += 16
        }
        if j + 8 <= count {
            a0 +=
                xr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
                * wr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
            j += 8
        }
        var sum = (a0 + a1).sum()
        while j < count {
            sum += x[j] * w[j]
            j += 1
        }
        return sum
    }

    @inline(__always)
    package static func addScaled(
        _ coefficient: Double, _ x: UnsafePointer<Double>, to g: UnsafeMutablePointer<Double>, count: Int
    ) {
        let c = SIMD8<Double>(repeating: coefficient)
        let xr = UnsafeRawPointer(x)
        let gr = UnsafeMutableRawPointer(g)
        var j = 0
        while j + 8 <= count {
            let sum =
                gr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
                + c * xr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
            gr.storeBytes(of: sum, toByteOffset: j * 8, as: SIMD8<Double>.self)
            j += 8
        }
        while j < count {
            g[j] += coefficient * x[j]
            j += 1
        }
    }
}

extension Double {
    @inline(__always)
    package static func scaleAndAdd(
        _ a: Double, _ w: UnsafeMutablePointer<Double>, _ c: Double, _ x: UnsafePointer<Double>, count: Int
    ) {
        let av = SIMD8<Double>(repeating: a)
        let cv = SIMD8<Double>(repeating: c)
        let xr = UnsafeRawPointer(x)
        let wr = UnsafeMutableRawPointer(w)
        var j = 0
        while j + 8 <= count {
            let value =
                av * wr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
                + cv * xr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
            wr.storeBytes(of: value, toByteOffset: j * 8, as: SIMD8<Double>.self)
            j += 8
        }
        while j < count {
            w[j] = a * w[j] + c * x[j]
            j += 1
        }
    }
}

extension Float: FeatureScalar {
    @inline(__always)
    package static func scaleAndAdd(
        _ a: Double, _ w: UnsafeMutablePointer<Double>, _ c: Double, _ x: UnsafePointer<Float>, count: Int
    ) {
        for j in 0..<count { w[j] = a * w[j] + c * Double(x[j]) }
    }

    @inline(__always)
    package static func dot(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Double>, count: Int) -> Double {
        var a0 = SIMD8<Double>()
        var j = 0
        let wr = UnsafeRawPointer(w)
        while j + 8 <= count {
            let xs = SIMD8<Double>(
                Double(x[j]), Double(x[j + 1]), Double(x[j + 2]), Double(x[j + 3]), Double(x[j + 4]),
                Double(x[j + 5]), Double(x[j + 6]), Double(x[j + 7]))
            a0 += xs * wr.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
            j += 8
        }
        var sum = a0.sum()
        while j < count {
            sum += Double(x[j]) * w[j]
            j += 1
        }
        return sum
    }

    @inline(__always)
    package static func addScaled(
        _ coefficient: Double, _ x: UnsafePointer<Float>, to g: UnsafeMutablePointer<Double>, count: Int
    ) {
        for j in 0..<count { g[j] += coefficient * Double(x[j]) }
    }
}

/// Starts loading the `bytes` bytes at `address` into the cache, one prefetch per 64-byte line. A hint only:
/// it never faults (any address will do), never changes a result, and costs one instruction per line.
///
/// The fused pass uses it to fetch the row a few rows ahead of the one it computes on: a row's dot product
/// and update keep the core busy between its loads, so without the hint only about one row's misses are in
/// flight at a time and the pass runs below the memory bus's speed (bench/math: a large X read at ~1.5× the
/// time of a plain read pass without it). Swift has no prefetch in its standard library; LLVM's intrinsic
/// is reached through `@_silgen_name` (a C shim with `__builtin_prefetch` would do the same).
@inline(__always)
package func prefetch(_ address: UnsafeRawPointer, bytes: Int) {
    // Line by line from the line holding the first byte to the one holding the last: a row need not start on
    // a line boundary (an Array's elements follow its 32-byte header), and then it spans one line more than
    // bytes / 64 — stepping 64 bytes from `address` would leave that last line to a demand miss.
    var line = UnsafeRawPointer(bitPattern: UInt(bitPattern: address) & ~63) ?? address
    let end = address + bytes
    while line < end {
        llvmPrefetch(line, 0, 3, 1)
        line += 64
    }
}

/// llvm.prefetch(address, rw: 0 read, locality: 3 keep in all levels, cache type: 1 data).
@_silgen_name("llvm.prefetch.p0")
private func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ cacheType: Int32)
