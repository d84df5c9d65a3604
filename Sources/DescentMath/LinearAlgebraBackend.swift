import COpenBLAS
import Foundation

/// The BLAS/LAPACK library Descent links (OpenBLAS with LAPACKE, from Debian), as it describes itself.
package enum LinearAlgebraBackend {
    /// OpenBLAS's build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64".
    package static var description: String {
        guard let config = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: config).trimmingCharacters(in: .whitespaces)
    }

    /// How many threads OpenBLAS uses for one call.
    package static var threadCount: Int { Int(openblas_get_num_threads()) }
}
