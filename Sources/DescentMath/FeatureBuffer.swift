// Glibc for madvise only. It lives in Math rather than with the I/O wrappers because it is a hint about how
// the kernels will read the dataset's memory (rows in a shuffled order), not an I/O or process concern.
#if os(Linux)
    import Glibc
#endif

extension FeatureStorage {
    /// Float64 features in a buffer asked to be backed by huge pages, filled by `initializer` (which must
    /// set every one of the `count` elements; the buffer is uninitialized memory).
    ///
    /// Why: an SGD epoch visits the rows in a shuffled order, so with 4 KiB pages nearly every row is also
    /// a TLB miss (a 51 MB dataset spans 12,500 pages, far more than the TLB holds), and the page walk delays
    /// the row's load and its prefetch. With 2 MiB pages the whole set needs a few dozen TLB entries. The
    /// ingest layer should make its buffers here too.
    package static func makeFloat64(
        count: Int, initializer: (UnsafeMutableBufferPointer<Double>) throws -> Void
    ) rethrows -> FeatureStorage {
        .float64(try makeHugePageArray(count: count, initializer))
    }

    /// The Float32 counterpart of `makeFloat64`.
    package static func makeFloat32(
        count: Int, initializer: (UnsafeMutableBufferPointer<Float>) throws -> Void
    ) rethrows -> FeatureStorage {
        .float32(try makeHugePageArray(count: count, initializer))
    }
}

/// An array of `count` elements whose storage got the huge-page hint before `initializer` first touched it
/// (the kernel picks the page size at the first fault, so the hint must come before the fill).
private func makeHugePageArray<T>(
    count: Int, _ initializer: (UnsafeMutableBufferPointer<T>) throws -> Void
) rethrows -> [T] {
    try [T](unsafeUninitializedCapacity: count) { buffer, initializedCount in
        if let base = buffer.baseAddress { adviseHugePages(base, bytes: count * MemoryLayout<T>.stride) }
        try initializer(buffer)
        initializedCount = count
    }
}

/// madvise(MADV_HUGEPAGE) on the whole 2 MiB pages inside [address, address + bytes): a hint only (transparent
/// huge pages may be off, or in "madvise" mode where only such ranges get them); failure changes nothing.
/// A large allocation is a fresh mmap of its own, so the advice touches no one else's memory.
private func adviseHugePages(_ address: UnsafeMutableRawPointer, bytes: Int) {
    #if os(Linux)
        let hugePage = 2 << 20
        let start = (Int(bitPattern: address) + hugePage - 1) & ~(hugePage - 1)
        let end = (Int(bitPattern: address) + bytes) & ~(hugePage - 1)
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, end - start, MADV_HUGEPAGE)
    #endif
}
