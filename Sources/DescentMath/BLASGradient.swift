import COpenBLAS

/// The textbook two-pass gradient of the linear model with squared loss, through OpenBLAS: r = Xw + b − y,
/// then g = Xᵀr / n — two `cblas_dgemv` calls, so X is read twice. It exists only as a reference point for
/// the benchmark (bench/math), which compares it with the fused one-pass kernel of `Objective`; nothing in
/// the service uses it. OpenBLAS runs it on its own threads (`LinearAlgebraBackend.threadCount`).
package enum TwoPassGradient {
    /// g (d values) ← Xᵀ(Xw + b − y) / n for X row-major n × d. `residual` (n values) is scratch, so a call
    /// allocates nothing; on return it holds r.
    package static func compute(
        x: UnsafePointer<Double>, rows: Int, columns: Int, w: UnsafePointer<Double>, b: Double,
        y: UnsafePointer<Double>, residual: UnsafeMutablePointer<Double>, into g: UnsafeMutablePointer<Double>
    ) {
        precondition(rows > 0 && columns > 0 && rows <= Int(Int32.max) && columns <= Int(Int32.max))
        // r ← y − b, then r ← X w − r = Xw + b − y.
        for row in 0..<rows { residual[row] = y[row] - b }
        cblas_dgemv(
            CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, x, Int32(columns), w, 1, -1, residual, 1)
        // g ← (1/n) Xᵀ r.
        cblas_dgemv(
            CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1 / Double(rows), x, Int32(columns), residual, 1,
            0, g, 1)
    }

    /// The same over a Float64 dataset's features and targets (w has `dataset.columns` values).
    package static func compute(
        dataset: Dataset, w: [Double], b: Double, residual: UnsafeMutablePointer<Double>,
        into g: UnsafeMutablePointer<Double>
    ) {
        guard case .float64(let features) = dataset.features else {
            preconditionFailure("TwoPassGradient needs Float64 features")
        }
        precondition(w.count == dataset.columns)
        features.withUnsafeBufferPointer { x in
            dataset.targets.withUnsafeBufferPointer { y in
                w.withUnsafeBufferPointer { w in
                    compute(
                        x: x.baseAddress!, rows: dataset.rows, columns: dataset.columns, w: w.baseAddress!, b: b,
                        y: y.baseAddress!, residual: residual, into: g)
                }
            }
        }
    }
}
